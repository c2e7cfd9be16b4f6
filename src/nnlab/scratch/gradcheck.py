"""Proof that backprop is exact: analytic gradients against central finite differences and
against PyTorch autograd on the same weights, all in float64."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnlab.scratch.network import (
    ACTIVATIONS,
    LOSSES,
    Network,
    Workspace,
    backward,
    check_loss,
    forward,
    l2_penalty,
)

FD_TOLERANCE = 1e-6
AUTOGRAD_TOLERANCE = 1e-10
KINK_MARGIN = 1e-2  # keep every hidden pre-activation this far from ReLU's kink at 0, so that
# a step of h = 1e-5 never crosses it and the loss is smooth where it is differenced


@dataclass
class ParamCheck:
    name: str  # "W1", "b1", ... numbered from 1 as in docs/derivation.md
    shape: tuple[int, ...]
    fd_error: float
    autograd_error: float

    @property
    def passed(self) -> bool:
        return self.fd_error < FD_TOLERANCE and self.autograd_error < AUTOGRAD_TOLERANCE


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / (|a| + |b|) over the entries. The denominator is floored at 1e-3 of the
    parameter's largest gradient entry: an entry that is (nearly) zero in both is judged against the
    gradient's scale, not against its own size, where rounding error (~1e-12) would dominate."""
    scale = max(float(np.abs(a).max(initial=0)), float(np.abs(b).max(initial=0)), 1e-300)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-3 * scale), initial=0))


def objective(net: Network, X: np.ndarray, y: np.ndarray, alpha: float, loss: str = "log") -> float:
    """The loss that backward differentiates: the mean log loss (or squared error) + (alpha/2m)·Σ‖W‖².
    For the squared loss that is the sum over the outputs, k times the mean that MLPRegressor reports."""
    Z_out = forward(net, X, Workspace.create(net, len(X)))
    outputs = Z_out.shape[1] if loss == "squared" else 1
    return outputs * LOSSES[loss].value(Z_out, y, net.binary) + l2_penalty(net, alpha, len(X))


def analytic_gradients(net: Network, X: np.ndarray, y: np.ndarray, alpha: float,
                       loss: str = "log") -> list[np.ndarray]:
    ws = Workspace.create(net, len(X))
    forward(net, X, ws)
    backward(net, X, y, ws, alpha, loss)
    return [g.copy() for g in ws.grads()]


def central_difference(net: Network, p: np.ndarray, i: tuple, X: np.ndarray, y: np.ndarray, alpha: float,
                       loss: str = "log", h: float = 1e-5) -> float:
    """(L(p_i + h) - L(p_i - h)) / 2h for the one entry p[i] of a parameter of `net`; p is left as it was."""
    saved = p[i]
    p[i] = saved + h
    up = objective(net, X, y, alpha, loss)
    p[i] = saved - h
    down = objective(net, X, y, alpha, loss)
    p[i] = saved
    return (up - down) / (2 * h)


def numerical_gradients(net: Network, X: np.ndarray, y: np.ndarray, alpha: float, loss: str = "log",
                        h: float = 1e-5) -> list[np.ndarray]:
    """Central differences (L(p+h) - L(p-h)) / 2h, one parameter entry at a time. In float64, h = 1e-5
    balances truncation error (~h²) against rounding error (~1e-16/h) best for these losses."""
    grads = []
    for p in net.params():
        g = np.empty_like(p)
        for i in np.ndindex(p.shape):
            g[i] = central_difference(net, p, i, X, y, alpha, loss, h)
        grads.append(g)
    return grads


def autograd_gradients(net: Network, X: np.ndarray, y: np.ndarray, alpha: float,
                       loss: str = "log") -> list[np.ndarray]:
    """The same loss written with torch operations, differentiated by autograd."""
    import torch
    import torch.nn.functional as F

    g = {"identity": lambda Z: Z, "logistic": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.params()]
    A = torch.tensor(X, dtype=torch.float64)
    for l in range(0, len(params), 2):
        A = A @ params[l] + params[l + 1]
        if l < len(params) - 2:
            A = g[net.activation](A)
    target = torch.tensor(y)
    if loss == "squared":
        value = 0.5 * ((A - target) ** 2).sum() / len(X)
    elif loss == "mse":
        value = 0.5 * ((torch.sigmoid(A[:, 0]) - target.to(torch.float64)) ** 2).mean()
    elif net.binary:
        value = F.binary_cross_entropy_with_logits(A[:, 0], target.to(torch.float64))
    else:
        value = F.cross_entropy(A, target)
    value = value + 0.5 * alpha / len(X) * sum((W * W).sum() for W in params[0::2])
    value.backward()
    return [p.grad.numpy() for p in params]


def make_problem(hidden: list[int], n_classes: int, seed: int, m: int = 8, n_features: int = 4,
                 activation: str = "relu", loss: str = "log"):
    """A float64 network and a batch whose hidden pre-activations stay clear of ReLU's kink. With the squared
    loss, `n_classes` is the number of real-valued outputs (identity output units)."""
    rng = np.random.default_rng(seed)
    regression = loss == "squared"
    sizes = [n_features, *hidden, n_classes if regression or n_classes != 2 else 1]
    for _ in range(1000):
        net = Network.create(sizes, rng, np.float64, activation, "identity" if regression else None)
        for b in net.b:
            b[...] = rng.normal(0, 0.1, b.shape)
        X = rng.normal(size=(m, n_features))
        if _clear_of_kinks(net, X):
            y = rng.normal(size=(m, n_classes)) if regression else rng.permutation(np.arange(m) % n_classes)
            return net, X, y
    raise RuntimeError("could not draw a problem clear of ReLU kinks")  # pragma: no cover


def _clear_of_kinks(net: Network, X: np.ndarray) -> bool:
    A = X
    for W, b in zip(net.W[:-1], net.b[:-1]):
        Z = A @ W + b
        if np.abs(Z).min() < KINK_MARGIN:
            return False
        ACTIVATIONS[net.activation].g(Z)
        A = Z
    return True


def gradcheck(hidden: list[int] = (5, 4), n_classes: int = 2, seed: int = 0,
              alpha: float = 0.1, loss: str = "log", activation: str = "relu") -> list[ParamCheck]:
    """Check every parameter's gradient of `loss` ("log", "mse" for two classes, or "squared" for `n_classes`
    real-valued outputs) with hidden layers of `activation`; see `ParamCheck.passed` for the tolerances."""
    check_loss(loss, n_classes == 2 or loss == "squared")
    net, X, y = make_problem(list(hidden), n_classes, seed, activation=activation, loss=loss)
    analytic = analytic_gradients(net, X, y, alpha, loss)
    numeric = numerical_gradients(net, X, y, alpha, loss)
    autograd = autograd_gradients(net, X, y, alpha, loss)
    names = [f"{kind}{l + 1}" for l in range(len(net.W)) for kind in ("W", "b")]
    return [
        ParamCheck(name, a.shape, relative_error(a, n), relative_error(a, t))
        for name, a, n, t in zip(names, analytic, numeric, autograd)
    ]
