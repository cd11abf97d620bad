"""Layer and small-DAG fixtures for the CNN engine, computed by PyTorch CPU.

Run from the repository root with a venv holding torch (pip install /opt/wheels/torch-*.whl) and numpy:
    python Tests/Reference/make_layer_fixtures.py
Writes Tests/Fixtures/layers/<case>.<tensor>.npy. Tensors are stored in AudioNet's layouts: activations
NHWC (or NLC), convolution weights HWIO [kh, kw, cin/groups, cout], depthwise [kh, kw, C*multiplier],
dense [in, out]; PyTorch runs on the NCHW / OIHW equivalents.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "layers")
rng = np.random.default_rng(20261129)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def save(case, **tensors):
    for name, value in tensors.items():
        np.save(os.path.join(OUT, f"{case}.{name}.npy"), np.ascontiguousarray(np.asarray(value, np.float32)))


def nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def tf_same(size, kernel, stride, dilation=1):
    """TensorFlow SAME padding along one axis: (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def conv_case(case, shape, cout, kernel, stride=(1, 1), dilation=(1, 1), groups=1, padding=(0, 0, 0, 0), same=False):
    x = randn(*shape)
    cin = shape[3]
    w = randn(cout, cin // groups, *kernel) * 0.3  # OIHW
    b = randn(cout)
    if same:
        padding = tf_same(shape[1], kernel[0], stride[0], dilation[0]) + tf_same(shape[2], kernel[1], stride[1], dilation[1])
    top, bottom, left, right = padding
    t = F.pad(nchw(x), (left, right, top, bottom))
    y = F.conv2d(t, torch.from_numpy(w), torch.from_numpy(b), stride=stride, dilation=dilation, groups=groups)
    save(case, input=x, weight=w.transpose(2, 3, 1, 0), bias=b, output=nhwc(y))


def depthwise_case(case, shape, multiplier, kernel, stride=(1, 1), same=False, padding=(0, 0, 0, 0)):
    x = randn(*shape)
    c = shape[3]
    w = randn(c * multiplier, 1, *kernel) * 0.3
    b = randn(c * multiplier)
    if same:
        padding = tf_same(shape[1], kernel[0], stride[0]) + tf_same(shape[2], kernel[1], stride[1])
    top, bottom, left, right = padding
    y = F.conv2d(F.pad(nchw(x), (left, right, top, bottom)), torch.from_numpy(w), torch.from_numpy(b), stride=stride, groups=c)
    save(case, input=x, weight=w[:, 0].transpose(1, 2, 0), bias=b, output=nhwc(y))


def main():
    os.makedirs(OUT, exist_ok=True)
    conv_case("conv3x3_pad1", (2, 9, 11, 5), 7, (3, 3), padding=(1, 1, 1, 1))
    conv_case("conv3x3_stride2_same_asymmetric", (2, 10, 12, 5), 6, (3, 3), stride=(2, 2), same=True)
    conv_case("conv3x3_dilation2", (1, 12, 10, 4), 5, (3, 3), dilation=(2, 2), padding=(2, 2, 2, 2))
    conv_case("conv3x3_groups2", (2, 8, 7, 6), 4, (3, 3), groups=2, padding=(1, 1, 1, 1))
    conv_case("conv1x1", (3, 6, 5, 8), 5, (1, 1))
    conv_case("conv5x3_stride2x1_valid", (2, 13, 9, 3), 4, (5, 3), stride=(2, 1))
    conv_case("conv3x3_many_rows", (2, 30, 30, 16), 24, (3, 3), padding=(1, 1, 1, 1))
    conv_case("conv4x4_stride2_same_asymmetric", (1, 9, 11, 3), 4, (4, 4), stride=(2, 2), same=True)
    conv_case("conv16x1_tall_same", (3, 40, 1, 6), 5, (16, 1), same=True)  # CREPE-like: the per-tap sgemm path

    depthwise_case("depthwise3x3_same", (2, 9, 11, 6), 1, (3, 3), same=True)
    depthwise_case("depthwise3x3_stride2_same_asymmetric", (2, 10, 12, 6), 1, (3, 3), stride=(2, 2), same=True)
    depthwise_case("depthwise3x3_multiplier2", (1, 7, 8, 3), 2, (3, 3), padding=(1, 1, 1, 1))

    # Conv1D on [N, L, C]: kernel 7, stride 2, padding 3.
    x = randn(2, 50, 3)
    w = randn(4, 3, 7) * 0.3
    b = randn(4)
    y = F.conv1d(torch.from_numpy(x.transpose(0, 2, 1).copy()), torch.from_numpy(w), torch.from_numpy(b), stride=2, padding=3)
    save("conv1d_k7_s2_p3", input=x, weight=w.transpose(2, 1, 0), bias=b, output=y.numpy().transpose(0, 2, 1))

    x = randn(3, 13)
    w = randn(9, 13)
    b = randn(9)
    save("dense", input=x, weight=w.T, bias=b, output=F.linear(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)).numpy())

    x = randn(2, 4, 5, 6)
    gamma, beta, mean, var = randn(6), randn(6), randn(6), rng.uniform(0.5, 2, 6).astype(np.float32)
    y = F.batch_norm(nchw(x), torch.from_numpy(mean), torch.from_numpy(var), torch.from_numpy(gamma), torch.from_numpy(beta),
                     training=False, eps=1e-3)
    save("batchnorm", input=x, gamma=gamma, beta=beta, mean=mean, variance=var, output=nhwc(y))

    x = randn(2, 5, 7) * 3
    t = torch.from_numpy(x)
    save("activations", input=x, relu=F.relu(t), relu6=F.relu6(t), leaky=F.leaky_relu(t, 0.1), sigmoid=torch.sigmoid(t),
         tanh=torch.tanh(t), softmax=F.softmax(t, dim=-1), swish=F.silu(t))

    x = randn(2, 9, 11, 4)
    t = nchw(x)
    save("pooling", input=x,
         max3s2p1=nhwc(F.max_pool2d(t, 3, 2, 1)),
         max3s2ceil=nhwc(F.max_pool2d(t, 3, 2, ceil_mode=True)),
         avg3s1p1_include=nhwc(F.avg_pool2d(t, 3, 1, 1, count_include_pad=True)),
         avg3s1p1_exclude=nhwc(F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)),
         avg3s2ceil=nhwc(F.avg_pool2d(t, 3, 2, ceil_mode=True)),
         global_avg=t.mean(dim=(2, 3)).numpy())

    a, b = randn(2, 4, 5, 6), randn(2, 1, 1, 6)
    save("merge", a=a, b=b, c=randn(2, 4, 5, 3), multiply=a * b)

    x = randn(2, 4, 5, 6) * 2
    save("lrn", input=x, output=nhwc(F.local_response_norm(nchw(x), 5, alpha=1e-4 * 50, beta=0.75, k=2.0)))

    x = randn(2, 3, 2, 6)
    t = nchw(x)
    shuffled = t.reshape(2, 3, 2, 3, 2).transpose(1, 2).reshape(2, 6, 3, 2)
    save("shuffle", input=x, output=nhwc(shuffled))

    dag()


