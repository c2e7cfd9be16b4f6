"""The walk behind `nnlab explain`: its numbers are network.py's, its code lines are network.py's, and its
finite-difference checks are real ones."""

import functools
import importlib.util
import inspect
import io
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest

from nnlab.errors import NNLabError
from nnlab.scratch.gradcheck import make_problem
from nnlab.scratch.network import LOSSES, Workspace, backward, forward, probabilities
from nnlab.scratch.walk import CODE, source_line, walk

ROOT = Path(__file__).resolve().parents[2]
CASES = [((5, 4), 2, "log"), ((5, 4), 2, "mse"), ((3,), 2, "log"), ((), 2, "log"), ((6, 5, 4), 3, "log"),
         ((4,), 5, "log")]


def problem(hidden, n_classes, m=4):
    net, X, y = make_problem(list(hidden), n_classes, seed=0, m=m)
    return net, X, y


@pytest.mark.parametrize("hidden, n_classes, loss", CASES)
def test_every_number_equals_the_networks_own_forward_and_backward(hidden, n_classes, loss):
    net, X, y = problem(hidden, n_classes)
    w = walk(net, X, y, loss)
    ws = Workspace.create(net, len(X))  # network.py's pass, made here independently of the walk
    Z_out = forward(net, X, ws).copy()
    backward(net, X, y, ws, 0.0, loss)
    L = len(net.W)
    close = {"rtol": 0, "atol": 1e-12}
    for l in range(L - 1):
        np.testing.assert_allclose(w.step(f"A{l + 1}").value, ws.A[l], **close)
        A_prev = X if l == 0 else ws.A[l - 1]
        np.testing.assert_allclose(w.step(f"Z{l + 1}").value, A_prev @ net.W[l] + net.b[l], **close)
        np.testing.assert_allclose(w.step(f"mask{l + 1}").value, ws.A[l] > 0, **close)
    np.testing.assert_allclose(w.step(f"Z{L}").value, Z_out, **close)
    np.testing.assert_allclose(w.step(f"A{L}").value, probabilities(Z_out, net.binary), **close)
    assert w.step("L").value[0, 0] == pytest.approx(LOSSES[loss].value(Z_out, y, net.binary), abs=1e-12)
    for l in range(L):
        np.testing.assert_allclose(w.step(f"dZ{l + 1}").value, ws.dZ[l], **close)
        np.testing.assert_allclose(w.step(f"dW{l + 1}").value, ws.dW[l], **close)
        np.testing.assert_allclose(w.step(f"db{l + 1}").value[0], ws.db[l], **close)
        if l < L - 1:
            np.testing.assert_allclose(w.step(f"dA{l + 1}").value, ws.dZ[l + 1] @ net.W[l + 1].T, **close)
    # and in the order of the derivation: forward, the loss, then dZ3, dW3, db3, dA2, mask2, dZ2, ...
    keys = [s.key for s in w.steps]
    assert keys[:2 * L] == [k for l in range(1, L + 1) for k in (f"Z{l}", f"A{l}")] and keys[2 * L] == "L"
    assert keys[2 * L + 1:2 * L + 4] == [f"dZ{L}", f"dW{L}", f"db{L}"] and keys[-2:] == ["dW1", "db1"]
    assert all(s.network_difference is None or s.network_difference <= 1e-12 for s in w.steps)


def test_each_steps_code_is_the_line_of_network_py_it_names():
    net, X, y = problem((5, 4), 2)
    lines = (ROOT / "src/nnlab/scratch/network.py").read_text().splitlines()
    expected = {"Z": "product(A_prev, W, out=Z)", "A1": "np.maximum(Z, 0, out=Z)", "dW": "product(A_prev.T, dZ",
                "db": "np.sum(dZ, axis=0", "dA": "product(dZ, net.W[l].T", "mask": "np.greater",
                "dZ2": "np.multiply(dA", "dZ3": "dZ *= 1.0 / m", "L": "np.log1p", "A3": "sigmoid(Z_out, out)"}
    w = walk(net, X, y)
    for step in w.steps:
        assert step.code, step.key
        for c in step.code:
            assert c.file == "scratch/network.py" and lines[c.number - 1].strip() == c.text, (step.key, c)
        wanted = next((v for k, v in expected.items() if step.key.startswith(k) and k[-1].isdigit() == (k == step.key)
                       or step.key == k), None)
        assert wanted is None or any(wanted in c.text for c in step.code), (step.key, wanted, step.code)
    optim = (ROOT / "src/nnlab/scratch/optim.py").read_text().splitlines()
    assert optim[w.update_code.number - 1].strip() == w.update_code.text == "p -= lr * g"


def test_every_anchor_names_one_line_of_its_function():
    """Each (function, statement) of CODE resolves, here rather than in a user's `nnlab explain`, to the line
    of that function that holds the statement."""
    for equation, anchors in CODE.items():
        for function, statement in anchors:
            found = source_line(function, statement)
            lines, first = inspect.getsourcelines(function)
            assert first <= found.number < first + len(lines), (equation, function.__qualname__, found)
            code = found.text.split("#")[0]
            assert "".join(statement.split()) in "".join(code.split()), (equation, statement, found)
            file = ROOT / "src/nnlab" / found.file
            assert file.read_text().splitlines()[found.number - 1].strip() == found.text


