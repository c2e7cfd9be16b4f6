"""A network written down by hand — a homework's or a textbook's worked example — and one step of backprop on it.

`parse(spec)` checks a spec (a dict, as read from JSON) and builds a `HandNet`: every layer's W, b and activation,
the batch X, Y, the loss, the learning rate and the notation the student writes in. `walk(net, steps)` computes
every quantity of one plain SGD step in float64, in the order backprop computes them (Z1, A1, ..., L, dZ_L, dW_L,
db_L, dA_(L-1), ..., W1_new), then goes on for `steps` steps and keeps the loss after each.

Each quantity is computed by a `Rule`: its equation, the quantities it is made from, and the function that makes
it. The same rules give the walk and check a student's answers (scratch/marking.py): a step can be recomputed
from the student's own earlier numbers, so a wrong step is told from a right one that inherits an earlier mistake.
No I/O: dicts and arrays in, dataclasses out.

Two notations, the same numbers:
    rows (nnlab's): a sample is a row. W is inputs × units, Z = X·W + b, and the 1/m of the mean is in dZ_L.
    columns (many courses'): a sample is a column. W is units × inputs, Z = W·A + b, dZ_L = A_L − Y and
        dW = (1/m)·dZ·Aᵀ, db = (1/m)·Σ dZ over samples.
    So W, Z, A, dW are each other's transposes, db is the same vector, and dZ, dA differ by the factor m as well:
    dZ_columns = m·dZ_rowsᵀ. The walk is computed in rows; `to_convention` turns a value into the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from nnlab.errors import NNLabError, did_you_mean, pick

CONVENTIONS = ("rows", "columns")
MAX_STEPS = 10_000
MAX_PARAMETERS = 2_000_000  # the CLI's scratch networks fit (a run walked this way); a page stays quick
FD_ALL = 64  # a parameter of at most this many entries has every entry checked; a larger one its largest few


@dataclass(frozen=True)
class Activation:
    """g, and its slope g′ from Z and A = g(Z) (backprop has both at hand), with how the page writes them."""

    g: Callable[[np.ndarray], np.ndarray]
    slope: Callable[[np.ndarray, np.ndarray], np.ndarray] | None  # None: softmax, only beside cross-entropy
    text: str        # "σ({Z}) = 1/(1 + e^(−{Z}))"
    slope_text: str  # "{A} ⊙ (1 − {A})"


def _softmax(Z: np.ndarray) -> np.ndarray:
    return np.exp(Z - logsumexp(Z, axis=1, keepdims=True))


ACTIVATIONS = {
    "relu": Activation(lambda Z: np.maximum(Z, 0.0), lambda Z, A: (Z > 0).astype(np.float64),
                       "ReLU({Z}) = max(0, {Z})", "1[{Z} > 0]"),
    "logistic": Activation(expit, lambda Z, A: A * (1 - A), "σ({Z}) = 1/(1 + e^(−{Z}))", "{A} ⊙ (1 − {A})"),
    "tanh": Activation(np.tanh, lambda Z, A: 1 - A ** 2, "tanh({Z})", "1 − {A}²"),
    "identity": Activation(lambda Z: Z.copy(), lambda Z, A: np.ones_like(Z), "{Z}", "1"),
    "softmax": Activation(_softmax, None, "softmax({Z}), row by row", ""),
}


@dataclass(frozen=True)
class Loss:
    """A loss of the output layer's Z, A and the targets Y (m × outputs), averaged over the m samples."""

    value: Callable[[np.ndarray, np.ndarray, np.ndarray], float]
    outputs: tuple[str, ...]  # the output activations it goes with
    text: str


def _log_loss(Z, A, Y) -> float:
    # From Z, not A: log σ(Z) stays finite where σ(Z) rounds to 0 or 1.
    return float(-np.mean(np.sum(Y * log_expit(Z) + (1 - Y) * log_expit(-Z), axis=1)))


def _cross_entropy(Z, A, Y) -> float:
    return float(-np.mean(np.sum(Y * (Z - logsumexp(Z, axis=1, keepdims=True)), axis=1)))


