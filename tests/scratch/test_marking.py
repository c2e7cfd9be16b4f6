"""Marking a hand calculation (scratch/marking.py): each catalogued mistake made deliberately and named, the first
wrong step, steps that only inherit an earlier mistake, the precision a number was written with, both notations."""

import json
import re

import numpy as np
import pytest
from scipy.special import expit

from nnlab.errors import NNLabError
from nnlab.scratch.handnet import parse, walk
from nnlab.scratch.marking import MISTAKES, answers, mark, precision, read_answers, summary
from tests.scratch.test_handnet import MAZUR

# A batch of 3 through a ReLU layer into a softmax: the mistakes that need m > 1 or a one-hot.
SOFTMAX = {"layers": [{"W": [[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]], "b": [0.1, -0.2, 0.05], "activation": "relu"},
                      {"W": [[0.3, -0.4, 0.2], [0.6, 0.1, -0.5], [-0.2, 0.5, 0.4]], "b": [0.0, 0.1, -0.1],
                       "activation": "softmax"}],
           "X": [[1.0, 0.5], [-0.5, 1.5], [0.8, -1.0]], "Y": [0, 2, 1], "loss": "cross-entropy", "lr": 0.3}
# One sigmoid output with the log loss: the homework's output layer.
BINARY = {"layers": [{"W": [[0.4, -0.6], [0.3, 0.9]], "b": [0.0, 0.1], "activation": "tanh"},
                     {"W": [[0.8], [-0.5]], "b": [0.2], "activation": "logistic"}],
          "X": [[1.0, -0.5], [0.3, 0.8]], "Y": [[1], [0]], "loss": "log", "lr": 0.5}


