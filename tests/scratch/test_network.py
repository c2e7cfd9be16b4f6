import numpy as np
import pytest
import torch

from nnlab.scratch.gradcheck import gradcheck
from nnlab.scratch.network import Network, Workspace, backward, forward, log_loss, predict_proba, sigmoid


@pytest.mark.parametrize(
    "hidden, n_classes",
    [((5, 4), 2), ((3,), 2), ((), 2), ((6, 5, 4, 3), 2), ((5, 4), 3), ((8,), 10), ((7, 6, 5), 4)],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_finite_differences_and_autograd(hidden, n_classes, seed):
    results = gradcheck(list(hidden), n_classes, seed)
    assert len(results) == 2 * (len(hidden) + 1)
    for r in results:
        assert r.fd_error < 1e-6, (r.name, r.fd_error)
        assert r.autograd_error < 1e-10, (r.name, r.autograd_error)


def test_gradcheck_catches_a_wrong_backward(monkeypatch):
    """The check can fail: drop the ReLU mask and it must notice."""
    import nnlab.scratch.network as network

    monkeypatch.setattr(network.np, "greater", lambda a, b, out: out.fill(True) or out)
    assert not all(r.passed for r in gradcheck([5, 4], 2, 0))


def hand_network():
    """The two-sample example worked by hand below (2-2-2-1, binary)."""
    W = [np.array([[1.0, -1.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [-1.0, 1.0]]), np.array([[2.0], [-1.0]])]
    b = [np.array([0.0, 0.0]), np.array([0.5, 0.0]), np.array([0.0])]
    return Network(W, b), np.array([[1.0, 2.0], [-1.0, 1.0]]), np.array([1, 0])


def test_two_sample_example_worked_by_hand():
    # Z1 = X·W1 = [[1, 1], [-1, 2]]        A1 = [[1, 1], [0, 2]]
    # Z2 = A1·W2 + b2 = [[.5, 1], [-1.5, 2]] A2 = [[.5, 1], [0, 2]]
    # Z3 = A2·W3 = [[0], [-2]]              A3 = [[.5], [s(-2)]], s(-2) = 0.11920292202211755
    # L = -(log .5 + log(1 - s(-2)))/2 = (0.6931471805599453 + 0.12692801104297263)/2
    net, X, y = hand_network()
    ws = Workspace.create(net, 2)
    Z3 = forward(net, X, ws)
    np.testing.assert_allclose(ws.A[0], [[1, 1], [0, 2]])
    np.testing.assert_allclose(ws.A[1], [[0.5, 1], [0, 2]])
    np.testing.assert_allclose(Z3, [[0], [-2]])
    np.testing.assert_allclose(sigmoid(Z3), [[0.5], [0.11920292202211755]], rtol=1e-15)
    assert log_loss(Z3, y, binary=True) == pytest.approx(0.41003759580145896, rel=1e-14)

    backward(net, X, y, ws)
    s = 0.11920292202211755
    # dZ3 = (A3 - Y)/2 = [-.25, s/2]
    np.testing.assert_allclose(ws.dZ[2], [[-0.25], [s / 2]], rtol=1e-14)
    np.testing.assert_allclose(ws.dW[2], [[-0.125], [-0.25 + s]], rtol=1e-14)          # A2ᵀ·dZ3
    np.testing.assert_allclose(ws.db[2], [-0.25 + s / 2], rtol=1e-14)
    # dA2 = dZ3·W3ᵀ = [[-.5, .25], [s, -s/2]]; the mask 1[Z2 > 0] zeroes sample 2's first unit
    np.testing.assert_allclose(ws.dZ[1], [[-0.5, 0.25], [0, -s / 2]], rtol=1e-14)
    np.testing.assert_allclose(ws.dW[1], [[-0.5, 0.25], [-0.5, 0.25 - s]], rtol=1e-14)  # A1ᵀ·dZ2
    np.testing.assert_allclose(ws.db[1], [-0.5, 0.25 - s / 2], rtol=1e-14)
    # dA1 = dZ2·W2ᵀ = [[-.5, .75], [0, -s/2]]; 1[Z1 > 0] zeroes sample 2's first unit (already 0)
    np.testing.assert_allclose(ws.dZ[0], [[-0.5, 0.75], [0, -s / 2]], rtol=1e-14)
    np.testing.assert_allclose(ws.dW[0], [[-0.5, 0.75 + s / 2], [-1.0, 1.5 - s / 2]], rtol=1e-14)  # Xᵀ·dZ1
    np.testing.assert_allclose(ws.db[0], [-0.5, 0.75 - s / 2], rtol=1e-14)


def test_backward_overwrites_instead_of_accumulating():
    net, X, y = hand_network()
    ws = Workspace.create(net, 2)
    for _ in range(2):
        forward(net, X, ws)
        backward(net, X, y, ws)
    np.testing.assert_allclose(ws.db[2], [-0.25 + 0.11920292202211755 / 2], rtol=1e-14)


def test_loss_is_finite_for_huge_logits():
    Z = np.array([[800.0], [-800.0]], dtype=np.float32)
    assert log_loss(Z, np.array([1, 0]), binary=True) == 0.0
    assert log_loss(Z, np.array([0, 1]), binary=True) == pytest.approx(800.0)
    Zk = np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32)
    assert log_loss(Zk, np.array([1]), binary=False) == pytest.approx(2000.0)
    np.testing.assert_array_equal(sigmoid(Z), [[1.0], [0.0]])


def test_softmax_probabilities_match_torch_and_sum_to_one():
    rng = np.random.default_rng(0)
    net = Network.create([6, 5, 4], rng)
    X = rng.normal(size=(9, 6)).astype(np.float32) * 50
    P = predict_proba(net, X)
    assert P.dtype == np.float32 and P.shape == (9, 4)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)
    A = torch.relu(torch.tensor(X) @ torch.tensor(net.W[0]) + torch.tensor(net.b[0]))
    Z = A @ torch.tensor(net.W[1]) + torch.tensor(net.b[1])
    np.testing.assert_allclose(P, torch.softmax(Z, dim=1).numpy(), rtol=1e-5, atol=1e-7)


