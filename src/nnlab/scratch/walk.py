"""One SGD step of the NumPy network, equation by equation: the numbers behind `nnlab explain`.

`walk` evaluates every equation of docs/derivation.md in order on a tiny batch, in float64, written out
here as the equations read (Z1 = X·W1 + b1, ...). Beside each it keeps what network.py's own `forward` and
`backward` computed for the same quantity (where they keep it), the line of network.py that computes it
(found by function and statement in the loaded source, `CODE`, so neither a moved line nor a reworded
comment makes it stale), and, for each parameter gradient, central finite differences of the loss on a
few entries. Then one step of nnlab's own SGD, and the loss before and after.
`compare_losses` trains the log loss and the squared error from the same start, for the page's last section.
No I/O: arrays in, dataclasses out.
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnlab.data.dataset import each_class_in_turn
from nnlab.errors import NNLabError
from nnlab.metrics import sum_of_squares
from nnlab.scratch.gradcheck import FD_TOLERANCE, central_difference
from nnlab.scratch.network import (
    LOSSES,
    Network,
    Workspace,
    backward,
    check_loss,
    forward,
    log_loss,
    log_loss_gradient,
    probabilities,
    relu,
    relu_derivative,
    squared_error,
    squared_error_gradient,
)
from nnlab.scratch.optim import SGD
from nnlab.scratch.train import EpochRunner, predicted_labels

FD_STEP = 1e-5


@dataclass(frozen=True)
class SourceLine:
    file: str    # "scratch/network.py"
    number: int  # 1-based
    text: str    # the line, stripped


@dataclass
class FDCheck:
    """One entry of a parameter gradient: network.py's backward against (L(p+h) − L(p−h))/2h."""

    index: tuple[int, ...]
    analytic: float
    numeric: float
    error: float  # |analytic − numeric| / (|analytic| + |numeric|), floored as in gradcheck
    kink: bool = False  # p ± h switches a ReLU on or off: the loss has a corner there, no derivative to check

    @property
    def passed(self) -> bool:
        return self.error < FD_TOLERANCE

    @property
    def failed(self) -> bool:
        """Wrong where the check means something: a difference across a kink is no derivative."""
        return not self.passed and not self.kink


@dataclass
class Step:
    """One equation of the walk, with its value (float64, always 2-D: a loss is 1×1)."""

    key: str                  # "Z1", "A3", "L", "dZ3", "dW3", "mask2", ...
    phase: str                # "forward", "loss" or "backward"
    equation: str             # as docs/derivation.md writes it
    shape: str                # "4×2 · 2×5 + 5 → 4×5"
    value: np.ndarray
    code: list[SourceLine]
    note: str = ""
    network: np.ndarray | None = None  # network.py's forward/backward value of the same quantity, if kept
    checks: list[FDCheck] = field(default_factory=list)

    @property
    def network_difference(self) -> float | None:
        """max |walk − network.py| (None where network.py does not keep the quantity)."""
        return None if self.network is None else float(np.max(np.abs(self.value - self.network), initial=0))


@dataclass
class Walk:
    sizes: list[int]
    loss: str                 # "log" or "mse"
    binary: bool
    X: np.ndarray
    y: np.ndarray
    steps: list[Step]
    lr: float
    loss_before: float
    loss_after: float
    predicted_change: float   # −lr·‖dθ‖², the first-order prediction of loss_after − loss_before
    update: list[tuple[str, np.ndarray, np.ndarray]]  # (name, before, after) for every parameter
    update_code: SourceLine
    near_kink: float          # the smallest |Z| of a hidden unit: below ~FD_STEP a difference may cross ReLU's kink

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    @property
    def checks_passed(self) -> bool:
        return not any(c.failed for s in self.steps for c in s.checks)


