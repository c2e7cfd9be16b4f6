"""nnlab.report on models nnlab has never seen, trained in a plain loop of their own with the Recorder."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nnlab
from nnlab.data import load
from nnlab.errors import NNLabError
from nnlab.viz.any_model import as_dataset
from tests.viz.browser import needs_chromium, open_page

pytestmark = pytest.mark.slow


class TwoConvNet(nn.Module):
    """A student's CNN: its own names, 5x5 kernels, ReLU and pooling called in forward."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(1, 8, 5, padding=2)
        self.second = nn.Conv2d(8, 16, 3, padding=1)
        self.classifier = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.first(x)), 2)
        x = F.max_pool2d(F.relu(self.second(x)), 2)
        return self.classifier(x.flatten(1))


def plain_loop(model, X, y, epochs, recorder, X_val, y_val):
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        total, correct = 0.0, 0
        for idx in torch.randperm(len(X), generator=torch.Generator().manual_seed(0)).split(64):
            logits = model(X[idx])
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y[idx]).sum())
        model.eval()
        with torch.no_grad():
            val = model(X_val)
        recorder.epoch(loss=total / len(X), accuracy=correct / len(X), val_loss=float(F.cross_entropy(val, y_val)),
                       val_accuracy=float((val.argmax(1) == y_val).float().mean()))


@pytest.fixture(scope="module")
def mnist():
    ds = load("mnist-5k")
    X = torch.from_numpy(ds.X_train).reshape(-1, 1, 28, 28)
    return ds, X[:3000], torch.from_numpy(ds.y_train[:3000]), X[3000:3400], torch.from_numpy(ds.y_train[3000:3400])


@pytest.fixture(scope="module")
def reports(mnist, tmp_path_factory):
    ds, X, y, X_val, y_val = mnist
    made = {}
    for name, model in (("cnn", TwoConvNet()),
                        ("mlp", nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)))):
        torch.manual_seed(0)
        recorder = nnlab.Recorder(model, probe=(X_val[:256], y_val[:256]))
        plain_loop(model, X, y, 3, recorder, X_val, y_val)
        out = tmp_path_factory.mktemp(name)
        made[name] = (model, recorder, nnlab.report(model, "mnist-5k", out=out, recorder=recorder))
    return made


@pytest.mark.parametrize("name, first_layer", [("cnn", "conv1_kernels.png"), ("mlp", "first_layer_learned.png")])
def test_a_model_of_ones_own_gets_every_picture_that_applies(reports, name, first_layer):
    model, recorder, report = reports[name]
    figures = {p.name for p in (report.path.parent / "figures").iterdir()}
    assert {first_layer, "saliency.png", "confusion_matrix.png", "calibration.png", "confident_mistakes.png",
            "unit_cards.png", "learning_curves.png", "weight_evolution.png", "training_health.png"} <= figures
    if name == "cnn":
        assert {"feature_maps.png", "conv2_patches.png"} <= figures
    ds = load("mnist-5k")
    with torch.no_grad():
        accuracy = float((model.eval()(torch.from_numpy(ds.X_test).reshape(-1, 1, 28, 28)).argmax(1)
                          == torch.from_numpy(ds.y_test)).float().mean())
    assert report.summary["test_accuracy"] == pytest.approx(accuracy, abs=1e-6) and accuracy > 0.6  # chance: 0.1
    assert [h["epoch"] for h in recorder.history] == [1, 2, 3] and all("health" in h for h in recorder.history)
    html = report.path.read_text()
    assert all(f'src="figures/{f}"' in html for f in figures)
    inline = report._repr_html_()                       # what a notebook shows: metrics and a few pictures
    assert "test accuracy" in inline and inline.count("data:image/png;base64,") >= 3


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_the_report_writes_its_page_and_what_it_links_to_not_a_run_directory(reports, name):
    from nnlab.viz.render import render_run

    model, recorder, report = reports[name]
    folder = report.path.parent
    assert {p.name for p in folder.iterdir()} == {"report.html", "figures", "config.json", "metrics.jsonl"}
    config = json.loads((folder / "config.json").read_text())
    assert "format" not in config and config["model"] == type(model).__name__
    assert config["parameters"] == sum(p.numel() for p in model.parameters())
    assert [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()] == recorder.history
    with pytest.raises(NNLabError, match="not an nnlab run directory"):
        render_run(folder)
    html = report.path.read_text()
    if name == "cnn":  # the caption's batch-norm clause follows the model: TwoConvNet has none
        assert "Faint tiles are weak filters." in html and "batch norm after the layer" not in html


