"""The report's "Poke the network" section: the page's JavaScript forward pass agrees with NumPy and
PyTorch, a dragged point and a drawn stroke (real mouse events) show the right probabilities, and nothing
from the data can break out of the page's script."""

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnlab import runs
from nnlab.cli import build_parser
from nnlab.cli.train import make_config
from nnlab.data.dataset import make_dataset
from nnlab.models.nets import CNN, MLP
from nnlab.scratch.network import Network
from nnlab.training import job
from nnlab.viz import poke
from nnlab.viz.render import render_run
from tests.viz.browser import Browser, needs_chromium

HIDDEN = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh, "logistic": lambda Z: (1 + np.tanh(Z / 2)) / 2,
          "identity": lambda Z: Z}


def numpy_forward(net: poke.Dense, X: np.ndarray) -> np.ndarray:
    """Probabilities of the dense network in float64: the reference the page must meet."""
    A = np.asarray(X, np.float64)
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        A = A @ W.astype(np.float64) + b
        if l < len(net.W) - 1:
            A = HIDDEN[net.activation](A)
    if net.binary:
        p = 1 / (1 + np.exp(-A[:, 0]))
        return np.c_[1 - p, p]
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def test_an_mlp_is_poked_with_its_batch_norm_folded_in_and_dropout_off():
    torch.manual_seed(0)
    model = MLP(5, [6, 4], 3, dropout=0.5, batch_norm=True)
    with torch.no_grad():  # running statistics and affine parameters far from their identity start
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-2, 2)
                m.running_var.uniform_(0.2, 3)
                m.weight.uniform_(0.5, 2)
                m.bias.uniform_(-1, 1)
    model.eval()
    net = poke.dense_network(model)
    assert [W.shape for W in net.W] == [(5, 6), (6, 4), (4, 3)] and not net.binary
    X = np.random.default_rng(0).normal(size=(50, 5)).astype(np.float32)
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(numpy_forward(net, X), expected, atol=1e-6)


def test_a_cnn_or_plain_features_are_listed_as_not_shown_and_why():
    ds = make_dataset("tab", np.random.rand(20, 3), np.arange(20) % 2, np.random.rand(6, 3), np.arange(6) % 2,
                      ("a", "b"))
    html, why = poke.section(Network.create([3, 4, 1], np.random.default_rng(0)), ds)
    assert html == "" and "3 plain features" in why
    images = make_dataset("img", np.random.rand(20, 1, 8, 8), np.arange(20) % 2, np.random.rand(6, 1, 8, 8),
                          np.arange(6) % 2, ("a", "b"), image_shape=(1, 8, 8))
    cnn = CNN((1, 8, 8), [4], 2)
    html, why = poke.section(cnn, images)
    assert html == "" and "CNN" in why and "dense networks only" in why


def points_dataset(classes=("left", "right")):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) * [3.0, 0.5] + [10.0, -4.0]
    y = (X[:, 0] > 10).astype(int)
    return make_dataset("pts", X[:40], y[:40], X[40:], y[40:], classes)


def test_a_network_over_the_size_limit_says_the_limit_and_embeds_nothing(monkeypatch):
    net = Network.create([2, 8, 1], np.random.default_rng(0))
    monkeypatch.setattr(poke, "MAX_PARAMETERS", 20)
    html, why = poke.section(net, points_dataset())
    assert why is None and "33 parameters" in html and "up to 20" in html
    assert "poke-data" not in html and "<script" not in html


HOSTILE = ("</script><script>window.pwned = 1</script>", "<!-- \u2028 & </SCRIPT >")


def test_the_embedded_json_cannot_end_its_script_element():
    text = poke.script_json({"classes": list(HOSTILE)})
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"classes": list(HOSTILE)}
    net = Network.create([2, 4, 1], np.random.default_rng(0))
    html, _ = poke.section(net, points_dataset(HOSTILE))
    assert html.lower().count("</script") == 2 and "pwned = 1</script>" not in html


def test_the_section_is_in_the_report_with_a_contents_link(moons_run):
    html = (moons_run / "report.html").read_text()
    assert '<section id="poke">' in html and '<a href="#poke">Poke the network</a>' in html
    assert html.index('id="figures"') < html.index('id="poke"') < html.index('id="settings"')


# ---- in the browser ------------------------------------------------------------------------------------

