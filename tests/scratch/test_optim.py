import numpy as np
import pytest
import torch
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from nnlab.errors import NNLabError
from nnlab.scratch.network import Network, Workspace, backward, forward
from nnlab.scratch.optim import make_optimizer


def torch_twin(net: Network):
    """The same weights as a torch model: Linear layers with ReLU between them."""
    layers = []
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        lin = torch.nn.Linear(*W.shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W.T))
            lin.bias.copy_(torch.tensor(b))
        layers.append(lin)
        if l < len(net.W) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


TORCH_OPTIMIZERS = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
}
LR = {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adam": 0.01}


def ours_for(kind: str, params: list[np.ndarray], lr: float, convention: str = "torch"):
    name = "momentum" if kind == "nesterov" else kind
    return make_optimizer(name, params, lr, momentum=0.9, nesterov=kind == "nesterov", convention=convention)


@pytest.mark.parametrize("kind", list(TORCH_OPTIMIZERS))
@pytest.mark.parametrize("n_classes", [2, 4])
def test_100_training_steps_equal_pytorchs(kind, n_classes):
    """Forward, backward with L2 and update, 100 steps, against torch.nn + torch.optim in float64. Ours
    updates the flat vector theta with the flat gradient, as EpochRunner does; torch's L2 is the penalty
    (alpha/2m)·Σ‖W‖² in its loss (weights only, as ours: not weight_decay, which would decay biases)."""
    rng = np.random.default_rng(1)
    net = Network.create([5, 6, 4, 1 if n_classes == 2 else n_classes], rng, np.float64)
    model = torch_twin(net)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    ours = ours_for(kind, [net.theta], LR[kind])
    theirs = TORCH_OPTIMIZERS[kind](model.parameters(), LR[kind])
    m, alpha = 8, 0.1
    ws = Workspace.create(net, m)
    for _ in range(100):
        X, y = rng.normal(size=(m, 5)), rng.integers(0, n_classes, m)
        forward(net, X, ws)
        backward(net, X, y, ws, alpha)
        ours.step([ws.grad])

        theirs.zero_grad()
        out = model(torch.tensor(X))
        if n_classes == 2:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], torch.tensor(y).double())
        else:
            loss = torch.nn.functional.cross_entropy(out, torch.tensor(y))
        loss = loss + alpha / (2 * m) * sum((lin.weight**2).sum() for lin in linears)
        loss.backward()
        theirs.step()
    start = Network.create([5, 6, 4, 1 if n_classes == 2 else n_classes], np.random.default_rng(1), np.float64)
    assert np.abs(net.theta - start.theta).max() > 0.1  # 100 steps went somewhere
    for W, b, lin in zip(net.W, net.b, linears):
        np.testing.assert_allclose(W, lin.weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, lin.bias.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_sklearn_adam_equals_sklearns_adam_optimizer_and_differs_from_torchs(n_classes):
    """100 training steps with L2: ours (convention "sklearn") and sklearn's AdamOptimizer, each updating
    its own copy of the network from the gradients at its own weights. PyTorch's convention ends elsewhere."""
    sizes = [5, 6, 4, 1 if n_classes == 2 else n_classes]
    nets = [Network.create(sizes, np.random.default_rng(1), np.float64) for _ in range(3)]
    ours = make_optimizer("adam", [nets[0].theta], 0.01, convention="sklearn")
    theirs = AdamOptimizer([nets[1].theta], 0.01)
    torch_style = make_optimizer("adam", [nets[2].theta], 0.01, convention="torch")
    m, alpha, rng = 8, 0.1, np.random.default_rng(2)
    ws = Workspace.create(nets[0], m)
    for _ in range(100):
        X, y = rng.normal(size=(m, 5)), rng.integers(0, n_classes, m)
        for net, opt in zip(nets, (ours, theirs, torch_style)):
            forward(net, X, ws)
            backward(net, X, y, ws, alpha)
            opt.step([ws.grad]) if opt is not theirs else opt.update_params([net.theta], [ws.grad])
    np.testing.assert_allclose(nets[0].theta, nets[1].theta, rtol=1e-12, atol=1e-14)
    assert np.abs(nets[2].theta - nets[1].theta).max() > 1e-6


@pytest.mark.parametrize("kind, convention", [("sgd", None), ("momentum", None), ("nesterov", None),
                                              ("adam", "torch"), ("adam", "sklearn")])
def test_a_step_updates_the_networks_own_arrays(kind, convention):
    """The optimiser must write into the arrays it was given (theta, whose views are net.W and net.b): a
    step that does nothing, or that binds new arrays, leaves the network where it was and fails here.
    The first step of each, in closed form (Adam's m̂/sqrt(v̂) is g/|g|, with eps placed by convention)."""
    rng = np.random.default_rng(0)
    net = Network.create([4, 3, 2], rng, np.float32)
    theta, W0, start = net.theta, net.W[0], net.theta.astype(np.float64)
    scale = 1e-5 if kind == "adam" else 1.0  # small for Adam, so where its eps sits shows
    g = (scale * rng.normal(size=theta.size)).astype(np.float32)
    opt = ours_for(kind, [net.theta], 0.1, convention)
    opt.step([g])
    g64, lr, mu, eps = g.astype(np.float64), 0.1, 0.9, 1e-8
    expected = {
        "sgd": start - lr * g64,
        "momentum": start - lr * g64,                             # torch's buffer starts at g
        "nesterov": start - lr * (1 + mu) * g64,
        "adam": start - lr * g64 / (np.abs(g64) + (eps if convention == "torch" else eps / np.sqrt(1e-3))),
    }[kind]
    assert net.theta is theta and opt.params[0] is theta and theta.dtype == np.float32
    np.testing.assert_allclose(theta, expected, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(W0, theta[:12].reshape(4, 3))  # the layer views see the step
    assert np.abs(theta - start).max() > 0.05


def test_adam_needs_a_named_convention_and_unknown_optimizers_are_errors():
    theta = np.zeros(3)
    with pytest.raises(ValueError, match="convention"):
        make_optimizer("adam", [theta], 0.1)
    # one error type for an unknown name, and still a ValueError for scikit-learn's conventions
    for kind in (NNLabError, ValueError):
        with pytest.raises(kind, match="unknown optimizer 'adagrad'; choose one of sgd, momentum, adam"):
            make_optimizer("adagrad", [theta], 0.1)
    with pytest.raises(NNLabError, match="did you mean 'adam'"):
        make_optimizer("adm", [theta], 0.1)
