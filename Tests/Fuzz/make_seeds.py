"""Writes the seed corpus Tests/Fixtures/fuzz-corpus/<target>/: one small valid file of each kind each fuzz target
parses, so that libFuzzer starts from inputs that reach deep into the parser. Built from each format's own
tools: h5py (Keras layout), flatbuffers (TFLite schema slots), sox (audio), cjpeg (libjpeg-turbo-progs);
the pickles are copied from Tests/Fixtures/vggish (made by torch.save, see make_vggish_fixtures.py).

Usage: python Tests/Fuzz/make_seeds.py   (needs h5py and flatbuffers; sox and cjpeg on the PATH). The Ogg and
AIFF seeds carry a random stream serial and a timestamp, so they change on every run.
"""
import io
import os
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "Fixtures", "fuzz-corpus")
FIXTURES = os.path.join(HERE, "..", "Fixtures")


def save(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def npy(descr, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


# NPY: each dtype the reader knows, a scalar and an empty array.
save("npy", "float32.npy", npy("<f4", [2, 3], struct.pack("<6f", *range(6))))
save("npy", "float64.npy", npy("<f8", [2], struct.pack("<2d", 0.5, -1)))
save("npy", "int64.npy", npy("<i8", [3], struct.pack("<3q", 1, -2, 3)))
save("npy", "uint8.npy", npy("|u1", [4], bytes([0, 1, 254, 255])))
save("npy", "scalar.npy", npy("<i4", [], struct.pack("<i", 7)))
save("npy", "empty.npy", npy("<f4", [0, 5], b""))

# NPZ: one stored and one deflated member.
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    archive.writestr(zipfile.ZipInfo("a.npy"), npy("<f4", [2], struct.pack("<2f", 1, 2)))
    archive.writestr(zipfile.ZipInfo("b.npy", date_time=(1980, 1, 1, 0, 0, 0)), npy("<i8", [2], struct.pack("<2q", 3, 4)),
                     compress_type=zipfile.ZIP_DEFLATED)
save("npz", "two.npz", buffer.getvalue())
shutil.copy(os.path.join(FIXTURES, "zip", "zip64.npz"), os.path.join(CORPUS, "npz", "zip64.npz"))

# PyTorch: the zip and legacy formats, nested dictionaries.
for name in ["importer.pth", "legacy.pth", "nested.pth"]:
    os.makedirs(os.path.join(CORPUS, "pytorch"), exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, "vggish", name), os.path.join(CORPUS, "pytorch", name))

# Keras HDF5: two layers, a kernel and a bias each.
import h5py  # noqa: E402
import numpy as np  # noqa: E402

with tempfile.TemporaryDirectory() as scratch:
    path = os.path.join(scratch, "w.h5")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"conv", b"dense"])  # fixed-length, as Keras writes them
        for layer, shape in (("conv", (3, 1, 2)), ("dense", (2, 2))):
            group = f.create_group(layer)
            group.attrs["weight_names"] = np.array([f"{layer}/kernel:0".encode(), f"{layer}/bias:0".encode()])
            group.create_dataset(f"{layer}/kernel:0", data=[[0.5] * shape[-1]] * (shape[0] * (shape[1] if len(shape) > 2 else 1)), dtype="f4")
            group.create_dataset(f"{layer}/bias:0", data=[0.25] * shape[-1], dtype="f4")
    save("keras", "two-layers.h5", open(path, "rb").read())

# TFLite: a float32 tensor and a per-channel quantized int8 tensor (Model 2 subgraphs, 4 buffers; SubGraph 0
# tensors; Tensor 0 shape, 1 type, 2 buffer, 3 name, 4 quantization; Quantization 2 scale, 3 zero_point,
# 6 quantized_dimension; Buffer 0 data).
import flatbuffers  # noqa: E402

builder = flatbuffers.Builder(512)


def vector(kind, items, prepend):
    builder.StartVector(kind, len(items), kind)
    for item in reversed(items):
        prepend(item)
    return builder.EndVector()


