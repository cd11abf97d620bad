"""YAMNet fixtures: a float reference built from the official TFLite model's own tensors, and LiteRT's outputs.

Run from the repository root in the reference venv (torch, numpy, ai-edge-litert):
    python Tests/Reference/make_yamnet_fixtures.py ../shared/models/yamnet/yamnet.tflite
For each of Tests/Fixtures/frontend/{silence,noise,speech,tone}.wav it writes to Tests/Fixtures/yamnet/:
  <signal>.scores.npy, <signal>.embeddings.npy  same-weights float reference: the exact float64 features.py
      front end, then YAMNet (yamnet.py layer table) in PyTorch float32 with the TFLite weights dequantized as
      scale * (q - zero_point) in float32, BatchNorm folded into biases as the TFLite file stores it;
  <signal>.litert_logmel.npy, <signal>.litert_scores.npy  LiteRT on each 15600-sample window (hop 7680):
      its own int8-DFT log-mel patch and its hybrid-int8 scores.
source.txt records the SHA-256 of the TFLite file the fixtures belong to.
"""
import hashlib
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from ai_edge_litert.interpreter import Interpreter

sys.path.insert(0, os.path.dirname(__file__))
from frontend_reference import pad_waveform, yamnet_patches  # noqa: E402
from make_frontend_fixtures import read_wav  # noqa: E402
from yamnet_tflite_weights import load_reference  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Fixtures")
OUT = os.path.join(FIXTURES, "yamnet")
# yamnet.py _YAMNET_LAYER_DEFS strides; conv kernels are 3x3 SAME, pointwise 1x1.
STRIDES = [2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]


def tf_same(x, stride):
    """Pads NCHW x for a 3x3 SAME convolution with TensorFlow's split (extra pixel after)."""
    pads = []
    for size in (x.shape[3], x.shape[2]):
        out = -(-size // stride)
        total = max((out - 1) * stride + 3 - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


def network(patches, layers, dense_w, dense_b):
    x = torch.from_numpy(patches.astype(np.float32))[:, None]  # [N, 1, 96, 64]
    strides = iter([STRIDES[0]] + [s for stride in STRIDES[1:] for s in (stride, 1)])  # depthwise, pointwise
    for kind, w, b in layers:
        stride = next(strides)
        if kind == "DEPTHWISE_CONV_2D":  # [1, 3, 3, C] -> [C, 1, 3, 3]
            weight = torch.from_numpy(np.ascontiguousarray(w[0].transpose(2, 0, 1)[:, None]))
            x = F.conv2d(tf_same(x, stride), weight, torch.from_numpy(b), stride=stride, groups=x.shape[1])
        else:  # OHWI -> OIHW
            weight = torch.from_numpy(np.ascontiguousarray(w.transpose(0, 3, 1, 2)))
            x = F.conv2d(tf_same(x, stride) if w.shape[1] == 3 else x, weight, torch.from_numpy(b), stride=stride)
        x = F.relu(x)
    embeddings = x.mean(dim=(2, 3))
    scores = torch.sigmoid(F.linear(embeddings, torch.from_numpy(dense_w), torch.from_numpy(dense_b)))
    return scores.numpy(), embeddings.numpy()


def litert(path, samples):
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    outs = {o["name"]: o["index"] for o in interpreter.get_output_details()}
    padded = pad_waveform(samples).astype(np.float32)
    logmels, scores = [], []
    for start in range(0, len(padded) - 15600 + 1, 7680):
        interpreter.set_tensor(inp, padded[None, start:start + 15600])
        interpreter.invoke()
        scores.append(interpreter.get_tensor(outs["Identity"])[0])
        logmels.append(interpreter.get_tensor(outs["Identity_1"]))
    return np.stack(logmels), np.stack(scores)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "models", "yamnet", "yamnet.tflite")
    os.makedirs(OUT, exist_ok=True)
    layers, dense_w, dense_b = load_reference(path)
    with torch.no_grad():
        for signal in ("silence", "noise", "speech", "tone"):
            samples = read_wav(os.path.join(FIXTURES, "frontend", f"{signal}.wav"))
            scores, embeddings = network(yamnet_patches(samples), layers, dense_w, dense_b)
            logmel, lite_scores = litert(path, samples)
            for name, value in (("scores", scores), ("embeddings", embeddings), ("litert_logmel", logmel),
                                ("litert_scores", lite_scores)):
                np.save(os.path.join(OUT, f"{signal}.{name}.npy"), value.astype(np.float32))
            print(signal, scores.shape, "reference top-1", int(scores.mean(0).argmax()), "LiteRT top-1",
                  int(lite_scores.mean(0).argmax()), "max |reference - LiteRT|", float(np.abs(scores - lite_scores).max()))
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(OUT, "source.txt"), "w") as f:
        f.write(f"yamnet/yamnet.tflite sha256 {digest}\n")


if __name__ == "__main__":
    main()