def _mse(Z, A, Y) -> float:
    return float(np.mean(0.5 * np.sum((A - Y) ** 2, axis=1)))


LOSSES = {
    "log": Loss(_log_loss, ("logistic",), "L = −(1/m)·Σ [ Y·log {A} + (1 − Y)·log(1 − {A}) ]"),
    "cross-entropy": Loss(_cross_entropy, ("softmax",), "L = −(1/m)·Σ Y·log {A}"),
    "mse": Loss(_mse, ("identity", "logistic", "tanh", "relu"), "L = (1/m)·Σ ½·Σ ({A} − Y)²"),
}


@dataclass(frozen=True)
class HandNet:
    """A network and its batch, in nnlab's rows notation (converted from columns when the spec is in them)."""

    W: list[np.ndarray]        # inputs × units
    b: list[np.ndarray]        # units
    activations: list[str]
    X: np.ndarray              # m × inputs
    Y: np.ndarray              # m × outputs
    loss: str
    lr: float
    convention: str = "rows"   # the notation of the spec, and of the student's answers
    title: str = ""

    @property
    def m(self) -> int:
        return len(self.X)

    @property
    def depth(self) -> int:
        return len(self.W)

    @property
    def sizes(self) -> list[int]:
        return [self.W[0].shape[0], *(W.shape[1] for W in self.W)]

    def params(self) -> dict[str, np.ndarray]:
        return {f"{kind}{l + 1}": p for l in range(self.depth) for kind, p in (("W", self.W[l]), ("b", self.b[l]))}

    def with_params(self, params: dict[str, np.ndarray]) -> HandNet:
        L = range(1, self.depth + 1)
        return HandNet([params[f"W{n}"] for n in L], [params[f"b{n}"] for n in L], self.activations, self.X, self.Y,
                       self.loss, self.lr, self.convention, self.title)


# ---------------------------------------------------------------------------------------------------- the spec

SPEC_FIELDS = ("layers", "X", "Y", "loss", "lr", "convention", "title")
LAYER_FIELDS = ("W", "b", "activation")


