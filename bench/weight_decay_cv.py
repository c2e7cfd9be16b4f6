"""How the scratch network's default weight decay was chosen: cross-validation on the training split only.

For each dataset and each L2 strength, 5-fold cross-validation repeated twice on the training split (the test
split is never read), every fit exactly `nnlab train scratch` with its defaults but that strength; prints the
mean held-out accuracy with its standard error, and the mean held-out log loss.

    .venv/bin/python bench/weight_decay_cv.py --data breast-cancer,moons,digits

Strengths: a fixed alpha (the earlier default 1e-4, scikit-learn's), and k·m/n (m = batch size, n = training
samples), the unit Gaussian prior for k = 1 (the default now; see nnlab.training.config.ScratchConfig.resolve).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from sklearn.model_selection import StratifiedKFold

from nnlab.data import load
from nnlab.metrics import log_loss
from nnlab.training.config import TrainConfig
from nnlab.training.job import Splits, engine_for

# label -> alpha as a function of (training samples n, batch size m); m/n is what ScratchConfig.resolve gives
STRENGTHS = {"alpha 1e-4": lambda n, m: 1e-4, "m/n (default)": lambda n, m: m / n,
             "3 m/n": lambda n, m: 3 * m / n, "10 m/n": lambda n, m: 10 * m / n}


def held_out(ds, train: np.ndarray, test: np.ndarray, seed: int, strength) -> tuple[float, float]:
    """Train on ds.X_train[train] as `nnlab train scratch` would; (accuracy, log loss) on ds.X_train[test]."""
    X, y = ds.X_train, ds.y_train
    # `nnlab train scratch`'s defaults; then the two settings job.train would derive from the data
    cfg = TrainConfig.create("scratch", ds.name, seed=seed)
    cfg = replace(cfg.resolve(len(train)), weight_decay=strength(len(train), cfg.batch_size))
    engine = engine_for(cfg, Splits(ds, X[train], y[train], X[test], y[test]))
    for epoch in range(cfg.epochs):
        engine.train_epoch(epoch, cfg.epochs)
    P = engine.predict_proba(X[test])
    return float(np.mean(P.argmax(axis=1) == y[test])), log_loss(P, y[test])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="breast-cancer,moons,digits")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for name in args.data.split(","):
        ds = load(name)
        for label, strength in STRENGTHS.items():
            scores = [held_out(ds, train, test, seed=10 * r + f, strength=strength)
                      for r in range(args.repeats)
                      for f, (train, test) in enumerate(
                          StratifiedKFold(args.folds, shuffle=True, random_state=r).split(ds.X_train, ds.y_train))]
            acc, loss = np.array(scores).T
            print(f"{name:<14} {label:<14} accuracy {acc.mean():.4f} ± {acc.std() / np.sqrt(len(acc)):.4f}  "
                  f"log loss {loss.mean():.3f}", flush=True)


if __name__ == "__main__":
    main()