# Where the code computes each equation: (function, statement) pairs. A statement is found in the syntax tree
# of its function, so comments and spacing do not matter; an expression finds the statement that holds it.
# tests/scratch/test_walk.py resolves every one, so a change that loses one fails there, not in `nnlab explain`.
CODE: dict[str, tuple[tuple[Callable, str], ...]] = {
    "Z": ((forward, "product(A_prev, W, out=Z)"), (forward, "Z += b")),
    "A": ((forward, "g(Z)"), (relu, "np.maximum(Z, 0, out=Z)")),
    "A_out": ((probabilities, "sigmoid(Z_out, out) if binary else softmax(Z_out, out)"),),
    "L mse": ((squared_error, "0.5 * np.mean((sigmoid(z) - y) ** 2)"),),
    "L log, sigmoid": ((log_loss, "np.log1p(np.exp(-np.abs(z)))"),),
    "L log, softmax": ((log_loss, "per_sample = lse - Z[np.arange(len(y)), y]"),),
    "dZ_out mse": ((backward, "probabilities(ws.A[-1], net.output == \"logistic\", out=dZ)"),
                   (squared_error_gradient, "np.subtract(1.0, dZ, out=slope)"),
                   (squared_error_gradient, "slope *= dZ"), (squared_error_gradient, "dZ -= Y"),
                   (squared_error_gradient, "dZ *= slope"), (backward, "dZ *= 1.0 / m")),
    "dZ_out log": ((backward, "probabilities(ws.A[-1], net.output == \"logistic\", out=dZ)"),
                   (log_loss_gradient, "dZ -= Y"), (backward, "dZ *= 1.0 / m")),
    "dW": ((backward, "product(A_prev.T, dZ, out=ws.dW[l])"),),
    "db": ((backward, "np.sum(dZ, axis=0, out=ws.db[l])"),),
    "dA": ((backward, "product(dZ, net.W[l].T, out=dA)"),),
    "mask": ((backward, "g_prime(ws.A[l - 1], dA, ws.mask[l - 1])"),
             (relu_derivative, "np.greater(A, 0, out=mask)")),
    "dZ": ((relu_derivative, "np.multiply(dA, mask, out=dA)"),),
    "update": ((SGD.step, "p -= lr * g"),),
}


@functools.cache
def _parse(source: str) -> ast.Module:
    return ast.parse(source)


def _definition(function: Callable) -> ast.FunctionDef:
    """The syntax tree of `function`, found in its module's source as it is loaded."""
    module = inspect.getmodule(function)
    first = function.__code__.co_firstlineno  # the first decorator's line, or the def's
    for node in ast.walk(_parse(inspect.getsource(module))):
        if (isinstance(node, ast.FunctionDef) and node.name == function.__name__
                and min([node.lineno, *(d.lineno for d in node.decorator_list)]) == first):
            return node
    raise NNLabError(f"explain: no source for {function.__qualname__}; update nnlab/scratch/walk.py")


@functools.cache
def source_line(function: Callable, statement: str) -> SourceLine:
    """The line of `function` where `statement` is computed (a statement, or an expression inside one).
    Matched on the syntax tree, so comments and spacing do not count; no match, or several, is an error."""
    body = ast.parse(statement).body
    wanted = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else body[0]
    pattern = ast.dump(wanted)
    hits = [s for s in ast.walk(_definition(function))
            if isinstance(s, ast.stmt) and not hasattr(s, "body")  # simple statements: a line each, no block
            and any(type(n) is type(wanted) and ast.dump(n) == pattern for n in ast.walk(s))]
    if len(hits) != 1:
        raise NNLabError(f"explain: {statement!r} is on {len(hits)} lines of {function.__qualname__}, not one; "
                         "update CODE in nnlab/scratch/walk.py")
    lines, _ = inspect.getsourcelines(inspect.getmodule(function))
    name = function.__module__.removeprefix("nnlab.").replace(".", "/") + ".py"
    return SourceLine(name, hits[0].lineno, lines[hits[0].lineno - 1].strip())


def _code(equation: str) -> list[SourceLine]:
    return [source_line(function, statement) for function, statement in CODE[equation]]


def _dims(a: np.ndarray) -> str:
    return "×".join(map(str, a.shape))


def _as64(net: Network) -> Network:
    return Network([W.astype(np.float64) for W in net.W], [b.astype(np.float64) for b in net.b], np.float64,
                   net.activation, net.output)


