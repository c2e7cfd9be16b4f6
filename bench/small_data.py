"""Wall time against train_seconds on small data (issue 22): an iris-sized CSV and an 80-image PNG folder.

    python bench/small_data.py DIR          # writes DIR/iris.csv and DIR/pngs/{0,1}/*.png, then trains on each

Trains `nnlab train scratch --data ...` with its defaults (small data get at least job.MIN_STEPS steps, so
hundreds of epochs) in a subprocess, as a user would, and prints its wall time beside the run's own
train_seconds (and wall_seconds, where the nnlab under test writes it). Which nnlab runs is PYTHONPATH's to say.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def make_data(root: Path) -> tuple[Path, Path]:
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_iris

    root.mkdir(parents=True, exist_ok=True)
    iris = load_iris()
    csv = root / "iris.csv"
    rows = ["a,b,c,d,label"] + [",".join(f"{v:g}" for v in x) + f",{y}" for x, y in zip(iris.data, iris.target)]
    csv.write_text("\n".join(rows) + "\n")
    rng = np.random.default_rng(0)
    pngs = root / "pngs"
    for label in (0, 1):  # 40 noisy bars a class: vertical against horizontal
        (pngs / str(label)).mkdir(parents=True, exist_ok=True)
        for i in range(40):
            image = rng.integers(0, 60, (28, 28))
            if label:
                image[12:16, :] = 255
            else:
                image[:, 12:16] = 255
            Image.fromarray(image.astype(np.uint8)).save(pngs / str(label) / f"{i}.png")
    return csv, pngs


def main() -> None:
    root = Path(sys.argv[1])
    for data in make_data(root):
        out = root / "runs"
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nnlab", "train", "scratch", "--data", str(data), "--out",
                               str(out)], capture_output=True, text=True)
        wall = time.perf_counter() - started
        assert proc.returncode == 0, proc.stderr
        run = Path(proc.stdout.strip().splitlines()[-1].split("run=")[1])
        summary = json.loads((run / "summary.json").read_text())
        print(f"{data.name:>9}: {summary['epochs']} epochs, {len(proc.stdout.splitlines())} lines printed, "
              f"wall {wall:.1f} s, train_seconds {summary['train_seconds']:.1f}, "
              f"wall_seconds {summary.get('wall_seconds', '-')}, test_accuracy {summary['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