def written(value, decimals: int = 8) -> str:
    """A value as a student writes it down: rounded, as JSON text."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.{decimals}f}"
    return "[" + ", ".join(written(x, decimals) for x in a) + "]"


def marked(spec, given: dict[str, str]):
    w = walk(parse(spec))
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in given.items()) + "}"
    return w, mark(w, answers(read_answers(text), w))


# mistake -> (spec, the step, the wrong number from the walk's right values `v`), each written out here from the
# mistake's description, not taken from the rules' variants.
DELIBERATE = {
    "slope left out": (MAZUR, "dZ1", lambda v: v["dA1"]),
    "slope at Z, not A": (MAZUR, "dZ1", lambda v: v["dA1"] * v["Z1"] * (1 - v["Z1"])),
    "slope of A, not Z": (MAZUR, "dZ1", lambda v: v["dA1"] * expit(v["A1"]) * (1 - expit(v["A1"]))),
    "sign": (MAZUR, "dA2", lambda v: v["Y"] - v["A2"]),
    "½ forgotten": (MAZUR, "L", lambda v: np.sum((v["A2"] - v["Y"]) ** 2)),
    "dW transposed": (MAZUR, "dW2", lambda v: (v["A1"].T @ v["dZ2"]).T),
    "W not transposed": (MAZUR, "dA1", lambda v: v["dZ2"] @ v["W2"]),
    "updated weights used": (MAZUR, "dA1", lambda v: v["dZ2"] @ (v["W2"] - 0.5 * v["dW2"]).T),
    "bias left out": (MAZUR, "Z1", lambda v: v["X"] @ v["W1"]),
    "sign in the exponent": (MAZUR, "A1", lambda v: 1 / (1 + np.exp(v["Z1"]))),
    "sign of the update": (MAZUR, "W2_new", lambda v: v["W2"] + 0.5 * v["dW2"]),
    "learning rate left out": (MAZUR, "W2_new", lambda v: v["W2"] - v["dW2"]),
    "1/m forgotten": (SOFTMAX, "dZ2", lambda v: v["A2"] - v["Y"]),
    "1/m taken twice": (SOFTMAX, "db2", lambda v: v["dZ2"].sum(axis=0) / 3),
    "bias gradient not summed": (SOFTMAX, "db2", lambda v: v["dZ2"][0]),
    "one-hot left out": (SOFTMAX, "dZ2", lambda v: (v["A2"] - 1) / 3),
    "class number for one-hot": (SOFTMAX, "dZ2", lambda v: (v["A2"] - np.array([[0], [2], [1]])) / 3),
    "ReLU applied to the gradient": (SOFTMAX, "dZ1", lambda v: np.maximum(v["dA1"], 0)),
    "softmax over the batch": (SOFTMAX, "A2", lambda v: np.exp(v["Z2"]) / np.exp(v["Z2"]).sum(axis=0)),
    "σ′ kept beside the log loss": (BINARY, "dZ2", lambda v: (v["A2"] - v["Y"]) * v["A2"] * (1 - v["A2"]) / 2),
    "transposed": (SOFTMAX, "dW1", lambda v: (v["X"].T @ v["dZ1"]).T),
}


def test_every_mistake_of_the_table_is_made_here_and_every_rule_names_a_known_one():
    assert set(DELIBERATE) == set(MISTAKES)
    for spec in (MAZUR, SOFTMAX, BINARY):
        for rule in walk(parse(spec)).rules:
            assert set(rule.variants) <= set(MISTAKES), rule.key


@pytest.mark.parametrize("name", list(DELIBERATE))
def test_each_deliberate_mistake_is_the_first_wrong_step_and_is_named(name):
    spec, key, wrong = DELIBERATE[name]
    w = walk(parse(spec))
    value = wrong(w.values)
    before = [r.key for r in w.rules][: w.keys.index(key)][-3:]  # three right steps before it
    given = {k: written(w.shown(k)) for k in before} | {key: written(value)}
    _, marking = marked(spec, given)
    first = marking.first_wrong
    assert first is not None and first.key == key
    assert first.mistake == name, (first.mistake, name)
    assert all(marking.mark(k).ok for k in before)


def test_a_step_right_from_a_wrong_number_is_carried_and_the_summary_points_to_the_first():
    w = walk(parse(MAZUR))
    v = w.values
    dZ1 = v["dA1"]  # σ′ left out
    dW1 = v["X"].T @ dZ1
    W1_new = v["W1"] - 0.5 * dW1
    _, marking = marked(MAZUR, {"dA1": written(v["dA1"]), "dZ1": written(dZ1), "dW1": written(dW1),
                                "W1_new": written(W1_new), "W2_new": written(v["W2"] + 0.5 * v["dW2"])})
    assert [m.status for m in marking.marks] == ["right", "wrong", "carried", "carried", "wrong"]
    assert marking.first_wrong.key == "dZ1"
    text = summary(marking, w.keys)
    assert "The first wrong step is dZ1" in text and "dW1, W1_new are wrong only because of it" in text
    assert "Also wrong on its own: W2_new" in text


@pytest.mark.parametrize("text, ok", [("0.5933", True), ("0.5932", True), ("0.5931", False), ("0.59", True),
                                      ("0.6", True), ("0.7", False), ("5.933e-1", True), ("0.593269992", True),
                                      ("0.593270500", False)])
def test_a_number_is_checked_to_the_digits_it_was_written_with(text, ok):
    # A1 = 0.593269992...: one unit of the last digit written passes, so rounding and truncating both do
    _, marking = marked(MAZUR, {"A1": f"[{text}, 0.596884378]"})
    assert marking.mark("A1").ok is ok


def test_precision_of_written_numbers():
    assert precision("0.5933") == pytest.approx(1e-4)
    assert precision("4.39e-4") == pytest.approx(1e-6)
    assert precision("12") == 1


def test_rounded_earlier_numbers_carried_on_are_right_not_wrong():
    # A1 rounded to 2 decimals, Z2 then worked to 6 from those: 0.59·0.40 + 0.60·0.45 + 0.6 = 1.106, 9e-5 off the
    # exact 1.105906 — right, because that is what the student's own (right) A1 gives
    _, marking = marked(MAZUR, {"A1": "[0.59, 0.60]", "Z2": "[1.106000, 1.225000]"})
    assert marking.mark("A1").ok and marking.mark("Z2").ok
    _, marking = marked(MAZUR, {"Z2": "[1.106000, 1.225000]"})  # without their A1 the same Z2 is off
    assert not marking.mark("Z2").ok


def test_the_columns_notation_reads_the_courses_dZ_without_the_1_over_m():
    spec = {**SOFTMAX, "convention": "columns", "X": np.array(SOFTMAX["X"]).T.tolist(),
            "layers": [{**layer, "W": np.array(layer["W"]).T.tolist()} for layer in SOFTMAX["layers"]]}
    w = walk(parse(spec))
    A2, Y = w.shown("A2"), w.shown("Y")  # classes × samples
    course = {"dZ2": written(A2 - Y), "dW2": written((A2 - Y) @ w.shown("A1").T / 3),
              "db2": written((A2 - Y).sum(axis=1, keepdims=True) / 3)}
    _, marking = marked(spec, course)
    assert all(m.ok for m in marking.marks), [(m.key, m.status) for m in marking.marks]
    _, marking = marked(spec, {"dZ2": written((A2 - Y) / 3)})  # nnlab's rows habit in a columns course
    assert marking.first_wrong.mistake == "1/m taken twice"


def test_the_json_the_walk_writes_is_read_back_as_answers_all_right():
    w = walk(parse(SOFTMAX))
    raw = read_answers(json.dumps(w.to_json()))
    marking = mark(w, answers(raw, w))
    assert len(marking.marks) == len(w.keys) and all(m.ok for m in marking.marks)


@pytest.mark.parametrize("given, fragment", [
    ({"Z3": "[1]"}, "unknown name 'Z3'; the names are Z1, A1"),
    ({"dw2": "[1]"}, "unknown name 'dw2' (did you mean 'dW2'?)"),
    ({"W1": "[[1, 2], [3, 4]]"}, "write the updated weights as W1_new"),
    ({"A1": "[0.5, \"x\"]"}, "A1 is ragged or holds something that is not a number"),
    ({}, "holds no answers"),
])
def test_bad_answers_say_what_is_wrong(given, fragment):
    with pytest.raises(NNLabError, match=re.escape(fragment)):
        marked(MAZUR, given)


def test_a_wrong_shape_is_marked_and_a_transpose_named():
    w = walk(parse(SOFTMAX))
    _, marking = marked(SOFTMAX, {"dW1": written(w.values["dW1"].T)})
    first = marking.first_wrong
    assert first.status == "shape" and first.mistake == "transposed"
    _, marking = marked(SOFTMAX, {"dW1": "[[1, 2, 3, 4]]"})
    assert marking.first_wrong.status == "shape" and marking.first_wrong.mistake is None