def _fd_checks(net: Network, p: np.ndarray, g: np.ndarray, X, y, loss: str, entries: int,
               rng: np.random.Generator) -> list[FDCheck]:
    """Central differences on the `entries` − 1 largest entries of g and one drawn at random."""
    flat = np.argsort(-np.abs(g), axis=None, kind="stable")
    picked = list(flat[:max(entries - 1, 1)])
    if entries > 1 and g.size > len(picked):
        others = np.setdiff1d(np.arange(g.size), picked)
        picked.append(int(rng.choice(others)))
    scale = max(float(np.abs(g).max(initial=0)), 1e-300)
    checks = []
    for i in picked:
        index = tuple(int(k) for k in np.unravel_index(i, g.shape))
        numeric = central_difference(net, p, index, X, y, 0.0, loss, FD_STEP)
        a = float(g[index])
        error = abs(a - numeric) / max(abs(a) + abs(numeric), 1e-3 * scale)
        checks.append(FDCheck(index, a, numeric, error, _crosses_kink(net, p, index, X)))
    return checks


def _relu_masks(net: Network, X: np.ndarray) -> np.ndarray:
    """Which hidden ReLUs are on, for every sample and unit (empty for other activations: they have no kink)."""
    if net.activation != "relu":
        return np.zeros(0, bool)
    A, masks = X, []
    for W, b in zip(net.W[:-1], net.b[:-1]):
        Z = A @ W + b
        masks.append((Z > 0).ravel())
        A = np.maximum(Z, 0)
    return np.concatenate(masks) if masks else np.zeros(0, bool)


def _crosses_kink(net: Network, p: np.ndarray, index: tuple[int, ...], X: np.ndarray) -> bool:
    """Whether nudging p[index] by ±FD_STEP switches any hidden ReLU: then (L(p+h) − L(p−h))/2h straddles a
    corner of the loss and measures no derivative."""
    saved, masks = p[index], []
    for delta in (FD_STEP, -FD_STEP, 0.0):
        p[index] = saved + delta
        masks.append(_relu_masks(net, X))
    p[index] = saved
    return not (np.array_equal(masks[0], masks[2]) and np.array_equal(masks[1], masks[2]))


