"""nnlab.report never scores a model silently on data scaled unlike its training inputs: a model trained on [-1, 1]
is found out from its accuracies (the issue's Fashion-MNIST model: 76.98% as given, 85.32% rescaled), and
`transform=` declares the scaling."""

import numpy as np
import pytest
import torch
from torch import nn

import nnlab
from nnlab.data import load
from nnlab.viz.any_model import ModelView, Transformed, scaling


def fit(model: nn.Module, X: np.ndarray, y: np.ndarray, steps: int, lr: float) -> nn.Module:
    """Full-batch Adam, on one thread (a tiny model: two threads only wait for each other on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        X, y = torch.from_numpy(X), torch.from_numpy(y)
        for _ in range(steps):
            loss = nn.functional.cross_entropy(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


@pytest.fixture(scope="module")
def trained_on_minus_one_to_one():
    """A small MLP trained on scikit-learn's digits rescaled to [-1, 1], as course code often does."""
    ds = load("digits")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    return fit(model, ds.X_train * 2 - 1, ds.y_train, 100, 1e-2), ds


def test_a_model_trained_on_another_scale_is_found_out(trained_on_minus_one_to_one):
    model, ds = trained_on_minus_one_to_one
    note = scaling(ModelView(model, ds), ds, declared=False)
    assert not note.ok and note.check == "input-scale"
    given = float(note.text.split("the model scores ")[1].split("%")[0]) / 100
    rescaled = float(note.text.split("but ")[1].split("%")[0]) / 100
    with torch.no_grad():
        truth = float((model(torch.from_numpy(ds.X_test * 2 - 1)).argmax(1).numpy() == ds.y_test).mean())
        as_given = float((model(torch.from_numpy(ds.X_test)).argmax(1).numpy() == ds.y_test).mean())
    assert rescaled == pytest.approx(truth, abs=5e-5) and given == pytest.approx(as_given, abs=5e-5)
    assert rescaled >= given + 0.05 and "on it rescaled to [-1, 1]" in note.text and "transform=" in note.text


def test_transform_declares_it_and_the_report_scores_the_model_as_trained(trained_on_minus_one_to_one, tmp_path):
    model, ds = trained_on_minus_one_to_one
    view = ModelView(Transformed(model, lambda x: x * 2 - 1), ds)
    assert scaling(view, ds, declared=True).ok
    with torch.no_grad():
        truth = float((model(torch.from_numpy(ds.X_test * 2 - 1)).argmax(1).numpy() == ds.y_test).mean())
    report = nnlab.report(model, ds, out=tmp_path / "r", transform=lambda x: x * 2 - 1)
    assert report.summary["test_accuracy"] == pytest.approx(truth, abs=5e-7)
    assert report.summary["sanity"][0]["ok"] and "through the transform given" in report.summary["sanity"][0]["text"]
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Sanity checks" in page and "through the transform given" in page


def test_a_model_of_the_data_s_own_scale_passes(trained_on_minus_one_to_one):
    _, ds = trained_on_minus_one_to_one
    torch.manual_seed(1)
    model = fit(nn.Sequential(nn.Linear(64, 10)), ds.X_train, ds.y_train, 60, 5e-2)
    note = scaling(ModelView(model, ds), ds, declared=False)
    assert note.ok and "scores best on the data as given" in note.text
    assert np.isfinite(float(note.text.split("(")[1].split("%")[0]))
