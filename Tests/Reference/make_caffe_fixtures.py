"""Caffe fixtures for AudioNet's Caffe importer (Tests/FormatsTests/CaffeImportTests.swift), with PyTorch references.

    python make_caffe_fixtures.py SHARED OUT

Compiles BVLC Caffe's schema (SHARED/formats/caffe/caffe.proto) with protoc, then writes, in OUT:
- googlenet.prototxt (BVLC GoogLeNet's deploy definition, SHARED/models/bvlc_googlenet) and googlenet.caffemodel: seeded
  weights for every layer, in the `layer` form;
- alexnet and googlenet_places365 likewise, from BVLC AlexNet's (two groups, LRN) and Places365 GoogLeNet's (365 classes,
  the older `input_dim` input) definitions in SHARED/models;
- residual.prototxt and residual.caffemodel: a small network of the layers GoogLeNet lacks (BatchNorm with its scale
  factor, Scale, Eltwise, Sigmoid, TanH, leaky ReLU, Flatten, an inner product over a 3×3 map, padded average pooling
  rounded up), its weights in the older V1 `layers` form;
- for each, NAME.input.npy (NCHW) and NAME.output.npy / NAME.logits.npy: the network run by a PyTorch interpreter of
  the definition written here from Caffe's layer semantics (not from AudioNet's importer).
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from google.protobuf import text_format

RESIDUAL = """
name: "Residual"
layer { name: "data" type: "Input" top: "data" input_param { shape: { dim: 2 dim: 3 dim: 23 dim: 19 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 8 kernel_h: 3 kernel_w: 5 stride: 2 pad_h: 1 pad_w: 2 bias_term: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { eps: 0.001 } }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: 0.1 } }
layer { name: "branch" type: "Convolution" bottom: "conv1" top: "branch"
        convolution_param { num_output: 8 kernel_size: 3 pad: 2 dilation: 2 group: 2 } }
