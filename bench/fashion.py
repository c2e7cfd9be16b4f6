"""Each model with its default settings (`nnlab train MODEL --data D`): validation accuracy after the
last epoch (what defaults are chosen by), test accuracy, training seconds and the training process's
peak memory, for the README's results table.

    .venv/bin/python bench/fashion.py                                   # scratch, mlp, cnn on Fashion-MNIST
    .venv/bin/python bench/fashion.py --models scratch --data moons,breast-cancer
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="scratch,mlp,cnn")
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--seed", default="0")
    args = parser.parse_args()
    print(f"{'model':<8} {'data':<14} {'epochs':>6} {'val acc':>8} {'test acc':>9} {'train s':>8} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for data in args.data.split(","):
            for model in args.models.split(","):
                name = f"{model}-{data}"
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                proc = subprocess.run([sys.executable, "-m", "nnlab", "train", model, "--data", data,
                                       "--seed", args.seed, "--quiet", "--out", tmp, "--name", name],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise SystemExit(proc.stderr)
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, the largest child so far
                s = json.loads((Path(tmp) / name / "summary.json").read_text())
                last = json.loads((Path(tmp) / name / "metrics.jsonl").read_text().splitlines()[-1])
                mib = f"{peak / 1024:.0f}" if peak > before else "<prev"
                print(f"{model:<8} {data:<14} {s['epochs']:>6} {last['val_accuracy']:>8.4f} {s['test_accuracy']:>9.4f} "
                      f"{s['train_seconds']:>8.1f} {mib:>9}", flush=True)


if __name__ == "__main__":
    main()
