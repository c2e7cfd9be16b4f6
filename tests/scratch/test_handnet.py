"""A network written down by hand (scratch/handnet.py): a published worked example's numbers, every quantity
against PyTorch autograd, the columns notation, --steps."""

import numpy as np
import pytest
import torch

from nnlab.errors import NNLabError
from nnlab.scratch.handnet import ACTIVATIONS, LOSSES, parse, walk

# Matt Mazur, "A Step by Step Backpropagation Example" (2015-03-17),
# https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/ — w1..w8 are his weights:
# net_h1 = w1·i1 + w2·i2 + b1, so in nnlab's rows (W inputs × units) W1 = [[w1, w3], [w2, w4]].
MAZUR = {"layers": [{"W": [[0.15, 0.25], [0.20, 0.30]], "b": [0.35, 0.35], "activation": "logistic"},
                    {"W": [[0.40, 0.50], [0.45, 0.55]], "b": [0.60, 0.60], "activation": "logistic"}],
         "X": [[0.05, 0.10]], "Y": [[0.01, 0.99]], "loss": "mse", "lr": 0.5}


def digits(printed: float) -> float:
    """Within half a unit of the last digit printed."""
    text = repr(printed)
    return 0.5 * 10.0 ** -len(text.partition(".")[2]) * (1 + 1e-9)


def test_mazur_worked_example_to_the_digits_printed_there():
    w = walk(parse(MAZUR))
    v = w.values
    printed = [  # (our value, his number)
        (v["Z1"][0, 0], 0.3775), (v["A1"][0, 0], 0.593269992), (v["A1"][0, 1], 0.596884378),
        (v["Z2"][0, 0], 1.105905967), (v["A2"][0, 0], 0.75136507), (v["A2"][0, 1], 0.772928465),
        (v["L"][0, 0], 0.298371109),
        (v["dW2"][0, 0], 0.082167041),  # ∂E_total/∂w5
        (v["dW1"][0, 0], 0.000438568),  # ∂E_total/∂w1
        # the updated weights w5+ ... w8+, w1+ ... w4+
        (v["W2_new"][0, 0], 0.35891648), (v["W2_new"][1, 0], 0.408666186),
        (v["W2_new"][0, 1], 0.511301270), (v["W2_new"][1, 1], 0.561370121),
        (v["W1_new"][0, 0], 0.149780716), (v["W1_new"][1, 0], 0.19956143),
        (v["W1_new"][0, 1], 0.24975114), (v["W1_new"][1, 1], 0.29950229),
    ]
    for ours, his in printed:
        assert abs(ours - his) <= digits(his), (ours, his)
    # His error after the first update, 0.291027924, keeps the biases where they were (he updates only w1..w8).
    # It agrees to 6 decimals, not 9: from his own printed weights the error is 0.2910277737 too (1.5e-7 below his
    # figure, which came from his script), so the last digits of that one number are his, not ours.
    frozen = parse({**MAZUR, "layers": [{**layer, "W": v[f"W{n}_new"].tolist()}
                                        for n, layer in enumerate(MAZUR["layers"], 1)]})
    assert abs(walk(frozen).losses[0] - 0.291027924) <= digits(0.291028)
    assert all(c.passed for c in w.checks) and len(w.checks) == 12


def _autograd(spec):
    """Every Z, A, the loss and every gradient (dZ, dA, dW, db) by PyTorch autograd, float64."""
    net = parse(spec)
    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in zip(net.W, net.b)]
    A = torch.tensor(net.X)
    Y = torch.tensor(net.Y)
    got = {}
    torch_g = {"relu": torch.relu, "logistic": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z,
               "softmax": lambda z: torch.softmax(z, dim=1)}
    for n, ((W, b), act) in enumerate(zip(params, net.activations), 1):
        Z = A @ W + b
        A = torch_g[act](Z)
        Z.retain_grad()
        A.retain_grad()
        got[f"Z{n}"], got[f"A{n}"] = Z, A
    if net.loss == "mse":
        L = torch.nn.functional.mse_loss(A, Y, reduction="sum") / 2 / len(Y)
    elif net.loss == "log":
        L = torch.nn.functional.binary_cross_entropy_with_logits(got[f"Z{net.depth}"], Y, reduction="sum") / len(Y)
    else:
        L = torch.nn.functional.cross_entropy(got[f"Z{net.depth}"], Y, reduction="mean")
    L.backward()
    out = {"L": np.array([[L.item()]])}
    for k, t in got.items():
        out[k] = t.detach().numpy()
        if t.grad is not None:
            out[f"d{k}"] = t.grad.numpy()
    for n, (W, b) in enumerate(params, 1):
        out[f"dW{n}"], out[f"db{n}"] = W.grad.numpy(), b.grad.numpy()
    return out


