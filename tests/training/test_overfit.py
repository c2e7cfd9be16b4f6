"""Overfit one batch: nnlab's models and a model of your own memorise 32 samples, or are told why not, in one
line with the numbers; `nnlab doctor --overfit-batch` exits 0 or 1 by it."""

import re

import numpy as np
import pytest
import torch
from torch import nn

import nnlab
from nnlab.data import load
from nnlab.training.overfit import memorising, one_batch
from nnlab.training.sanity import OVERFIT_SHARE, overfit_verdict
from tests.conftest import assert_clean_error


def losses_of(line: str) -> tuple[float, float]:
    start, final = re.search(r"training loss ([\d.e+-]+) -> ([\d.e+-]+) in", line).groups()
    return float(start), float(final)


def test_one_batch_takes_every_class_in_turn():
    y = np.array([1, 1, 1, 0, 0, 2, 1])
    assert one_batch(y, 4).tolist() == [3, 0, 5, 4]
    assert one_batch(y, 100).tolist() == [3, 0, 5, 4, 1, 2, 6]  # at most every sample


def test_the_verdict_names_the_cause():
    ok, line = overfit_verdict([0.69, 0.01], 0.01, 1.0, 32, 2, 1e-3)
    assert ok and line.startswith("overfit one batch: ok, training loss 0.69 -> 0.01 in 2 steps on 32 samples")
    assert f"under {OVERFIT_SHARE * np.log(2):.3g}" in line
    assert "the loss rose: the rate is too high (--lr 0.1: try 0.01)" in overfit_verdict([0.7], 0.9, 0.5, 8, 2, 0.1)[1]
    assert "falls but not to zero" in overfit_verdict([0.7], 0.3, 0.9, 8, 2, 0.1)[1]
    assert "became inf" in overfit_verdict([0.7], float("inf"), 0.5, 8, 2, 0.1)[1]


def test_memorising_turns_the_regularisers_off():
    cfg = memorising(nnlab.TrainConfig.create("cnn", "digits"), 32, 200)
    assert (cfg.weight_decay, cfg.dropout, cfg.label_smoothing, cfg.augment) == (0.0, 0.0, 0.0, False)
    assert (cfg.schedule, cfg.epochs, cfg.batch_size, cfg.lr) == ("constant", 200, 32, 1e-2)  # the rate kept


def test_the_scratch_network_overfits_a_batch(cli):
    proc = cli("doctor", "--overfit-batch", "scratch", "--data", "moons", check_rc=0)
    first, line = proc.stdout.strip().splitlines()
    assert first.startswith("overfitting 32 training samples of moons with scratch for 200 steps: adam at a "
                            "constant --lr 0.001")
    start, final = losses_of(line)
    assert line.startswith("overfit one batch: ok") and "batch accuracy 100%" in line
    assert start > 0.69 and final < OVERFIT_SHARE * np.log(2)


def test_a_stalled_rate_fails_with_exit_1(cli):
    proc = cli("doctor", "--overfit-batch", "scratch", "--data", "moons", "--lr", "1e-7", "--steps", "50")
    assert proc.returncode == 1, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    start, final = losses_of(line)
    assert line.startswith("overfit one batch: FAILED") and "in 50 steps" in line
    assert final > 0.9 * start and "the loss did not fall" in line and "(--lr 1e-07: try 1e-06)" in line


def test_bad_requests_are_one_clean_line(cli, tmp_path):
    assert_clean_error(cli("doctor", "--overfit-batch", "mlp"), "--overfit-batch mlp needs --data DATA")
    assert_clean_error(cli("doctor", "--overfit-batch", "mlp", "--data", "moons", "--fixes", "lower-lr"),
                       "--budget-epochs, --fixes and --lr-find are for nnlab doctor RUN")
    assert_clean_error(cli("doctor"), "say what to examine")
    assert_clean_error(cli("doctor", "--overfit-batch", "scratch", "--data", "moons", "--steps", "0"), "--steps")


class Net(nn.Module):
    def __init__(self, detach: bool = False):
        super().__init__()
        self.detach = detach
        self.layers = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        out = self.layers(x)
        # A classic: the graph is cut (a .detach() or .numpy() round trip), so no gradient reaches the weights.
        return out.detach().requires_grad_() if self.detach else out


@pytest.fixture(scope="module")
def moons():
    ds = load("moons", seed=0)
    return ds.X_train, ds.y_train


def test_your_own_module_overfits_and_stays_as_it_was(moons):
    torch.manual_seed(0)
    model = Net()
    before = [p.detach().clone() for p in model.parameters()]
    state = torch.get_rng_state()
    result = nnlab.overfit_batch(model, *moons, lr=3e-2, steps=100)
    assert result.ok and result.samples == 32 and result.steps == 100, result.line
    assert result.losses[0] > 0.5 and result.final_loss < OVERFIT_SHARE * np.log(2)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # a copy trained
    assert torch.equal(state, torch.get_rng_state())  # and the caller's generator is where it was
    assert all(n.ok for n in result.notes)


def test_a_cut_graph_is_caught(moons):
    torch.manual_seed(0)
    result = nnlab.overfit_batch(Net(detach=True), *moons, lr=1e-2, steps=30)
    assert not result.ok and result.losses[-1] == pytest.approx(result.losses[0])
    assert "the loss did not fall" in result.line and "a detached tensor" in result.line


def test_raw_pixels_are_named(moons):
    ds = load("digits", classes=["0", "1"])
    raw = ds.scaler.inverse(ds.X_train)  # scikit-learn's digits as shipped: whole numbers 0..16
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
    result = nnlab.overfit_batch(model, raw, ds.y_train, steps=20)
    (note,) = [n for n in result.notes if not n.ok]
    assert "whole numbers from 0 to 16: raw pixel values" in note.text and "divide them by 16" in note.text


def test_what_it_decides_itself_is_refused(cli):
    assert_clean_error(cli("doctor", "--overfit-batch", "cnn", "--data", "digits", "--epochs", "3"),
                       "--epochs is decided by --overfit-batch (--steps")
    assert_clean_error(cli("doctor", "--overfit-batch", "mlp", "--data", "moons", "--dropout", "0.5"),
                       "--dropout is decided by --overfit-batch")
