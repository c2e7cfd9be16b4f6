"""`nnlab train scratch` with default settings on full Fashion-MNIST (and the small sets):
test accuracy, training seconds and the process's peak memory, for the README's results table.

    .venv/bin/python bench/scratch_fashion.py [--data fashion-mnist,breast-cancer,moons] [--seeds 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def run_once(data: str, seed: int, out: Path) -> dict:
    """One CLI run in a child process; its peak RSS is read from the OS after it exits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "nnlab", "train", "scratch", "--data", data, "--seed", str(seed),
                           "--quiet", "--out", str(out), "--name", f"{data}-{seed}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads((out / f"{data}-{seed}" / "summary.json").read_text())
    # ru_maxrss of children is the largest child so far; each run is measured only if it set a new peak
    return {"data": data, "seed": seed, "epochs": summary["epochs"], "test_accuracy": summary["test_accuracy"],
            "train_seconds": summary["train_seconds"], "peak_mib": peak_kib / 1024 if peak_kib > before else None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="fashion-mnist,breast-cancer,moons")
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'data':<15} {'seed':>4} {'epochs':>6} {'test acc':>9} {'train s':>8} {'peak MiB':>9}")
        for data in args.data.split(","):
            for seed in map(int, args.seeds.split(",")):
                r = run_once(data, seed, Path(tmp))
                peak = f"{r['peak_mib']:.0f}" if r["peak_mib"] else "<prev"
                print(f"{data:<15} {seed:>4} {r['epochs']:>6} {r['test_accuracy']:>9.4f} "
                      f"{r['train_seconds']:>8.1f} {peak:>9}", flush=True)


if __name__ == "__main__":
    main()