def test_an_anchor_that_matches_no_line_or_several_is_an_error():
    with pytest.raises(NNLabError, match=r"'dZ -= 2 \* Y' is on 0 lines of backward"):
        source_line(backward, "dZ -= 2 * Y")
    with pytest.raises(NNLabError, match="is on [2-9] lines of forward, not one"):
        source_line(forward, "Z")  # the name alone is in several statements


def _reworded(module, tmp_path: Path, monkeypatch):
    """A copy of `module` with a line added on top and every comment reworded, imported under a new name."""
    source = inspect.getsource(module)
    lines = source.splitlines(keepends=True)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not token.string.startswith("# noqa"):
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col] + "# reworded\n"
    name = "reworded_" + module.__name__.rsplit(".", 1)[-1]
    path = tmp_path / f"{name}.py"
    path.write_text("# a line more above everything\n" + "".join(lines))
    spec = importlib.util.spec_from_file_location(name, path)
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, copy)  # dataclasses and inspect look modules up here
    spec.loader.exec_module(copy)
    return copy


def test_rewording_the_comments_moves_no_anchor(tmp_path, monkeypatch):
    """Anchors are statements in functions: a reworded comment and a line added above leave each on its
    statement, one line lower."""
    copies = {}
    for equation, anchors in CODE.items():
        for function, statement in anchors:
            module = sys.modules[function.__module__]
            if module not in copies:
                copies[module] = _reworded(module, tmp_path, monkeypatch)
            twin = functools.reduce(getattr, function.__qualname__.split("."), copies[module])
            original, moved = source_line(function, statement), source_line(twin, statement)
            assert moved.number == original.number + 1, (equation, statement)
            assert moved.text.split("#")[0] == original.text.split("#")[0], (equation, statement)
            assert "#" not in original.text or moved.text.endswith("# reworded"), (equation, moved)
    assert len(copies) == 2  # network.py and optim.py


def test_the_finite_difference_checks_are_real_ones(monkeypatch):
    """Break backward (drop the ReLU mask): the walk's own equations still hold, but its finite-difference
    checks of network.py's gradients must fail, and its comparison with network.py must show the gap."""
    import nnlab.scratch.network as network

    net, X, y = problem((5, 4), 2)
    good = walk(net, X, y)
    assert good.checks_passed and all(len(s.checks) >= 1 for s in good.steps if s.key[:2] in ("dW", "db"))
    monkeypatch.setattr(network.np, "greater", lambda a, b, out: out.fill(True) or out)
    bad = walk(net, X, y)
    assert not bad.checks_passed
    assert not all(c.passed for c in bad.step("dW1").checks)
    assert bad.step("dW1").network_difference > 1e-6
    for step in bad.steps:  # the equations themselves do not depend on network.py's backward
        np.testing.assert_array_equal(step.value, good.step(step.key).value)


def test_finite_differences_agree_with_the_numbers_they_check():
    net, X, y = problem((5, 4), 2)
    w = walk(net, X, y, fd_entries=4)
    for step in w.steps:
        for c in step.checks:
            shown = step.value[c.index] if step.key.startswith("dW") else step.value[0][c.index]
            assert c.analytic == pytest.approx(shown, abs=1e-12)
            assert c.numeric == pytest.approx(c.analytic, rel=1e-6, abs=1e-10)
        assert len(step.checks) == (0 if not step.key.startswith(("dW", "db")) else min(4, step.value.size))


@pytest.mark.parametrize("loss", ["log", "mse"])
def test_the_step_lowers_the_loss_and_the_first_order_forecast_holds_for_a_small_lr(loss):
    net, X, y = problem((5, 4), 2)
    w = walk(net, X, y, loss, lr=0.1)
    assert w.loss_after < w.loss_before
    tiny = walk(net, X, y, loss, lr=1e-4)
    assert tiny.loss_after - tiny.loss_before == pytest.approx(tiny.predicted_change, rel=1e-2)
    # the update is θ − lr·dθ with network.py's gradients
    for name, before, after in w.update:
        step = w.step(f"d{name}")
        np.testing.assert_allclose(after, before - 0.1 * step.network.reshape(before.shape), rtol=0, atol=1e-15)


def test_walk_leaves_the_network_alone():
    net, X, y = problem((5, 4), 2)
    theta = net.theta.copy()
    walk(net, X, y)
    np.testing.assert_array_equal(net.theta, theta)


def test_a_difference_across_a_relu_kink_is_marked_not_failed():
    """A hidden unit's Z within h of 0 for one sample: the central difference of a weight into it straddles the
    corner of the loss. That check is marked as at a kink (not a derivative), and only that kind of check."""
    from nnlab.scratch.network import Workspace, backward, forward
    from nnlab.scratch.walk import FD_STEP, _as64, _fd_checks

    net, X, y = problem((5, 4), 2)
    net, X = _as64(net), X.astype(np.float64)
    Z = X @ net.W[0] + net.b[0]
    net.b[0][0] -= Z[0, 0] - FD_STEP / 10  # unit 1 of sample 1 sits 1e-6 above its kink
    ws = Workspace.create(net, len(X))
    forward(net, X, ws)
    backward(net, X, y, ws, 0.0, "log")
    g = ws.dW[0].copy()
    checks = _fd_checks(net, net.W[0], g, X, y, "log", g.size, np.random.default_rng(0))
    into_unit_1 = [c for c in checks if c.index[1] == 0 and X[0, c.index[0]] != 0]
    assert into_unit_1 and all(c.kink for c in into_unit_1)
    assert not any(c.kink for c in checks if c.index[1] != 0)
    assert not any(c.failed for c in checks)
