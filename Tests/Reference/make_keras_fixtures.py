"""Keras applications fixtures for AudioNet's Keras networks (Tests/ImageTests/KerasApplicationsTests.swift).

    KERAS_BACKEND=torch python make_keras_fixtures.py OUT [NAME ...]
    KERAS_BACKEND=jax python make_keras_fixtures.py OUT [NAME ...]

For each network (default: all of NETWORKS that run on the backend: Keras refuses NASNet on torch, so NASNet's
fixtures are made on JAX), Keras 3 itself builds `keras.applications.NAME(weights=None)`, fills
every weight with seeded values (batch-norm variances positive), and writes, in OUT:
- NAME.keras2.h5: the weights in Keras's legacy HDF5 layout as the official files written by Keras 2 have it
  (`layer_names` and `weight_names` as fixed-length string attributes, layers in model.layers order, auto-named
  layers numbered from 1: conv2d_1, …, weight names `conv2d_1/kernel:0`);
- NAME.keras3.h5 (not for NASNet, whose weighted layers are all named): the same with Keras 3's names (conv2d, conv2d_1, …; Keras 3's own legacy writer stores the
  names as variable-length strings, which AudioNet's reader refuses: libhdf5 1.10 crashes on crafted ones);
- NAME.input.npy: two random inputs in −1…1 (NHWC), NAME.features.npy (the global average pool) and
  NAME.output.npy (the probabilities): Keras's outputs for them;
- NAME.params.txt: Keras's count_params() and its trainable part.
For OpenL3's image network (`openl3-image`: marl/openl3's `_construct_image_network`, written out here in Keras 3 as
openl3's models.py has it) the file is openl3-image.h5, its layers numbered as if the audio network had been built
first in the same session (conv2d_8, …: Keras binds these files by order), and openl3-image.output512.npy /
.output8192.npy are the two embeddings (openl3's max pools of 28×28 and 7×7 after the network).
"""
import os
import re
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

# name: (application, input side, pooled-features layer, backends it runs on)
NETWORKS = {
    "inceptionv3": (keras.applications.InceptionV3, 299, "avg_pool", ("torch",)),
    "xception": (keras.applications.Xception, 299, "avg_pool", ("torch",)),
    "inceptionresnetv2": (keras.applications.InceptionResNetV2, 299, "avg_pool", ("torch",)),
    "nasnetmobile": (keras.applications.NASNetMobile, 224, "global_average_pooling2d", ("jax",)),
    "nasnetlarge": (keras.applications.NASNetLarge, 331, "global_average_pooling2d", ("jax",)),
}


def seeded(model, rng):
    for layer in model.layers:
        values = []
        for weight in layer.weights:
            shape, name = tuple(weight.shape), weight.path.split("/")[-1]
            if name == "moving_variance":
                values.append(rng.uniform(0.5, 1.5, shape))
            elif name in ("moving_mean", "beta", "bias"):
                values.append(rng.uniform(-0.2, 0.2, shape))
            elif name == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape))
            else:
                fan_in = int(np.prod(shape[:-1]))
                values.append(rng.standard_normal(shape) * np.sqrt(2.0 / fan_in))
        if values:
            layer.set_weights([v.astype(np.float32) for v in values])


def keras2_name(name):
    """Keras 3's auto-name → Keras 2's (numbered from 1); explicit names stay."""
    match = re.fullmatch(r"([a-z_0-9]+?)(?:_(\d+))?", name)
    prefix, number = match.group(1), match.group(2)
    if prefix not in ("conv2d", "batch_normalization", "dense", "separable_conv2d", "depthwise_conv2d"):
        return name
    return f"{prefix}_{int(number or 0) + 1}"


