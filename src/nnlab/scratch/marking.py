"""Marking a hand calculation of one backprop step: which of a student's numbers are right, which step went
wrong first, and what the mistake most likely was.

The student gives any of the walk's quantities (Z1, A1, L, dZ2, dW2, db2, dA1, ..., W1_new), rounded as on
paper, in the notation of their course (scratch/handnet.py). Each is compared to the precision it was written
with: within one unit of its last written digit, so that rounding and truncating both pass. A step is also
recomputed from the student's *own* earlier numbers, where they gave them, which tells three cases apart:

    right    the number agrees with the exact one (or with the one their own rounded numbers give);
    carried  it is wrong, but it is what the step gives from their earlier wrong number: the step is right;
    wrong    the step itself is wrong. Each of the step's known wrong versions (`Rule.variants`) is tried
             on their numbers and on the exact ones; one that matches names the likely mistake (MISTAKES).

The first wrong step is the one to look at: later ones may be wrong only because of it.
No I/O: answers as dicts (scratch/marking.read_answers parses the JSON text, keeping each number's digits).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

from nnlab.errors import NNLabError, did_you_mean, pick
from nnlab.scratch.handnet import HandWalk, Rule, evaluate, from_convention, to_convention


@dataclass(frozen=True)
class Mistake:
    says: str  # what was done, in the student's words
    fix: str   # what to do instead


# Every known wrong version of a step, by the name the rules of scratch/handnet.py give it.
MISTAKES = {
    "slope left out": Mistake("the activation's slope g′ was left out of dZ (σ′ = A(1 − A), tanh′ = 1 − A², "
                              "ReLU′ = 1[Z > 0])", "multiply dA by the slope, entry by entry: dZ = dA ⊙ g′(Z)"),
    "slope at Z, not A": Mistake("the slope was taken at Z instead of A: Z(1 − Z) (or 1 − Z²) where σ′ is A(1 − A)",
                                 "σ′(Z) = σ(Z)(1 − σ(Z)) = A(1 − A): put in the activation A, not Z"),
    "slope of A, not Z": Mistake("the slope was taken of A instead of Z: σ′(A) = σ(A)(1 − σ(A)), the activation "
                                 "applied twice", "σ′ at this layer's Z is A(1 − A) with its own A: no second σ"),
    "ReLU applied to the gradient": Mistake("ReLU was applied to the gradient, max(0, dA), instead of masking it "
                                            "where the unit was off", "dZ = dA ⊙ 1[Z > 0]: keep dA's sign where "
                                            "Z > 0, write 0 where Z ≤ 0"),
    "σ′ kept beside the log loss": Mistake("σ′ = A(1 − A) was multiplied in although the log loss cancels it",
                                           "with a sigmoid output and the log loss, dZ = (A − Y)/m exactly"),
    "one-hot left out": Mistake("1 was subtracted from every output's probability, not only the true class's",
                                "dZ = (A − Y)/m with Y one-hot: subtract 1 only in the true class's column"),
    "class number for one-hot": Mistake("the class number was subtracted from every probability instead of its "
                                        "one-hot row", "turn the label into a one-hot row Y first: dZ = (A − Y)/m"),
    "sign": Mistake("the sign is flipped: Y − A instead of A − Y", "dL/dA = A − Y: the loss grows with A where A > Y"),
    "½ forgotten": Mistake("the ½ of the squared error was left out (a factor 2)",
                           "L = ½·Σ(A − Y)², so dL/dA = A − Y: the ½ cancels the square's 2"),
    "1/m forgotten": Mistake("the 1/m of the mean over the batch was left out (a factor m)",
                             "the loss is a mean over the m samples: one factor 1/m (rows: in dZ of the output; "
                             "columns: in dW and db)"),
    "1/m taken twice": Mistake("the 1/m was taken twice (a factor 1/m too small): once in dZ and again in dW or db",
                               "one 1/m only: nnlab's rows put it in dZ of the output, the columns notation in dW "
                               "and db"),
    "bias gradient not summed": Mistake("the bias gradient is one sample's dZ, not the sum over the samples",
                                        "db = Σ over the samples of dZ: every sample pushes the same bias"),
    "dW transposed": Mistake("dW is transposed: dZᵀ·A instead of Aᵀ·dZ", "dW has W's shape: in rows, inputs × "
                             "units = Aᵀ·dZ; in columns, units × inputs = dZ·Aᵀ"),
    "W not transposed": Mistake("W was used where Wᵀ belongs (or the other way round)",
                                "rows: Z = A·W + b and dA = dZ·Wᵀ; columns: Z = W·A + b and dA = Wᵀ·dZ"),
    "transposed": Mistake("the matrix is transposed: its rows are the other notation's columns",
                          "check the notation: rows writes W inputs × units, columns units × inputs; set "
                          "\"convention\" in the spec to your course's"),
    "updated weights used": Mistake("the error was sent back through the updated weights",
                                    "backpropagate through the weights of the forward pass; update every layer "
                                    "only after all gradients are computed"),
    "bias left out": Mistake("the bias was left out of Z", "Z = A·W + b: add the bias to every sample"),
    "sign in the exponent": Mistake("σ was computed with the wrong sign in the exponent: 1/(1 + e^Z)",
                                    "σ(Z) = 1/(1 + e^(−Z)): σ(0) = 0.5 and σ grows with Z"),
    "softmax over the batch": Mistake("softmax was normalised over the samples instead of over each sample's "
                                      "classes", "each sample's probabilities add up to 1: normalise along the "
                                      "classes"),
    "sign of the update": Mistake("the step went up the gradient: θ + lr·dθ", "θ ← θ − lr·dθ: against the gradient"),
    "learning rate left out": Mistake("the learning rate was left out of the update: θ − dθ",
                                      "θ ← θ − lr·dθ, with the spec's lr"),
}


@dataclass(frozen=True)
class Answer:
    """A student's number(s) for one quantity, in their notation, and each entry's written precision."""

    value: np.ndarray
    tol: np.ndarray  # one unit of the last written digit, entry by entry


@dataclass
class Mark:
    key: str
    status: str                   # "right", "carried", "wrong" or "shape"
    answer: np.ndarray            # in the student's notation
    expected: np.ndarray          # in the student's notation
    own: np.ndarray | None        # what the step gives from the student's own earlier numbers, where it differs
    bad: np.ndarray               # entries off (True) — all False for "right"
    mistake: str | None = None    # a key of MISTAKES
    from_keys: tuple[str, ...] = ()  # the student's earlier numbers this step was recomputed from

    @property
    def ok(self) -> bool:
        return self.status == "right"


@dataclass
class Marking:
    marks: list[Mark]      # in the order of the walk
    convention: str

    @property
    def first_wrong(self) -> Mark | None:
        return next((k for k in self.marks if k.status in ("wrong", "shape")), None)

    def mark(self, key: str) -> Mark | None:
        return next((k for k in self.marks if k.key == key), None)

    def to_json(self) -> dict:
        first = self.first_wrong
        return {"convention": self.convention, "first_wrong": first.key if first else None,
                "marks": {k.key: {"status": k.status, "mistake": k.mistake,
                                  "says": MISTAKES[k.mistake].says if k.mistake else None,
                                  "wrong_entries": int(k.bad.sum()), "expected": k.expected.tolist()}
                          for k in self.marks}}


# ------------------------------------------------------------------------------------------------ reading answers

def precision(text: str) -> float:
    """One unit of the last digit written: "0.5933" → 1e-4, "4.39e-4" → 1e-6, "12" → 1."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


