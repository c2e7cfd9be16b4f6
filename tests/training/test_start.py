"""--start confident-wrong (training/starts.py): one start for both losses, from which the squared error stalls
and the log loss recovers, as docs/derivation.md argues; the normal start trains either loss."""

import json

import numpy as np
import pytest

from nnlab import runs
from nnlab.scratch.network import Workspace, forward
from nnlab.training import job
from nnlab.training.config import TrainConfig
from nnlab.training.record import read_record
from nnlab.training.starts import MARGIN
from tests.conftest import assert_clean_error

# Small and quick: moons, a 2-16-8-1 network, 10 epochs of 15 steps at a rate that lets the log loss recover in them
QUICK = {"hidden": [16, 8], "epochs": 10, "lr": 0.03}


def engine(loss: str, start: str, **settings):
    cfg = TrainConfig.create("scratch", "moons", loss=loss, start=start, **{**QUICK, **settings})
    splits = job.load_splits(cfg)
    return job.engine_for(cfg.resolve(len(splits.y_train)), splits), splits


def test_the_start_is_the_same_bits_for_both_losses_and_hes_start_but_for_the_output_bias():
    (log, splits), (mse, _), (he, _) = engine("log", "confident-wrong"), engine("mse", "confident-wrong"), \
        engine("log", "he")
    for name, p in log.weights().items():
        np.testing.assert_array_equal(p, mse.weights()[name], err_msg=name)  # same bits, whatever the loss
        if name != "b3":
            np.testing.assert_array_equal(p, he.weights()[name], err_msg=name)  # He's draw itself
    assert np.all(he.weights()["b3"] == 0) and log.weights()["b3"][0] > 0
    Z_out = forward(log.net, splits.X_train, Workspace.create(log.net, len(splits.X_train)))[:, 0]
    assert Z_out.min() == pytest.approx(MARGIN, abs=1e-4)          # every logit >= 10: sigma >= 0.99995
    wrong = splits.y_train == 0                                       # ... so every sample of the first class
    assert 0.4 < wrong.mean() < 0.6 and np.all(Z_out[wrong] >= MARGIN - 1e-4)  # is confidently wrong


def accuracy_after(loss: str, start: str) -> float:
    eng, splits = engine(loss, start)
    for epoch in range(QUICK["epochs"]):
        eng.train_epoch(epoch, QUICK["epochs"])
    return float(np.mean(eng.predict_proba(splits.X_train).argmax(1) == splits.y_train))


def test_from_the_confident_wrong_start_mse_stalls_where_the_log_loss_recovers():
    share = 1 - np.mean(job.load_splits(TrainConfig.create("scratch", "moons")).y_train == 0)
    stalled, recovered = accuracy_after("mse", "confident-wrong"), accuracy_after("log", "confident-wrong")
    assert stalled == pytest.approx(share, abs=0.01)  # still says the second class for every sample (measured 0.494)
    assert recovered > 0.8                            # measured 0.876
    assert accuracy_after("mse", "he") > 0.8          # the stall is the start's: from He's, mse trains too (0.86)


def test_the_start_is_recorded_and_the_confident_wrong_start_needs_two_classes(cli, tmp_path):
    cfg = TrainConfig.create("scratch", "moons", start="confident-wrong", loss="mse", epochs=1, hidden=[4])
    run = job.train(cfg, tmp_path / "runs", "cw", quiet=True)  # (no report: the record is what is checked)
    assert read_record(run).settings.start == "confident-wrong"
    assert json.loads((run / runs.CONFIG).read_text())["settings"]["start"] == "confident-wrong"
    from nnlab.viz.report import trained_with

    assert trained_with(read_record(run).settings) == ('<p id="trained-with">Training minimised the squared error '
                                                       '(--loss mse), from the confident-wrong start (--start '
                                                       'confident-wrong).</p>\n')
    assert_clean_error(cli("train", "scratch", "--data", "digits", "--start", "confident-wrong", "--epochs", "1",
                           "--out", tmp_path / "more"), "--start confident-wrong is for two classes")
    assert not (tmp_path / "more").exists()
    assert_clean_error(cli("train", "mlp", "--data", "digits", "--start", "confident-wrong", "--out",
                           tmp_path / "more"), "start (--start) is for scratch, not mlp")