def write_legacy(model, path, rename):
    """Keras's legacy weight layout (keras/src/legacy/saving/legacy_h5_format.py) with fixed-length string names."""
    with h5py.File(path, "w") as f:
        names = [rename(layer.name) for layer in model.layers]
        f.attrs["layer_names"] = np.array([n.encode("utf8") for n in names], dtype="S")
        f.attrs["backend"] = b"tensorflow"
        for layer, name in zip(model.layers, names):
            group = f.create_group(name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            weight_names = [f"{name}/{w.path.split('/')[-1]}:0" for w in weights]
            group.attrs["weight_names"] = np.array([n.encode("utf8") for n in weight_names], dtype="S") if weights else np.zeros(0, dtype="float32")
            for weight_name, weight in zip(weight_names, weights):
                group.create_dataset(weight_name, data=keras.ops.convert_to_numpy(weight))


def openl3_image_network():
    """marl/openl3 models.py `_construct_image_network`, layer for layer (weight regularizers dropped: training only)."""
    from keras import layers
    x_i = layers.Input(shape=(224, 224, 3), dtype="float32")
    y_i = layers.BatchNormalization()(x_i)
    for block, filters in enumerate((64, 128, 256)):
        y_i = layers.Conv2D(filters, (3, 3), padding="same")(y_i)
        y_i = layers.BatchNormalization()(y_i)
        y_i = layers.Activation("relu")(y_i)
        y_i = layers.Conv2D(filters, (3, 3), padding="same")(y_i)
        if block == 0:  # openl3's block 1: activation, then batch norm
            y_i = layers.Activation("relu")(y_i)
            y_i = layers.BatchNormalization()(y_i)
        else:
            y_i = layers.BatchNormalization()(y_i)
            y_i = layers.Activation("relu")(y_i)
        y_i = layers.MaxPooling2D(pool_size=(2, 2), strides=2, padding="same")(y_i)
    y_i = layers.Conv2D(512, (3, 3), padding="same")(y_i)
    y_i = layers.BatchNormalization()(y_i)
    y_i = layers.Activation("relu")(y_i)
    y_i = layers.Conv2D(512, (3, 3), name="vision_embedding_layer", padding="same")(y_i)
    return keras.Model(inputs=x_i, outputs=y_i)


def openl3_image(out):
    keras.backend.clear_session()
    model = openl3_image_network()
    rng = np.random.default_rng(2019)
    seeded(model, rng)

    def shifted(name):  # the audio network's 7 convolutions and 8 batch norms came first
        match = re.fullmatch(r"(conv2d|batch_normalization)(?:_(\d+))?", name)
        if not match:
            return name
        return f"{match.group(1)}_{int(match.group(2) or 0) + (8 if match.group(1) == 'conv2d' else 9)}"

    write_legacy(model, os.path.join(out, "openl3-image.h5"), shifted)
    x = rng.uniform(-1, 1, (2, 224, 224, 3)).astype(np.float32)
    np.save(os.path.join(out, "openl3-image.input.npy"), x)
    for size, pool in ((8192, 7), (512, 28)):
        pooled = keras.layers.Flatten()(keras.layers.MaxPooling2D(pool_size=(pool, pool), padding="same")(model.output))
        embedding = keras.ops.convert_to_numpy(keras.Model(model.inputs, pooled)(x, training=False))
        np.save(os.path.join(out, f"openl3-image.output{size}.npy"), embedding)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(f"openl3-image: trainable {trainable}")


def main(out, names):
    os.makedirs(out, exist_ok=True)
    for name in names:
        seed = list(NETWORKS).index(name)
        make, side, features_layer, _ = NETWORKS[name]
        keras.backend.clear_session()  # auto-names start again at conv2d
        model = make(weights=None)
        rng = np.random.default_rng(300 + seed)
        seeded(model, rng)
        write_legacy(model, os.path.join(out, name + ".keras2.h5"), keras2_name)
        if not name.startswith("nasnet"):
            write_legacy(model, os.path.join(out, name + ".keras3.h5"), lambda n: n)
        x = rng.uniform(-1, 1, (2, side, side, 3)).astype(np.float32)
        probe = keras.Model(model.inputs, [model.get_layer(features_layer).output, model.outputs[0]])
        features, output = (keras.ops.convert_to_numpy(t) for t in probe(x, training=False))
        np.save(os.path.join(out, name + ".input.npy"), x)
        np.save(os.path.join(out, name + ".features.npy"), features)
        np.save(os.path.join(out, name + ".output.npy"), output)
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        with open(os.path.join(out, name + ".params.txt"), "w") as f:
            f.write(f"{model.count_params()} {trainable}\n")
        print(f"{name}: count_params {model.count_params()}, trainable {trainable}, top-1 {output.argmax(axis=1)}, max p {output.max():.3f}")


if __name__ == "__main__":
    backend = keras.backend.backend()
    main(sys.argv[1], [n for n in sys.argv[2:] if n != "openl3-image"] if len(sys.argv) > 2
         else [n for n, entry in NETWORKS.items() if backend in entry[3]])
    if (len(sys.argv) == 2 and backend == "torch") or "openl3-image" in sys.argv[2:]:
        openl3_image(sys.argv[1])