def trained(tmp_path_factory, name: str, *argv: str, report: bool = True):
    """(run, engine, dataset as trained on, test probabilities) of `nnlab train ARGV`, its report written."""
    config = make_config(build_parser().parse_args(["train", *argv]))
    run = job.train(config, tmp_path_factory.mktemp(name), name, quiet=True, report=render_run if report else None)
    record, engine = job.load_run(run)
    splits = job.load_splits(record.settings)
    ds = replace(splits.data, X_train=splits.X_train, y_train=splits.y_train)
    return run, engine, ds, engine.predict_proba(ds.X_test)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def moons(tmp_path_factory):
    return trained(tmp_path_factory, "moons", "scratch", "--data", "moons", "--hidden", "16,8", "--epochs", "40")


@pytest.fixture(scope="module")
def moons_tanh(tmp_path_factory):
    return trained(tmp_path_factory, "moons-tanh", "scratch", "--data", "moons", "--hidden", "16,8", "--epochs",
                   "40", "--activation", "tanh")


@pytest.fixture(scope="module")
def digits_logistic(tmp_path_factory):
    return trained(tmp_path_factory, "digits-logistic", "scratch", "--data", "digits", "--hidden", "32,16",
                   "--epochs", "8", "--activation", "logistic")


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return trained(tmp_path_factory, "digits", "scratch", "--data", "digits", "--hidden", "32,16", "--epochs", "8")


def open_report(browser, run) -> None:
    browser.open((run / "report.html").as_uri(), "window.nnlabPoke")


def shown(browser) -> np.ndarray:
    """The probabilities the page displays, read from its bars."""
    return np.array(browser.js("[...document.querySelectorAll('#poke .poke-bar')].map(r => +r.dataset.p)"))


def rect(browser, selector: str) -> list[float]:
    """The element's box in the viewport, scrolled into view first (mouse events take viewport points)."""
    return browser.js(f"(() => {{ const e = document.querySelector({selector!r}); e.scrollIntoView(); "
                      "const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")


@needs_chromium
@pytest.mark.parametrize("which", ["moons", "digits", "moons_tanh", "digits_logistic"])
def test_the_page_predicts_what_numpy_predicts_on_test_samples(which, browser, request):
    run, engine, ds, P = request.getfixturevalue(which)
    open_report(browser, run)
    X = ds.X_test[:300]
    page = np.array(browser.js(f"nnlabPoke.predict({json.dumps(X.tolist())})"))
    assert page.shape == P[:300].shape
    np.testing.assert_allclose(page, P[:300], atol=1e-5, rtol=0)                     # the engine, float32
    np.testing.assert_allclose(page, numpy_forward(poke.dense_network(engine.net), X), atol=1e-9, rtol=0)
    assert browser.js("window.pwned") is None


@needs_chromium
def test_a_dragged_point_shows_numpys_probability_for_where_it_was_dropped(moons, browser, tmp_path):
    run, engine, ds, _ = moons
    browser.open((run / "report.html").as_uri(), "window.nnlabPoke && nnlabPoke.state().gridDone")
    before = shown(browser)
    left, top, width, height = rect(browser, "#poke-app canvas")
    assert width == height == 442                                       # square, never stretched by its column
    path = [(0.5, 0.5), (0.6, 0.45), (0.7, 0.4), (0.78, 0.3)]       # fractions of the plane
    for k, (fx, fy) in enumerate(path):
        kind = "pressed" if k == 0 else "moved"
        browser.mouse(kind, left + fx * width, top + fy * height)
    browser.mouse("released", left + path[-1][0] * width, top + path[-1][1] * height)
    state = browser.js("nnlabPoke.state()")
    lo, hi = np.array(browser.js("JSON.parse(document.getElementById('poke-data').textContent).lo")), \
        np.array(browser.js("JSON.parse(document.getElementById('poke-data').textContent).hi"))
    dropped = lo + (hi - lo) * np.array([0.78, 1 - 0.3])                # the plane's y axis points up
    np.testing.assert_allclose(state["point"], dropped, atol=2e-3 * (hi - lo).max())
    x = ds.scaler.transform(np.array([state["point"]]))                  # the page scales as training did
    np.testing.assert_allclose(state["input"], x[0], atol=1e-5)
    np.testing.assert_allclose(shown(browser), engine.predict_proba(x)[0], atol=1e-5, rtol=0)
    assert not np.allclose(shown(browser), before)
    hidden = engine.net.W[0].T @ x[0] + engine.net.b[0]
    np.testing.assert_allclose(state["hidden"][0], np.maximum(hidden, 0), atol=1e-5)