def _matrix(value, where: str, ndim: int | None = None) -> np.ndarray:
    """A list (of lists) of finite numbers as float64, or an error naming `where` and what to write instead."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        raise NNLabError(f"{where} must be a list of numbers, got {json_name(value)}")
    try:
        a = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise NNLabError(f"{where} is ragged or holds something that is not a number: every row must have "
                         "the same length and hold only numbers") from None
    if a.dtype == object or a.size == 0:
        raise NNLabError(f"{where} is empty or ragged: give every row the same number of entries")
    if not np.all(np.isfinite(a)):
        raise NNLabError(f"{where} holds NaN or infinity: give finite numbers")
    if ndim is not None and a.ndim != ndim:
        raise NNLabError(f"{where} must be {'a list of numbers' if ndim == 1 else 'a list of rows'}, "
                         f"got {a.ndim} levels of lists")
    return a


def json_name(value) -> str:
    names = {bool: "true/false", type(None): "null", str: "text", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _known(obj: dict, allowed: tuple[str, ...], where: str) -> None:
    if not isinstance(obj, dict):
        raise NNLabError(f"{where} must be a JSON object {{...}}, got {json_name(obj)}")
    for key in obj:
        if key not in allowed:
            raise NNLabError(f"{where}: unknown field {key!r}{did_you_mean(str(key), allowed)}; "
                             f"the fields are {', '.join(allowed)}")


def parse(spec: dict) -> HandNet:
    """Check a network spec and build it. Every refusal names the field and what would fix it:

        {"layers": [{"W": [[0.15, 0.25], [0.20, 0.30]], "b": [0.35, 0.35], "activation": "logistic"}, ...],
         "X": [[0.05, 0.10]], "Y": [[0.01, 0.99]], "loss": "mse", "lr": 0.5, "convention": "rows"}
    """
    _known(spec, SPEC_FIELDS, "the spec")
    for required in ("layers", "X", "Y"):
        if required not in spec:
            raise NNLabError(f"the spec has no {required!r}: it needs layers, X and Y (and loss, lr)")
    convention = spec.get("convention", "rows")
    pick(dict.fromkeys(CONVENTIONS), convention, "convention")
    columns = convention == "columns"
    loss = spec.get("loss", "mse")
    pick(LOSSES, loss, "loss")
    lr = spec.get("lr", 0.5)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise NNLabError(f"lr must be a number greater than 0, got {lr!r}")
    title = spec.get("title", "")
    if not isinstance(title, str):
        raise NNLabError(f"title must be text, got {json_name(title)}")
    layers = spec["layers"]
    if not isinstance(layers, list) or not layers:
        raise NNLabError("layers must be a list of layers, each {\"W\": ..., \"b\": ..., \"activation\": ...}")

    X = _matrix(spec["X"], "X")
    X = X[None, :] if X.ndim == 1 and not columns else X[:, None] if X.ndim == 1 else X
    if X.ndim != 2:
        raise NNLabError(f"X must be a list of samples (rows), got {X.ndim} levels of lists")
    X = X.T if columns else X
    W, b, acts = [], [], []
    inputs, orient = X.shape[1], ("units × inputs (Z = W·A + b, the columns convention)" if columns else
                                  "inputs × units (Z = X·W + b, nnlab's rows convention)")
    for l, layer in enumerate(layers):
        where = f"layers[{l}]"
        _known(layer, LAYER_FIELDS, where)
        for required in LAYER_FIELDS:
            if required not in layer:
                raise NNLabError(f"{where} has no {required!r}: each layer needs W, b and activation")
        Wl = _matrix(layer["W"], f"{where}.W", ndim=2)
        Wl = Wl.T if columns else Wl
        if Wl.shape[0] != inputs:
            fed = "X has" if l == 0 else f"layers[{l - 1}] has"
            got = "×".join(map(str, Wl.T.shape if columns else Wl.shape))
            raise NNLabError(f"{where}.W is {got} but {fed} {inputs} {'features' if l == 0 else 'units'}: W is "
                             f"{orient}, so it needs {inputs} {'columns' if columns else 'rows'}")
        bl = _matrix(layer["b"], f"{where}.b").ravel()
        if bl.size != Wl.shape[1]:
            raise NNLabError(f"{where}.b has {bl.size} entries but W has {Wl.shape[1]} units: one bias per unit")
        act = layer["activation"]
        if not isinstance(act, str):
            raise NNLabError(f"{where}.activation must be a name, got {json_name(act)}")
        pick(ACTIVATIONS, act, f"activation in {where}")
        if act == "softmax" and l < len(layers) - 1:
            raise NNLabError(f"{where}.activation: softmax is for the output layer only; use relu, logistic, tanh "
                             "or identity in a hidden layer")
        W.append(Wl)
        b.append(bl)
        acts.append(act)
        inputs = Wl.shape[1]
    if sum(w.size + c.size for w, c in zip(W, b)) > MAX_PARAMETERS:
        raise NNLabError(f"the network has more than {MAX_PARAMETERS:,} parameters: this walk is for networks "
                         "small enough to read")
    out, m = acts[-1], len(X)
    if out not in LOSSES[loss].outputs:
        fits = [name for name, lo in LOSSES.items() if out in lo.outputs]
        raise NNLabError(f"loss {loss!r} does not go with a {out} output layer; with {out} use "
                         f"{' or '.join(fits)}, or give the last layer {' or '.join(LOSSES[loss].outputs)}")

    Y = _targets(spec["Y"], loss, m, W[-1].shape[1], columns)
    return HandNet(W, b, acts, X, Y, loss, float(lr), convention, title)


def _targets(value, loss: str, m: int, outputs: int, columns: bool) -> np.ndarray:
    Y = _matrix(value, "Y")
    if loss == "cross-entropy" and Y.ndim == 1 and len(Y) == m and np.all(Y == np.round(Y)):
        if Y.min() < 0 or Y.max() >= outputs:
            raise NNLabError(f"Y holds class numbers outside 0..{outputs - 1} (the output layer has {outputs} units)")
        return np.eye(outputs)[Y.astype(int)]  # class numbers → one-hot rows
    if Y.ndim == 1 and (m == 1 or outputs == 1) and Y.size == m * outputs:
        Y = Y.reshape(m, outputs)  # a flat list is one sample's targets, or one output's for every sample
    elif Y.ndim == 2 and columns:
        Y = Y.T
    if Y.shape != (m, outputs):
        shape = f"{outputs}×{m}" if columns else f"{m}×{outputs}"
        got = f"has {Y.size} numbers" if Y.ndim == 1 else f"is {'×'.join(map(str, (Y.T if columns else Y).shape))}"
        raise NNLabError(f"Y {got} but must be {shape}: one "
                         f"target per output unit ({outputs}) for each of the {m} samples of X")
    if loss in ("log", "cross-entropy") and (Y.min() < 0 or Y.max() > 1):
        raise NNLabError(f"Y holds {Y.min() if Y.min() < 0 else Y.max():g}: the {loss} loss needs targets between "
                         "0 and 1 (use \"loss\": \"mse\" for other targets)")
    if loss == "cross-entropy" and not np.allclose(Y.sum(axis=1), 1):
        raise NNLabError("Y: each sample's targets must add up to 1 for the cross-entropy loss (one-hot rows, "
                         "or give the class numbers, e.g. [0, 2, 1])")
    return Y


# ---------------------------------------------------------------------------------------------------- the rules

@dataclass(frozen=True)
class Rule:
    """How one quantity is computed: `compute(*values of inputs)`, in rows. `kind` says how it turns into the
    columns notation: "matrix" (transposed), "gradient" (transposed and times m), "vector" (a bias: the same
    numbers), "scalar" (the loss). `variants` are the known wrong ways to compute it (scratch/marking.py's
    MISTAKES name them): each takes the values at hand by name and returns None where it does not apply."""

    key: str           # "Z1", "dW2", "W1_new", "L"
    phase: str         # "forward", "loss", "backward", "update"
    equation: str      # in rows
    columns: str       # the same equation in the columns notation
    inputs: tuple[str, ...]
    compute: Callable[..., np.ndarray]
    kind: str = "matrix"
    note: str = ""
    variants: dict[str, Callable[[Mapping[str, np.ndarray]], np.ndarray | None]] = field(default_factory=dict)


def rules(net: HandNet) -> list[Rule]:
    """Every quantity of one SGD step, in the order they are computed."""
    L = net.depth
    out = [r for n in range(1, L + 1) for r in _forward(net, n)]
    out += _output(net)
    for n in range(L, 0, -1):
        out += _backward(net, n)
    return out + [r for n in range(1, L + 1) for r in _update(net, n)]


def _forward(net: HandNet, n: int) -> list[Rule]:
    prev, name = ("X" if n == 1 else f"A{n - 1}"), net.activations[n - 1]
    act = ACTIVATIONS[name]
    Z, A, W, b = f"Z{n}", f"A{n}", f"W{n}", f"b{n}"
    square = net.W[n - 1].shape[0] == net.W[n - 1].shape[1]
    wrong_g = {}
    if name == "logistic":
        wrong_g["sign in the exponent"] = lambda v: expit(-v[Z])
    if name == "softmax" and net.m > 1:
        wrong_g["softmax over the batch"] = lambda v: np.exp(v[Z]) / np.exp(v[Z]).sum(axis=0, keepdims=True)
    return [
        Rule(Z, "forward", f"{Z} = {prev}·{W} + {b}", f"{Z} = {W}·{prev} + {b}",
             (prev, W, b), lambda A_prev, W, b: A_prev @ W + b,
             note="the bias is added to every sample" if n == 1 and net.m > 1 else "",
             variants={"bias left out": lambda v: v[prev] @ v[W],
                       "W not transposed": lambda v: v[prev] @ v[W].T + v[b] if square else None}),
        Rule(A, "forward", f"{A} = " + act.text.format(Z=Z),
             f"{A} = " + act.text.format(Z=Z).replace("row by row", "column by column"), (Z,), act.g, variants=wrong_g),
    ]


def _output(net: HandNet) -> list[Rule]:
    L, m = net.depth, net.m
    A, Z = f"A{L}", f"Z{L}"
    loss = LOSSES[net.loss]
    text = loss.text.format(A=A)
    wrong_L = {"1/m forgotten": lambda v: m * loss.value(v[Z], v[A], v["Y"]) if m > 1 else None}
    if net.loss == "mse":
        wrong_L["½ forgotten"] = lambda v: 2 * loss.value(v[Z], v[A], v["Y"])
    out = [Rule("L", "loss", text, text, (Z, A, "Y"),
                lambda Z, A, Y: np.array([[loss.value(Z, A, Y)]]), kind="scalar",
                note=("½ of the squared error summed over the outputs, then the mean over the samples: the "
                      "worked examples' convention" if net.loss == "mse" else "the mean over the samples"),
                variants=wrong_L)]
    scaled = {"sign": lambda v: (v["Y"] - v[A]) / m,
              "1/m forgotten": lambda v: (v[A] - v["Y"]) if m > 1 else None,
              "1/m taken twice": lambda v: (v[A] - v["Y"]) / m ** 2 if m > 1 else None}
    if net.loss == "mse":
        out.append(Rule(f"dA{L}", "backward", f"dA{L} = ({A} − Y) / m", f"dA{L} = {A} − Y",
                        (A, "Y"), lambda A, Y: (A - Y) / m,
                        kind="gradient", note="dL/dA: the ½ cancels the square's 2",
                        variants={**scaled, "½ forgotten": lambda v: 2 * (v[A] - v["Y"]) / m}))
        return out + [_dZ(net, L)]
    if net.loss == "log":
        scaled["σ′ kept beside the log loss"] = lambda v: (v[A] - v["Y"]) * v[A] * (1 - v[A]) / m
        why = "dL/dA · dA/dZ collapse to a difference: how far each output is from its target"
    else:
        scaled["one-hot left out"] = lambda v: (v[A] - 1) / m
        scaled["class number for one-hot"] = lambda v: (v[A] - v["Y"].argmax(axis=1, keepdims=True)) / m
        why = "the softmax's and the cross-entropy's derivatives collapse to a difference"
    return out + [Rule(f"dZ{L}", "backward", f"dZ{L} = ({A} − Y) / m", f"dZ{L} = {A} − Y",
                       (A, "Y"), lambda A, Y: (A - Y) / m,
                       kind="gradient", note=why, variants=scaled)]


def _backward(net: HandNet, n: int) -> list[Rule]:
    m, lr = net.m, net.lr
    prev, dZ, W, dW = ("X" if n == 1 else f"A{n - 1}"), f"dZ{n}", f"W{n}", f"dW{n}"
    square = net.W[n - 1].shape[0] == net.W[n - 1].shape[1]
    out = [
        Rule(dW, "backward", f"{dW} = {prev}ᵀ·{dZ}", f"{dW} = (1/m)·{dZ}·{prev}ᵀ",
             (prev, dZ), lambda A_prev, dZ: A_prev.T @ dZ,
             variants={"dW transposed": lambda v: (v[prev].T @ v[dZ]).T if square else None,
                       "1/m forgotten": lambda v: m * (v[prev].T @ v[dZ]) if m > 1 else None,
                       "1/m taken twice": lambda v: (v[prev].T @ v[dZ]) / m if m > 1 else None}),
        Rule(f"db{n}", "backward", f"db{n} = Σ over samples of {dZ}", f"db{n} = (1/m)·Σ over samples of {dZ}",
             (dZ,), lambda dZ: dZ.sum(axis=0), kind="vector",
             note="summed over the samples: every sample's error pushes the same bias",
             variants={"bias gradient not summed": lambda v: v[dZ][0] if m > 1 else None,
                       "1/m forgotten": lambda v: m * v[dZ].sum(axis=0) if m > 1 else None,
                       "1/m taken twice": lambda v: v[dZ].sum(axis=0) / m if m > 1 else None}),
    ]
    if n == 1:
        return out
    dA = f"dA{n - 1}"
    out.append(Rule(dA, "backward", f"{dA} = {dZ}·{W}ᵀ", f"{dA} = {W}ᵀ·{dZ}",
                    (dZ, W), lambda dZ, W: dZ @ W.T, kind="gradient",
                    note="the error sent back to each unit, through the weights it fed",
                    variants={"W not transposed": lambda v: v[dZ] @ v[W] if square else None,
                              "updated weights used": lambda v: v[dZ] @ (v[W] - lr * v[dW]).T}))
    return out + [_dZ(net, n - 1)]


def _dZ(net: HandNet, n: int) -> Rule:
    name = net.activations[n - 1]
    act = ACTIVATIONS[name]
    dA, Z, A = f"dA{n}", f"Z{n}", f"A{n}"
    slope = act.slope_text.format(Z=Z, A=A)
    variants = {"slope left out": lambda v: v[dA]} if name != "identity" else {}
    if name == "logistic":
        variants["slope at Z, not A"] = lambda v: v[dA] * v[Z] * (1 - v[Z])
        variants["slope of A, not Z"] = lambda v: v[dA] * expit(v[A]) * (1 - expit(v[A]))
    elif name == "tanh":
        variants["slope at Z, not A"] = lambda v: v[dA] * (1 - v[Z] ** 2)
        variants["slope of A, not Z"] = lambda v: v[dA] * (1 - np.tanh(v[A]) ** 2)
    # (ReLU's mask is the same from A as from Z: A > 0 exactly where Z > 0, so that is no mistake.)
    elif name == "relu":
        variants["ReLU applied to the gradient"] = lambda v: np.maximum(v[dA], 0)
    note = {"relu": "units that were off (Z ≤ 0) pass no gradient back",
            "logistic": "σ′(Z) = A(1 − A): small wherever the unit is sure", "tanh": "tanh′(Z) = 1 − A²",
            "identity": "the identity passes the gradient on unchanged"}[name]
    return Rule(f"dZ{n}", "backward", f"dZ{n} = {dA} ⊙ {slope}", f"dZ{n} = {dA} ⊙ {slope}",
                (dA, Z, A), lambda dA, Z, A: dA * act.slope(Z, A), kind="gradient", note=note, variants=variants)


def _update(net: HandNet, n: int) -> list[Rule]:
    lr = net.lr
    out = []
    for p in ("W", "b"):
        P, dP = f"{p}{n}", f"d{p}{n}"
        variants = {"sign of the update": lambda v, P=P, dP=dP: v[P] + lr * v[dP]}
        if lr != 1:
            variants["learning rate left out"] = lambda v, P=P, dP=dP: v[P] - v[dP]
        out.append(Rule(f"{P}_new", "update", f"{P} ← {P} − lr·{dP}", f"{P} ← {P} − lr·{dP}",
                        (P, dP), lambda P, dP: P - lr * dP,
                        kind="vector" if p == "b" else "matrix", variants=variants))
    return out


# ---------------------------------------------------------------------------------------------------- the walk

@dataclass
class FDCheck:
    """One entry of a parameter gradient against (L(p + h) − L(p − h)) / 2h."""

    param: str
    index: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numeric) / max(abs(self.analytic) + abs(self.numeric), 1e-12)

    @property
    def passed(self) -> bool:
        return abs(self.analytic - self.numeric) < 1e-7 or self.error < 1e-6


@dataclass
class HandWalk:
    net: HandNet
    rules: list[Rule]
    values: dict[str, np.ndarray]  # every quantity, in rows, with X, Y and the parameters
    checks: list[FDCheck]
    losses: list[float]            # before the first step, then after each step
    final: dict[str, np.ndarray]   # the parameters after the last step

    def rule(self, key: str) -> Rule:
        return next(r for r in self.rules if r.key == key)

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.rules]

    def shown(self, key: str, convention: str | None = None) -> np.ndarray:
        """A quantity as the notation `convention` (default: the spec's) writes it."""
        kind = "matrix" if key in ("X", "Y") or key[0] in "WZA" else "vector" if key[0] == "b" else self.rule(key).kind
        return to_convention(self.values[key], kind, convention or self.net.convention, self.net.m)

    def to_json(self, convention: str | None = None) -> dict:
        """{"loss", "values", "gradients", "updated", "losses", "convention"}: what a teacher's script reads."""
        conv = convention or self.net.convention
        L = self.net.depth

        def listed(key):
            return self.shown(key, conv).tolist()

        values = {k: listed(k) for k in self.keys if k[0] in "ZA" or k.startswith(("dZ", "dA"))}
        return {"convention": conv, "loss": float(self.values["L"][0, 0]), "values": values,
                "gradients": {k[1:]: listed(k) for k in self.keys if k[:2] in ("dW", "db")},
                "updated": {k.removesuffix("_new"): listed(k) for k in self.keys if k.endswith("_new")},
                "losses": self.losses, "lr": self.net.lr, "steps": len(self.losses) - 1,
                "after_steps": {k: to_convention(v, "vector" if k[0] == "b" else "matrix", conv, self.net.m).tolist()
                                for k, v in self.final.items()} if len(self.losses) > 2 else None,
                "layers": L}


def to_convention(value: np.ndarray, kind: str, convention: str, m: int) -> np.ndarray:
    """A value computed in rows, as `convention` writes it (see the module's docstring)."""
    if convention == "rows" or kind == "scalar":
        return value
    if kind == "vector":
        return value.reshape(-1, 1)
    return value.T * (m if kind == "gradient" else 1)


def from_convention(value: np.ndarray, kind: str, convention: str, m: int) -> np.ndarray:
    if convention == "rows" or kind == "scalar":
        return value
    if kind == "vector":
        return value.ravel()
    return value.T / (m if kind == "gradient" else 1)


def evaluate(rule: Rule, values: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(rule.compute(*(values[k] for k in rule.inputs)), dtype=np.float64)


def loss_of(net: HandNet) -> float:
    A = net.X
    for W, b, act in zip(net.W, net.b, net.activations):
        Z = A @ W + b
        A = ACTIVATIONS[act].g(Z)
    return LOSSES[net.loss].value(Z, A, net.Y)


def walk(net: HandNet, steps: int = 1, fd_step: float = 1e-6) -> HandWalk:
    """Every quantity of the first SGD step, the finite-difference check of every parameter gradient entry, and
    the loss before and after each of `steps` steps."""
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise NNLabError(f"--steps must be a whole number from 1 to {MAX_STEPS}, got {steps}")
    all_rules = rules(net)
    values = _one_step(net, all_rules)
    checks = []
    rng = np.random.default_rng(0)
    for name, p in net.params().items():
        grad = values[f"d{name}"]
        if p.size <= FD_ALL:
            entries = list(np.ndindex(p.shape))
        else:  # the 6 largest entries of the gradient and 2 drawn at random (with a fixed seed: the same page)
            flat = np.argsort(-np.abs(grad), axis=None, kind="stable")
            picked = [*flat[:6], *rng.choice(flat[6:], 2, replace=False)]
            entries = [tuple(int(i) for i in np.unravel_index(k, p.shape)) for k in picked]
        for index in entries:
            numeric = _central_difference(net, name, index, fd_step)
            checks.append(FDCheck(name, index, float(grad[index]), numeric))
    losses = [float(values["L"][0, 0])]
    current = {k: values[f"{k}_new"] for k in net.params()}
    for _ in range(steps - 1):
        stepped = _one_step(net.with_params(current), all_rules)
        losses.append(float(stepped["L"][0, 0]))
        current = {k: stepped[f"{k}_new"] for k in net.params()}
    losses.append(loss_of(net.with_params(current)))
    return HandWalk(net, all_rules, values, checks, losses, current)


def _one_step(net: HandNet, all_rules: list[Rule]) -> dict[str, np.ndarray]:
    values: dict[str, np.ndarray] = {"X": net.X, "Y": net.Y, **net.params()}
    for rule in all_rules:
        values[rule.key] = evaluate(rule, values)
    return values


def _central_difference(net: HandNet, name: str, index: tuple[int, ...], h: float) -> float:
    def shifted(delta: float) -> float:
        params = {k: v.copy() for k, v in net.params().items()}
        params[name][index] += delta
        return loss_of(net.with_params(params))

    return (shifted(h) - shifted(-h)) / (2 * h)