def dag():
    """conv3x3+BN+ReLU and conv1x1 from the input, added; concat with a third conv; max pool, global
    average, dense, softmax."""
    x = randn(2, 8, 8, 4)
    w = {name: randn(*shape) * 0.3 for name, shape in
         [("a", (8, 4, 3, 3)), ("b", (8, 4, 1, 1)), ("c", (4, 4, 3, 3)), ("dense", (5, 12))]}
    bias = {name: randn(n) for name, n in [("a", 8), ("b", 8), ("c", 4), ("dense", 5)]}
    gamma, beta, mean, var = randn(8), randn(8), randn(8), rng.uniform(0.5, 2, 8).astype(np.float32)
    t = nchw(x)
    a = F.conv2d(t, torch.from_numpy(w["a"]), torch.from_numpy(bias["a"]), padding=1)
    a = F.relu(F.batch_norm(a, torch.from_numpy(mean), torch.from_numpy(var), torch.from_numpy(gamma), torch.from_numpy(beta),
                            training=False, eps=1e-3))
    b = F.conv2d(t, torch.from_numpy(w["b"]), torch.from_numpy(bias["b"]))
    added = a + b
    c = F.conv2d(t, torch.from_numpy(w["c"]), torch.from_numpy(bias["c"]), padding=1)
    cat = torch.cat([added, c], dim=1)
    pooled = F.max_pool2d(cat, 2)
    logits = F.linear(pooled.mean(dim=(2, 3)), torch.from_numpy(w["dense"]), torch.from_numpy(bias["dense"]))
    save("dag", input=x, a_weight=w["a"].transpose(2, 3, 1, 0), a_bias=bias["a"], b_weight=w["b"].transpose(2, 3, 1, 0),
         b_bias=bias["b"], c_weight=w["c"].transpose(2, 3, 1, 0), c_bias=bias["c"], dense_weight=w["dense"].T,
         dense_bias=bias["dense"], gamma=gamma, beta=beta, mean=mean, variance=var,
         added=nhwc(added), output=F.softmax(logits, dim=-1).numpy())


if __name__ == "__main__":
    main()
