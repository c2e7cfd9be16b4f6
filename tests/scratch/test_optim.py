import numpy as np
import pytest
import torch

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


@pytest.mark.parametrize("kind", list(TORCH_OPTIMIZERS))
@pytest.mark.parametrize("n_classes", [2, 4])
def test_training_steps_equal_pytorchs(kind, n_classes):
    """Forward, backward and update, three steps, against torch.nn + torch.optim in float64."""
    rng = np.random.default_rng(1)
    net = Network.create([5, 6, 4, 1 if n_classes == 2 else n_classes], rng, np.float64)
    model = torch_twin(net)
    name = "momentum" if kind == "nesterov" else kind
    ours = make_optimizer(name, net.params(), lr=0.05, momentum=0.9, nesterov=kind == "nesterov")
    theirs = TORCH_OPTIMIZERS[kind](model.parameters(), 0.05)
    ws = Workspace.create(net, 8)
    for _ in range(3):
        X, y = rng.normal(size=(8, 5)), rng.integers(0, n_classes, 8)
        forward(net, X, ws)
        backward(net, X, y, ws)
        ours.step(ws.grads())

        theirs.zero_grad()
        out = model(torch.tensor(X))
        if n_classes == 2:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], torch.tensor(y).double())
        else:
            loss = torch.nn.functional.cross_entropy(out, torch.tensor(y))
        loss.backward()
        theirs.step()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for W, b, lin in zip(net.W, net.b, linears):
        np.testing.assert_allclose(W, lin.weight.detach().numpy().T, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b, lin.bias.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_adam_step_allocates_no_new_parameter_arrays():
    rng = np.random.default_rng(0)
    net = Network.create([4, 3, 2], rng)
    before = [id(p) for p in net.params()]
    opt = make_optimizer("adam", net.params(), lr=0.1)
    opt.step([np.ones_like(p) for p in net.params()])
    assert [id(p) for p in net.params()] == before
    assert all(p.dtype == np.float32 for p in net.params())
