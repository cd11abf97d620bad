"""Runs AudioNet's benchmarks beside the reference implementations, in one run, and prints ratios.

Usage: python3 Benchmarks/bench.py [BENCH_BINARY]   (make bench builds the binary first)
Each AudioNet case runs in its own process with AUDIONET_THREADS / OPENBLAS_NUM_THREADS set.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Reference"))
BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/release/audionet-bench"


def audionet(case, threads):
    env = dict(os.environ, AUDIONET_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([BINARY, case, str(threads)], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["value"]


def reference_frontend():
    """The float64 NumPy rendering of yamnet/features.py (one thread: NumPy's FFT is single-threaded)."""
    from frontend_reference import yamnet_patches
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 600 * 16000)
    best = min(timed(lambda: yamnet_patches(signal)) for _ in range(2))
    return 600 / best


def timed(body):
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def row(case, unit, ours, reference, reference_name):
    ratio = f"{ours / reference:.2f}x" if reference else "—"
    ref = f"{reference:.1f}" if reference else "—"
    print(f"| {case} | {unit} | {ours:.1f} | {ref} ({reference_name}) | {ratio} |")


def main():
    print("| case | unit | AudioNet | reference | AudioNet / reference |")
    print("|---|---|---|---|---|")
    numpy_frontend = reference_frontend()
    for threads in (1, 2):
        row(f"yamnet log-mel, 10 min, {threads} thread(s)", "x realtime", audionet("frontend", threads),
            numpy_frontend, "NumPy float64 features.py, 1 thread")
    for threads in (1, 2):
        row(f"sgemm 2048³, {threads} thread(s)", "GFLOP/s", audionet("sgemm", threads), None, "")


if __name__ == "__main__":
    main()