def walk(net: Network, X: np.ndarray, y: np.ndarray, loss: str = "log", lr: float = 0.1,
         fd_entries: int = 3, seed: int = 0) -> Walk:
    """Every equation of one SGD step of `net` (copied to float64; `net` is left alone) on the batch (X, y)."""
    check_loss(loss, net.binary)
    net = _as64(net)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    m, L = len(X), len(net.W)
    if X.ndim != 2 or X.shape[1] != net.sizes[0] or len(y) != m or m == 0:
        raise NNLabError(f"explain: the batch must be m×{net.sizes[0]} with m labels, got {X.shape} and {y.shape}")
    rng = np.random.default_rng(seed)

    # network.py's own pass, for comparison and for the finite-difference checks
    ws = Workspace.create(net, m)
    Z_out = forward(net, X, ws).copy()
    A_out_net = probabilities(Z_out, net.binary)
    backward(net, X, y, ws, 0.0, loss)

    steps: list[Step] = []
    Z, A = [], [X]
    for l in range(L):
        n = l + 1
        Zl = A[-1] @ net.W[l] + net.b[l]
        Z.append(Zl)
        prev = "X" if l == 0 else f"A{l}"
        steps.append(Step(f"Z{n}", "forward", f"Z{n} = {prev}·W{n} + b{n}",
                          f"{_dims(A[-1])} · {_dims(net.W[l])} + {net.b[l].size} → {_dims(Zl)}", Zl,
                          _code("Z"),
                          "the bias row is added to every sample's row" if l == 0 else "",
                          network=Z_out if l == L - 1 else None))
        if l < L - 1:
            Al = np.maximum(Zl, 0)
            steps.append(Step(f"A{n}", "forward", f"A{n} = ReLU(Z{n}) = max(0, Z{n})", f"{_dims(Zl)} → {_dims(Al)}",
                              Al, _code("A"), "negative entries become 0",
                              network=ws.A[l]))
        else:
            if net.binary:
                Al = 1 / (1 + np.exp(-Zl))
                eq, note = f"A{n} = σ(Z{n}) = 1/(1 + e^(−Z{n}))", "the probability of the second class"
            else:
                e = np.exp(Zl - Zl.max(axis=1, keepdims=True))
                Al = e / e.sum(axis=1, keepdims=True)
                eq, note = f"A{n} = softmax(Z{n}), row by row", "each row: the probabilities of the classes"
            steps.append(Step(f"A{n}", "forward", eq, f"{_dims(Zl)} → {_dims(Al)}", Al,
                              _code("A_out"), note,
                              network=A_out_net))
        A.append(Al)
    Aout = A[-1]
    Y = y.astype(np.float64)[:, None] if net.binary else np.eye(net.sizes[-1])[y]
    top = f"A{L}"
    if loss == "mse":
        value = 0.5 * np.mean(((Aout - Y) ** 2).sum(axis=1))
        eq, code = f"L = (1/2m)·Σ ({top} − Y)²", "L mse"
    elif net.binary:
        value = -np.mean(Y * np.log(Aout) + (1 - Y) * np.log(1 - Aout))
        eq, code = f"L = −(1/m)·Σ [ Y·log {top} + (1 − Y)·log(1 − {top}) ]", "L log, sigmoid"
    else:
        value = -np.mean(np.log(Aout[np.arange(m), y]))
        eq, code = f"L = −(1/m)·Σ log {top}[y]", "L log, softmax"
    loss_before = LOSSES[loss].value(Z_out, y, net.binary)
    steps.append(Step("L", "loss", eq, f"{_dims(Aout)} → 1", np.array([[value]]), _code(code),
                      f"the mean over the batch of {m}", network=np.array([[loss_before]])))

    # backward, from the output down
    if loss == "mse":
        dZ = (Aout - Y) * Aout * (1 - Aout) / m
        eq = f"dZ{L} = ({top} − Y)·{top}(1 − {top}) / m"
        note = "the squared error keeps the sigmoid's slope A(1 − A): small wherever the output is sure"
    else:
        dZ = (Aout - Y) / m
        eq = f"dZ{L} = ({top} − Y) / m"
        note = ("dL/dA · dA/dZ collapses to a difference: how far each probability is from the label"
                if net.binary else "the softmax's and the log loss's derivatives collapse to a difference")
    steps.append(Step(f"dZ{L}", "backward", eq, f"{_dims(dZ)}", dZ, _code(f"dZ_out {loss}"), note,
                      network=ws.dZ[-1].copy()))
    grads: dict[str, np.ndarray] = {}
    for l in range(L - 1, -1, -1):
        n, prev = l + 1, ("X" if l == 0 else f"A{l}")
        dW = A[l].T @ dZ
        db = dZ.sum(axis=0)
        grads[f"W{n}"], grads[f"b{n}"] = dW, db
        steps.append(Step(f"dW{n}", "backward", f"dW{n} = {prev}ᵀ·dZ{n}",
                          f"{_dims(A[l].T)} · {_dims(dZ)} → {_dims(dW)}", dW,
                          _code("dW"), "", network=ws.dW[l].copy(),
                          checks=_fd_checks(net, net.W[l], ws.dW[l], X, y, loss, fd_entries, rng)))
        steps.append(Step(f"db{n}", "backward", f"db{n} = Σrows dZ{n}", f"{_dims(dZ)} → {db.size}", db[None, :],
                          _code("db"), "summed over the samples",
                          network=ws.db[l][None, :].copy(),
                          checks=_fd_checks(net, net.b[l], ws.db[l], X, y, loss, fd_entries, rng)))
        if l == 0:
            break
        dA = dZ @ net.W[l].T
        mask = (Z[l - 1] > 0).astype(np.float64)
        steps.append(Step(f"dA{l}", "backward", f"dA{l} = dZ{n}·W{n}ᵀ", f"{_dims(dZ)} · {_dims(net.W[l].T)} → "
                          f"{_dims(dA)}", dA, _code("dA"),
                          "the error sent back to each hidden unit, through the weights it fed"))
        steps.append(Step(f"mask{l}", "backward", f"1[Z{l} > 0]", f"{_dims(mask)}", mask,
                          _code("mask"),
                          "ReLU's derivative: 1 where the unit was on, 0 where it was off"))
        dZ = dA * mask
        steps.append(Step(f"dZ{l}", "backward", f"dZ{l} = dA{l} ⊙ 1[Z{l} > 0]", f"{_dims(dA)} ⊙ {_dims(mask)} → "
                          f"{_dims(dZ)}", dZ, _code("dZ"),
                          "units that were off pass no gradient back", network=ws.dZ[l - 1].copy()))

    # one step of nnlab's own SGD, on the gradients network.py computed
    before = {name: p.copy() for name, p in _named(net)}
    gnorm2 = sum_of_squares(ws.grad)
    SGD([net.theta], lr).step([ws.grad])
    loss_after = LOSSES[loss].value(forward(net, X, Workspace.create(net, m)), y, net.binary)
    update = [(name, before[name], p.copy()) for name, p in _named(net)]
    hidden_Z = np.concatenate([z.ravel() for z in Z[:-1]]) if L > 1 else np.array([np.inf])
    return Walk(list(net.sizes), loss, net.binary, X, y, steps, lr, loss_before, loss_after, -lr * gnorm2, update,
                _code("update")[0], float(np.abs(hidden_Z).min(initial=np.inf)))


