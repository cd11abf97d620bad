"""A synthetic yamnet.h5 in the layout of the official Keras weights, holding the TF Lite model's values.

Run from the repository root in the reference venv (numpy, h5py, ai-edge-litert):
    python Tests/Reference/make_yamnet_keras_h5.py ../shared/models/yamnet/yamnet.tflite OUT.h5
The official yamnet.h5 (storage.googleapis.com/audioset/yamnet.h5) is not reachable from the build machines, so
this writes what Keras 2's `Model.save_weights` writes for yamnet.py's model: a root attribute `layer_names`,
then one group per layer (names with '/' nest) with a `weight_names` attribute and its datasets
(`layer1/conv/kernel:0`…). Convolutions have no bias; each is followed by BatchNormalization(center=True,
scale=False, epsilon=1e-4) holding beta, moving_mean and moving_variance; the classifier is the unnamed Dense
(`dense`). The TF Lite file has BatchNorm folded into biases, so beta = that bias, moving_mean = 0 and
moving_variance = 1 - epsilon: the .h5 network then computes what the TF Lite one does. About 15 MB, so it is
generated (`make generated-fixtures`), not committed.
"""
import sys

import h5py
import numpy as np

from yamnet_tflite_weights import load_reference

# yamnet.py _YAMNET_LAYER_DEFS: the first layer is a full convolution, the other 13 separable.
LAYER_COUNT = 14
EPSILON = 1e-4


def keras_layers(convs, dense_w, dense_b):
    """(layer name, [(weight name, array)]) in model order, weightless layers included, as Keras lists them."""
    convs = iter(convs)
    layers = [("reshape", [])]
    for index in range(1, LAYER_COUNT + 1):
        parts = [("conv", "relu")] if index == 1 else [("depthwise_conv", "depthwise_conv/relu"),
                                                       ("pointwise_conv", "pointwise_conv/relu")]
        for conv, relu in parts:
            kind, w, b = next(convs)
            name = f"layer{index}/{conv}"
            if kind == "DEPTHWISE_CONV_2D":  # [1, kh, kw, C] -> Keras [kh, kw, C, 1]
                layers.append((name, [("depthwise_kernel", np.ascontiguousarray(w[0][..., None]))]))
            else:  # OHWI -> HWIO
                layers.append((name, [("kernel", np.ascontiguousarray(w.transpose(1, 2, 3, 0)))]))
            channels = b.shape[0]
            layers.append((f"{name}/bn", [("beta", b), ("moving_mean", np.zeros(channels, np.float32)),
                                          ("moving_variance", np.full(channels, 1 - EPSILON, np.float32))]))
            layers.append((f"layer{index}/{relu}", []))
    layers += [("global_average_pooling2d", []), ("dense", [("kernel", dense_w.T.copy()), ("bias", dense_b)]),
               ("activation", [])]
    return layers


def main():
    tflite, out = sys.argv[1], sys.argv[2]
    convs, dense_w, dense_b = load_reference(tflite)
    layers = keras_layers(convs, dense_w, dense_b)
    with h5py.File(out, "w") as f:
        f.attrs["layer_names"] = np.array([name.encode() for name, _ in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.3.0-tf"
        for name, weights in layers:
            group = f.require_group(name)
            group.attrs["weight_names"] = np.array([f"{name}/{w}:0".encode() for w, _ in weights])
            for weight, value in weights:
                group.create_dataset(f"{name}/{weight}:0", data=value.astype(np.float32))
    print(out, len(layers), "layers,", sum(len(w) for _, w in layers), "weights")


if __name__ == "__main__":
    main()
