"""Runs AudioNet's benchmarks beside the reference implementations, in one run, and prints ratios.

Usage: python Benchmarks/bench.py [BENCH_BINARY]   (`make bench` builds the binary and the venv first)
Each AudioNet case runs in its own process with AUDIONET_THREADS set; PyTorch uses torch.set_num_threads.
A reference that cannot run here is reported as missing, never silently dropped.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Reference"))
BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/release/audionet-bench"
try:
    import torch
except ImportError:
    torch = None


def audionet(case, threads):
    env = dict(os.environ, AUDIONET_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([BINARY, case, str(threads)], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["value"]


def best(body, repeats=3):
    body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_frontend(threads):
    """The float64 NumPy rendering of yamnet/features.py (NumPy's FFT is single-threaded)."""
    from frontend_reference import yamnet_patches
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 600 * 16000)
    return 600 / best(lambda: yamnet_patches(signal), repeats=2)


def torch_conv(kernel, cin, threads):
    if torch is None:
        return None
    torch.set_num_threads(threads)
    x = torch.randn(8, cin, 56, 56)
    conv = torch.nn.Conv2d(cin, 64, kernel, padding=kernel // 2, bias=False).eval()
    with torch.no_grad():
        seconds = best(lambda: conv(x), repeats=5)
    return 2 * 8 * 56 * 56 * 64 * cin * kernel * kernel / seconds / 1e9


def main():
    rows = []
    sgemm = {t: audionet("sgemm", t) for t in (1, 2)}
    numpy_rate = numpy_frontend(1)
    for t in (1, 2):
        rows.append((f"yamnet log-mel, 10 min of audio, {t} thread(s)", "x realtime", audionet("frontend", t),
                     numpy_rate, "NumPy float64 features.py (1 thread)", None))
    for t in (1, 2):
        rows.append((f"sgemm 2048³, {t} thread(s)", "GFLOP/s", sgemm[t], None, "the ceiling", None))
    for case, kernel, cin in (("conv1x1", 1, 256), ("conv3x3", 3, 64)):
        label = "conv 1x1 56x56x256→64" if kernel == 1 else "conv 3x3 56x56x64→64"
        for t in (1, 2):
            ours = audionet(case, t)
            rows.append((f"{label}, batch 8, {t} thread(s)", "GFLOP/s", ours, torch_conv(kernel, cin, t),
                         f"PyTorch {torch.__version__ if torch else 'missing'}", ours / sgemm[t]))
    print("| case | unit | AudioNet | reference | AudioNet / reference | AudioNet / sgemm |")
    print("|---|---|---|---|---|---|")
    for case, unit, ours, reference, name, of_sgemm in rows:
        ref = f"{reference:.1f} ({name})" if reference else f"— ({name})"
        ratio = f"{ours / reference:.2f}x" if reference else "—"
        share = f"{of_sgemm:.0%}" if of_sgemm else "—"
        print(f"| {case} | {unit} | {ours:.1f} | {ref} | {ratio} | {share} |")
    if torch is None:
        print("WARNING: torch is not installed in this Python; PyTorch reference columns are missing.")


if __name__ == "__main__":
    main()