def _random_spec(rng, sizes, hidden, output, loss, m=3):
    layers = [{"W": rng.normal(0, 0.8, (a, b)).tolist(), "b": rng.normal(0, 0.3, b).tolist(), "activation": hidden}
              for a, b in zip(sizes[:-2], sizes[1:-1])]
    layers.append({"W": rng.normal(0, 0.8, sizes[-2:]).tolist(), "b": rng.normal(0, 0.3, sizes[-1]).tolist(),
                   "activation": output})
    k = sizes[-1]
    if loss == "cross-entropy":
        Y = np.eye(k)[rng.integers(0, k, m)]
    elif loss == "log":
        Y = rng.integers(0, 2, (m, k)).astype(float)
    else:
        Y = rng.normal(0, 1, (m, k))
    return {"layers": layers, "X": rng.normal(0, 1, (m, sizes[0])).tolist(), "Y": Y.tolist(), "loss": loss, "lr": 0.1}


CASES = [(hidden, output, loss) for hidden in ("relu", "logistic", "tanh", "identity")
         for output, loss in (("logistic", "log"), ("softmax", "cross-entropy"), ("identity", "mse"),
                              ("logistic", "mse"), ("tanh", "mse"), ("relu", "mse"))]


@pytest.mark.parametrize("hidden, output, loss", CASES)
def test_every_quantity_equals_autograd_in_float64(hidden, output, loss):
    rng = np.random.default_rng(len(hidden) * 7 + len(output) + len(loss))
    spec = _random_spec(rng, [3, 4, 3, 2], hidden, output, loss)
    w = walk(parse(spec))
    ref = _autograd(spec)
    compared = 0
    for key, value in w.values.items():
        if key in ref:
            np.testing.assert_allclose(value.reshape(ref[key].shape), ref[key], rtol=1e-12, atol=1e-14, err_msg=key)
            compared += 1
    assert compared >= 17  # Z1-3, A1-3, L, dZ1-3, dA1-2 (dA3 with mse), dW1-3, db1-3
    assert all(c.passed for c in w.checks)


def test_every_activation_and_loss_is_covered():
    assert {h for h, _, _ in CASES} | {o for _, o, _ in CASES} == set(ACTIVATIONS)
    assert {lo for _, _, lo in CASES} == set(LOSSES)


def test_the_columns_notation_is_the_rows_one_transposed_with_the_m_in_dZ():
    rng = np.random.default_rng(3)
    spec = _random_spec(rng, [2, 3, 2], "tanh", "softmax", "cross-entropy", m=4)
    rows = walk(parse(spec))
    cols_spec = {**spec, "convention": "columns", "X": np.array(spec["X"]).T.tolist(),
                 "Y": np.array(spec["Y"]).T.tolist(),
                 "layers": [{**layer, "W": np.array(layer["W"]).T.tolist()} for layer in spec["layers"]]}
    cols = walk(parse(cols_spec))
    np.testing.assert_array_equal(cols.values["dW1"], rows.values["dW1"])  # the same arithmetic inside
    m = 4
    np.testing.assert_allclose(cols.shown("dZ2"), m * rows.values["dZ2"].T)  # dZ2 = A2 − Y, no 1/m
    np.testing.assert_allclose(cols.shown("dW1"), rows.values["dW1"].T)
    np.testing.assert_allclose(cols.shown("db1").ravel(), rows.values["db1"])
    assert cols.shown("db1").shape == (3, 1) and cols.shown("Z1").shape == (3, m)
    # the course's own formulas, from the columns values: dW = (1/m)·dZ·Aᵀ, db = (1/m)·Σ dZ
    np.testing.assert_allclose(cols.shown("dW2"), cols.shown("dZ2") @ cols.shown("A1").T / m)
    np.testing.assert_allclose(cols.shown("db2").ravel(), cols.shown("dZ2").sum(axis=1) / m)
    assert cols.to_json()["gradients"]["W1"] == cols.shown("dW1").tolist()


