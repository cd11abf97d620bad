"""A safetensors file written by the reference library (huggingface safetensors), for the reader's test.

Run from the repository root in the reference venv:  python Tests/Reference/make_safetensors_fixture.py
Writes Tests/Fixtures/training/reference.safetensors: "weight" = arange(6) reshaped [2, 3] / 4, "bias" = [-1, 0.5]
(float32), metadata {"audionet": "{\"format\": \"test\"}"}.
"""
import os

import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "training", "reference.safetensors")

save_file({"weight": (np.arange(6, dtype=np.float32).reshape(2, 3) / 4), "bias": np.array([-1, 0.5], np.float32)}, OUT,
          metadata={"audionet": '{"format": "test"}'})
print(OUT)
