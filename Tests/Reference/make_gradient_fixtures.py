"""Backward-pass fixtures: PyTorch autograd's gradients of every layer kind the catalog fine-tunes, and of a whole
ResNet-18 stage.

Run from the repository root in the reference venv (torch; torchvision for the network):
    python Tests/Reference/make_gradient_fixtures.py layers            # Tests/Fixtures/gradients/layers.npz
    python Tests/Reference/make_gradient_fixtures.py resnet18 OUTDIR   # OUTDIR/resnet18-random.pth, resnet18-layer4.npz
    python Tests/Reference/make_gradient_fixtures.py yamnet TFLITE OUTDIR  # OUTDIR/yamnet-last4.npz

layers.npz holds, for each case named below, `CASE.x` (NHWC, or [N, C] for dense and softmax), the layer's parameters
in AudioNet's layout (`CASE.w`: HWIO convolution, [kh, kw, C·m] depthwise, [in, out] dense; `CASE.b`; `CASE.gamma`,
`CASE.beta`, `CASE.mean`, `CASE.var` for BatchNorm; `batchnorm_training` also its output `y` and the running
`running_mean`, `running_var` after the step), a random upstream gradient `CASE.dy` shaped as the output, and
autograd's `CASE.dx`, `CASE.dw`, `CASE.db` (`CASE.dgamma`, `CASE.dbeta`) in the same layouts. Two-input layers have
`CASE.x0`, `CASE.x1` and `CASE.dx0`, `CASE.dx1`. The loss is `(output · dy).sum()`, so `dy` is ∂L/∂output.

resnet18-layer4.npz: torchvision's resnet18 with seeded random weights and random BatchNorm statistics (saved as the
.pth AudioNet imports), in eval mode, images `x` [2, 224, 224, 3] (NHWC) with `labels`; `loss` is F.cross_entropy of
the logits and `d.NAME` autograd's gradient of every parameter of layer4 and fc (torch's layout); `layer3` (NHWC) is
the activation layer4 reads. (A gradient behind a ReLU is discontinuous where a value crosses zero, so a check of the
trainable part starts from this activation; the frozen part is checked against it on its own.)

yamnet-last4.npz: YAMNet as make_yamnet_fixtures.py builds it in PyTorch (yamnet.py's layer table, the official TFLite
model's weights, BatchNorm folded into biases as that file stores it) on the log-mel patches of
Tests/Fixtures/frontend/speech.wav (features.py's front end), its last four blocks (layer11–14) and classifier
trainable: `layer10` (NHWC) is the activation layer11 reads, `labels` random AudioSet classes, `loss` F.cross_entropy
of the logits, `d.NODE.weight` / `d.NODE.bias` the gradients in AudioNet's layout ([3, 3, C] depthwise, HWIO
pointwise, [1024, 521] for `d.logits.weight`).
"""
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "gradients")
rng = np.random.default_rng(11)


def tensor(shape):
    return rng.standard_normal(shape).astype(np.float32)


