#!/usr/bin/env bash
# Regenerates the sample clips (needs espeak-ng and sox from Debian). Run from Samples/.
set -euo pipefail
espeak-ng -w speech.wav "AudioNet runs pretrained networks on sound and images, right here on Linux."
sox -n -r 44100 -b 16 sweep.wav synth 3 sine 110-1760 vol 0.5
sox -n -r 48000 -b 16 -c 2 tone-a440-stereo.wav synth 1.5 sine 440 vol 0.5
tmp=$(mktemp -d)
espeak-ng -w "$tmp/s.wav" "Two seconds of silence, then speech, then silence again."
sox "$tmp/s.wav" -r 16000 "$tmp/s16.wav"
sox -n -r 16000 -b 16 -c 1 "$tmp/quiet.wav" trim 0 2
sox "$tmp/quiet.wav" "$tmp/s16.wav" "$tmp/quiet.wav" -b 16 speech-between-silences.wav
rm -r "$tmp"
