"""A PyTorch twin of `audionet train --fine-tune-layers 4`: YAMNet's last two depthwise-separable blocks and a softmax
head learn together on FSDD, with AudioNet's recipe written out in torch (torch.optim.Adam per parameter group,
CosineAnnealingLR stepped per batch, class-weighted cross-entropy, early stopping on the validation loss).

Nothing is taken from AudioNet but the starting point its seed gives (the head's initial weights and each epoch's
order of the training files): the audio is read with `wave` and resampled with resampy (kaiser_best), the log-mel
patches come from frontend_reference.py, and the layers are the official YAMNet TF Lite weights (LiteRT) run as
torch convolutions, the first twelve blocks without gradients.

Usage: python fine_tuning_reference.py FOLDER
FOLDER holds manifest.json (the TF Lite path, the recipe, and folds: training, validation and test files with their
labels), head_weight.npy [1024, C], head_bias.npy [C] and order.npy [epochs, training files]. Writes results.json:
each fold's test accuracy and best epoch.
"""
import copy
import json
import os
import sys
import wave

import numpy as np
import resampy
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from frontend_reference import SAMPLE_RATE, yamnet_patches  # noqa: E402
from make_yamnet_fixtures import STRIDES, tf_same  # noqa: E402
from yamnet_tflite_weights import load_reference  # noqa: E402

TRAINABLE_BLOCKS = 2  # layer13 and layer14: four convolutions


def yamnet_layers(tflite):
    """Each convolution as (weight OIHW, bias, stride, groups-is-depthwise), in graph order."""
    layers, _, _ = load_reference(tflite)
    strides = [STRIDES[0]] + [s for stride in STRIDES[1:] for s in (stride, 1)]
    result = []
    for (kind, w, b), stride in zip(layers, strides):
        depthwise = kind == "DEPTHWISE_CONV_2D"
        weight = w[0].transpose(2, 0, 1)[:, None] if depthwise else w.transpose(0, 3, 1, 2)  # [1,3,3,C] / OHWI -> OIHW
        result.append((torch.tensor(np.ascontiguousarray(weight)), torch.tensor(b), stride, depthwise))
    return result


def convolve(x, weight, bias, stride, depthwise):
    padded = tf_same(x, stride) if depthwise or weight.shape[2] == 3 else x
    return F.relu(F.conv2d(padded, weight, bias, stride=stride, groups=x.shape[1] if depthwise else 1))


def read_audio(path):
    with wave.open(path, "rb") as f:
        assert f.getsampwidth() == 2 and f.getnchannels() == 1, path
        rate, pcm = f.getframerate(), np.frombuffer(f.readframes(f.getnframes()), "<i2")
    x = pcm.astype(np.float64) / 32768.0
    return resampy.resample(x, rate, SAMPLE_RATE, filter="kaiser_best") if rate != SAMPLE_RATE else x


@torch.no_grad()
def frozen_activations(paths, frozen):
    """The output of the frozen blocks for each file's patches, NCHW."""
    result = []
    for path in paths:
        x = torch.from_numpy(yamnet_patches(read_audio(path)).astype(np.float32))[:, None]
        for layer in frozen:
            x = convolve(x, *layer)
        result.append(x)
    return result


class TrainableBlocks(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(w.clone()) for w, _, _, _ in layers])
        self.biases = torch.nn.ParameterList([torch.nn.Parameter(b.clone()) for _, b, _, _ in layers])
        self.shapes = [(stride, depthwise) for _, _, stride, depthwise in layers]

    def forward(self, x):
        for weight, bias, (stride, depthwise) in zip(self.weights, self.biases, self.shapes):
            x = convolve(x, weight, bias, stride, depthwise)
        return x.mean(dim=(2, 3))


def clip_features(blocks, activations):
    """Each file's features: the mean over its patches of the trainable blocks' pooled output."""
    counts = [a.shape[0] for a in activations]
    patches = blocks(torch.cat(activations))
    return torch.stack([part.mean(dim=0) for part in torch.split(patches, counts)])


def features(blocks, activations, batch):
    with torch.no_grad():
        return torch.cat([clip_features(blocks, activations[i:i + batch]) for i in range(0, len(activations), batch)])