def nchw(x):
    return torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def same_pads(size, kernel, stride, dilation=1):
    """TensorFlow SAME: (before, after), the odd pixel after."""
    output = -(-size // stride)
    total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def backward(arrays, name, output, inputs, parameters):
    """Stores dy and the gradients of `(output · dy).sum()` with respect to `inputs` and `parameters` (name → tensor)."""
    dy = tensor(output.shape)
    (output * torch.from_numpy(dy)).sum().backward()
    arrays[name + ".dy"] = dy.transpose(0, 2, 3, 1) if output.dim() == 4 else dy
    for key, t in inputs.items():
        grad = t.grad.numpy()
        arrays[f"{name}.d{key}"] = grad.transpose(0, 2, 3, 1) if grad.ndim == 4 else grad
    for key, (t, layout) in parameters.items():
        arrays[f"{name}.d{key}"] = layout(t.grad.numpy())


def conv(arrays, name, shape, out, kernel, stride=(1, 1), dilation=(1, 1), groups=1, pads=(0, 0, 0, 0), bias=True,
         same=False, depthwise=False):
    """pads: top, bottom, left, right; `same` computes TensorFlow's SAME pads instead. `depthwise`: one group per input
    channel, its weights in AudioNet's depthwise layout [kh, kw, C·m] rather than HWIO."""
    x = tensor(shape)
    groups = shape[3] if depthwise else groups
    if same:
        pads = same_pads(shape[1], kernel[0], stride[0], dilation[0]) + same_pads(shape[2], kernel[1], stride[1], dilation[1])
    w = torch.tensor(tensor((out, shape[3] // groups) + kernel) * 0.3, requires_grad=True)
    b = torch.tensor(tensor((out,)), requires_grad=True) if bias else None
    tx = nchw(x)
    padded = F.pad(tx, (pads[2], pads[3], pads[0], pads[1]))
    y = F.conv2d(padded, w, b, stride=stride, dilation=dilation, groups=groups)
    ours = (lambda a: a.transpose(2, 3, 1, 0).reshape(kernel + (out,))) if depthwise else (lambda a: a.transpose(2, 3, 1, 0))
    arrays[name + ".x"], arrays[name + ".w"] = x, ours(w.detach().numpy())
    parameters = {"w": (w, ours)}
    if bias:
        arrays[name + ".b"] = b.detach().numpy()
        parameters["b"] = (b, lambda a: a)
    backward(arrays, name, y, {"x": tx}, parameters)


def main_layers():
    arrays = {}
    conv(arrays, "conv3x3", (2, 7, 6, 4), 5, (3, 3), pads=(1, 1, 1, 1))
    conv(arrays, "conv3x3_stride2_same", (2, 7, 8, 4), 6, (3, 3), stride=(2, 2), same=True)
    conv(arrays, "conv_grouped_dilated", (2, 9, 9, 6), 4, (3, 3), dilation=(2, 2), groups=2, pads=(2, 1, 0, 2))
    conv(arrays, "conv7x7_stride2_unbiased", (2, 12, 12, 3), 8, (7, 7), stride=(2, 2), pads=(3, 3, 3, 3), bias=False)
    conv(arrays, "conv1x1", (2, 5, 5, 8), 6, (1, 1))
    conv(arrays, "conv3x1_stride2x1", (2, 10, 4, 3), 4, (3, 1), stride=(2, 1))
    conv(arrays, "depthwise_stride2_same", (2, 9, 8, 5), 5, (3, 3), stride=(2, 2), same=True, depthwise=True)
    conv(arrays, "depthwise_multiplier2", (2, 6, 6, 3), 6, (3, 3), pads=(1, 1, 1, 1), bias=False, depthwise=True)

    # Dense: y = x·W + b with W [in, out].
    x, w, b = tensor((3, 10)), torch.tensor(tensor((10, 7)), requires_grad=True), torch.tensor(tensor((7,)), requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    arrays.update({"dense.x": x, "dense.w": w.detach().numpy(), "dense.b": b.detach().numpy()})
    backward(arrays, "dense", tx @ w + b, {"x": tx}, {"w": (w, lambda a: a), "b": (b, lambda a: a)})

    # BatchNorm in eval mode (running statistics frozen), with γ and without (γ = 1, not learned).
    for name, scaled in (("batchnorm", True), ("batchnorm_unscaled", False)):
        x = tensor((2, 4, 4, 6))
        mean, var = tensor((6,)), rng.uniform(0.5, 2, 6).astype(np.float32)
        gamma = torch.tensor(tensor((6,)) if scaled else np.ones(6, np.float32), requires_grad=scaled)
        beta = torch.tensor(tensor((6,)), requires_grad=True)
        tx = nchw(x)
        y = F.batch_norm(tx, torch.from_numpy(mean), torch.from_numpy(var), gamma, beta, training=False, eps=1e-3)
        arrays.update({f"{name}.x": x, f"{name}.mean": mean, f"{name}.var": var, f"{name}.beta": beta.detach().numpy()})
        parameters = {"beta": (beta, lambda a: a)}
        if scaled:
            arrays[f"{name}.gamma"] = gamma.detach().numpy()
            parameters["gamma"] = (gamma, lambda a: a)
        backward(arrays, name, y, {"x": tx}, parameters)

    activations = {
        "relu": F.relu, "relu6": F.relu6, "leaky": lambda t: F.leaky_relu(t, 0.1), "sigmoid": torch.sigmoid,
        "tanh": torch.tanh, "swish": F.silu, "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid,
    }
    for name, f in activations.items():
        x = tensor((2, 3, 3, 5)) * 4
        tx = nchw(x)
        arrays[f"{name}.x"] = x
        backward(arrays, name, f(tx), {"x": tx}, {})
    for name, f in (("softmax", lambda t: F.softmax(t, -1)), ("logsoftmax", lambda t: F.log_softmax(t, -1))):
        x = tensor((4, 7))
        tx = torch.tensor(x, requires_grad=True)
        arrays[f"{name}.x"] = x
        backward(arrays, name, f(tx), {"x": tx}, {})

    pools = {
        "maxpool3x3_stride2_pad1": lambda t: F.max_pool2d(t, 3, 2, 1),
        "maxpool2x2_ceil": lambda t: F.max_pool2d(t, 2, 2, ceil_mode=True),
        "avgpool3x3_stride2_pad1": lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=True),
        "avgpool3x3_stride2_pad1_excluding": lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
        "globalaverage": lambda t: t.mean(dim=(2, 3)),
    }
    for name, f in pools.items():
        x = tensor((2, 7, 7, 4))
        tx = nchw(x)
        arrays[f"{name}.x"] = x
        backward(arrays, name, f(tx), {"x": tx}, {})

    # Two inputs: a sum and a concatenation on channels; a channel shuffle in 3 groups of 4.
    for name, f, second in (("add", lambda a, b: a + b, 4), ("concat", lambda a, b: torch.cat([a, b], 1), 3)):
        x0, x1 = tensor((2, 3, 3, 4)), tensor((2, 3, 3, second))
        t0, t1 = nchw(x0), nchw(x1)
        arrays[f"{name}.x0"], arrays[f"{name}.x1"] = x0, x1
        backward(arrays, name, f(t0, t1), {"x0": t0, "x1": t1}, {})
    # Squeeze-and-excite's product: per-channel scales broadcast over the positions.
    x0, x1 = tensor((2, 3, 3, 4)), tensor((2, 1, 1, 4))
    t0, t1 = nchw(x0), nchw(x1)
    arrays["multiply.x0"], arrays["multiply.x1"] = x0, x1
    backward(arrays, "multiply", t0 * t1, {"x0": t0, "x1": t1}, {})
    x = tensor((2, 3, 3, 7)) * 3
    tx = nchw(x)
    arrays["lrn.x"] = x
    backward(arrays, "lrn", F.local_response_norm(tx, 5, alpha=0.5, beta=0.75, k=1), {"x": tx}, {})
    for name, pads in (("zeropad", (1, 2, 0, 3)), ("zerocrop", (-1, 0, -2, 1))):  # top, bottom, left, right
        x = tensor((2, 5, 6, 3))
        tx = nchw(x)
        arrays[f"{name}.x"] = x
        backward(arrays, name, F.pad(tx, (pads[2], pads[3], pads[0], pads[1])), {"x": tx}, {})
    x = tensor((2, 3, 3, 7))
    tx = nchw(x)
    arrays["slice.x"] = x
    backward(arrays, "slice", tx[:, 2:5], {"x": tx}, {})
    x = tensor((2, 3, 3, 12))
    tx = nchw(x)
    arrays["shuffle.x"] = x
    backward(arrays, "shuffle", tx.view(2, 3, 4, 3, 3).transpose(1, 2).reshape(2, 12, 3, 3), {"x": tx}, {})

    # BatchNorm in training mode (torch's train()): the batch's statistics, the running ones moved by momentum 0.1
    # (the variance unbiased); `y` and the new running statistics too. (Drawn last: the cases above keep their values.)
    x = tensor((3, 4, 5, 6)) * 2 + 1
    mean, var = tensor((6,)), rng.uniform(0.5, 2, 6).astype(np.float32)
    gamma, beta = torch.tensor(tensor((6,)), requires_grad=True), torch.tensor(tensor((6,)), requires_grad=True)
    running_mean, running_var = torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())
    tx = nchw(x)
    y = F.batch_norm(tx, running_mean, running_var, gamma, beta, training=True, momentum=0.1, eps=1e-3)
    arrays.update({"batchnorm_training.x": x, "batchnorm_training.mean": mean, "batchnorm_training.var": var,
                   "batchnorm_training.gamma": gamma.detach().numpy(), "batchnorm_training.beta": beta.detach().numpy(),
                   "batchnorm_training.y": nhwc(y), "batchnorm_training.running_mean": running_mean.numpy(),
                   "batchnorm_training.running_var": running_var.numpy()})
    backward(arrays, "batchnorm_training", y, {"x": tx}, {"gamma": (gamma, lambda a: a), "beta": (beta, lambda a: a)})

    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "layers.npz"), **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    print("layers.npz:", len(arrays), "arrays, torch", torch.__version__)


def main_resnet18(out):
    for stub in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules[stub] = types.ModuleType(stub)
    import torchvision

    torch.manual_seed(3)
    model = torchvision.models.resnet18()
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                c = module.num_features
                module.weight.copy_(1 + 0.2 * torch.randn(c, generator=generator))
                module.bias.copy_(0.1 * torch.randn(c, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
                module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
    model.eval()
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, "resnet18-random.pth"))
    x = tensor((2, 224, 224, 3))
    labels = np.array([3, 997])
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2))
    with torch.no_grad():
        stage3 = model.layer3(model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(tx)))))))
    loss = F.cross_entropy(model(tx), torch.from_numpy(labels))
    loss.backward()
    arrays = {"x": x, "labels": labels.astype(np.float32), "loss": np.array([loss.item()], np.float32),
              "layer3": stage3.numpy().transpose(0, 2, 3, 1)}
    for name, parameter in model.named_parameters():
        if name.startswith("layer4.") or name.startswith("fc."):
            arrays["d." + name] = parameter.grad.numpy()
    np.savez(os.path.join(out, "resnet18-layer4.npz"), **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    print("resnet18-layer4.npz: loss", loss.item())


def main_yamnet(tflite, out):
    sys.path.insert(0, os.path.dirname(__file__))
    from frontend_reference import yamnet_patches
    from make_frontend_fixtures import read_wav
    from make_yamnet_fixtures import STRIDES, tf_same
    from yamnet_tflite_weights import load_reference

    layers, dense_w, dense_b = load_reference(tflite)
    samples = read_wav(os.path.join(os.path.dirname(__file__), "..", "Fixtures", "frontend", "speech.wav"))
    x = torch.from_numpy(yamnet_patches(samples).astype(np.float32))[:, None]
    strides = [STRIDES[0]] + [s for stride in STRIDES[1:] for s in (stride, 1)]
    names = ["layer1/conv"] + [f"layer{block}/{part}" for block in range(2, 15) for part in ("depthwise_conv", "pointwise_conv")]
    first = names.index("layer11/depthwise_conv")
    arrays, trained = {}, []
    for index, ((kind, w, b), stride, name) in enumerate(zip(layers, strides, names)):
        if index == first:
            arrays["layer10"] = x.detach().numpy().transpose(0, 2, 3, 1)
            x = x.detach()
        if kind == "DEPTHWISE_CONV_2D":  # [1, 3, 3, C] -> [C, 1, 3, 3]; ours [3, 3, C]
            weight = torch.tensor(np.ascontiguousarray(w[0].transpose(2, 0, 1)[:, None]), requires_grad=index >= first)
            layout = lambda g: g[:, 0].transpose(1, 2, 0)
        else:  # OHWI -> OIHW; ours HWIO
            weight = torch.tensor(np.ascontiguousarray(w.transpose(0, 3, 1, 2)), requires_grad=index >= first)
            layout = lambda g: g.transpose(2, 3, 1, 0)
        bias = torch.tensor(b, requires_grad=index >= first)
        padded = tf_same(x, stride) if kind == "DEPTHWISE_CONV_2D" or w.shape[1] == 3 else x
        x = F.relu(F.conv2d(padded, weight, bias, stride=stride, groups=x.shape[1] if kind == "DEPTHWISE_CONV_2D" else 1))
        if index >= first:
            trained.append((name, weight, bias, layout))
    dense_weight = torch.tensor(dense_w, requires_grad=True)
    dense_bias = torch.tensor(dense_b, requires_grad=True)
    logits = F.linear(x.mean(dim=(2, 3)), dense_weight, dense_bias)
    labels = rng.integers(0, 521, logits.shape[0])
    loss = F.cross_entropy(logits, torch.from_numpy(labels))
    loss.backward()
    arrays.update({"labels": labels.astype(np.float32), "loss": np.array([loss.item()], np.float32),
                   "d.logits.weight": dense_weight.grad.numpy().T, "d.logits.bias": dense_bias.grad.numpy()})
    for name, weight, bias, layout in trained:
        arrays[f"d.{name}.weight"] = layout(weight.grad.numpy())
        arrays[f"d.{name}.bias"] = bias.grad.numpy()
    os.makedirs(out, exist_ok=True)
    np.savez(os.path.join(out, "yamnet-last4.npz"), **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    print("yamnet-last4.npz:", logits.shape[0], "patches, loss", loss.item())


if __name__ == "__main__":
    if sys.argv[1:2] == ["layers"]:
        main_layers()
    elif sys.argv[1:2] == ["resnet18"] and len(sys.argv) == 3:
        main_resnet18(sys.argv[2])
    elif sys.argv[1:2] == ["yamnet"] and len(sys.argv) == 4:
        main_yamnet(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
