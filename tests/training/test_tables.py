"""Name-keyed tables refuse names they do not hold, with the names they do."""

from dataclasses import replace

import numpy as np
import pytest

from nnlab.errors import NNLabError
from nnlab.scratch.optim import make_optimizer
from nnlab.training.config import TrainConfig
from nnlab.training.schedules import SCHEDULES, learning_rate
from nnlab.training.torch_engine import OPTIMIZERS, TorchEngine
from tests.training.test_torch_engine import CONFIG


@pytest.mark.parametrize("name", ["adamw", "cosine_annealing", ""])
def test_unknown_schedules_are_refused(name):
    with pytest.raises(NNLabError, match="choose one of constant, cosine, onecycle"):
        learning_rate(name, 1e-3, 0.5)


def test_each_schedule_is_its_function():
    assert learning_rate("constant", 0.1, 0.7) == 0.1
    assert learning_rate("cosine", 0.1, 0.5) == pytest.approx(0.05)
    assert learning_rate("onecycle", 0.1, 0.3) == pytest.approx(0.1)
    assert set(SCHEDULES) == {"constant", "cosine", "onecycle"}


def test_unknown_optimizers_are_refused_by_the_settings_and_by_the_numpy_table():
    with pytest.raises(NNLabError, match="choose one of sgd, momentum, adam"):
        replace(CONFIG, optimizer="adamw")
    with pytest.raises(ValueError, match="adamw"):
        make_optimizer("adamw", [np.zeros(3)], 1e-3)


@pytest.mark.parametrize("name, kind", [("sgd", "SGD"), ("momentum", "SGD"), ("adam", "AdamW")])
def test_each_optimizer_name_builds_its_optimizer(name, kind):
    engine = TorchEngine(replace(CONFIG, optimizer=name), 64, 10, (1, 8, 8))
    assert type(engine.optimizer).__name__ == kind and name in OPTIMIZERS
    assert engine.optimizer.param_groups[0]["momentum" if kind == "SGD" else "betas"] == (
        CONFIG.momentum if name == "momentum" else 0.0 if kind == "SGD" else (0.9, 0.999))


def test_both_engines_know_every_optimizer_the_settings_allow():
    """The settings take their names from the NumPy table; the PyTorch engine must build each one."""
    allowed = TrainConfig.__dataclass_fields__["optimizer"].metadata["choices"]
    assert set(OPTIMIZERS) == set(allowed)
