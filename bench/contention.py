"""Epoch times on a quiet machine and beside one competing CPU-bound process, for every model.

The competitor is what a shared laptop or lab server runs beside a student's training: a NumPy loop of
matrix products on NumPy's default threads (one per core). Each model trains through the `nnlab train`
command as a user runs it, quiet and beside the competitor in turn (A, B, A, B, ...); the figure is the
median epoch time after the first epoch, read from the run's metrics. Then ScratchClassifier against
scikit-learn's MLPClassifier on the same float32 Fashion-MNIST rows, in both conditions.

    .venv/bin/python bench/contention.py [--rounds 2] [--models scratch,mlp,cnn] [--threads N] [--baseline SRC]

--baseline SRC also times the quiet epochs of the nnlab under SRC (another checkout's src/, e.g. the last
release's, through PYTHONPATH), alternating with this one's, and prints this one's quiet epoch against it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RUNS = {  # model: (data, epochs): an epoch of each takes seconds, not minutes, on 2 cores
    "scratch": ("fashion-mnist", 3),
    "mlp": ("fashion-mnist", 3),
    "cnn": ("mnist-5k", 3),
}
COMPETITOR = ("import numpy as np\n"
              "a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)\n"
              "while True:\n    a @ a\n")
ESTIMATORS = (
    "import sys, time, warnings\n"
    "import numpy as np\n"
    "from sklearn.neural_network import MLPClassifier\n"
    "from nnlab import ScratchClassifier\n"
    "from nnlab.data import load\n"
    "warnings.simplefilter('ignore')\n"
    "ds = load('fashion-mnist')\n"
    "X, y = ds.X_train[:20000].astype(np.float32), ds.y_train[:20000]\n"
    "kw = dict(hidden_layer_sizes=(256, 128), batch_size=128, max_iter=2, tol=0.0, n_iter_no_change=99,"
    " random_state=0)\n"
    "for name, model in (('nnlab', ScratchClassifier(**kw)), ('sklearn', MLPClassifier(**kw))):\n"
    "    start = time.perf_counter(); model.fit(X, y); print(name, time.perf_counter() - start)\n"
)


class Competitor:
    """One CPU-bound process beside the measured one, for the duration of a `with` block."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", COMPETITOR])
        time.sleep(1.0)  # running flat out before the measured work starts
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def epoch_seconds(model: str, extra: list[str], src: str | None = None) -> tuple[float, list]:
    """The median epoch time after the first of `nnlab train MODEL` from the run's metrics, and the thread
    count each epoch ended with; `src`: the nnlab of that source folder instead of this one."""
    data, epochs = RUNS[model]
    env = {**os.environ, "PYTHONPATH": src} if src else None
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "nnlab", "train", model, "--data", data, "--epochs", str(epochs),
                        "--out", out, "--name", "run", "--quiet", *extra], check=True, stdout=subprocess.DEVNULL,
                       env=env)
        history = [json.loads(line) for line in (Path(out) / "run" / "metrics.jsonl").read_text().splitlines()]
    seconds = np.diff([0.0] + [h["seconds"] for h in history])
    return float(np.median(seconds[1:])), [h.get("threads") for h in history]


def estimators() -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", ESTIMATORS], check=True, capture_output=True, text=True).stdout
    return {name: float(t) for name, t in (line.split() for line in out.splitlines())}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default="scratch,mlp,cnn")
    parser.add_argument("--threads", type=int, help="pass --threads N to nnlab train (default: its own policy)")
    parser.add_argument("--baseline", help="another checkout's src/ folder: its quiet epochs, A/B against these")
    args = parser.parse_args()
    extra = ["--threads", str(args.threads)] if args.threads else []
    model_name = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                       if line.startswith("model name")), "?")
    print(f"{model_name}, {os.cpu_count()} CPUs; nnlab train {' '.join(extra) or '(default threads)'}")
    print("before:", uptime(), flush=True)
    for model in args.models.split(","):
        times = {"quiet": [], "loaded": [], "baseline": []}
        for _ in range(args.rounds):
            times["quiet"].append(epoch_seconds(model, extra))
            with Competitor():
                times["loaded"].append(epoch_seconds(model, extra))
            if args.baseline:
                times["baseline"].append(epoch_seconds(model, extra, args.baseline))
        quiet = np.median([t for t, _ in times["quiet"]])
        loaded = np.median([t for t, _ in times["loaded"]])
        print(f"{model:<8} {RUNS[model][0]:<14} epoch quiet {quiet:6.2f} s   beside a competitor {loaded:6.2f} s   "
              f"x{loaded / quiet:.2f}   (threads by epoch: quiet {times['quiet'][0][1]}, "
              f"loaded {times['loaded'][0][1]})", flush=True)
        if args.baseline:
            base = np.median([t for t, _ in times["baseline"]])
            print(f"{'':<8} {'':<14} quiet epoch of {args.baseline}: {base:6.2f} s; this one's x{quiet / base:.2f} "
                  f"of it (each quiet: this {[round(t, 2) for t, _ in times['quiet']]}, "
                  f"baseline {[round(t, 2) for t, _ in times['baseline']]})", flush=True)
    fits = {"quiet": [], "loaded": []}
    for _ in range(args.rounds):
        fits["quiet"].append(estimators())
        with Competitor():
            fits["loaded"].append(estimators())
    for condition, results in fits.items():
        ours, theirs = (np.median([r[name] for r in results]) for name in ("nnlab", "sklearn"))
        print(f"ScratchClassifier {ours:6.2f} s  MLPClassifier {theirs:6.2f} s  ({condition}, float32, 20,000 rows, "
              f"2 epochs): nnlab x{theirs / ours:.2f} as fast", flush=True)
    print("after: ", uptime())


if __name__ == "__main__":
    main()
