"""Darknet fixtures for AudioNet's Darknet reader (Tests/ImageTests/DarknetTests.swift), with PyTorch references.

    python make_darknet_fixtures.py SHARED OUT

For Darknet-19 and Darknet-53 (SHARED/models/darknet/NAME.cfg) writes, in OUT:
- NAME.weights: seeded weights in Darknet's layout (pjreddie/darknet src/parser.c, load_weights_upto): int32 major 0,
  minor 2, revision 0, int64 images seen, then per [convolutional] layer its biases, with batch_normalize its scales,
  rolling means and rolling variances, then its kernel [filters, channels/groups, size, size], float32 little-endian;
- NAME.input.npy: two 256×256 RGB inputs in 0…1, NCHW;
- NAME.output.npy (the softmax) and NAME.logits.npy (the layer before it, 1×1×1000): the network run by a
  PyTorch interpreter of the .cfg written here from Darknet's C semantics (not from AudioNet's reader).
"""
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def parse_cfg(path):
    """[(type, {key: value})] as Darknet's read_cfg: whitespace dropped, '#' and ';' lines skipped."""
    sections = []
    with open(path) as f:
        for raw in f:
            line = "".join(raw.split())
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                sections.append((line[1:-1], {}))
            else:
                key, value = line.split("=", 1)
                sections[-1][1][key] = value
    return sections


def leaky(x):
    return torch.where(x > 0, x, 0.1 * x)


def activate(x, name):
    return {"linear": lambda v: v, "leaky": leaky, "relu": F.relu, "logistic": torch.sigmoid}[name](x)


def build(sections, rng, scales):
    """Seeded parameters per layer (Darknet's load order) and the weight file's float stream; batch-norm scales
    uniform in `scales` (Darknet-53's 23 shortcuts would otherwise grow the logits to a one-hot softmax)."""
    net, layers = sections[0][1], sections[1:]
    channels = int(net["channels"])
    params, stream = [], []
    for kind, o in layers:
        if kind == "convolutional":
            n, size, groups = int(o.get("filters", 1)), int(o.get("size", 1)), int(o.get("groups", 1))
            fan_in = channels // groups * size * size
            p = {"biases": rng.uniform(-0.1, 0.1, n)}
            if int(o.get("batch_normalize", 0)):
                p["scales"] = rng.uniform(*scales, n)
                p["mean"] = rng.uniform(-0.2, 0.2, n)
                p["variance"] = rng.uniform(0.5, 1.5, n)
            p["weights"] = rng.standard_normal((n, channels // groups, size, size)) * np.sqrt(2.0 / fan_in)
            for key in ("biases", "scales", "mean", "variance", "weights"):
                if key in p:
                    p[key] = p[key].astype(np.float32)
                    stream.append(p[key].ravel())
            params.append(p)
            channels = n
        else:
            params.append(None)
    return params, np.concatenate(stream)


def forward(sections, params, x):
    """Darknet's forward pass, layer by layer (convolutional_layer.c, batchnorm's normalize_cpu, maxpool_layer.c,
    avgpool_layer.c, shortcut_layer.c, softmax_layer.c)."""
    outputs = []
    for index, ((kind, o), p) in enumerate(zip(sections[1:], params)):
        if kind == "convolutional":
            size, stride = int(o.get("size", 1)), int(o.get("stride", 1))
            padding = size // 2 if int(o.get("pad", 0)) else int(o.get("padding", 0))
            w = torch.from_numpy(p["weights"])
            x = F.conv2d(x, w, None, stride=stride, padding=padding, groups=int(o.get("groups", 1)))
            if "scales" in p:
                # normalize_cpu: (x - mean) / (sqrt(variance) + .000001f); then scale_bias and add_bias.
                t = lambda a: torch.from_numpy(a)[None, :, None, None]
                x = (x - t(p["mean"])) / (torch.sqrt(t(p["variance"])) + 1e-6) * t(p["scales"])
            x = x + torch.from_numpy(p["biases"])[None, :, None, None]
            x = activate(x, o.get("activation", "logistic"))
        elif kind == "maxpool":
            stride = int(o.get("stride", 1))
            size = int(o.get("size", stride))
            pad = int(o.get("padding", size - 1))
            # Offsets start at -pad/2; out = (w + pad - size) / stride + 1; positions outside never win.
            before, after = pad // 2, pad - pad // 2
            x = F.pad(x, (before, after, before, after), value=-float("inf"))
            x = F.max_pool2d(x, size, stride)
        elif kind == "avgpool":
            x = x.mean(dim=(2, 3), keepdim=True)
        elif kind == "shortcut":
            source = int(o["from"])
            source = index + source if source < 0 else source
            x = x + outputs[source]
            x = activate(x, o.get("activation", "linear"))
        elif kind == "softmax":
            x = torch.softmax(x.flatten(1), dim=1)
        else:
            raise ValueError(kind)
        outputs.append(x)
    return outputs


def main(shared, out):
    os.makedirs(out, exist_ok=True)
    for seed, (name, scales) in enumerate([("darknet19", (0.5, 1.5)), ("darknet53", (0.2, 0.6))]):
        sections = parse_cfg(os.path.join(shared, "models/darknet", name + ".cfg"))
        rng = np.random.default_rng(1900 + seed)
        params, stream = build(sections, rng, scales)
        with open(os.path.join(out, name + ".weights"), "wb") as f:
            f.write(struct.pack("<iiiq", 0, 2, 0, 32013312))
            f.write(stream.astype("<f4").tobytes())
        x = torch.tensor(rng.uniform(0, 1, (2, 3, 256, 256)), dtype=torch.float32)
        with torch.no_grad():
            outputs = forward(sections, params, x)
        logits_index = len(outputs) - 2
        np.save(os.path.join(out, name + ".input.npy"), x.numpy())
        np.save(os.path.join(out, name + ".output.npy"), outputs[-1].numpy())
        np.save(os.path.join(out, name + ".logits.npy"), outputs[logits_index].flatten(1).numpy())
        print(f"{name}: {stream.size} weights, logits: layer {logits_index} ({sections[1 + logits_index][0]}), output {tuple(outputs[-1].shape)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