def table(fields):
    builder.StartObject(7)
    for slot, kind, value in fields:
        if kind == "offset":
            builder.PrependUOffsetTRelativeSlot(slot, value, 0)
        elif kind == "uint8":
            builder.PrependUint8Slot(slot, value, 255)
        elif kind == "uint32":
            builder.PrependUint32Slot(slot, value, 0xFFFFFFFF)
        elif kind == "int32":
            builder.PrependInt32Slot(slot, value, -1)
    return builder.EndObject()


datas = [builder.CreateByteVector(b""), builder.CreateByteVector(struct.pack("<4f", 1, 2, 3, 4)),
         builder.CreateByteVector(bytes([1, 255, 3, 4]))]
buffers = vector(4, [table([(0, "offset", d)]) for d in datas], builder.PrependUOffsetTRelative)
scales = vector(4, [0.5, 0.25], builder.PrependFloat32)
zeros = vector(8, [0, 1], builder.PrependInt64)
quantization = table([(2, "offset", scales), (3, "offset", zeros), (6, "int32", 0)])
names = [builder.CreateString("weights"), builder.CreateString("quantized")]
shapes = [vector(4, [2, 2], builder.PrependInt32), vector(4, [2, 2], builder.PrependInt32)]
tensors = vector(4, [table([(0, "offset", shapes[0]), (1, "uint8", 0), (2, "uint32", 1), (3, "offset", names[0])]),
                     table([(0, "offset", shapes[1]), (1, "uint8", 9), (2, "uint32", 2), (3, "offset", names[1]),
                            (4, "offset", quantization)])], builder.PrependUOffsetTRelative)
inputs = vector(4, [0], builder.PrependInt32)
subgraphs = vector(4, [table([(0, "offset", tensors), (1, "offset", inputs), (2, "offset", inputs)])], builder.PrependUOffsetTRelative)
model = table([(0, "uint32", 3), (2, "offset", subgraphs), (4, "offset", buffers)])
builder.Finish(model, file_identifier=b"TFL3")
save("tflite", "two-tensors.tflite", bytes(builder.Output()))

# A small graph for the importer: CONV_2D (3) with ReLU → MAX_POOL_2D (17) → RESHAPE (22) → FULLY_CONNECTED (9)
# → SOFTMAX (25). Operator: 0 opcode_index, 1 inputs, 2 outputs, 4 builtin_options; OperatorCode: 0 deprecated
# code, 3 code; Conv2DOptions: 0 padding (0 SAME), 1 stride_w, 2 stride_h, 3 activation (1 RELU);
# Pool2DOptions: 0 padding (1 VALID), 1 stride_w, 2 stride_h, 3 filter_w, 4 filter_h.
builder = flatbuffers.Builder(1024)
constants = {1: struct.pack("<4f", 0.5, -1, 2, 0.25), 2: struct.pack("<2f", 0.1, -0.2), 6: struct.pack("<24f", *[i / 24 for i in range(24)])}
datas = [builder.CreateByteVector(constants.get(i, b"")) for i in range(9)]
buffers = vector(4, [table([(0, "offset", d)]) for d in datas], builder.PrependUOffsetTRelative)
shapes = [[1, 4, 4, 2], [2, 1, 1, 2], [2], [1, 4, 4, 2], [1, 2, 2, 2], [1, 8], [3, 8], [1, 3], [1, 3]]
names = [builder.CreateString(f"t{i}") for i in range(9)]
shape_vectors = [vector(4, shape, builder.PrependInt32) for shape in shapes]
tensors = vector(4, [table([(0, "offset", shape_vectors[i]), (1, "uint8", 0), (2, "uint32", i), (3, "offset", names[i])]) for i in range(9)],
                 builder.PrependUOffsetTRelative)