@needs_chromium
def test_a_stroke_drawn_with_the_mouse_shows_numpys_probabilities(digits, browser):
    run, engine, ds, _ = digits
    open_report(browser, run)
    browser.js("nnlabPoke.clear()")
    left, top, width, height = rect(browser, "#poke-app canvas")
    stroke = [(2.0, 1.5), (5.5, 1.5), (5.0, 4.0), (3.5, 6.5)]          # a 7, in 8x8 image pixels
    at = [(left + x / 8 * width, top + y / 8 * height) for x, y in stroke]
    browser.mouse("pressed", *at[0])
    for point in at[1:]:
        browser.mouse("moved", *point)
    browser.mouse("released", *at[-1])
    state = browser.js("nnlabPoke.state()")
    pixels = np.array(state["pixels"]).reshape(8, 8)
    for x, y in stroke:
        assert pixels[int(y), int(x)] > 0.9                              # the pen went where the mouse did
    assert pixels[7, 7] == 0 and 6 < pixels.sum() < 40
    x = ds.scaler.transform(pixels.reshape(1, -1) * ds.scaler.pixel_max)
    np.testing.assert_allclose(state["input"], x[0], atol=1e-6)
    np.testing.assert_allclose(shown(browser), engine.predict_proba(x)[0], atol=1e-5, rtol=0)
    top_units = np.argsort(-np.maximum(x[0] @ engine.net.W[0] + engine.net.b[0], 0))[:3]
    assert [int(t.split()[1]) for t in state["top"][:3]] == top_units.tolist()


@needs_chromium
def test_an_mlp_with_batch_norm_and_dropout_matches_pytorch_in_the_page(tmp_path_factory, browser):
    run, engine, ds, P = trained(tmp_path_factory, "mlp", "mlp", "--data", "digits", "--hidden", "48,24",
                                 "--epochs", "2", "--batch-norm", "--dropout", "0.3", report=False)
    html, why = poke.section(engine.torch_model(), ds, P)
    page = run / "poke.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><body>{html}</body>")
    browser.open(page.as_uri(), "window.nnlabPoke")
    probs = np.array(browser.js(f"nnlabPoke.predict({json.dumps(ds.X_test[:300].tolist())})"))
    np.testing.assert_allclose(probs, P[:300], atol=1e-5, rtol=0)


@needs_chromium
def test_hostile_class_names_show_as_text_and_run_nothing(tmp_path, browser):
    net = Network.create([2, 4, 1], np.random.default_rng(0))
    html, _ = poke.section(net, points_dataset(HOSTILE))
    page = tmp_path / "hostile.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><body><section id=\"poke\">{html}</section></body>")
    browser.open(page.as_uri(), "window.nnlabPoke")
    assert browser.js("window.pwned") is None
    names = browser.js("[...document.querySelectorAll('#poke .poke-bar span.t')].map(s => s.textContent)")
    assert names == list(HOSTILE)


def test_a_wheel_carries_the_script():
    import fnmatch
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["nnlab.viz"]
    assert any(fnmatch.fnmatch(poke.SCRIPT.name, p) for p in patterns) and poke.SCRIPT.is_file()


@needs_chromium
def test_a_tanh_networks_units_are_shown_signed_and_its_health_caption_tells_the_vanishing_gradient(moons_tanh,
                                                                                                  browser):
    run, engine, *_ = moons_tanh
    assert engine.net.activation == "tanh"
    open_report(browser, run)
    titles = browser.js("[...document.querySelectorAll('#poke-app h4')].map(h => h.textContent)")
    assert any("Hidden layer 1 (tanh):" in t and "above 0, red" in t for t in titles), titles
    html = (run / "report.html").read_text()
    last = [h["health"] for h in runs.read_metrics(run) if h.get("health")][-1]
    first, out = last["dense1"]["grad_norm"], last["dense3"]["grad_norm"]
    assert "the vanishing gradient" in html and f"{first:.3g}, {first / out:.3g} times" in html
    assert "not measured for tanh units" in html
