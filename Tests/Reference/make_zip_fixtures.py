"""Writes Tests/Fixtures/zip/zip64.npz: a valid .npz whose entries use ZIP64 records (zipfile's force_zip64),
so the zip directory check is tested on the 64-bit layout it must accept. Standard library and NumPy only.

Usage: python Tests/Reference/make_zip_fixtures.py
"""
import io
import os
import zipfile

import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "zip", "zip64.npz")
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
    for name, array in (("ramp", np.arange(12, dtype=np.float32).reshape(3, 4)), ("ones", np.ones(5, dtype=np.float32))):
        buffer = io.BytesIO()
        np.save(buffer, array)
        with archive.open(name + ".npy", "w", force_zip64=True) as member:
            member.write(buffer.getvalue())
print(out, os.path.getsize(out), "bytes")