codes = vector(4, [table([(0, "uint8", code), (3, "int32", code)]) for code in (3, 17, 22, 9, 25)], builder.PrependUOffsetTRelative)
conv_options = table([(0, "uint8", 0), (1, "int32", 1), (2, "int32", 1), (3, "uint8", 1)])
pool_options = table([(0, "uint8", 1), (1, "int32", 2), (2, "int32", 2), (3, "int32", 2), (4, "int32", 2)])
operators = []
for index, inputs, outputs, options in [(0, [0, 1, 2], [3], conv_options), (1, [3], [4], pool_options), (2, [4], [5], None),
                                        (3, [5, 6], [7], None), (4, [7], [8], None)]:
    ins, outs = vector(4, inputs, builder.PrependInt32), vector(4, outputs, builder.PrependInt32)
    fields = [(0, "uint32", index), (1, "offset", ins), (2, "offset", outs)] + ([(4, "offset", options)] if options else [])
    operators.append(table(fields))
operator_vector = vector(4, operators, builder.PrependUOffsetTRelative)
graph_inputs, graph_outputs = vector(4, [0], builder.PrependInt32), vector(4, [8], builder.PrependInt32)
subgraphs = vector(4, [table([(0, "offset", tensors), (1, "offset", graph_inputs), (2, "offset", graph_outputs),
                              (3, "offset", operator_vector)])], builder.PrependUOffsetTRelative)
model = table([(0, "uint32", 3), (1, "offset", codes), (2, "offset", subgraphs), (4, "offset", buffers)])
builder.Finish(model, file_identifier=b"TFL3")
save("tflite", "conv-graph.tflite", bytes(builder.Output()))

# Images: BMP (both row orders), PNG (grey and RGBA), JPEG.
for name in ["bmp-top-down.bmp", "bmp-bottom-up.bmp"]:
    os.makedirs(os.path.join(CORPUS, "image"), exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, "hostile", name), os.path.join(CORPUS, "image", name))


def png(width, height, colour, channels, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + bytes(row) for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


save("image", "grey.png", png(3, 2, 0, 1, [[0, 128, 255], [10, 20, 30]]))
save("image", "rgba.png", png(2, 2, 6, 4, [[255, 0, 0, 255, 0, 255, 0, 128], [0, 0, 255, 0, 9, 9, 9, 9]]))
with tempfile.TemporaryDirectory() as scratch:
    ppm = os.path.join(scratch, "p.ppm")
    with open(ppm, "wb") as f:
        f.write(b"P6\n8 8\n255\n" + bytes((x * 30 % 256) for x in range(8 * 8 * 3)))
    save("image", "small.jpg", subprocess.run(["cjpeg", "-quality", "80", ppm], check=True, capture_output=True).stdout)
    save("image", "progressive.jpg", subprocess.run(["cjpeg", "-progressive", ppm], check=True, capture_output=True).stdout)

# Audio: 20 ms of a tone in the containers and encodings libsndfile reads.
with tempfile.TemporaryDirectory() as scratch:
    for name, options in [("pcm16.wav", []), ("float.wav", ["-e", "floating-point", "-b", "32"]), ("stereo.flac", ["-c", "2"]),
                          ("mono.ogg", []), ("pcm24.aiff", ["-b", "24"])]:
        path = os.path.join(scratch, name)
        subprocess.run(["sox", "-n", "-r", "8000"] + options + [path, "synth", "0.02", "sine", "440"], check=True)
        save("audio", name, open(path, "rb").read())

for target in sorted(os.listdir(CORPUS)):
    files = os.listdir(os.path.join(CORPUS, target))
    print(target, len(files), "seeds,", sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files), "bytes")


# safetensors: the reference library's file, and a small trained-model file in AudioNet's layout (a 4-feature,
# 2-class head with its description, as `audionet train` writes it).
with open(os.path.join(FIXTURES, "training", "reference.safetensors"), "rb") as f:
    save("safetensors", "reference.safetensors", f.read())
try:
    import json
    import numpy as np
    from safetensors.numpy import save as save_safetensors
    description = {"format": "audionet-classifier", "version": 1, "backbone": "yamnet", "backboneSHA256": None,
                   "classes": ["a", "b"], "hidden": 0, "recipe": {}, "metrics": {}}
    tensors = {"standardization.mean": np.zeros(4, np.float32), "standardization.scale": np.ones(4, np.float32),
               "head.0.weight": np.arange(8, dtype=np.float32).reshape(4, 2), "head.0.bias": np.zeros(2, np.float32)}
    save("safetensors", "model.audionet", save_safetensors(tensors, metadata={"audionet": json.dumps(description)}))