def _named(net: Network) -> list[tuple[str, np.ndarray]]:
    return [(f"{kind}{l + 1}", p) for l, (W, b) in enumerate(zip(net.W, net.b)) for kind, p in (("W", W), ("b", b))]


def pick_batch(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of n samples: the first of each class in turn (0, 1, 0, 1, ...), so every class is in the batch;
    in the data's order."""
    return np.sort(each_class_in_turn(y, n))


def output_gradient(a: np.ndarray, y: int, loss: str) -> np.ndarray:
    """m·dL/dZ of one sigmoid unit at output a: a − y (log loss) or (a − y)·a(1 − a) (squared error), by
    network.py's own output gradient (float64)."""
    dZ = np.array(a, dtype=np.float64)  # a copy: the gradient is written over it
    check_loss(loss).output_gradient(dZ, np.asarray(y, dtype=np.float64), np.empty_like(dZ))
    return dZ


@dataclass
class LossRace:
    """The log loss and the squared error trained from the same start on the same data."""

    lr: float
    batch_size: int
    samples: int
    curves: dict[str, dict[str, list[float]]]  # loss -> {"log_loss": [...], "accuracy": [...]}, epoch 0 first


def compare_losses(start: Network, X: np.ndarray, y: np.ndarray, epochs: int = 30, lr: float = 0.1,
                   batch_size: int = 32, seed: int = 0) -> LossRace:
    """Plain SGD with the same rate, batches and shuffling for both losses; after every epoch, the log loss
    and accuracy on (X, y) — one yardstick for both, whatever each minimises."""
    if not start.binary:
        raise NNLabError("the log-vs-squared-error comparison is for two classes (one sigmoid unit)")
    curves = {}
    for loss in ("log", "mse"):
        # a copy, in the start's dtype (float32 from a run: fast)
        net = Network(start.W, start.b, activation=start.activation)
        runner = EpochRunner(net, SGD([net.theta], lr), min(batch_size, len(X)), loss=loss)
        rng = np.random.default_rng(seed)
        curve: dict[str, list[float]] = {"log_loss": [], "accuracy": []}
        for epoch in range(epochs + 1):
            if epoch:
                runner.run(X, y, rng)
            Z_out = forward(net, X, Workspace.create(net, len(X)))
            curve["log_loss"].append(LOSSES["log"].value(Z_out, y, True))
            curve["accuracy"].append(float(np.mean(predicted_labels(Z_out, True) == y)))
        curves[loss] = curve
    return LossRace(lr, batch_size, len(X), curves)
