"""Time to accuracy: nnlab's CNN against the CNN of the PyTorch tutorials, on Fashion-MNIST, back to back.

The tutorial CNN is the plain one most courses write: conv 32 and conv 64 (3x3, each ReLU and 2x2
max-pool), dense 128, Adam 1e-3, batch 128, the 60,000 training images held as tensors, no augmentation.
nnlab's CNN is trained as `nnlab train cnn --data fashion-mnist --epochs E` trains it (its defaults, its
54,000/6,000 split); its seconds include the validation pass of each epoch, as the run's own record does.
After every epoch both are scored on the 10,000 test images (not counted in the time). The script prints
each one's accuracy against seconds, its time to 92% and 93%, the accuracy each has at the other's
times, and the ratios. Uptime and the CPU go with the figures: this machine may be shared.

    .venv/bin/python bench/cnn_time_to_accuracy.py [--epochs 4] [--tutorial-epochs 10] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlab.training.config import TrainConfig
from nnlab.training.job import engine_for, load_splits

TARGETS = (0.92, 0.93)


def tutorial_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


@torch.no_grad()
def accuracy(predict, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(X).argmax(1) == y))


def run_tutorial(splits, epochs: int, seed: int) -> list[tuple[float, float]]:
    """(training seconds so far, test accuracy) after each epoch."""
    torch.manual_seed(seed)
    ds = splits.data
    X = torch.from_numpy(np.ascontiguousarray(ds.X_train, np.float32)).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(ds.y_train)
    model = tutorial_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def predict(Xs):
        model.eval()
        return torch.cat([model(torch.from_numpy(Xs[i:i + 2000]).reshape(-1, 1, 28, 28))
                          for i in range(0, len(Xs), 2000)]).numpy()

    points, seconds = [], 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(y))
        for i in range(0, len(y), 128):
            idx = order[i:i + 128]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - start
        points.append((seconds, accuracy(predict, ds.X_test, ds.y_test)))
        print(f"  tutorial  epoch {len(points):>2}  {seconds:7.1f} s  test {points[-1][1]:.4f}", flush=True)
    return points


def run_nnlab(epochs: int, seed: int, **settings) -> list[tuple[float, float]]:
    config = TrainConfig.create("cnn", "fashion-mnist", epochs=epochs, seed=seed, **settings)
    splits = load_splits(config)
    engine = engine_for(config, splits)
    ds = splits.data
    points, seconds = [], 0.0
    for epoch in range(epochs):
        start = time.perf_counter()  # what nnlab records as training time: the epoch and its validation pass
        engine.train_epoch(epoch, epochs)
        engine.predict_proba(splits.X_val)
        seconds += time.perf_counter() - start
        points.append((seconds, accuracy(engine.predict_proba, ds.X_test, ds.y_test)))
        print(f"  nnlab     epoch {len(points):>2}  {seconds:7.1f} s  test {points[-1][1]:.4f}", flush=True)
    return points


def time_to(points: list[tuple[float, float]], target: float) -> float | None:
    return next((s for s, acc in points if acc >= target), None)


def accuracy_at(points: list[tuple[float, float]], seconds: float) -> float | None:
    """The accuracy of the last epoch finished within `seconds`."""
    done = [acc for s, acc in points if s <= seconds * 1.0001]
    return done[-1] if done else None


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    wanted = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return (f"{model}, {os.cpu_count()} CPUs, {' '.join(wanted)}; torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(name: str, points, peer_name: str, peer) -> None:
    for target in TARGETS:
        ours, theirs = time_to(points, target), time_to(peer, target)
        ratio = f"  ({ours / theirs:.2f}x the {peer_name}'s time)" if ours and theirs else ""
        print(f"  {name:<9} time to {target:.0%}: " + (f"{ours:6.1f} s" if ours else "  not reached") + ratio)
    final_s, final_acc = points[-1]
    peer_acc = accuracy_at(peer, final_s)
    print(f"  {name:<9} {final_acc:.4f} after {final_s:.1f} s; the {peer_name} had "
          + (f"{peer_acc:.4f}" if peer_acc is not None else "finished no epoch") + " by then")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=4, help="nnlab's epochs (its schedule spans them)")
    parser.add_argument("--tutorial-epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1, help="tutorial, nnlab, tutorial, nnlab, ...")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(machine())
    print("before:", uptime())
    splits = load_splits(TrainConfig.create("cnn", "fashion-mnist"))
    results = {"tutorial": [], "nnlab": []}
    for r in range(args.rounds):
        results["tutorial"].append(run_tutorial(splits, args.tutorial_epochs, args.seed + r))
        results["nnlab"].append(run_nnlab(args.epochs, args.seed + r))
    print("after: ", uptime())
    for r in range(args.rounds):
        print(f"round {r + 1}:")
        report("nnlab", results["nnlab"][r], "tutorial", results["tutorial"][r])
        report("tutorial", results["tutorial"][r], "nnlab", results["nnlab"][r])


if __name__ == "__main__":
    main()
