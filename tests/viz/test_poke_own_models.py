"""Any dense model the report draws gets "Poke the network": a student's nn.Sequential MLP (batch norm and
dropout included) or a class of Linear layers with F.relu between them, each checked against the module
itself before the page runs it; a model whose layers do not say what it computes is refused, with why."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import nnlab
from nnlab.viz import poke
from tests.viz.browser import Browser, needs_chromium


def student_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 20), nn.BatchNorm1d(20), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(20, 12), nn.ReLU(), nn.Linear(12, 10))
    with torch.no_grad():  # running statistics far from their identity start
        model[2].running_mean.uniform_(-1, 1)
        model[2].running_var.uniform_(0.3, 3)
        model[2].weight.uniform_(0.5, 2)
        model[2].bias.uniform_(-1, 1)
    return model.eval()


class Functional(nn.Module):
    """As course code often writes it: the activations in forward, not as modules."""

    def __init__(self, activation=torch.relu):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 16), nn.Linear(16, 8), nn.Linear(8, 10)
        self.activation = activation

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(self.activation(self.fc2(self.activation(self.fc1(x)))))


def probabilities(model: nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(X)), dim=1).double().numpy()


def test_a_students_modules_are_read_as_dense_layers_only_when_they_compute_what_the_module_does():
    X = np.random.default_rng(1).random((40, 1, 8, 8), dtype=np.float32)
    for model in (student_mlp(), Functional().eval()):
        net = poke.dense_network(model, (1, 8, 8))
        assert isinstance(net, poke.Dense), net
        np.testing.assert_allclose(poke._probabilities(net, X.reshape(40, -1).astype(np.float64)),
                                   probabilities(model, X), atol=1e-5)
    torch.manual_seed(0)
    why = poke.dense_network(Functional(torch.tanh).eval(), (1, 8, 8))    # the same layers, another activation
    assert isinstance(why, str) and "does not compute" in why
    why = poke.dense_network(nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Sigmoid(), nn.Linear(8, 10)), (1, 8, 8))
    assert isinstance(why, str) and "dense networks only" in why


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("profile"))
    yield b
    b.close()


@needs_chromium
def test_a_students_sequential_mlp_is_poked_in_its_report(tmp_path, browser):
    rng = np.random.default_rng(0)
    X = rng.random((60, 1, 8, 8), dtype=np.float32)
    y = np.arange(60) % 10
    model = student_mlp()
    report = nnlab.report(model, (X, y), out=tmp_path / "r")
    html = report.path.read_text()
    assert 'id="poke-data"' in html and "dense networks only" not in html
    browser.open(report.path.as_uri(), "window.nnlabPoke")
    page = np.array(browser.js(f"nnlabPoke.predict({json.dumps(X[:30].reshape(30, -1).tolist())})"))
    np.testing.assert_allclose(page, probabilities(model, X[:30]), atol=1e-5)
