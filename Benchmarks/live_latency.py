"""Latency of `audionet pitch --stream -` and `audionet classify --stream -` on a WAV fed in real time on stdin.

Usage: python Benchmarks/live_latency.py [AUDIONET] [WAV]   (bench.py runs it as part of `make bench`)
A 16 kHz 16-bit WAV is written to the command's stdin 10 ms at a time at the pace of real time. The latency of an
output line is the time it arrives minus the time the last sample it depends on was written:
- a pitch frame at time t (centred, 1024 samples) needs the samples up to t + 32 ms;
- an event closes when a patch after its end shows the class inactive and a run starting at the next patch would be
  --min-separation away: with YAMNet's 0.96 s patches every 0.48 s (the first centred at 0.48 s) the event ending at e
  is closed by the first patch P whose start P·0.48 + 0.24 is at least e + 0.25, once patch P - 1 (audio up to
  (P - 1)·0.48 + 0.96 s) has run.
"""
import json
import math
import os
import subprocess
import sys
import threading
import time
import wave


def feed_in_real_time(command, path):
    """Runs `command`, feeding it `path` at real time; returns (the wall time each sample index was written, lines
    with their arrival times)."""
    with wave.open(path, "rb") as f:
        rate, frames = f.getframerate(), f.readframes(f.getnframes())
    header = open(path, "rb").read(44)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines = []

    def read():
        for line in process.stdout:
            lines.append((time.monotonic(), line.decode().strip()))

    reader = threading.Thread(target=read)
    reader.start()
    process.stdin.write(header)
    process.stdin.flush()
    chunk = rate // 100
    written = []  # wall time at which each chunk was written
    start = time.monotonic()
    for index, offset in enumerate(range(0, len(frames), 2 * chunk)):
        delay = start + index * 0.01 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        # Taken before the write: the sample cannot be read earlier (after it, the reader thread may hold the GIL).
        written.append(time.monotonic())
        process.stdin.write(frames[offset:offset + 2 * chunk])
        process.stdin.flush()
    process.stdin.close()
    process.wait()
    reader.join()
    return rate, chunk, written, lines


def percentiles(values):
    values = sorted(values)
    return {"min": values[0] * 1000, "p50": values[len(values) // 2] * 1000, "p95": values[int(len(values) * 0.95)] * 1000,
            "max": values[-1] * 1000, "count": len(values)}


def pitch_latency(audionet, path, model="crepe-tiny"):
    rate, chunk, written, lines = feed_in_real_time([audionet, "pitch", "-", "--stream", "--model", model], path)
    latencies = []
    for arrival, line in lines:
        if not line or line.startswith("time"):
            continue
        t = float(line.split(",")[0])
        needed = int(round(t * rate)) + 512  # the frame's last sample + 1
        written_index = min(len(written) - 1, (needed - 1) // chunk)
        if written_index < len(written) - 1:  # frames the end of the stream completes are left out
            latencies.append(arrival - written[written_index])
    return percentiles(latencies)


def classify_latency(audionet, path, hop=0.48, separation=0.25):
    rate, chunk, written, lines = feed_in_real_time([audionet, "classify", "-", "--stream"], path)
    latencies = []
    for arrival, line in lines:
        event = json.loads(line)
        if event["open"]:
            continue
        patch = math.ceil((event["end"] + separation - 0.48 + hop / 2) / hop - 1e-9)
        needed = int(round(((patch - 1) * hop + 0.96) * rate))
        written_index = (needed - 1) // chunk
        if written_index < len(written) - 1:
            latencies.append(arrival - written[written_index])
    return percentiles(latencies)


if __name__ == "__main__":
    audionet = sys.argv[1] if len(sys.argv) > 1 else ".build/release/audionet"
    path = sys.argv[2]
    print("pitch --stream --model crepe-tiny:", pitch_latency(audionet, path))
    print("classify --stream:", classify_latency(audionet, path))
