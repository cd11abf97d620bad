"""Writes Tests/Fixtures/resample/: noise at several rates and what resampy.resample (filter 'kaiser_best', the
resampler of the YAMNet, VGGish, OpenL3 and CREPE reference pipelines) makes of it.

Usage: .venv-reference/bin/python Tests/Reference/make_resampler_fixtures.py
"""
import os

import numpy as np
import resampy

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "resample")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)
for source, target, seconds in ((44100, 16000, 0.5), (48000, 16000, 0.3), (22050, 16000, 0.3), (8000, 16000, 0.3),
                                (44100, 48000, 0.2)):
    x = (rng.standard_normal(int(source * seconds)) * 0.3).astype(np.float32)
    x[: len(x) // 10] *= np.linspace(0, 1, len(x) // 10, dtype=np.float32)  # a fade-in: the edges matter too
    y = resampy.resample(x.astype(np.float64), source, target, filter="kaiser_best")
    np.save(os.path.join(OUT, f"noise{source}to{target}.input.npy"), x)
    np.save(os.path.join(OUT, f"noise{source}to{target}.resampy.npy"), y.astype(np.float32))
    print(source, target, len(x), len(y))
