"""Each model with its default settings (`nnlab train MODEL --data D`): validation accuracy after the
last epoch (what defaults are chosen by), test accuracy, training seconds and the training process's
peak memory, for the README's results table.

    .venv/bin/python bench/fashion.py                                   # scratch, mlp, cnn on Fashion-MNIST
    .venv/bin/python bench/fashion.py --models scratch --data moons,breast-cancer --seeds 0-9
    .venv/bin/python bench/fashion.py --models scratch --data breast-cancer --seeds 0-9 --train-args="--val-fraction 0"

On a test split as small as breast-cancer's (113 tumours, one error = 0.9 points) one seed says little:
with several seeds the bench also prints each model's mean and range.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="scratch,mlp,cnn")
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--seeds", type=seed_list, default=[0], help="e.g. 0 (default), 0,3 or 0-9")
    parser.add_argument("--train-args", type=shlex.split, default=[], help="more options for nnlab train")
    args = parser.parse_args()
    print(f"{'model':<8} {'data':<14} {'seed':>4} {'epochs':>6} {'val acc':>8} {'test acc':>9} {'train s':>8} "
          f"{'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for data in args.data.split(","):
            for model in args.models.split(","):
                accuracies = [run(model, data, seed, tmp, args.train_args) for seed in args.seeds]
                if len(accuracies) > 1:
                    print(f"{model:<8} {data:<14} mean test accuracy {sum(accuracies) / len(accuracies):.4f} "
                          f"over {len(accuracies)} seeds (range {min(accuracies):.4f}-{max(accuracies):.4f})")


def seed_list(text: str) -> list[int]:
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(s) for s in text.split(",")]


def run(model: str, data: str, seed: int, tmp: str, train_args: list[str]) -> float:
    """`nnlab train MODEL --data DATA --seed SEED` in a child; prints its row, returns its test accuracy."""
    name = f"{model}-{data}-{seed}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "nnlab", "train", model, "--data", data,
                           "--seed", str(seed), "--quiet", "--out", tmp, "--name", name, *train_args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, the largest child so far
    s = json.loads((Path(tmp) / name / "summary.json").read_text())
    last = json.loads((Path(tmp) / name / "metrics.jsonl").read_text().splitlines()[-1])
    mib = f"{peak / 1024:.0f}" if peak > before else "<prev"
    val = "-" if last["val_accuracy"] is None else f"{last['val_accuracy']:.4f}"
    print(f"{model:<8} {data:<14} {seed:>4} {s['epochs']:>6} {val:>8} "
          f"{s['test_accuracy']:>9.4f} {s['train_seconds']:>8.1f} {mib:>9}", flush=True)
    return s["test_accuracy"]


if __name__ == "__main__":
    main()
