"""Checks of a run's settings before it trains, in words with their numbers: what a careful colleague would say
before you wait for a run that cannot work. Pure: settings and sizes in, sentences out; training/job.py prints them.
"""

from __future__ import annotations

import math

from nnlab.training.config import MIN_STEPS, TrainConfig

# Below this many optimiser steps a network has had too few updates to learn (measured: the default CNN on
# mnist-5k, 1 epoch = 15 steps, 10% test accuracy before batch norm's statistics were measured; 2 epochs = 30
# steps, 57-59%; 3 epochs = 45 steps, 96.5%). The defaults give small data at least MIN_STEPS.
FEW_STEPS = 100


def steps(cfg: TrainConfig, n_train: int) -> int:
    """The optimiser steps of the whole run: epochs × batches per epoch (the last, smaller batch counted)."""
    return cfg.epochs * math.ceil(n_train / cfg.batch_size)


def before_training(cfg: TrainConfig, n_train: int) -> list[str]:
    """The notes to print before training starts (empty when the settings raise no doubt)."""
    notes = []
    total = steps(cfg, n_train)
    if total < FEW_STEPS:
        per_epoch = math.ceil(n_train / cfg.batch_size)
        enough = math.ceil(FEW_STEPS / per_epoch)
        notes.append(f"note: {cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''} of {n_train:,} samples at batch "
                     f"{cfg.batch_size} {'is' if cfg.epochs == 1 else 'are'} {total} optimiser step"
                     f"{'s' if total != 1 else ''}: too few for most networks to learn (expect a weak model); "
                     f"give --epochs {enough} or more ({FEW_STEPS} steps), or leave --epochs out (at least "
                     f"{MIN_STEPS:,} steps on small data)")
    return notes
