"""VGGish and PyTorch-importer fixtures.

Run from the repository root in the reference venv (torch, numpy, `pip install --no-deps torchvggish`, soundfile):
    python Tests/Reference/make_vggish_fixtures.py
The official VGGish weights cannot be downloaded here, so torchvggish's VGG is given closed-form weights
(`formula_weights`, implemented identically in Tests/VGGishTests) and run on the same audio as AudioNet.
Writes to Tests/Fixtures/vggish/:
  examples.npy        vggish_input.waveform_to_examples of frontend/speech.wav (the reference front end)
  embeddings.npy      torchvggish VGG with the formula weights on those examples, [N, 128]
  pca_params.npz      closed-form PCA parameters with the official names (pca_eigen_vectors, pca_means)
  projected.npy, postprocessed.npy   torchvggish's Postprocessor math on embeddings.npy
  importer.pth        a small state_dict with official VGGish names and shapes, plus non-contiguous, offset,
                      float64, float16, int64 and 0-d tensors; importer_expected.npz holds their values
  nested.pth, legacy.pth, malicious.pth   a nested checkpoint, a pre-1.6 file, a pickle that would call os.system
"""
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from torchvggish import vggish_input
from torchvggish.torchvggish import VGG, make_layers

sys.path.insert(0, os.path.dirname(__file__))
from make_frontend_fixtures import read_wav  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Fixtures")
OUT = os.path.join(FIXTURES, "vggish")


def formula(count, ordinal, amplitude):
    """Closed-form weights, uniform in [−amplitude, amplitude): a multiplicative hash of the element index,
    amplitude · (2·((i·2654435761 + ordinal·97531) mod 2³²) / 2³² − 1), in exact integer arithmetic."""
    i = np.arange(count, dtype=np.int64)
    return (amplitude * (2.0 * ((i * 2654435761 + ordinal * 97531) % 4294967296) / 4294967296.0 - 1.0)).astype(np.float32)


def formula_weights(model):
    """Fills every parameter in state_dict order: weights uniform with He variance (sqrt(6 / fan-in)),
    biases within ±0.1."""
    state = OrderedDict()
    for ordinal, (name, tensor) in enumerate(model.state_dict().items()):
        amplitude = 0.1 if name.endswith("bias") else np.sqrt(6.0 / np.prod(tensor.shape[1:]))
        state[name] = torch.from_numpy(formula(tensor.numel(), ordinal, amplitude).reshape(tuple(tensor.shape)))
    model.load_state_dict(state)
    return state


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def importer_fixtures():
    base = torch.arange(40, dtype=torch.float32).reshape(5, 8) / 7
    state = OrderedDict([
        ("features.0.weight", torch.randn(64, 1, 3, 3, generator=torch.Generator().manual_seed(1))),
        ("features.0.bias", torch.randn(64, generator=torch.Generator().manual_seed(2))),
        ("embeddings.4.bias", torch.randn(128, generator=torch.Generator().manual_seed(3))),
        ("transposed", base.t()),                       # non-contiguous strides
        ("offset", base.view(-1)[13:29].view(4, 4)),    # storage offset into a shared storage
        ("double", torch.tensor([1.5, -2.25, 1e-3], dtype=torch.float64)),
        ("half", torch.tensor([0.5, -1.0, 65504.0], dtype=torch.float16)),
        ("long", torch.tensor([-3, 0, 7, 2 ** 40], dtype=torch.int64)),
        ("scalar", torch.tensor(3.25)),
    ])
    torch.save(state, os.path.join(OUT, "importer.pth"))
    np.savez(os.path.join(OUT, "importer_expected.npz"), **{k.replace(".", "_"): np.array(v.double().numpy(), order="C") for k, v in state.items()})
    torch.save({"state_dict": OrderedDict([("layer.weight", base)]), "epoch": 3}, os.path.join(OUT, "nested.pth"))
    torch.save(OrderedDict([("w", base)]), os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save({"w": Evil()}, os.path.join(OUT, "malicious.pth"))


def main():
    os.makedirs(OUT, exist_ok=True)
    importer_fixtures()
    samples = read_wav(os.path.join(FIXTURES, "frontend", "speech.wav"))
    examples = torch.as_tensor(vggish_input.waveform_to_examples(samples, 16000)).float().detach()
    if examples.dim() == 3:
        examples = examples[:, None]
    np.save(os.path.join(OUT, "examples.npy"), examples[:, 0].numpy())
    model = VGG(make_layers(), postprocess=False).eval()
    formula_weights(model)
    with torch.no_grad():
        embeddings = model(examples).numpy()
    np.save(os.path.join(OUT, "embeddings.npy"), embeddings)
    vectors = formula(128 * 128, 1000, 0.1).reshape(128, 128)
    means = formula(128, 1001, 0.5)
    np.savez(os.path.join(OUT, "pca_params.npz"), pca_eigen_vectors=vectors, pca_means=means)
    projected = torch.mm(torch.from_numpy(vectors), torch.from_numpy(embeddings).t() - torch.from_numpy(means)[:, None]).t()
    quantized = torch.round((torch.clamp(projected, -2.0, 2.0) + 2.0) * (255.0 / 4.0))
    np.save(os.path.join(OUT, "projected.npy"), np.ascontiguousarray(projected.numpy()))
    np.save(os.path.join(OUT, "postprocessed.npy"), np.ascontiguousarray(quantized.numpy()))
    print("examples", tuple(examples.shape), "embeddings", embeddings.shape, "max", float(np.abs(embeddings).max()))


if __name__ == "__main__":
    main()
