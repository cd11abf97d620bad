"""OpenL3 fixtures: torchopenl3's front end and audio network with closed-form weights.

Run from the repository root in the reference venv (torch, numpy, librosa, julius, resampy, and
`pip install --no-deps torchopenl3==1.0.1`):
    python Tests/Reference/make_openl3_fixtures.py
The official OpenL3 weights cannot be downloaded here; the network's state_dict (its DFT and mel buffers
excepted) is filled with `fill` from make_torchvision_fixtures.py, which Tests/OpenL3Tests repeats.
Writes to Tests/Fixtures/openl3/:
  audio48k.wav                          2.5 s at 48 kHz: two tones and noise
  <repr>.spectrogram.npy                the first two windows' spectrograms [2, bins, frames] (torchopenl3's speclayer)
  <repr>-<content>-<size>.embeddings.npy embeddings of every window (centred, hop 0.1 s)
  <repr>-<content>-<size>.layout.txt    the filled state_dict entries
  keras_partial.h5                      the first layers of mel128-env-512 (batch_normalization_1…3, conv2d_1…2) in
                                        the official Keras weight-file layout (layer_names, weight_names, HWIO
                                        kernels, gamma/beta/moving_mean/moving_variance), with the same values
"""
import os
import sys
import wave

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_torchvision_fixtures import fill  # noqa: E402
from torchopenl3.models import PytorchOpenl3  # noqa: E402
from torchopenl3.utils import preprocess_audio_batch  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "openl3")
CONFIGURATIONS = [("mel256", "music", 6144), ("mel128", "env", 512), ("linear", "music", 512)]


def audio():
    rate = 48000
    t = np.arange(int(2.5 * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3000 * t) * (t > 1)
    x += 0.05 * np.random.default_rng(3).standard_normal(len(t))
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2")
    path = os.path.join(OUT, "audio48k.wav")
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())
    return pcm.astype(np.float32) / 32768.0


def keras_partial(state):
    """A Keras save_weights file holding the first five layers, values converted from the torch state."""
    layers = ["batch_normalization_1", "conv2d_1", "batch_normalization_2", "conv2d_2", "batch_normalization_3"]
    with h5py.File(os.path.join(OUT, "keras_partial.h5"), "w") as f:
        f.attrs["layer_names"] = np.array([name.encode() for name in layers])
        for layer in layers:
            group = f.create_group(layer)
            if layer.startswith("conv2d"):
                weights = [("kernel", state[f"{layer}.weight"].numpy().transpose(2, 3, 1, 0)), ("bias", state[f"{layer}.bias"].numpy())]
            else:
                weights = [("gamma", state[f"{layer}.weight"].numpy()), ("beta", state[f"{layer}.bias"].numpy()),
                           ("moving_mean", state[f"{layer}.running_mean"].numpy()),
                           ("moving_variance", state[f"{layer}.running_var"].numpy())]
            names = [f"{layer}/{name}:0" for name, _ in weights]
            group.attrs["weight_names"] = np.array([name.encode() for name in names])
            for name, (_, value) in zip(names, weights):
                group.create_dataset(name, data=np.ascontiguousarray(value))


def main():
    os.makedirs(OUT, exist_ok=True)
    samples = torch.from_numpy(audio())[None]
    frames = preprocess_audio_batch(samples, 48000, center=True, hop_size=0.1)
    for representation, content, size in CONFIGURATIONS:
        model = PytorchOpenl3(content, representation, size).eval()
        state = model.state_dict()
        layout, ordinal = [], 0
        for key, tensor in state.items():
            if key.startswith("speclayer.") or key.endswith("num_batches_tracked"):
                continue
            state[key] = fill(key, tuple(tensor.shape), ordinal)
            layout.append(f"{key} {' '.join(str(d) for d in tensor.shape)}")
            ordinal += 1
        model.load_state_dict(state)
        name = f"{representation}-{content}-{size}"
        if name == "mel128-env-512":
            keras_partial(state)
        with torch.no_grad():
            spectrogram = model.speclayer(frames[:2]).squeeze(-1).numpy()
            embeddings = model(frames).numpy()
        np.save(os.path.join(OUT, f"{representation}.spectrogram.npy"), spectrogram)
        np.save(os.path.join(OUT, f"{name}.embeddings.npy"), embeddings)
        with open(os.path.join(OUT, f"{name}.layout.txt"), "w") as f:
            f.write("\n".join(layout) + "\n")
        print(name, "windows", frames.shape[0], "spectrogram", spectrogram.shape, "embeddings", embeddings.shape,
              "max", float(np.abs(embeddings).max()))


if __name__ == "__main__":
    main()
