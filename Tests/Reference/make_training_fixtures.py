"""Training fixtures: PyTorch autograd gradients of a classifier head and the parameters after torch.optim steps.

Run from the repository root in the reference venv (torch, numpy):
    python Tests/Reference/make_training_fixtures.py
Writes Tests/Fixtures/training/head.npz: random embeddings x [16, 20], labels [16] (as float32), class weights [5],
a head with one hidden layer (W1 [20, 8], b1, W2 [8, 5], b2; x @ W + b, ReLU between), then
  loss, dW1, db1, dW2, db2, dx     F.cross_entropy(logits, labels, weight=class_weights) and its autograd gradients;
  adam_W1 … adam_b2                after 3 steps of torch.optim.Adam(lr=0.01, weight_decay=1e-3) on that loss;
  sgd_W1 … sgd_b2                  after 3 steps of torch.optim.SGD(lr=0.05, momentum=0.9, weight_decay=1e-3);
  cosine_W1 … cosine_b2            after 3 steps of that Adam with CosineAnnealingLR(T_max=4) stepped after each step;
  adamw_W1 … adamw_b2              after 3 steps of torch.optim.AdamW(lr=0.01, weight_decay=0.05);
  warmup_W1 … warmup_b2            after 4 steps of that AdamW with a 2-step linear warm-up (LinearLR from 1/2) then
                                   CosineAnnealingLR(T_max=3), joined by SequentialLR: 5 steps in all.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "training")
NAMES = ("W1", "b1", "W2", "b2")


def loss_of(params, x, labels, weights):
    w1, b1, w2, b2 = params
    return F.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, labels, weight=weights)


def stepped(start, x, labels, weights, make_optimizer, steps=3, cosine_steps=None, warmup=0):
    params = [torch.tensor(p, requires_grad=True) for p in start]
    optimizer = make_optimizer(params)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cosine_steps - warmup) if cosine_steps else None
    if warmup:
        linear = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup, end_factor=1, total_iters=warmup - 1)
        schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [linear, schedule], milestones=[warmup])
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(params, x, labels, weights).backward()
        optimizer.step()
        if schedule:
            schedule.step()
    return [p.detach().numpy() for p in params]


def main():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 20)).astype(np.float32)
    labels = np.concatenate([np.arange(5), rng.integers(0, 5, 11)])
    class_weights = rng.uniform(0.5, 2, 5).astype(np.float32)
    start = [rng.uniform(-0.3, 0.3, shape).astype(np.float32) for shape in ((20, 8), (8,), (8, 5), (5,))]
    tx, tl, tw = torch.from_numpy(x), torch.from_numpy(labels), torch.from_numpy(class_weights)

    params = [torch.tensor(p, requires_grad=True) for p in start]
    x_grad = torch.tensor(x, requires_grad=True)
    loss = loss_of(params, x_grad, tl, tw)
    loss.backward()
    arrays = {"x": x, "labels": labels.astype(np.float32), "class_weights": class_weights,
              "loss": np.array([loss.item()], np.float32), "dx": x_grad.grad.numpy()}
    for name, p, t in zip(NAMES, start, params):
        arrays[name] = p
        arrays["d" + name] = t.grad.numpy()
    adam = stepped(start, tx, tl, tw, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-3))
    sgd = stepped(start, tx, tl, tw, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3))
    cosine = stepped(start, tx, tl, tw, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-3), cosine_steps=4)
    adamw = stepped(start, tx, tl, tw, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05))
    warmup = stepped(start, tx, tl, tw, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05), steps=4, cosine_steps=5, warmup=2)
    for name, a, s, c, w, u in zip(NAMES, adam, sgd, cosine, adamw, warmup):
        arrays["adam_" + name], arrays["sgd_" + name], arrays["cosine_" + name] = a, s, c
        arrays["adamw_" + name], arrays["warmup_" + name] = w, u
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "head.npz"), **arrays)
    print("loss", loss.item(), "torch", torch.__version__)


if __name__ == "__main__":
    main()