except ImportError:
    print("safetensors is not installed: the model seed is not written")

# onnx: two small graphs written with onnx.helper — a convolution, pooling and classifier at opset 13 (weights as
# raw bytes), and the older opset-9 attributes (Pad, Clip, Unsqueeze axes) with weights as float lists.
try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def weights(name, shape):
        return numpy_helper.from_array(np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape), name)

    nodes = [helper.make_node("Sub", ["input", "mean"], ["centred"]),
             helper.make_node("Conv", ["centred", "w1", "b1"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=1),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
             helper.make_node("GlobalAveragePool", ["pool"], ["gap"]),
             helper.make_node("Flatten", ["gap"], ["flat"]),
             helper.make_node("Gemm", ["flat", "w2", "b2"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["output"])]
    graph = helper.make_graph(nodes, "seed", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2, 5, 5])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3])],
                              [weights("mean", (2, 1, 1)), weights("w1", (4, 2, 3, 3)), weights("b1", (4,)),
                               weights("w2", (3, 4)), weights("b2", (3,))])
    save("onnx", "conv-classifier.onnx", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    nodes = [helper.make_node("Pad", ["input"], ["padded"], pads=[0, 0, 1, 1, 0, 0, 1, 1]),
             helper.make_node("Clip", ["padded"], ["clipped"], min=-0.5, max=0.5),
             helper.make_node("Flatten", ["clipped"], ["flat"]),
             helper.make_node("Unsqueeze", ["flat"], ["wide"], axes=[2]),
             helper.make_node("Reshape", ["wide", "shape"], ["output"])]
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [0, -1])
    listed = helper.make_tensor("unused", TensorProto.FLOAT, [2], [0.5, 1.5])
    graph = helper.make_graph(nodes, "seed9", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 3, 3])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 25])], [shape, listed])
    save("onnx", "opset9-attributes.onnx", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)]).SerializeToString())
except ImportError:
    print("onnx is not installed: the ONNX seeds are not written")

# caffe, caffemodel: the residual network of Tests/Reference/make_caffe_fixtures.py — its definition (the caffemodel
# target reads every input as weights for it), and its seeded weights in the V1 `layers` form.
try:
    import sys
    sys.path.insert(0, os.path.join(HERE, "..", "Reference"))
    import make_caffe_fixtures
    mirror = os.environ.get("AUDIONET_WEIGHTS_MIRROR") or os.path.join(HERE, "..", "..", "..", "shared", "models")
    with tempfile.TemporaryDirectory() as folder:
        caffe_pb2 = make_caffe_fixtures.compile_schema(os.path.dirname(os.path.abspath(mirror)), folder)
        make_caffe_fixtures.write(caffe_pb2, "residual", make_caffe_fixtures.RESIDUAL, folder, 7, legacy=True, logits_layer="fc")
        for target, name in [("caffe", "residual.prototxt"), ("caffemodel", "residual.caffemodel")]:
            with open(os.path.join(folder, name), "rb") as f:
                save(target, name, f.read())
except ImportError:
    print("torch is not installed: the Caffe seeds are not written")

# darknet: a definition of every section type the reader takes, a NUL byte, then weights for it (a version-0.2
# header, then each convolution's biases, batch-norm scales, means and variances, and kernel).
DARKNET = """[net]
height=8
width=8
channels=3

[convolutional]
batch_normalize=1
filters=4
size=3
stride=1
pad=1
activation=leaky

[convolutional]
filters=4
size=1
activation=linear

[shortcut]
from=-2
activation=relu

[maxpool]
size=2
stride=2

[avgpool]

[softmax]
groups=1
"""
values = 4 * 4 + 4 * 3 * 9 + 4 + 4 * 4
weights = struct.pack("<iiiq", 0, 2, 0, 0) + struct.pack(f"<{values}f", *[((i * 37) % 17 - 8) / 16 for i in range(values)])
save("darknet", "residual.cfg", DARKNET.encode())
save("darknet", "residual.cfg+weights", DARKNET.encode() + b"\0" + weights)