class _Written(float):
    """A float that remembers the digits it was written with (JSON text keeps them; json.loads does not)."""

    tol: float

    def __new__(cls, text: str):
        x = super().__new__(cls, text)
        x.tol = precision(text)
        return x


def read_answers(text: str, where: str = "--answers") -> dict:
    """Answers from JSON text, each number keeping its written precision."""
    try:
        return json.loads(text, parse_float=_Written, parse_int=_Written)
    except json.JSONDecodeError as e:
        raise NNLabError(f"{where} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None


def _tolerance(x) -> float:
    if isinstance(x, _Written):
        return x.tol
    return precision(repr(float(x)))  # a float typed in Python: repr gives back the digits typed


def answers(raw: dict, walk: HandWalk) -> dict[str, Answer]:
    """The answers by the walk's names. Takes them flat ({"Z1": ..., "dW2": ..., "W1_new": ..., "L": ...}) or
    shaped as `--json` writes them ({"loss", "values", "gradients", "updated"})."""
    if not isinstance(raw, dict):
        raise NNLabError("--answers must be a JSON object of names and numbers, e.g. {\"Z1\": [[0.3775, 0.3925]]}")
    flat: dict = {}
    for key, value in raw.items():
        if key in ("values", "gradients", "updated") and isinstance(value, dict):
            prefix, suffix = {"values": ("", ""), "gradients": ("d", ""), "updated": ("", "_new")}[key]
            flat.update({f"{prefix}{k}{suffix}": v for k, v in value.items()})
        elif key in ("loss", "L"):
            flat["L"] = value
        elif key not in ("convention", "losses", "lr", "steps", "after_steps", "layers"):
            flat[key] = value
    known = walk.keys
    out = {}
    for key, value in flat.items():
        if key in walk.net.params() or key in ("X", "Y"):
            raise NNLabError(f"--answers: {key} is given in the spec; write the updated weights as {key}_new"
                             if key not in ("X", "Y") else f"--answers: {key} is given in the spec, not computed")
        if key not in known:
            same = [k for k in known if k.lower() == key.lower()]  # dw2 for dW2: the case is the usual slip
            guess = f" (did you mean {same[0]!r}?)" if same else did_you_mean(key, known)
            raise NNLabError(f"--answers: unknown name {key!r}{guess}; the names are {', '.join(known)}")
        out[key] = _answer(value, key)
    if not out:
        raise NNLabError("--answers holds no answers: give some of " + ", ".join(known))
    return out


def _answer(value, key: str) -> Answer:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    try:
        x = np.array(value, dtype=object)
        numbers = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise NNLabError(f"--answers: {key} is ragged or holds something that is not a number") from None
    if numbers.size == 0 or not np.all(np.isfinite(numbers)):
        raise NNLabError(f"--answers: {key} is empty or holds NaN or infinity")
    tol = np.vectorize(_tolerance, otypes=[np.float64])(x) if x.shape == numbers.shape else np.full(numbers.shape, 1e-9)
    return Answer(numbers, tol)


# --------------------------------------------------------------------------------------------------------- marking

def mark(walk: HandWalk, given: dict[str, Answer]) -> Marking:
    """Mark every answer of `given` (from `answers`) against the walk."""
    net, conv = walk.net, walk.net.convention
    rows: dict[str, np.ndarray] = {}        # the student's numbers in rows, for recomputing later steps
    status: dict[str, str] = {}
    marks = []
    for rule in walk.rules:
        if rule.key not in given:
            continue
        a = given[rule.key]
        expected = walk.shown(rule.key)
        value, tol = _fit(a.value, expected.shape), _fit(a.tol, expected.shape)
        if value is None:
            transposed = _fit(a.value, expected.T.shape)
            guess = "transposed" if transposed is not None and _close(transposed.T, expected, _fit(
                a.tol, expected.T.shape).T, 0) else None
            marks.append(Mark(rule.key, "shape", a.value, expected, None, np.ones(a.value.shape, bool), guess))
            status[rule.key] = "shape"
            continue
        used = tuple(k for k in rule.inputs if k in rows)
        v_own = {**walk.values, **rows}
        own = to_convention(evaluate(rule, v_own), rule.kind, conv, net.m) if used else None
        drift = np.abs(own - expected) if own is not None and all(status[k] == "right" for k in used) else 0
        bad = np.abs(value - expected) > tol + drift + 1e-12 * np.abs(expected)
        if not bad.any():
            result = Mark(rule.key, "right", value, expected, own, bad, from_keys=used)
        elif own is not None and _close(value, own, tol, 0):
            result = Mark(rule.key, "carried", value, expected, own, bad, from_keys=used)
        else:
            result = Mark(rule.key, "wrong", value, expected, own, bad, _which_mistake(rule, value, tol, walk, v_own),
                          from_keys=used)
        marks.append(result)
        status[rule.key] = result.status
        rows[rule.key] = from_convention(value, rule.kind, conv, net.m)
    return Marking(marks, conv)


def _fit(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """`a` in `shape`, where it is that shape or holds the same entries in one row or column; else None."""
    if a.shape == shape:
        return a
    if a.size == math.prod(shape) and (a.ndim == 1 or 1 in a.shape) and (len(shape) < 2 or 1 in shape):
        return a.reshape(shape)
    return None


def _close(a: np.ndarray, b: np.ndarray, tol: np.ndarray, drift) -> bool:
    return bool(np.all(np.abs(a - b) <= tol + drift + 1e-12 * np.abs(b)))


def _which_mistake(rule: Rule, value: np.ndarray, tol: np.ndarray, walk: HandWalk,
                   v_own: dict[str, np.ndarray]) -> str | None:
    """The first known wrong version of `rule` that gives the student's number, from their own earlier numbers
    or from the exact ones."""
    net = walk.net
    for name, variant in rule.variants.items():
        pick(MISTAKES, name, "mistake")
        for v in (v_own, walk.values):
            wrong = variant(v)
            if wrong is None:
                continue
            wrong = to_convention(np.asarray(wrong, dtype=np.float64).reshape(walk.values[rule.key].shape),
                                  rule.kind, net.convention, net.m)
            if not np.allclose(wrong, walk.shown(rule.key), rtol=0, atol=0) and _close(value, wrong, tol, 0):
                return name
    return None


def summary(marking: Marking, rules_order: list[str]) -> str:
    """The verdict in one paragraph of plain text: what is right, the first wrong step, what follows from it."""
    marks = marking.marks
    right = [k.key for k in marks if k.ok]
    first = marking.first_wrong
    if first is None:
        carried = [k.key for k in marks if k.status == "carried"]
        return (f"All {len(marks)} answers are right." if not carried else
                f"{len(right)} of {len(marks)} answers are right; {', '.join(carried)} follow from numbers of yours "
                "that are wrong.")
    text = f"{len(right)} of {len(marks)} answers are right. The first wrong step is {first.key}"
    if first.mistake:
        text += f": likely {MISTAKES[first.mistake].says}. Fix: {MISTAKES[first.mistake].fix}."
    elif first.status == "shape":
        text += f": its shape is {'×'.join(map(str, first.answer.shape))}, it should be " \
                f"{'×'.join(map(str, first.expected.shape))}."
    else:
        text += "."
    later = [k for k in marks if rules_order.index(k.key) > rules_order.index(first.key)]
    carried = [k.key for k in later if k.status == "carried"]
    wrong = [k.key for k in later if k.status in ("wrong", "shape")]
    if carried:
        text += (f" {', '.join(carried)} {'is' if len(carried) == 1 else 'are'} wrong only because of it: "
                 "recomputed from your own earlier numbers, those steps are right.")
    if wrong:
        text += f" Also wrong on {'its' if len(wrong) == 1 else 'their'} own: {', '.join(wrong)}."
    return re.sub(r"\s+", " ", text)