@needs_chromium
@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_the_report_of_a_model_of_ones_own_opens_with_every_image(reports, name, tmp_path):
    _, _, report = reports[name]
    images, loaded, dom = open_page(report.path, tmp_path / "profile")
    assert images >= 8 and loaded == images
    assert "What it learned" in dom and ("Conv layer 1 kernels" in dom if name == "cnn" else "First layer" in dom)


def test_the_recorder_measures_what_the_loop_did(mnist):
    _, X, y, X_val, y_val = mnist
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    recorder = nnlab.Recorder(model, probe=(X_val[:64], y_val[:64]))
    start = model[1].weight.detach().numpy().T.copy()
    with torch.no_grad():
        model[1].weight.mul_(1.5)                      # "an epoch" that moves dense1 by half its size
    record = recorder.epoch(loss=1.0)
    assert record["health"]["dense1"]["update_ratio"] == pytest.approx(0.5, rel=1e-3)
    assert record["health"]["dense2"]["update_ratio"] == 0
    np.testing.assert_array_equal(recorder.start, start)
    np.testing.assert_allclose(recorder.snapshots["epoch1"], start[:, :16] * 1.5, rtol=1e-6)
    assert model.training                              # the probe left the model as it found it


@pytest.mark.parametrize("kind", ["arrays", "tensors", "tensor_dataset", "dataloader"])
def test_data_may_come_as_arrays_tensors_a_dataset_or_a_loader(kind):
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 1, 8, 8), dtype=np.float32) * 2 - 1, np.arange(40) % 3   # normalised to [-1, 1]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    data = {"arrays": (X, y), "tensors": (Xt, yt), "tensor_dataset": torch.utils.data.TensorDataset(Xt, yt),
            "dataloader": torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xt, yt), batch_size=16)}[kind]
    ds = as_dataset(data, classes=["a", "b", "c"])
    assert ds.image_shape == (1, 8, 8) and ds.classes == ("a", "b", "c")
    np.testing.assert_array_equal(ds.X_test, X.reshape(40, -1))        # the model's own values, untouched
    np.testing.assert_array_equal(ds.y_test, y)
    shown = ds.scaler.inverse(ds.X_test)
    assert shown.min() == pytest.approx(0, abs=1e-6) and shown.max() == pytest.approx(1)  # pictures in [0, 1]
    assert ds.scaler.transform(np.zeros((1, 64)))[0] == pytest.approx(X.min(), abs=1e-6)  # black: the smallest


def test_a_binary_model_with_one_logit_and_clear_errors(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((60, 2), dtype=np.float32)
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[8.0, -8.0]]))
        model.bias.zero_()
    report = nnlab.report(model, (X, y), out=tmp_path / "r")
    assert report.summary["test_accuracy"] > 0.9
    assert (tmp_path / "r" / "figures" / "decision_boundary.png").is_file()
    html = report.path.read_text()   # what it cannot show, and why: no history without a Recorder
    assert "Not shown for this model and data" in html and "no training history was recorded" in html
    assert "learning_curves.png" not in html
    with pytest.raises(NNLabError, match="returns 3 scores"):
        nnlab.report(nn.Linear(2, 3), (X, y), out=tmp_path / "bad")
    with pytest.raises(NNLabError, match="neither shape"):
        nnlab.report(nn.Linear(5, 2), (X, y), out=tmp_path / "bad")
    with pytest.raises(NNLabError, match="not a dict"):
        nnlab.report(model, {"X": X}, out=tmp_path / "bad")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fitted_scratch_classifier_gets_its_report(tmp_path):
    ds = load("digits")
    clf = nnlab.ScratchClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0).fit(ds.X_train, ds.y_train)
    report = nnlab.report(clf, ds, out=tmp_path / "clf")
    assert report.summary["test_accuracy"] == pytest.approx(clf.score(ds.X_test, ds.y_test), abs=1e-6)
    assert (tmp_path / "clf" / "figures" / "first_layer_weights.png").is_file()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_relu_mlpclassifier_is_the_same_function_and_gets_the_same_report(tmp_path):
    from sklearn.neural_network import MLPClassifier

    ds = load("digits")
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, random_state=0).fit(ds.X_train, ds.y_train)
    report = nnlab.report(clf, ds, out=tmp_path / "sk")
    assert report.summary["test_accuracy"] == pytest.approx(clf.score(ds.X_test, ds.y_test), abs=1e-6)


def test_a_tabular_model_says_which_pictures_need_images(tmp_path):
    from nnlab.viz.plan import not_shown

    ds = load("breast-cancer")
    notes = not_shown(ds, [{"epoch": 1, "loss": 0.5}])
    assert any("30 plain features, not an image" in n for n in notes)
    assert any("probe batch" in n for n in notes)
    assert not not_shown(load("moons"), [{"epoch": 1, "loss": 0.5, "health": {"dense1": {}}}])
