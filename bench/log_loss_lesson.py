"""Where the log loss matters (issue 25): the scratch network trained with --loss log and --loss mse, from He's
start and from the confident-wrong start (--start), seed 0, the other settings the defaults. Prints the
validation accuracy and log loss after some epochs, then the test accuracy, for docs/benchmarks.md.

    .venv/bin/python bench/log_loss_lesson.py                                  # moons
    .venv/bin/python bench/log_loss_lesson.py --data mnist-5k --classes 3,8
"""

from __future__ import annotations

import argparse
import tempfile

from nnlab import runs
from nnlab.training import job
from nnlab.training.config import TrainConfig

MARKS = (1, 5, 20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="moons")
    parser.add_argument("--classes", default=None)
    parser.add_argument("--epochs", type=int, default=None, help="default: the model's")
    parser.add_argument("--optimizer", default=None, help="default: the model's (adam)")
    args = parser.parse_args()
    classes = args.classes.split(",") if args.classes else None
    with tempfile.TemporaryDirectory() as tmp:
        for start in ("he", "confident-wrong"):
            for loss in ("log", "mse"):
                cfg = TrainConfig.create("scratch", args.data, classes=classes, loss=loss, start=start,
                                         epochs=args.epochs, optimizer=args.optimizer)
                run = job.train(cfg, tmp, f"{start}-{loss}", quiet=True)
                history = runs.read_metrics(run)
                summary = runs.read_json(run / runs.SUMMARY, what="summary")
                after = "  ".join(f"epoch {h['epoch']}: {h['val_accuracy']:.3f} / {h['val_loss']:.3f}"
                                  for h in history if h["epoch"] in (*MARKS, len(history)))
                print(f"{args.data} {start:<15} {loss:<4} val acc / log loss  {after}  |  test accuracy "
                      f"{summary['test_accuracy']:.4f}, test log loss {summary['test_loss']:.4f}, "
                      f"{summary['train_seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