class FineTuning:
    """The trainable blocks, the head and their two optimizers as AudioNet's fineTune sets them up: the features'
    standardization from the training files before any step (population σ, fixed from then on), class weights
    balancing the training labels, Adam with coupled weight decay and a cosine decay stepped per batch."""

    def __init__(self, layers, train_x, train_y, head_weight, head_bias, recipe):
        self.blocks = TrainableBlocks(layers)
        self.batch, classes = recipe["batchSize"], head_bias.shape[0]
        initial = features(self.blocks, train_x, self.batch)
        self.mean = initial.mean(dim=0)
        variance = initial.var(dim=0, unbiased=False)
        self.scale = torch.where(variance > 1e-12, 1 / variance.sqrt(), torch.ones_like(variance))
        self.head = torch.nn.Linear(head_weight.shape[0], classes)
        with torch.no_grad():
            self.head.weight.copy_(torch.from_numpy(head_weight.T))
            self.head.bias.copy_(torch.from_numpy(head_bias))
        self.labels = torch.tensor(train_y)
        counts = torch.bincount(self.labels, minlength=classes).float()
        self.class_weights = torch.where(counts > 0, len(train_y) / (classes * counts), torch.zeros_like(counts))
        self.optimizers = [
            torch.optim.Adam(self.head.parameters(), lr=recipe["learningRate"], weight_decay=recipe["weightDecay"]),
            torch.optim.Adam(self.blocks.parameters(), lr=recipe["backboneLearningRate"], weight_decay=recipe["weightDecay"])]
        steps = recipe["epochs"] * ((len(train_y) + self.batch - 1) // self.batch)
        self.schedules = [torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps) for optimizer in self.optimizers]

    def logits(self, activations):
        return self.head((features(self.blocks, activations, self.batch) - self.mean) * self.scale)

    def epoch(self, train_x, order):
        """One pass over the training files in `order`, a batch of files per step."""
        for start in range(0, len(order), self.batch):
            chosen = order[start:start + self.batch]
            for optimizer in self.optimizers:
                optimizer.zero_grad()
            x = (clip_features(self.blocks, [train_x[i] for i in chosen]) - self.mean) * self.scale
            F.cross_entropy(self.head(x), self.labels[chosen], weight=self.class_weights).backward()
            for optimizer, schedule in zip(self.optimizers, self.schedules):
                optimizer.step()
                schedule.step()

    def state(self):
        return copy.deepcopy(self.blocks.state_dict()), copy.deepcopy(self.head.state_dict())

    def restore(self, state):
        self.blocks.load_state_dict(state[0])
        self.head.load_state_dict(state[1])


def fine_tune(layers, train, validation, test, head_weight, head_bias, orders, recipe):
    """Trains the blocks and the head on `train` (activations, labels), stopping early on `validation`'s loss; returns the
    best epoch's test accuracy and the epoch."""
    (train_x, train_y), (held_x, held_y), (test_x, test_y) = train, validation, test
    run = FineTuning(layers, train_x, train_y, head_weight, head_bias, recipe)
    best = (float("inf"), None, 0)
    for epoch in range(1, recipe["epochs"] + 1):
        run.epoch(train_x, orders[epoch - 1])
        with torch.no_grad():
            loss = F.cross_entropy(run.logits(held_x), torch.tensor(held_y), weight=run.class_weights).item()
        if loss < best[0]:
            best = (loss, run.state(), epoch)
        elif epoch - best[2] >= recipe["patience"]:
            break
    run.restore(best[1])
    with torch.no_grad():
        predicted = run.logits(test_x).argmax(dim=1).numpy()
    return float((predicted == np.array(test_y)).mean()), best[2]


def main(folder):
    torch.set_num_threads(int(os.environ.get("REFERENCE_THREADS", "2")))
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    layers = yamnet_layers(manifest["tflite"])
    first = len(layers) - 2 * TRAINABLE_BLOCKS
    frozen, trainable = layers[:first], layers[first:]
    paths = sorted({path for fold in manifest["folds"] for part in ("train", "validation", "test") for path in fold[part]["paths"]})
    activations = dict(zip(paths, frozen_activations(paths, frozen)))
    head_weight, head_bias = np.load(os.path.join(folder, "head_weight.npy")), np.load(os.path.join(folder, "head_bias.npy"))
    orders = np.load(os.path.join(folder, "order.npy")).astype(np.int64)
    results = []
    for fold in manifest["folds"]:
        parts = [([activations[p] for p in fold[part]["paths"]], fold[part]["labels"]) for part in ("train", "validation", "test")]
        accuracy, epoch = fine_tune(trainable, *parts, head_weight, head_bias, orders, manifest["recipe"])
        results.append({"accuracy": accuracy, "bestEpoch": epoch})
        print(fold.get("name", ""), accuracy, epoch, file=sys.stderr)
    with open(os.path.join(folder, "results.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
