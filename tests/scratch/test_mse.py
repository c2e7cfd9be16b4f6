"""The squared error (--loss mse): its backward is exact, and its gradient vanishes on confident mistakes."""

import numpy as np
import pytest

from nnlab.errors import NNLabError
from nnlab.scratch.gradcheck import gradcheck
from nnlab.scratch.network import Network, Workspace, backward, forward, sigmoid, squared_error


@pytest.mark.parametrize("hidden", [(5, 4), (3,), (), (6, 5, 4)])
@pytest.mark.parametrize("seed", [0, 1])
def test_squared_error_gradients_match_finite_differences_and_autograd(hidden, seed):
    results = gradcheck(list(hidden), 2, seed, loss="mse")
    assert len(results) == 2 * (len(hidden) + 1)
    for r in results:
        assert r.fd_error < 1e-6, (r.name, r.fd_error)
        assert r.autograd_error < 1e-10, (r.name, r.autograd_error)


def test_gradcheck_catches_a_squared_error_backward_without_the_sigmoid_slope(monkeypatch):
    """The check can fail: make A3(1 - A3) read A3 (the slope's 1 - A3 taken as 1) and it must notice."""
    import nnlab.scratch.network as network

    monkeypatch.setattr(network.np, "subtract", lambda a, b, out: out.fill(1.0) or out)
    assert not any(r.passed for r in gradcheck([5, 4], 2, 0, loss="mse"))


def one_unit(z: float) -> tuple[Network, np.ndarray]:
    """A 1-1-1 network whose output logit is exactly z for the input 1 (hidden ReLU unit = 1)."""
    return Network([np.array([[1.0]]), np.array([[z]])], [np.array([0.0]), np.array([0.0])]), np.array([[1.0]])


def output_gradient(net: Network, X: np.ndarray, y: np.ndarray, loss: str) -> tuple[float, float]:
    """(dL/dZ3, dL/dW1) of the one-sample batch."""
    ws = Workspace.create(net, len(X))
    forward(net, X, ws)
    backward(net, X, y, ws, loss=loss)
    return float(ws.dZ[-1][0, 0]), float(ws.dW[0][0, 0])


def test_squared_error_gradient_vanishes_on_a_confident_mistake_where_the_log_loss_does_not():
    net, X = one_unit(np.log(0.01 / 0.99))          # A3 = 0.01: the network is 99% sure of class 0
    y = np.array([1])                               # ... and wrong
    assert sigmoid(net.W[1])[0, 0] == pytest.approx(0.01, rel=1e-12)
    log_dZ3, log_dW1 = output_gradient(net, X, y, "log")
    mse_dZ3, mse_dW1 = output_gradient(net, X, y, "mse")
    assert log_dZ3 == pytest.approx(0.01 - 1, rel=1e-12)                   # A3 - Y
    assert mse_dZ3 == pytest.approx((0.01 - 1) * 0.01 * 0.99, rel=1e-12)   # (A3 - Y)·A3(1 - A3)
    assert abs(mse_dZ3) < abs(log_dZ3) / 100 and abs(mse_dW1) < abs(log_dW1) / 100
    # More confident, more vanished: at A3 = 1e-6 the squared error's push is a millionth of the log loss's.
    net, X = one_unit(np.log(1e-6 / (1 - 1e-6)))
    assert abs(output_gradient(net, X, y, "mse")[0]) < 1e-5 * abs(output_gradient(net, X, y, "log")[0])
    # Unsure (A3 = 1/2) the two differ only by the slope 1/4: the loss matters on confident mistakes.
    net, X = one_unit(0.0)
    assert output_gradient(net, X, y, "mse")[0] == pytest.approx(output_gradient(net, X, y, "log")[0] / 4)


def test_squared_error_value_is_halved_mean_square_from_the_logits():
    Z = np.array([[0.0], [800.0], [-800.0]])
    assert squared_error(Z, np.array([1, 1, 1])) == pytest.approx(0.5 * (0.25 + 0 + 1) / 3, rel=1e-15)


def test_squared_error_is_refused_for_a_softmax_and_unknown_losses_are_refused():
    net = Network.create([3, 4, 3], np.random.default_rng(0), np.float64)
    X, y = np.ones((2, 3)), np.array([0, 2])
    ws = Workspace.create(net, 2)
    forward(net, X, ws)
    with pytest.raises(NNLabError, match="two classes"):
        backward(net, X, y, ws, loss="mse")
    with pytest.raises(NNLabError, match="unknown loss 'hinge'; choose one of log, mse"):
        backward(net, X, y, ws, loss="hinge")
    with pytest.raises(NNLabError, match="two classes"):
        gradcheck([3], 3, 0, loss="mse")
