"""Learning-rate schedules as pure functions of progress, so a resumed run computes the same rates."""

from __future__ import annotations

import math

from nnlab.errors import pick


def constant(base_lr: float, progress: float) -> float:
    """base_lr throughout."""
    return base_lr


def cosine(base_lr: float, progress: float) -> float:
    """From base_lr down to 0 along half a cosine."""
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def onecycle(base_lr: float, progress: float) -> float:
    """Warm up from base_lr/25 to base_lr over the first 30%, then cosine down to base_lr/25e4 (Smith's
    one-cycle policy, as torch.optim.lr_scheduler.OneCycleLR shapes it)."""
    warm, start, end = 0.3, base_lr / 25, base_lr / 25e4
    if progress < warm:
        return start + (base_lr - start) * 0.5 * (1 - math.cos(math.pi * progress / warm))
    return end + (base_lr - end) * 0.5 * (1 + math.cos(math.pi * (progress - warm) / (1 - warm)))


SCHEDULES = {"constant": constant, "cosine": cosine, "onecycle": onecycle}


def learning_rate(schedule: str, base_lr: float, progress: float) -> float:
    """The rate at `progress` in [0, 1) of the whole training, by the schedule's name."""
    return pick(SCHEDULES, schedule, "schedule")(base_lr, progress)
