"""`nnlab compare` sets runs of the two losses side by side: which loss each minimised, where it started, and
its final training and validation loss (the log loss for both, one scale)."""

import re

import pytest

from nnlab import runs
from nnlab.training import job
from nnlab.training.config import TrainConfig
from nnlab.viz.compare import loss_minimised, trained_from, write_compare
from tests.training.test_start import QUICK


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """The log loss and the squared error from the confident-wrong start (no reports: compare reads the runs)."""
    out = tmp_path_factory.mktemp("runs")
    return [job.train(TrainConfig.create("scratch", "moons", loss=loss, start="confident-wrong", **QUICK), out, loss,
                      quiet=True) for loss in ("log", "mse")]


def cells(html: str, run: str) -> list[str]:
    row = re.search(rf"<tr><td><a [^>]*>{run}</a></td>(.*?)</tr>", html).group(1)
    return re.findall(r"<td>(.*?)</td>", row)


def test_compare_shows_the_loss_each_run_minimised_and_its_final_losses(lesson, tmp_path):
    html = write_compare(lesson, tmp_path / "cmp.html").read_text()
    assert "<th>loss minimised</th>\n<th>final log loss, training / validation</th>" in html
    for run in lesson:
        last = runs.read_metrics(run)[-1]
        row = cells(html, run.name)
        assert row[3:6] == ["confident-wrong", {"log": "log loss", "mse": "squared error (mse)"}[run.name],
                            f"{last['loss']:.4f} / {last['val_loss']:.4f}"]
    log, mse = (runs.read_metrics(run)[-1]["val_loss"] for run in lesson)
    assert mse > 3 > 1 > log  # the stalled run is still confidently wrong (measured 5.4 and 0.3)


def test_the_loss_and_start_in_words_for_every_kind_of_run():
    assert loss_minimised(TrainConfig.create("cnn", "digits")) == "log loss, label-smoothed 0.1"
    assert loss_minimised(TrainConfig.create("cnn", "digits", recipe="plain")) == "log loss"
    assert trained_from(TrainConfig.create("mlp", "digits", recipe="plain")) == "plain"
    assert trained_from(TrainConfig.create("cnn", "digits", recipe="plain", dropout=0.2)) == "plain + dropout 0.2"
    assert trained_from(TrainConfig.create("cnn", "digits", augment=False)) == "fast + no augmentation"
    assert trained_from(TrainConfig.create("scratch", "moons")) == "he"