def test_binary_network_gives_two_probability_columns():
    rng = np.random.default_rng(0)
    net = Network.create([3, 4, 1], rng)
    P = predict_proba(net, rng.normal(size=(5, 3)))
    assert P.shape == (5, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)


def test_he_initialisation_scale():
    net = Network.create([1000, 500, 10], np.random.default_rng(0))
    assert net.W[0].dtype == np.float32
    assert net.W[0].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    assert not net.b[0].any()


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("hidden, n_classes, loss", [((5, 4), 2, "log"), ((6, 5), 3, "log"), ((5, 4), 1, "squared"),
                                                     ((5,), 3, "squared")])
def test_every_activation_and_loss_matches_finite_differences_and_autograd(activation, hidden, n_classes, loss):
    results = gradcheck(list(hidden), n_classes, 0, loss=loss, activation=activation)
    for r in results:
        assert r.fd_error < 1e-6, (activation, r.name, r.fd_error)
        assert r.autograd_error < 1e-10, (activation, r.name, r.autograd_error)


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_gradcheck_catches_a_wrong_activation_derivative(monkeypatch, activation):
    """The check can fail: take g'(Z) = 1 for a smooth activation (the identity's) and it must notice."""
    import nnlab.scratch.network as network

    wrong = network.Activation(network.ACTIVATIONS[activation].g, network.identity_derivative)
    monkeypatch.setitem(network.ACTIVATIONS, activation, wrong)
    assert not all(r.passed for r in gradcheck([5, 4], 2, 0, activation=activation))


def test_activations_compute_their_functions_in_place():
    Z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    expected = {"identity": Z, "logistic": 1 / (1 + np.exp(-Z)), "tanh": np.tanh(Z), "relu": np.maximum(Z, 0)}
    from nnlab.scratch.network import ACTIVATIONS

    for name, want in expected.items():
        A = Z.copy()
        ACTIVATIONS[name].g(A)
        np.testing.assert_allclose(A, want, rtol=1e-15, err_msg=name)
