"""torchvision image networks with closed-form weights, for the architecture and importer checks.

Run from the repository root in the reference venv (torch, numpy, pillow and torchvision installed with
--no-deps; its CUDA-built operator library does not load on the CPU torch wheel, so the two registration
modules that need it are stubbed — the model definitions are plain Python):
    python Tests/Reference/make_torchvision_fixtures.py ../shared [NAME ...]
The official weights cannot be downloaded here. Every state_dict entry (num_batches_tracked excepted) is
filled by `fill` from a multiplicative hash of the element index, exactly as Tests/ImageTests computes it,
and the model runs on one fixed input. Writes to Tests/Fixtures/torchvision/:
  input224.npy, input227.npy   grace_hopper.bmp resized (bilinear, half-pixel) and ImageNet-normalized, NHWC
  <name>.layout.txt            state_dict names and shapes in order (the Swift test rebuilds the weights)
  <name>.logits.npy            the model's logits [1, 1000]
"""
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

for stub in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
    sys.modules[stub] = types.ModuleType(stub)
import torchvision  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "torchvision")
MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(), 224),
    "resnet50": (lambda: torchvision.models.resnet50(), 224),
    "resnet101": (lambda: torchvision.models.resnet101(), 224),
    "squeezenet": (lambda: torchvision.models.squeezenet1_1(), 227),
    "squeezenet1_0": (lambda: torchvision.models.squeezenet1_0(), 227),
    "googlenet-torchvision": (lambda: torchvision.models.googlenet(init_weights=False, aux_logits=False, transform_input=False), 224),
    "alexnet-torchvision": (lambda: torchvision.models.alexnet(), 227),
    "vgg16": (lambda: torchvision.models.vgg16(), 224),
    "vgg19": (lambda: torchvision.models.vgg19(), 224),
    "densenet201": (lambda: torchvision.models.densenet201(), 224),
    "shufflenet-v2": (lambda: torchvision.models.shufflenet_v2_x1_0(), 224),
    "efficientnetb0": (lambda: torchvision.models.efficientnet_b0(), 224),
}


def hashed(count, ordinal):
    """Uniform in [−1, 1): 2·((i·2654435761 + ordinal·97531) mod 2³²) / 2³² − 1, exact integer arithmetic."""
    i = np.arange(count, dtype=np.int64)
    return 2.0 * ((i * 2654435761 + ordinal * 97531) % 4294967296) / 4294967296.0 - 1.0


def fill(name, shape, ordinal):
    """BatchNorm: γ = 1 + 0.1h, running mean 0.1h, running var 1 + 0.5|h|; biases 0.1h; weights h·sqrt(6 / fan-in)."""
    h = hashed(int(np.prod(shape)), ordinal)
    if name.endswith("running_var"):
        values = 1.0 + 0.5 * np.abs(h)
    elif name.endswith("running_mean") or name.endswith("bias"):
        values = 0.1 * h
    elif len(shape) == 1:
        values = 1.0 + 0.1 * h
    else:
        values = h * np.sqrt(6.0 / np.prod(shape[1:]))
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


def image_input(shared, size):
    image = np.asarray(Image.open(os.path.join(shared, "images", "grace_hopper.bmp")).convert("RGB"), dtype=np.float32)
    t = F.interpolate(torch.from_numpy(image).permute(2, 0, 1)[None], size=(size, size), mode="bilinear",
                      align_corners=False, antialias=False)[0].permute(1, 2, 0).numpy()
    return ((t - np.array([0.485, 0.456, 0.406]) * 255) / (np.array([0.229, 0.224, 0.225]) * 255)).astype(np.float32)


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared")
    os.makedirs(OUT, exist_ok=True)
    inputs = {size: image_input(shared, size) for size in (224, 227)}
    for size, value in inputs.items():
        np.save(os.path.join(OUT, f"input{size}.npy"), value[None])
    selected = sys.argv[2:] or list(MODELS)
    for name, (make, size) in ((name, MODELS[name]) for name in selected):
        model = make().eval()
        state = model.state_dict()
        layout, ordinal = [], 0
        for key, tensor in state.items():
            if key.endswith("num_batches_tracked"):
                continue
            state[key] = fill(key, tuple(tensor.shape), ordinal)
            layout.append(f"{key} {' '.join(str(d) for d in tensor.shape)}")
            ordinal += 1
        model.load_state_dict(state)
        with torch.no_grad():
            logits = model(torch.from_numpy(inputs[size]).permute(2, 0, 1)[None]).numpy()
        with open(os.path.join(OUT, f"{name}.layout.txt"), "w") as f:
            f.write("\n".join(layout) + "\n")
        np.save(os.path.join(OUT, f"{name}.logits.npy"), logits)
        print(name, logits.shape, "max |logit|", float(np.abs(logits).max()), "top-1", int(logits.argmax()))


if __name__ == "__main__":
    main()
