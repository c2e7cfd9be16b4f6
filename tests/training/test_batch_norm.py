"""Batch norm's running statistics after a short run (issue 26): measured over the training data, not a moving
average still near its start, so that evaluation normalises as training did."""

import numpy as np
import pytest
import torch

from nnlab import runs
from nnlab.training import job
from nnlab.training.config import TrainConfig
from nnlab.training.torch_engine import PRECISE_BN_STEPS, TorchEngine
from tests.training.test_torch_engine import make


def test_a_one_epoch_cnn_on_5000_digits_is_not_at_chance(tmp_path):
    """15 steps at batch 256: the moving averages were 80% of the way from (0, 1) and the test accuracy 10%."""
    run = job.train(TrainConfig.create("cnn", "mnist-5k", epochs=1), tmp_path, "one", quiet=True)
    assert runs.read_json(run / runs.SUMMARY, what="summary")["test_accuracy"] > 0.8


@pytest.mark.parametrize("n", [40, 1025])  # (1025: a last batch of one sample joins the one before)
def test_the_statistics_are_the_average_over_the_training_data_and_draw_no_random_number(n):
    rng = np.random.default_rng(0)
    X, y = (rng.random((n, 36), dtype=np.float32) * 3 + 1), np.arange(n) % 3
    engine = TorchEngine(make("mlp", batch_norm=True, dropout=0.5, hidden=(8,)), 36, 3)
    engine.prepare(X, y, flip_ok=False)
    norm = next(m for m in engine.model.modules() if isinstance(m, torch.nn.BatchNorm1d))
    dense = next(m for m in engine.model.modules() if isinstance(m, torch.nn.Linear))
    before = torch.get_rng_state()
    engine.measure_batch_norm()
    assert torch.equal(torch.get_rng_state(), before)  # dropout stayed off: a resumed run draws the same numbers
    with torch.no_grad():
        Z = dense(torch.from_numpy(X))
    np.testing.assert_allclose(norm.running_mean, Z.mean(0), rtol=1e-4, atol=1e-5)
    assert norm.momentum == 0.1 and not engine.model.training


def test_short_runs_measure_after_every_epoch_and_long_ones_leave_the_moving_average(monkeypatch):
    calls = []
    monkeypatch.setattr(TorchEngine, "measure_batch_norm", lambda self: calls.append(self.step))
    X, y = np.random.default_rng(0).random((64, 36), dtype=np.float32), np.arange(64) % 2
    engine = TorchEngine(make("mlp", batch_norm=True, batch_size=32), 36, 2)
    engine.prepare(X, y, flip_ok=False)
    engine.train_epoch(0, 2)
    engine.step = PRECISE_BN_STEPS  # as after a long run's first epochs
    engine.train_epoch(1, 2)
    assert calls == [2]
