"""The learning-rate finder: Smith's range test from a run's start, its suggestion, and the suggestion checked by
forks at it and around it (nnlab doctor RUN --lr-find: tests/training/test_doctor.py)."""

import math

import numpy as np
import pytest

from nnlab.training import lr_find
from nnlab.training.config import TrainConfig


def test_the_rates_grow_geometrically_and_the_average_is_bias_corrected():
    lrs = lr_find.rates(1e-7, 10.0, 9)
    assert lrs[0] == pytest.approx(1e-7) and lrs[-1] == pytest.approx(10.0)
    assert np.allclose(lrs[1:] / lrs[:-1], 10.0)  # one decade a step
    assert lr_find.smoothed([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])  # no pull toward 0 at the start
    s = lr_find.smoothed([1.0, 0.0])
    assert s[1] == pytest.approx(lr_find.SMOOTH * 0.1 / (1 - lr_find.SMOOTH ** 2))


def test_the_suggestion_is_a_tenth_of_the_lowest_point():
    lrs = list(lr_find.rates(1e-6, 1.0, 61))
    curve = [(math.log10(lr) + 2) ** 2 for lr in lrs]  # lowest at 1e-2, falling steepest at the start
    found = lr_find.suggest(lrs, curve)
    assert found["lowest"] == pytest.approx(1e-2) and found["suggestion"] == pytest.approx(1e-3)
    assert found["steepest"] < found["lowest"]
    assert lr_find.suggest(lrs[:2], curve[:2])["suggestion"] is None  # too few points to say


def test_the_range_test_stops_where_the_loss_blows_up_and_repeats_itself():
    cfg = TrainConfig.create("scratch", "moons", hidden=(8,), optimizer="sgd", seed=3)
    first, again = lr_find.range_test(cfg, end=1e4), lr_find.range_test(cfg, end=1e4)  # (SGD at 500: NaN)
    assert first["losses"] == again["losses"]  # the run's start and batches: the same bits
    smooth = first["smoothed"]
    assert first["steps"] < lr_find.STEPS and not smooth[-1] <= lr_find.DIVERGED * min(smooth)  # stopped early
    assert 1e-7 < first["suggestion"] < first["lowest"] <= first["lrs"][-1]
