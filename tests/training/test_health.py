import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnlab.scratch.network import Workspace, backward, forward
from nnlab.training import health
from nnlab.training.engines import ScratchEngine
from nnlab.training.torch_engine import TorchEngine
from tests.training.test_job import BASE
from tests.training.test_torch_engine import make

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 6)).astype(np.float32)
y = rng.integers(0, 3, 40)


def test_scratch_probe_measures_the_backward_gradient_and_dead_units():
    engine = ScratchEngine(replace(BASE, hidden=[5, 4], weight_decay=0.0), 6, 3)
    engine.net.b[0][2] = -100.0   # unit 2 of the first hidden layer never fires
    probed = engine.probe(X, y)
    ws = Workspace.create(engine.net, len(X))
    forward(engine.net, X, ws)
    backward(engine.net, X, y, ws)
    assert list(probed) == ["dense1", "dense2", "dense3"]
    for l, name in enumerate(probed):
        assert probed[name]["grad_norm"] == pytest.approx(float(np.linalg.norm(ws.dW[l])), rel=1e-6)
    assert probed["dense1"]["dead"] == pytest.approx(1 / 5)
    assert probed["dense3"]["dead"] is None   # the output layer has no ReLU


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_torch_probe_matches_backward_and_leaves_training_state_alone(model):
    torch.manual_seed(0)
    n_features, shape = (64, (1, 8, 8))
    Xi = np.random.default_rng(1).random((30, n_features), dtype=np.float32)
    yi = np.random.default_rng(2).integers(0, 3, 30)
    engine = TorchEngine(make(model, dropout=0.0, **({"hidden": (16, 8)} if model == "mlp" else {})),
                         n_features, 3, shape)
    layers = engine.weighted_layers()
    first = next(iter(layers.values()))
    with torch.no_grad():
        first.weight[1] = 0.0
        if model == "mlp":
            first.bias[1] = -1.0          # unit 1 of dense1 never fires
    before = engine.layer_weights()
    rng_state = torch.get_rng_state()
    probed = engine.probe(Xi, yi)
    # Nothing moved: weights, .grad, the global RNG.
    for name, W in engine.layer_weights().items():
        np.testing.assert_array_equal(W, before[name])
    assert all(p.grad is None for p in engine.model.parameters())
    assert torch.equal(torch.get_rng_state(), rng_state)
    # The same gradients as an ordinary backward pass in evaluation mode.
    engine.model.eval()
    loss = torch.nn.functional.cross_entropy(engine.model(engine.to_input(Xi)), torch.from_numpy(yi))
    loss.backward()
    for name, layer in layers.items():
        assert probed[name]["grad_norm"] == pytest.approx(float(layer.weight.grad.norm()), rel=1e-5)
    if model == "mlp":
        with torch.no_grad():
            hidden = torch.relu(first(torch.from_numpy(Xi))).numpy()
        assert probed["dense1"]["dead"] == pytest.approx(np.mean(~(hidden > 0).any(axis=0)))
        assert probed["dense1"]["dead"] >= 1 / 16  # unit 1 among them
    else:  # conv1's channel 1 has zero weights: after batch norm (eval, fresh stats) it outputs 0 everywhere
        assert probed["conv1"]["dead"] == pytest.approx(1 / engine.cfg.widths[0])
    assert probed[list(layers)[-1]]["dead"] is None


def test_measure_gives_the_relative_change_of_each_layer():
    engine = ScratchEngine(replace(BASE, hidden=[5]), 6, 3)
    before = engine.layer_weights()
    engine.net.W[0] *= 1.5            # moved by half its size
    record = health.measure(engine, before, engine.layer_weights(), X, y)
    assert record["dense1"]["update_ratio"] == pytest.approx(0.5, rel=1e-3)
    assert record["dense2"]["update_ratio"] == 0.0


def epoch(i, dead=0.05, grads=(0.5, 0.5), ratios=(0.01, 0.01)):
    names = ["dense1", "dense2"]
    return {"epoch": i, "health": {n: {"grad_norm": g, "update_ratio": r, "dead": dead if n == "dense1" else None}
                                   for n, g, r in zip(names, grads, ratios)}}


def warnings(history):
    return [text for ok, text in health.hints(history) if not ok]


def test_a_healthy_history_gets_no_warning():
    notes = health.hints([epoch(i) for i in range(1, 9)])
    assert notes and all(ok for ok, _ in notes)


@pytest.mark.parametrize("history, words", [
    ([epoch(i, dead=0.6) for i in range(1, 5)], "dead ReLUs"),
    ([epoch(1), epoch(2, ratios=(3.0, 0.01)), epoch(3)], "too high"),
    ([epoch(i, ratios=(1e-6, 0.01)) for i in range(1, 9)], "too low"),
    ([epoch(i, grads=(1e-6, 0.5)) for i in range(1, 4)], "vanishing"),
    ([epoch(1), epoch(2, grads=(math.inf, 0.5))], "overflowed"),
])
def test_each_unhealthy_sign_is_named_with_a_fix(history, words):
    found = warnings(history)
    assert any(words in text for text in found), found
    assert all("--" in text for text in found)  # every warning names the option that fixes it


def test_a_first_epoch_that_moves_random_weights_a_lot_is_not_a_warning():
    assert warnings([epoch(1, ratios=(5.0, 5.0))] + [epoch(i) for i in range(2, 6)]) == []
