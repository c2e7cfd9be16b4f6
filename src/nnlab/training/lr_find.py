"""A learning-rate finder that explains itself: Smith's range test ("Cyclical Learning Rates", 2017; fastai's
lr_find) from a run's own start, its suggestion, and the suggestion checked by short forks at it and around it
(training/doctor.py), so the user sees why it was chosen rather than taking a number on trust.

The range test takes one optimiser step per batch while the rate grows geometrically from START to END, and
records each batch's training loss, smoothed (an exponential moving average, bias-corrected, as fastai's). It stops
where the smoothed loss passes DIVERGED times its lowest. The suggestion is a tenth of the rate at the lowest
smoothed loss: there the loss still falls steeply, where at the lowest point itself it is about to blow up.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnlab.training.config import TrainConfig

START, END, STEPS = 1e-7, 10.0, 100   # fastai's defaults
# The moving average's weight of the past. fastai's 0.98 averages over ~50 of the 100 steps, half the range: its
# lowest point lags the losses by a decade (measured: the 1-epoch CNN on mnist-5k, lowest at 0.89 and a suggestion
# of 0.089 that a fork found worse than the run's 0.01; with 0.9, 0.42 and 0.042).
SMOOTH = 0.9
DIVERGED = 4.0                         # the test stops when the smoothed loss passes 4x its lowest
AROUND = 3.0                           # the forks check the suggestion, a third of it and three times it


def rates(start: float, end: float, steps: int) -> np.ndarray:
    """`steps` rates from `start` to `end`, evenly spaced on a log scale."""
    return np.geomspace(start, end, steps)


def smoothed(losses: list[float]) -> list[float]:
    """The bias-corrected exponential moving average of the losses (weight SMOOTH of the past)."""
    out, avg = [], 0.0
    for i, loss in enumerate(losses):
        avg = SMOOTH * avg + (1 - SMOOTH) * loss
        out.append(avg / (1 - SMOOTH ** (i + 1)))
    return out


def suggest(lrs: list[float], smooth: list[float]) -> dict[str, float | None]:
    """The rate at the lowest smoothed loss, the steepest descent before it, and the suggestion (a tenth of
    the lowest's rate)."""
    finite = [i for i, v in enumerate(smooth) if math.isfinite(v)]
    if len(finite) < 3:
        return {"lowest": None, "steepest": None, "suggestion": None}
    low = min(finite, key=lambda i: smooth[i])
    steepest = None
    skip = len(lrs) // 10  # (the average's first points lean on few losses: fastai skips them too)
    if low - skip >= 2:
        part = slice(skip, low + 1)
        slope = np.gradient(np.array(smooth[part]), np.log(np.array(lrs[part])))
        steepest = float(lrs[skip + int(np.argmin(slope))])
    return {"lowest": float(lrs[low]), "steepest": steepest, "suggestion": float(f"{lrs[low] / 10:.2g}")}


def range_test(cfg: TrainConfig, steps: int = STEPS, start: float = START, end: float = END) -> dict[str, Any]:
    """The range test of `cfg` from its own start (its seed: the run's first weights), on batches of its
    batch size drawn from a permutation of its training data seeded by it; nothing is written."""
    from nnlab.training import job

    splits = job.load_splits(cfg)
    cfg = cfg.resolve(len(splits.y_train))
    engine = job.engine_for(cfg, splits)
    X, y, bs = splits.X_train, splits.y_train, min(cfg.batch_size, len(splits.y_train))
    rng = np.random.default_rng(cfg.seed)
    order, at = rng.permutation(len(y)), 0
    lrs = rates(start, end, steps)
    losses: list[float] = []
    best = math.inf
    with job.thread_policy(cfg, engine):
        for lr in lrs:
            if at + bs > len(y):  # whole batches only (batch norm cannot train on one sample)
                order, at = rng.permutation(len(y)), 0
            idx = order[at:at + bs]
            at += bs
            losses.append(engine.train_batch(X[idx], y[idx], float(lr)))
            smooth = smoothed(losses)[-1]
            best = min(best, smooth)
            if not math.isfinite(smooth) or smooth > DIVERGED * best:
                break
    lrs = [float(v) for v in lrs[:len(losses)]]
    smooth = smoothed(losses)
    return {"start": start, "end": end, "steps": len(losses), "batch_size": bs, "lrs": lrs,
            "losses": [float(v) for v in losses], "smoothed": smooth, **suggest(lrs, smooth)}