def test_steps_repeat_the_step_and_the_loss_falls():
    w = walk(parse(MAZUR), steps=25)
    assert len(w.losses) == 26 and all(b < a for a, b in zip(w.losses, w.losses[1:]))
    # step 2 from step 1's weights, by hand
    once = walk(parse(MAZUR))
    again = parse({**MAZUR, "layers": [{"W": once.values[f"W{n}_new"].tolist(), "b": once.values[f"b{n}_new"].tolist(),
                                        "activation": "logistic"} for n in (1, 2)]})
    assert walk(again).losses[1] == w.losses[2]
    assert w.to_json()["after_steps"]["W1"] == w.final["W1"].tolist()


def test_flat_targets_of_one_sample_or_one_output_in_both_notations():
    assert parse({**MAZUR, "Y": [0.01, 0.99]}).Y.tolist() == [[0.01, 0.99]]
    one_output = {"layers": [{"W": [[1.0, 2.0]], "b": [0], "activation": "logistic"}], "X": [[1, 2], [3, 4]],
                  "Y": [1, 0], "loss": "log", "convention": "columns"}
    net = parse(one_output)
    assert net.Y.tolist() == [[1], [0]] and net.X.tolist() == [[1, 3], [2, 4]]  # samples were columns
    with pytest.raises(NNLabError, match="Y has 3 numbers but must be 1×2"):
        parse({**MAZUR, "Y": [0.01, 0.99, 3]})


def test_class_numbers_are_one_hot_rows_for_cross_entropy():
    spec = {"layers": [{"W": [[1.0, -1.0, 0.5]], "b": [0, 0, 0], "activation": "softmax"}], "X": [[1.0], [2.0]],
            "Y": [2, 0], "loss": "cross-entropy", "lr": 1}
    np.testing.assert_array_equal(parse(spec).Y, [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("change, fragment", [
    ({"X": [[0.05, 0.10], [0.2]]}, "X is ragged"),
    ({"X": [[0.05, float("nan")]]}, "X holds NaN"),
    ({"layers": [{"W": [[0.15, 0.25]], "b": [0.35, 0.35], "activation": "logistic"}]},
     "layers[0].W is 1×2 but X has 2 features: W is inputs × units"),
    ({"layers": [MAZUR["layers"][0], {"W": [[0.4, 0.5, 0.6], [0.45, 0.55, 0.6], [1, 1, 1]], "b": [0, 0, 0],
                                      "activation": "logistic"}]}, "layers[1].W is 3×3 but layers[0] has 2 units"),
    ({"layers": [{**MAZUR["layers"][0], "activation": "sigmoid"}, MAZUR["layers"][1]]},
     "unknown activation in layers[0] 'sigmoid'"),
    ({"layers": [{**MAZUR["layers"][0], "b": [0.35]}, MAZUR["layers"][1]]}, "layers[0].b has 1 entries"),
    ({"loss": "log", "Y": [[0.01, 1.5]]}, "needs targets between 0 and 1"),
    ({"loss": "cross-entropy"}, "does not go with a logistic output"),
    ({"loss": "squared"}, "unknown loss 'squared'"),
    ({"lr": -1}, "lr must be a number greater than 0"),
    ({"Y": [[0.01, 0.99, 0.5]]}, "Y is 1×3 but must be 1×2"),
    ({"convention": "cols"}, "unknown convention 'cols' (did you mean 'columns'?)"),
    ({"layer": []}, "unknown field 'layer' (did you mean 'layers'?)"),
    ({"layers": [{**MAZUR["layers"][0], "activation": "softmax"}, MAZUR["layers"][1]]}, "softmax is for the output"),
])
def test_bad_specs_name_the_field_and_the_fix(change, fragment):
    with pytest.raises(NNLabError) as e:
        parse({**MAZUR, **change})
    assert fragment in str(e.value)


def test_columns_shape_error_speaks_columns():
    with pytest.raises(NNLabError, match=r"units × inputs \(Z = W·A \+ b, the columns convention\)"):
        parse({**MAZUR, "convention": "columns", "X": [[0.05], [0.10]],
               "layers": [{"W": [[0.15, 0.25, 1]], "b": [0.35], "activation": "logistic"}]})
