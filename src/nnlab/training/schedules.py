"""Learning-rate schedules as pure functions of progress, so a resumed run computes the same rates."""

from __future__ import annotations

import math


def learning_rate(schedule: str, base_lr: float, progress: float) -> float:
    """The rate at `progress` in [0, 1) of the whole training.

    constant: base_lr throughout.
    cosine:   from base_lr down to 0 along half a cosine.
    onecycle: warm up from base_lr/25 to base_lr over the first 30%, then cosine down to base_lr/25e4
              (Smith's one-cycle policy, as torch.optim.lr_scheduler.OneCycleLR shapes it).
    """
    if schedule == "constant":
        return base_lr
    if schedule == "cosine":
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    warm, start, end = 0.3, base_lr / 25, base_lr / 25e4
    if progress < warm:
        return start + (base_lr - start) * 0.5 * (1 - math.cos(math.pi * progress / warm))
    return end + (base_lr - end) * 0.5 * (1 + math.cos(math.pi * (progress - warm) / (1 - warm)))