layer { name: "gate" type: "Sigmoid" bottom: "branch" top: "gate" }
layer { name: "sum" type: "Eltwise" bottom: "conv1" bottom: "gate" top: "sum" }
layer { name: "product" type: "Eltwise" bottom: "sum" bottom: "conv1" top: "product" eltwise_param { operation: PROD } }
layer { name: "squash" type: "TanH" bottom: "product" top: "product" }
layer { name: "pool" type: "Pooling" bottom: "product" top: "pool" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "maxpool" type: "Pooling" bottom: "pool" top: "maxpool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "flat" type: "Flatten" bottom: "maxpool" top: "flat" }
layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""


def compile_schema(shared, out):
    subprocess.run(["protoc", f"--python_out={out}", "-I", os.path.join(shared, "formats/caffe"), "caffe.proto"], check=True)
    sys.path.insert(0, out)
    import caffe_pb2
    return caffe_pb2


def seeded_blobs(net, rng):
    """Blob arrays per layer name, shaped as Caffe stores them; channel counts inferred by a shape pass."""
    shapes, blobs = {}, {}
    if net.input:
        shapes[net.input[0]] = input_shape(net)
    for layer in net.layer:
        if layer.type == "Input":
            shapes[layer.top[0]] = input_shape(net)
            continue
        shape = shapes[layer.bottom[0]]
        c = shape[0]
        if layer.type == "Convolution":
            p = layer.convolution_param
            kh, kw = (p.kernel_h, p.kernel_w) if p.kernel_h else (p.kernel_size[0], p.kernel_size[0])
            groups = p.group or 1
            fan_in = c // groups * kh * kw
            arrays = [rng.standard_normal((p.num_output, c // groups, kh, kw)) * np.sqrt(2.0 / fan_in)]
            if p.bias_term:
                arrays.append(rng.uniform(-0.1, 0.1, p.num_output))
            blobs[layer.name] = arrays
        elif layer.type == "InnerProduct":
            p = layer.inner_product_param
            fan_in = int(np.prod(shape))
            blobs[layer.name] = [rng.standard_normal((p.num_output, fan_in)) * np.sqrt(2.0 / fan_in), rng.uniform(-0.1, 0.1, p.num_output)]
        elif layer.type == "BatchNorm":
            factor = 4.0  # Caffe's running sums and their scale factor
            blobs[layer.name] = [rng.uniform(-0.2, 0.2, c) * factor, rng.uniform(0.5, 1.5, c) * factor, np.array([factor])]
        elif layer.type == "Scale":
            blobs[layer.name] = [rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c)]
        out = torch_layer(layer, [torch.zeros([1] + shapes[b]) for b in layer.bottom],
                          [torch.tensor(a, dtype=torch.float32) for a in blobs.get(layer.name, [])])
        shapes[layer.top[0]] = list(out.shape[1:])
    return blobs


def input_shape(net):
    """[C, H, W] of the one input: an Input layer's shape, or the older `input_dim` fields."""
    if net.input_dim:
        return list(net.input_dim)[1:]
    return list(next(layer for layer in net.layer if layer.type == "Input").input_param.shape[0].dim)[1:]


def pair(values, h, w, fallback):
    if h or w:
        return h, w
    values = list(values) if hasattr(values, "__len__") else ([values] if values else [])
    return (values[0], values[-1]) if values else (fallback, fallback)


def torch_layer(layer, inputs, blobs):
    """One Caffe layer in PyTorch, from Caffe's documented semantics."""
    x = inputs[0]
    t = layer.type
    if t == "Convolution":
        p = layer.convolution_param
        return F.conv2d(x, blobs[0], blobs[1] if p.bias_term else None, stride=pair(p.stride, p.stride_h, p.stride_w, 1),
                        padding=pair(p.pad, p.pad_h, p.pad_w, 0), dilation=pair(p.dilation, 0, 0, 1), groups=p.group or 1)
    if t == "ReLU":
        slope = layer.relu_param.negative_slope
        return F.leaky_relu(x, slope) if slope else F.relu(x)
    if t == "Sigmoid":
        return torch.sigmoid(x)
    if t == "TanH":
        return torch.tanh(x)
    if t == "Pooling":
        p = layer.pooling_param
        if p.global_pooling:
            return F.adaptive_avg_pool2d(x, 1) if p.pool == 1 else F.adaptive_max_pool2d(x, 1)
        k, s, pad = pair(p.kernel_size, p.kernel_h, p.kernel_w, 0), pair(p.stride, p.stride_h, p.stride_w, 1), pair(p.pad, p.pad_h, p.pad_w, 0)
        # Caffe rounds up (PyTorch's ceil_mode, with the same rule for a window starting in the padding) and divides
        # an average by the window clipped to the padded input (count_include_pad).
        if p.pool == 0:
            return F.max_pool2d(x, k, s, pad, ceil_mode=True)
        return F.avg_pool2d(x, k, s, pad, ceil_mode=True, count_include_pad=True)
    if t == "LRN":
        p = layer.lrn_param
        return F.local_response_norm(x, p.local_size, p.alpha, p.beta, p.k)
    if t == "Concat":
        return torch.cat(inputs, dim=1)
    if t == "Eltwise":
        return inputs[0] * inputs[1] if layer.eltwise_param.operation == 0 else sum(inputs)
    if t == "Dropout":
        return x
    if t == "Flatten":
        return x.flatten(1)
    if t == "InnerProduct":
        return F.linear(x.flatten(1), blobs[0], blobs[1])
    if t == "Softmax":
        return torch.softmax(x, dim=1)
    if t == "BatchNorm":
        mean, variance, factor = blobs
        mean, variance = mean / factor[0], variance / factor[0]
        return (x - mean[None, :, None, None]) / torch.sqrt(variance[None, :, None, None] + layer.batch_norm_param.eps)
    if t == "Scale":
        return x * blobs[0][None, :, None, None] + blobs[1][None, :, None, None]
    raise ValueError(f"no reference for {t}")


def run(net, blobs, x):
    values = {net.input[0]: x} if net.input else {}
    for layer in net.layer:
        if layer.type == "Input":
            values[layer.top[0]] = x
            continue
        weights = [torch.tensor(a, dtype=torch.float32) for a in blobs.get(layer.name, [])]
        values[layer.top[0]] = torch_layer(layer, [values[b] for b in layer.bottom], weights)
    return values


def blob_proto(caffe_pb2, array, legacy):
    blob = caffe_pb2.BlobProto()
    if legacy:  # V1 weights: num, channels, height, width
        dims = [1] * (4 - array.ndim) + list(array.shape)
        blob.num, blob.channels, blob.height, blob.width = dims
    else:
        blob.shape.dim.extend(array.shape)
    blob.data.extend(array.astype(np.float32).ravel())
    return blob


def write(caffe_pb2, name, definition, out, seed, legacy, logits_layer):
    net = caffe_pb2.NetParameter()
    text_format.Merge(definition, net)
    rng = np.random.default_rng(seed)
    blobs = seeded_blobs(net, rng)
    trained = caffe_pb2.NetParameter()
    trained.name = net.name
    for layer_name, arrays in blobs.items():
        layer = trained.layers.add() if legacy else trained.layer.add()
        layer.name = layer_name
        layer.blobs.extend(blob_proto(caffe_pb2, a, legacy) for a in arrays)
    with open(os.path.join(out, name + ".caffemodel"), "wb") as f:
        f.write(trained.SerializeToString())
    with open(os.path.join(out, name + ".prototxt"), "w") as f:
        f.write(definition)
    shape = [2] + input_shape(net)
    x = torch.tensor(rng.uniform(-1, 1, shape), dtype=torch.float32)
    with torch.no_grad():
        values = run(net, blobs, x)
    np.save(os.path.join(out, name + ".input.npy"), x.numpy())
    np.save(os.path.join(out, name + ".output.npy"), values[net.layer[-1].top[0]].numpy())
    np.save(os.path.join(out, name + ".logits.npy"), values[logits_layer].numpy())
    print(f"{name}: {sum(a.size for arrays in blobs.values() for a in arrays)} weights, output {tuple(values[net.layer[-1].top[0]].shape)}")


def main(shared, out):
    os.makedirs(out, exist_ok=True)
    caffe_pb2 = compile_schema(shared, out)
    with open(os.path.join(shared, "models/bvlc_googlenet/deploy.prototxt")) as f:
        write(caffe_pb2, "googlenet", f.read(), out, 2014, legacy=False, logits_layer="loss3/classifier")
    with open(os.path.join(shared, "models/googlenet_places365/deploy_googlenet_places365.prototxt")) as f:
        write(caffe_pb2, "googlenet_places365", f.read(), out, 365, legacy=False, logits_layer="loss3/classifier")
    with open(os.path.join(shared, "models/bvlc_alexnet/deploy.prototxt")) as f:
        write(caffe_pb2, "alexnet", f.read(), out, 2012, legacy=False, logits_layer="fc8")
    write(caffe_pb2, "residual", RESIDUAL, out, 7, legacy=True, logits_layer="fc")


if __name__ == "__main__":
    main(*sys.argv[1:3])
