"""nnlab's trainer against the usual tutorial loop, same model, same data, samples per second.

The tutorial loop is what the PyTorch MNIST example and most course notebooks write: a DataLoader
over a TensorDataset, batch 64, shuffle, `loss.item()` every step. nnlab's loop holds the data as
tensors, slices batches with index_select, syncs only for progress, channels_last for the CNN.
Both train on the first 12,000 Fashion-MNIST images for one epoch after a warm-up, the same model;
the figures are samples per second of training (no augmentation in either). Two comparisons: both in
fp32 (the loop alone), and nnlab with its default precision (bf16 autocast where the CPU has it).

    .venv/bin/python bench/torch_vs_tutorial.py [--samples 12000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from nnlab.cli.train import DEFAULTS
from nnlab.data import load
from nnlab.training.torch_engine import TorchEngine

BASE = {"data": "fashion-mnist", "epochs": 1, "batch_size": 64, "lr": 1e-3, "hidden": [1024, 512],
        "widths": [32, 64, 128], "optimizer": "adam", "weight_decay": 1e-2, "schedule": "constant",
        "dropout": 0.3, "batch_norm": DEFAULTS["mlp"]["batch_norm"], "augment": False, "label_smoothing": 0.0,
        "precision": "fp32", "momentum": 0.9, "nesterov": False, "seed": 0, "device": "cpu"}


def tutorial_epoch(model, optimizer, X: torch.Tensor, y: torch.Tensor) -> float:
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    model.train()
    start = time.perf_counter()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        loss.item()  # what the tutorials log
    return len(X) / (time.perf_counter() - start)


def nnlab_epoch(engine: TorchEngine) -> float:
    start = time.perf_counter()
    engine.train_epoch(0, 1, on_batch=lambda *a: None)
    return len(engine.y) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ds = load("fashion-mnist")
    X, y = ds.X_train[:args.samples], ds.y_train[:args.samples]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.samples} samples, batch 64")
    for kind, precision in (("mlp", "fp32"), ("cnn", "fp32"), ("mlp", "auto"), ("cnn", "auto")):
        config = {**BASE, "model": kind, "precision": precision}
        rates = {"tutorial": [], "nnlab": []}
        for _ in range(args.rounds + 1):  # the first round warms up both and is not counted
            engine = TorchEngine(config, 784, 10, (1, 28, 28))
            engine.prepare(X, y, flip_ok=False)
            shape = (-1, 1, 28, 28) if kind == "cnn" else (-1, 784)
            Xt = torch.from_numpy(np.ascontiguousarray(X)).reshape(shape)
            twin = TorchEngine(config, 784, 10, (1, 28, 28))  # the same model, fresh, default layout
            model = twin.model.to(memory_format=torch.contiguous_format)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
            rates["tutorial"].append(tutorial_epoch(model, optimizer, Xt, torch.from_numpy(y)))
            rates["nnlab"].append(nnlab_epoch(engine))
        tut, ours = np.median(rates["tutorial"][1:]), np.median(rates["nnlab"][1:])
        print(f"{kind}: tutorial loop (fp32) {tut:8.0f} samples/s   nnlab trainer ({engine.precision}) "
              f"{ours:8.0f} samples/s   ratio x{ours / tut:.2f}", flush=True)


if __name__ == "__main__":
    main()
