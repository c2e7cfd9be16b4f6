"""The fast and the plain recipe (`nnlab train MODEL --data D --recipe R`, seed 0, the other settings the
model's defaults): test accuracy, the test set's expected calibration error (the report's calibration figure),
training seconds, for docs/benchmarks.md ("Plain and fast recipes (issue 25)").

    .venv/bin/python bench/recipes.py                                    # mlp, cnn on mnist-5k
    .venv/bin/python bench/recipes.py --data fashion-mnist --models mlp --epochs 10
"""

from __future__ import annotations

import argparse
import tempfile

from nnlab.metrics import calibration
from nnlab.training import job
from nnlab.training.config import RECIPES, TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--data", default="mnist-5k")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--epochs", type=int, default=None, help="default: the model's")
    args = parser.parse_args()
    print(f"{'model':<5} {'data':<14} {'recipe':<7} {'epochs':>6} {'test acc':>9} {'ECE':>6} {'mean conf':>9} "
          f"{'test loss':>9} {'train s':>8}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            for recipe in args.recipes.split(","):
                cfg = TrainConfig.create(model, args.data, recipe=recipe, epochs=args.epochs)
                run = job.train(cfg, tmp, f"{model}-{recipe}", quiet=True)
                record, engine = job.load_run(run)
                splits = job.load_splits(record.settings)
                P = engine.predict_proba(splits.data.X_test)
                ece = calibration(P, splits.data.y_test)["ece"]
                summary = job.runs.read_json(run / job.runs.SUMMARY, what="summary")
                print(f"{model:<5} {args.data:<14} {recipe:<7} {summary['epochs']:>6} {summary['test_accuracy']:>9.4f} "
                      f"{ece:>6.3f} {float(P.max(axis=1).mean()):>9.3f} {summary['test_loss']:>9.4f} "
                      f"{summary['train_seconds']:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
