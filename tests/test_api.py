"""nnlab from Python: nnlab.train gives what `nnlab train` gives, and a Run reads back and predicts."""

import subprocess
import sys

import numpy as np
import pytest

import nnlab
from nnlab import runs
from nnlab.data import load
from nnlab.errors import NNLabError


@pytest.mark.parametrize("model, settings", [("scratch", ["--epochs", "3", "--seed", "4", "--hidden", "16,8"]),
                                              ("mlp", ["--epochs", "2", "--seed", "4", "--hidden", "16"])])
def test_the_cli_and_the_python_api_train_the_same_weights(tmp_path, model, settings):
    subprocess.run([sys.executable, "-m", "nnlab", "train", model, "--data", "moons", *settings, "--quiet",
                    "--no-report", "--out", str(tmp_path), "--name", "cli"], check=True, capture_output=True)
    kwargs = {"epochs": int(settings[1]), "seed": int(settings[3]), "hidden": [int(h) for h in settings[5].split(",")]}
    run = nnlab.train(model, "moons", out=tmp_path, name="api", **kwargs)
    cli, _ = runs.load_tensors(tmp_path / "cli" / runs.MODEL)
    api, _ = runs.load_tensors(run.path / runs.MODEL)
    assert cli.keys() == api.keys()
    for name in cli:
        np.testing.assert_array_equal(cli[name], api[name], err_msg=name)
    assert (run.path / "report.html").is_file()
    same = {k: v for k, v in runs.read_config(tmp_path / "cli").items() if k not in ("versions",)}
    assert same == {k: v for k, v in runs.read_config(run.path).items() if k not in ("versions",)}
    assert run.settings == nnlab.load_run(tmp_path / "cli").settings


def test_a_run_reads_back_predicts_and_shows_itself(tmp_path):
    run = nnlab.train("scratch", "digits", out=tmp_path, name="d", epochs=30, hidden=[32])
    again = nnlab.load_run(tmp_path / "d")
    assert again.summary == run.summary and again.history == run.history and len(run.history) == 30
    ds = load("digits")
    raw = ds.scaler.inverse(ds.X_test)                      # raw samples, as a user holds them
    assert np.mean(again.predict(raw) == ds.y_test) == pytest.approx(run.summary["test_accuracy"], abs=1e-6)
    net = again.to_scratch()
    np.testing.assert_allclose(net.W[0], run.engine.net.W[0])
    html = again._repr_html_()
    assert "test accuracy" in html and html.count("data:image/png;base64,") >= 2
    report = again.report()
    assert report.path == tmp_path / "d" / "report.html" and "Contents" in report.path.read_text()
    assert "test_accuracy=" in repr(again)


def test_unknown_or_foreign_settings_are_refused_with_a_suggestion(tmp_path):
    with pytest.raises(NNLabError, match="did you mean 'epochs'"):
        nnlab.train("scratch", "moons", out=tmp_path, epoch=3)
    with pytest.raises(NNLabError, match=r"dropout \(--dropout\) is for mlp and cnn, not scratch"):
        nnlab.train("scratch", "moons", out=tmp_path, dropout=0.2)
    with pytest.raises(NNLabError, match="did you mean 'cnn'"):
        nnlab.train("ccn", "moons", out=tmp_path)
    with pytest.raises(NNLabError, match="choose one of sgd, momentum, adam"):
        nnlab.TrainConfig.create("mlp", "moons", optimizer="adamw")
    assert not list(tmp_path.iterdir())                     # nothing written


def test_the_config_holds_each_models_own_defaults():
    mlp, cnn = nnlab.TrainConfig.create("mlp", "moons"), nnlab.TrainConfig.create("cnn", "mnist-5k")
    assert (mlp.hidden, mlp.batch_norm, mlp.lr) == ((1024, 512), True, 1e-3)
    assert (cnn.widths, cnn.lr, cnn.batch_size, cnn.label_smoothing) == ((16, 32, 64), 1e-2, 256, 0.1)
    assert "widths" not in mlp.to_dict() and "hidden" not in cnn.to_dict() and "dropout" not in \
        nnlab.TrainConfig.create("scratch", "moons").to_dict()
