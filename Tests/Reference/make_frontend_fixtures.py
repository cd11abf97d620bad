"""Writes the front-end fixtures: 16 kHz 16-bit WAV inputs and float64-reference log-mel patches.

Run from the repository root: python3 Tests/Reference/make_frontend_fixtures.py
Needs numpy, espeak-ng and sox (speech). Outputs go to Tests/Fixtures/frontend/.
"""
import os
import subprocess
import tempfile
import wave

import numpy as np

from frontend_reference import SAMPLE_RATE, vggish_examples, yamnet_patches

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "frontend")


def write_wav(path, x):
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(pcm.tobytes())


def read_wav(path):
    with wave.open(path, "rb") as f:
        assert f.getframerate() == SAMPLE_RATE and f.getsampwidth() == 2 and f.getnchannels() == 1
        return np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float64) / 32768.0


def speech():
    # The committed recording is an input, not a result: espeak-ng's voice differs between its versions, so it
    # is synthesized only when absent (delete it to make a new one; every speech fixture then changes).
    committed = os.path.join(OUT, "speech.wav")
    if os.path.exists(committed):
        return read_wav(committed)
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-w", raw, "Sound classification needs a careful front end."], check=True)
        subprocess.run(["sox", raw, "-r", "16000", "-b", "16", out], check=True)
        return read_wav(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2019)
    t = np.arange(int(1.7 * SAMPLE_RATE)) / SAMPLE_RATE
    signals = {
        "silence": np.zeros(int(0.5 * SAMPLE_RATE)),            # shorter than one patch: padded
        "noise": rng.uniform(-0.5, 0.5, 2 * SAMPLE_RATE),        # white noise
        "speech": speech(),                                      # espeak-ng
        "tone": 0.5 * np.sin(2 * np.pi * 440.0 * t),             # 440 Hz
    }
    for name, x in signals.items():
        path = os.path.join(OUT, f"{name}.wav")
        write_wav(path, x)
        x = read_wav(path)  # the exact samples the Swift side decodes
        np.save(os.path.join(OUT, f"{name}.yamnet.npy"), yamnet_patches(x).astype(np.float32))
        np.save(os.path.join(OUT, f"{name}.vggish.npy"), vggish_examples(x).astype(np.float32))
        print(name, len(x), yamnet_patches(x).shape, vggish_examples(x).shape)
    # yamnet's patch_hop_seconds 0.25 (25 frames) and a VGGish hop of 0.5 s (50 frames), on the speech.
    x = read_wav(os.path.join(OUT, "speech.wav"))
    np.save(os.path.join(OUT, "speech.yamnet-hop25.npy"), yamnet_patches(x, patch_hop=25).astype(np.float32))
    np.save(os.path.join(OUT, "speech.vggish-hop50.npy"), vggish_examples(x, patch_hop=50).astype(np.float32))


if __name__ == "__main__":
    main()
