"""The report's "Train it here" section: the page's backprop and optimiser steps (learn.js) agree with NumPy's
network.py and with torch.optim in float64; its training loop takes EpochRunner's steps; the page, trained
from the run's own start, reaches the run's test accuracy; reset replays the same run; the buttons and keys
work; nothing from the data can break out of the page's script."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nnlab import runs
from nnlab.cli import build_parser
from nnlab.cli.train import make_config
from nnlab.scratch.network import Network, Workspace, backward, forward, l2_penalty, log_loss, squared_error
from nnlab.scratch.optim import make_optimizer
from nnlab.scratch.train import EpochRunner
from nnlab.training.schedules import learning_rate
from nnlab.viz import learn
from tests.viz.browser import Browser, needs_chromium
from tests.viz.test_poke import HOSTILE, points_dataset, trained


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("profile"), width=1100)
    yield b
    b.close()


@pytest.fixture(scope="module")
def engine_page(tmp_path_factory, browser):
    """A bare page holding learn.js alone: the math, without a run around it."""
    page = tmp_path_factory.mktemp("learn") / "learn.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><script>{learn.SCRIPTS[0].read_text()}</script>")
    browser.open(page.as_uri(), "window.nnlabLearn")
    return page


def numpy_gradients(net: Network, X: np.ndarray, y: np.ndarray, alpha: float,
                    loss: str = "log") -> tuple[np.ndarray, float]:
    """network.py's backward in float64: the flat gradient (laid out like theta) and the loss + L2 term."""
    ws = Workspace.create(net, len(X))
    Z_out = forward(net, X, ws)
    value = (squared_error if loss == "mse" else log_loss)(Z_out, y, net.binary) + l2_penalty(net, alpha, len(X))
    backward(net, X, y, ws, alpha, loss)
    return ws.grad.copy(), value


@needs_chromium
@pytest.mark.parametrize("sizes, alpha, loss, activation", [
    ([2, 5, 1], 0.0, "log", "relu"), ([2, 16, 8, 1], 0.3, "log", "relu"), ([3, 7, 4], 0.0, "log", "relu"),
    ([4, 9, 9, 9, 5], 0.05, "log", "relu"), ([6, 3, 1], 1.0, "log", "relu"), ([2, 8, 6, 1], 0.1, "mse", "relu"),
    ([2, 16, 8, 1], 0.3, "log", "tanh"), ([4, 9, 9, 5], 0.05, "log", "logistic"), ([3, 7, 4], 0.0, "log", "identity")])
def test_the_pages_gradients_are_numpys(sizes, alpha, loss, activation, browser, engine_page):
    rng = np.random.default_rng(sum(sizes))
    net = Network.create(sizes, rng, np.float64, activation)
    net.b[0][...] = rng.normal(size=net.b[0].shape)  # some units off for some samples: the ReLU mask matters
    X = rng.normal(size=(37, sizes[0]))
    y = rng.integers(0, 2 if net.binary else sizes[-1], size=37)
    expected, value = numpy_gradients(net, X, y, alpha, loss)
    got = browser.js(f"nnlabLearn.gradients({json.dumps(sizes)}, {json.dumps(net.theta.tolist())}, "
                     f"{json.dumps(X.tolist())}, {json.dumps(y.tolist())}, {alpha}, {loss!r}, {activation!r})")
    page = np.array(got["grad"])
    assert page.shape == expected.shape and np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(page, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    assert got["loss"] == pytest.approx(value, rel=1e-12)
    A1 = np.maximum(X @ net.W[0] + net.b[0], 0)
    assert 0 < np.count_nonzero(A1) < A1.size  # the mask was exercised both ways


@needs_chromium
@pytest.mark.parametrize("name, kwargs", [("sgd", {}), ("momentum", {"momentum": 0.9}),
                                          ("nesterov", {"momentum": 0.8, "nesterov": True}), ("adam", {})])
def test_the_pages_optimiser_steps_are_torchs(name, kwargs, browser, engine_page):
    rng = np.random.default_rng(1)
    theta, grads, lr = rng.normal(size=50), rng.normal(size=(6, 50)), 0.05
    p = torch.tensor(theta, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr) if name == "adam" else torch.optim.SGD([p], lr=lr, **kwargs)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    make = ("new nnlabLearn.Adam(theta, lr)" if name == "adam" else
            f"new nnlabLearn.SGD(theta, lr, {kwargs.get('momentum', 0)}, {json.dumps(kwargs.get('nesterov', False))})")
    page = browser.js(f"(() => {{ const theta = Float64Array.from({json.dumps(theta.tolist())}), lr = {lr}; "
                      f"const opt = {make}; for (const g of {json.dumps(grads.tolist())}) opt.step(g); "
                      "return Array.from(theta); })()")
    np.testing.assert_allclose(page, p.detach().numpy(), rtol=1e-12, atol=1e-14)


@needs_chromium
def test_the_pages_training_loop_takes_epoch_runners_steps(browser, engine_page):
    """Three epochs of Adam with L2, a cosine rate and a smaller last batch, in float64, in the same batch
    order: the page ends where scratch/train.py's EpochRunner ends."""
    rng = np.random.default_rng(3)
    sizes, m, batch, alpha, lr, epochs = [2, 12, 6, 1], 90, 32, 0.2, 0.01, 3
    X, y = rng.normal(size=(m, 2)), rng.integers(0, 2, size=m)
    net = Network.create(sizes, rng, np.float64)
    start = net.theta.copy()
    opt = make_optimizer("adam", [net.theta], lr, convention="torch")
    runner = EpochRunner(net, opt, batch, alpha, track_penalty=False)
    orders, losses = [], []
    for epoch in range(epochs):
        orders.append(np.random.default_rng(epoch).permutation(m).tolist())
        opt.lr = learning_rate("cosine", lr, epoch / epochs)
        losses.append(runner.run(X, y, np.random.default_rng(epoch))[0])
    page = browser.js(f"""(() => {{
        const N = nnlabLearn, net = new N.Network({json.dumps(sizes)}, {json.dumps(start.tolist())});
        const opt = new N.Adam(net.theta, {lr}), orders = {json.dumps(orders)}, losses = [];
        const runner = new N.Runner(net, opt, Float64Array.from({json.dumps(X.ravel().tolist())}),
                                    Int32Array.from({json.dumps(y.tolist())}), {m}, {batch}, {alpha}, null);
        for (let e = 0; e < {epochs}; e++) {{
            opt.lr = N.SCHEDULES.cosine({lr}, e / {epochs});
            let r = runner.step(orders[e]);
            while (!r.finished) r = runner.step();
            losses.push(r.finished.loss);
        }}
        return {{ theta: Array.from(net.theta), losses }};
    }})()""")
    assert opt.steps == epochs * math.ceil(m / batch)
    np.testing.assert_allclose(page["theta"], net.theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(page["losses"], losses, rtol=1e-9)
    assert np.abs(net.theta - start).max() > 1e-3  # it did move


# ---- the section in a run's report ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def moons_default(tmp_path_factory):
    """`nnlab train scratch --data moons`, every setting its default (2-256-128-1, Adam, 125 epochs)."""
    return trained(tmp_path_factory, "moons-default", "scratch", "--data", "moons")


def open_learn(browser, run) -> None:
    browser.open((run / "report.html").as_uri(), "window.nnlabLearnPage")


@needs_chromium
def test_the_page_trained_from_the_runs_start_reaches_the_runs_test_accuracy(moons_default, browser):
    run, engine, ds, P = moons_default
    summary = runs.read_json(run / runs.SUMMARY, what="run summary")
    open_learn(browser, run)
    start = np.array(browser.js("nnlabLearnPage.state().theta"))
    first = runs.load_tensors(run / runs.START)[0]["first_layer"]   # what training kept of its start
    np.testing.assert_array_equal(start[:first.size].reshape(first.shape), first)
    epochs = engine.cfg.epochs
    state = browser.js(f"nnlabLearnPage.trainEpochs({epochs})")
    assert state["epoch"] == epochs and not state["playing"]
    print(f"\npage: test accuracy {state['test']['accuracy']:.4f} after {epochs} epochs; "
          f"the run (NumPy): {summary['test_accuracy']:.4f}")
    assert abs(state["test"]["accuracy"] - summary["test_accuracy"]) <= 0.02
    assert f"{100 * state['test']['accuracy']:.1f}%" in state["note"]
    np.testing.assert_allclose(state["test"]["accuracy"], np.mean(P.argmax(axis=1) == ds.y_test), atol=0.02)


@needs_chromium
def test_reset_replays_the_same_run_and_the_trained_weights_are_the_runs(moons_default, browser):
    run, engine, ds, P = moons_default
    open_learn(browser, run)
    browser.js("nnlabLearnPage.reset()")
    first = browser.js("nnlabLearnPage.steps(20), nnlabLearnPage.state().theta")
    browser.js("nnlabLearnPage.reset()")
    assert browser.js("nnlabLearnPage.state().steps") == 0
    again = browser.js("nnlabLearnPage.steps(20), nnlabLearnPage.state().theta")
    assert first == again                                                    # bit for bit
    browser.js("nnlabLearnPage.fromTrained()")
    trained_theta = np.array(browser.js("nnlabLearnPage.state().theta"))
    np.testing.assert_array_equal(trained_theta, engine.net.theta.astype(np.float64))
    state = browser.js("nnlabLearnPage.state()")
    assert state["test"]["accuracy"] == pytest.approx(np.mean(P.argmax(axis=1) == ds.y_test), abs=1e-9)
    assert state["settings"]["schedule"] == "constant"


@needs_chromium
def test_the_page_speed_is_measured(moons_default, browser):
    run, *_ = moons_default
    open_learn(browser, run)
    speed = browser.js("nnlabLearnPage.speed(40)")
    browser.js("nnlabLearnPage.reset(); nnlabLearnPage.play()")
    started = browser.js("performance.now()")
    # Until it has played a few frames' steps (not a fixed wait): what is shown is the rate while playing.
    browser.js("new Promise(r => { const t = setInterval(() => { if (nnlabLearnPage.state().steps > 40) "
               "{ clearInterval(t); r(); } }, 20); })")
    playing, seconds = browser.js("nnlabLearnPage.state()"), (browser.js("performance.now()") - started) / 1000
    browser.js("nnlabLearnPage.pause()")
    load = open("/proc/loadavg").read().split()[0] if __import__("os").path.exists("/proc/loadavg") else "?"
    print(f"\npage speed (2-256-128-1, batch 128, load {load}): {speed['stepsPerSecond']:.0f} steps/s without "
          f"drawing, a redraw {speed['drawMs']:.1f} ms ({speed['live']}² field), a still one {speed['stillMs']:.0f} ms "
          f"({speed['still']}²); playing: {playing['steps']} steps in {seconds:.1f} s, "
          f"{playing['ratePerSecond']:.0f} steps/s")
    assert speed["stepsPerSecond"] > 1 and playing["steps"] > 3 and playing["epoch"] >= 0


@needs_chromium
def test_buttons_and_keys_drive_it(moons_default, browser):
    run, *_ = moons_default
    open_learn(browser, run)

    def click(selector):
        box = browser.js(f"(() => {{ const e = document.querySelector({selector!r}); e.scrollIntoView(); "
                         "const r = e.getBoundingClientRect(); "
                         "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        browser.mouse("pressed", *box)
        browser.mouse("released", *box)

    def key(k, code):
        for kind in ("keyDown", "keyUp"):
            browser.send("Input.dispatchKeyEvent", type=kind, key=k, code=code,
                         text=k if kind == "keyDown" and len(k) == 1 else "")

    click("#learn-step")
    assert browser.js("nnlabLearnPage.state().steps") == 1
    key("s", "KeyS")
    key("ArrowRight", "ArrowRight")
    assert browser.js("nnlabLearnPage.state().steps") == 3
    click("#learn-play")
    assert browser.js("nnlabLearnPage.state().playing")
    click("#learn-play")
    assert not browser.js("nnlabLearnPage.state().playing")
    browser.js("document.getElementById('learn-app').focus()")
    key(" ", "Space")
    assert browser.js("nnlabLearnPage.state().playing")
    key(" ", "Space")
    assert not browser.js("nnlabLearnPage.state().playing")
    key("r", "KeyR")
    assert browser.js("nnlabLearnPage.state().steps") == 0
    browser.js("nnlabLearnPage.set('lr', 0.1); nnlabLearnPage.set('batch', 8); nnlabLearnPage.set('alpha', 0)")
    browser.js("nnlabLearnPage.steps(3)")
    state = browser.js("nnlabLearnPage.state()")
    assert state["lr"] == pytest.approx(0.1) and state["settings"]["batch"] == 8 and state["settings"]["alpha"] == 0


def tiny_input(ds, **over):
    """A report input as the section reads it, for a 2-D NumPy network trained on nothing."""
    cfg = make_config(build_parser().parse_args(["train", "scratch", "--data", "moons", "--hidden", "4",
                                                 "--epochs", "3", "--batch-size", "16"]))
    from nnlab.training.engines import ScratchEngine
    net = ScratchEngine(cfg, 2, ds.n_classes).net
    return SimpleNamespace(**{"data": ds, "numpy_net": net, "run_settings": cfg, "history": [],
                              "summary": {"test_accuracy": 0.5}, **over})


@needs_chromium
def test_hostile_class_names_show_as_text_and_run_nothing(tmp_path, browser):
    ds = points_dataset(HOSTILE)
    parts, why = learn.report_parts(tiny_input(ds))
    assert why == [] and [p[0] for p in parts] == ["learn"]
    html = parts[0][2]
    assert html.lower().count("</script") == 5 and "pwned = 1</script>" not in html
    page = tmp_path / "hostile.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><body><section id=\"learn\">{html}</section></body>")
    browser.open(page.as_uri(), "window.nnlabLearnPage")
    assert browser.js("window.pwned") is None
    text = browser.js("document.getElementById('learn-app').textContent")
    assert HOSTILE[0] in text and HOSTILE[1] in text


def test_what_the_section_refuses_it_names(monkeypatch):
    ds = points_dataset()
    assert learn.why_not(tiny_input(ds)) is None
    assert "NumPy network" in learn.why_not(tiny_input(ds, numpy_net=None))
    monkeypatch.setattr(learn, "MAX_PARAMETERS", 10)
    assert "17 parameters" in learn.why_not(tiny_input(ds)) and "up to 10" in learn.why_not(tiny_input(ds))
    images = SimpleNamespace(n_features=64, image_shape=(1, 8, 8))
    assert learn.report_parts(SimpleNamespace(data=images)) == ([], [])  # not a plane: no section, no note


@needs_chromium
@pytest.mark.parametrize("name", ["moons", "circles", "xor", "spiral", "gauss"])
def test_the_pages_2d_sets_are_synthetic_pys(name, browser, engine_page):
    """The page draws its own random numbers, so its sets are siblings of data/synthetic.py's: the same
    shape, checked by each class's mean and spread, and by the share of each class, on 20,000 points."""
    from nnlab.data import synthetic

    assert tmp_page_scripts(browser)
    n, noise = 20_000, synthetic.DEFAULT_NOISE[name]
    got = browser.js(f"(() => {{ const d = nnlabLearn.generate({name!r}, {n}, {noise}, new nnlabLearn.Random(5)); "
                     "return { X: Array.from(d.X), y: Array.from(d.y), mean: d.mean, std: d.std }; })()")
    X = np.array(got["X"]).reshape(n, 2) * got["std"] + got["mean"]     # back to the data's own units
    y = np.array(got["y"])
    X_ref, y_ref = synthetic.GENERATORS[name](n, noise, np.random.default_rng(5))
    np.testing.assert_allclose(np.array(got["std"]), X.std(axis=0), rtol=1e-9)
    assert abs(y.mean() - y_ref.mean()) < 0.02
    for k in (0, 1):
        np.testing.assert_allclose(X[y == k].mean(axis=0), X_ref[y_ref == k].mean(axis=0), atol=0.03)
        np.testing.assert_allclose(X[y == k].std(axis=0), X_ref[y_ref == k].std(axis=0), atol=0.03)


def tmp_page_scripts(browser) -> bool:
    """learn_data.js added to the bare engine page (it hangs its functions on nnlabLearn)."""
    if not browser.js("!!(window.nnlabLearn && nnlabLearn.generate)"):
        browser.js(learn.SCRIPTS[1].read_text())
    return browser.js("!!nnlabLearn.generate")


@needs_chromium
def test_another_set_and_network_train_from_a_seeded_start(moons_default, browser):
    run, *_ = moons_default
    open_learn(browser, run)
    browser.js("nnlabLearnPage.set('data', 'circles'); nnlabLearnPage.set('hidden', '8,8'); "
               "nnlabLearnPage.set('lr', 0.03)")
    assert browser.js("nnlabLearnPage.newWorld()")
    state = browser.js("nnlabLearnPage.state()")
    assert state["world"] == "circles" and state["settings"]["sizes"] == [2, 8, 8, 1]
    assert "circles" in state["worldNote"] and "no run to compare" in state["note"]
    start = state["theta"]
    assert np.std(start[:16]) == pytest.approx(1.0, rel=0.6)             # He: std sqrt(2/2) in the first layer
    trained_state = browser.js("nnlabLearnPage.trainEpochs(60)")
    assert trained_state["test"]["accuracy"] > 0.9
    browser.js("nnlabLearnPage.reset()")
    assert browser.js("nnlabLearnPage.state().theta") == start           # reset: this world's own start
    assert browser.js("nnlabLearnPage.newWorld(), nnlabLearnPage.state().theta") == start  # the seed's, again
    for bad, says in (("8,x", "whole numbers"), ("512,512", "264,705 parameters")):
        browser.js(f"nnlabLearnPage.set('hidden', {bad!r})")
        assert not browser.js("nnlabLearnPage.newWorld()")
        state = browser.js("nnlabLearnPage.state()")
        assert says in state["worldNote"] and state["world"] == "circles"  # refused, and nothing changed
    browser.js("nnlabLearnPage.set('data', 'run'); nnlabLearnPage.set('hidden', '256,128')")
    assert browser.js("nnlabLearnPage.newWorld()")
    assert browser.js("nnlabLearnPage.state().world") == "run"


# ---- one step on a drawing (under "Poke the network", for image runs of the NumPy network) -----------------

@pytest.fixture(scope="module", params=["softmax", "sigmoid"])
def drawn(request, tmp_path_factory):
    """A digits run of the NumPy network: ten classes (softmax), or two (the derived network, sigmoid)."""
    more = ["--classes", "3,7"] if request.param == "sigmoid" else []
    return trained(tmp_path_factory, f"digits-{request.param}", "scratch", "--data", "digits", "--hidden", "32,16",
                   "--epochs", "6", *more)


@needs_chromium
def test_one_step_on_a_drawing_is_network_pys_sgd_step_and_lowers_its_loss(drawn, browser):
    from nnlab.scratch.optim import SGD

    run, engine, ds, P = drawn
    browser.open((run / "report.html").as_uri(), "window.nnlabLearnDrawing")
    browser.js("nnlabPoke.clear(); nnlabPoke.drawStroke([[2, 1.5], [5.5, 1.5], [5, 4], [3.5, 6.5]])")  # a 7
    label = 0                                                               # and we say it is the first class
    browser.js(f"nnlabLearnDrawing.setLabel({label}); nnlabLearnDrawing.setRate(0.1)")
    before = browser.js("nnlabLearnDrawing.state()")
    x = np.array(browser.js("nnlabPoke.state().input"))[None]
    net = Network([W.astype(np.float64) for W in engine.net.W], [b.astype(np.float64) for b in engine.net.b])
    assert net.dtype == np.float64
    np.testing.assert_array_equal(before["theta"], net.theta)               # the run's weights, widened
    ws = Workspace.create(net, 1)
    loss_before = log_loss(forward(net, x, ws), np.array([label]), net.binary)
    backward(net, x, np.array([label]), ws)
    dX = ws.dZ[0] @ net.W[0].T                                              # one equation past dW1
    assert before["loss"] == pytest.approx(loss_before, rel=1e-12)
    np.testing.assert_allclose(before["dX"], dX[0], rtol=1e-9, atol=1e-12 * np.abs(dX).max())
    SGD([net.theta], 0.1).step([ws.grad])                                   # network.py's SGD step
    after = browser.js("nnlabLearnDrawing.step(1)")
    np.testing.assert_allclose(after["theta"], net.theta, rtol=1e-12, atol=1e-15)
    loss_after = log_loss(forward(net, x, Workspace.create(net, 1)), np.array([label]), net.binary)
    assert after["loss"] == pytest.approx(loss_after, rel=1e-9) and loss_after < loss_before
    shown = np.array(browser.js("[...document.querySelectorAll('#poke .poke-bar')].map(r => +r.dataset.p)"))
    from nnlab.scratch.network import predict_proba
    np.testing.assert_allclose(shown, predict_proba(net, x)[0], atol=1e-9)  # the bars moved with the weights
    ten = browser.js("nnlabLearnDrawing.step(10)")
    assert ten["loss"] < after["loss"] and ten["steps"] == 11 and "before 11 steps" in ten["text"]
    ms = browser.js("nnlabLearnDrawing.time(200)")
    print(f"\none step on the drawing ({'-'.join(map(str, net.sizes))}): {ms:.3f} ms")
    browser.js("nnlabLearnDrawing.reset()")
    np.testing.assert_array_equal(browser.js("nnlabLearnDrawing.state().theta"), before["theta"])


@needs_chromium
def test_from_a_confidently_wrong_start_the_log_loss_recovers_and_the_squared_error_does_not(moons_default,
                                                                                             browser):
    """The derivation's argument for the log loss, watched: with SGD from the trained network turned around
    (every answer wrong and sure of it), six epochs of the log loss get most points right again, six of
    the squared error (whose dZ keeps the vanishing factor A(1 - A)) do not."""
    run, *_ = moons_default
    open_learn(browser, run)
    accuracy = {}
    for loss in ("log", "mse"):
        browser.js(f"nnlabLearnPage.set('optimizer', 'sgd'); nnlabLearnPage.set('lr', 0.1); "
                   f"nnlabLearnPage.set('loss', {loss!r}); nnlabLearnPage.wrong()")
        start = browser.js("nnlabLearnPage.state()")
        assert start["test"]["accuracy"] < 0.1 and "confidently wrong" in start["note"]
        accuracy[loss] = browser.js("nnlabLearnPage.trainEpochs(6)")["test"]["accuracy"]
    assert accuracy["log"] > 0.8 and accuracy["mse"] < 0.6, accuracy


@needs_chromium
def test_the_hidden_unit_tiles_are_the_units_the_next_layer_leans_on_and_a_click_paints_one(moons_default,
                                                                                              browser):
    run, engine, *_ = moons_default
    open_learn(browser, run)
    browser.js("nnlabLearnPage.fromTrained()")
    W = [w.astype(np.float64) for w in engine.net.W]
    state = browser.js("nnlabLearnPage.state()")
    assert state["unitLayer"] == 1 and len(state["tiles"]) == 24              # the last hidden layer, 24 of 128
    lean = np.abs(W[2]).sum(axis=1)
    assert [int(t.split()[1].rstrip(":")) for t in state["tiles"]] == np.argsort(-lean, kind="stable")[:24].tolist()
    first = state["tiles"][0]
    assert first.endswith(f"{'+' if W[2][int(first.split()[1][:-1]), 0] > 0 else '−'}{lean.max():.2f}")
    browser.js("nnlabLearnPage.layer(0)")
    state = browser.js("nnlabLearnPage.state()")
    lean = np.abs(W[1]).sum(axis=1)
    assert [int(t.split()[1].rstrip(":")) for t in state["tiles"]] == np.argsort(-lean, kind="stable")[:24].tolist()
    browser.js("nnlabLearnPage.pinUnit(0)")
    state = browser.js("nnlabLearnPage.state()")
    assert state["pinned"] == {"l": 0, "j": int(np.argmax(lean))}
    assert f"unit {int(np.argmax(lean))} of hidden layer 1" in browser.js("document.getElementById('learn-field-note')"
                                                                          ".textContent")
    browser.js("nnlabLearnPage.pinUnit(0)")
    assert browser.js("nnlabLearnPage.state().pinned") is None


@needs_chromium
def test_the_rewind_slider_at_epoch_k_shows_epoch_ks_network(moons_default, browser):
    run, *_ = moons_default
    open_learn(browser, run)
    browser.js("nnlabLearnPage.reset()")
    at_7 = browser.js("nnlabLearnPage.trainEpochs(7).theta")
    browser.js("nnlabLearnPage.trainEpochs(5)")
    state = browser.js("nnlabLearnPage.state()")
    assert state["kept"] == list(range(13)) and state["scrub"] == -1
    browser.js("nnlabLearnPage.scrubTo(7)")
    state = browser.js("nnlabLearnPage.state()")
    assert state["viewedTheta"] == at_7 and state["epoch"] == 12          # shown: epoch 7; trained: 12
    accuracy_7 = next(h["accuracy"] for h in state["history"] if h["epoch"] == 7)
    assert state["numbers"].startswith(f"at epoch 7: test accuracy {100 * accuracy_7:.1f}%")
    assert browser.js("+document.getElementById('learn-epoch').value") == 7
    browser.js("nnlabLearnPage.fromHere()")
    state = browser.js("nnlabLearnPage.state()")
    assert state["epoch"] == 7 and state["theta"] == at_7 and state["kept"] == list(range(8))
    assert [h["epoch"] for h in state["history"]] == list(range(8))


@pytest.fixture(scope="module")
def moons_tanh(tmp_path_factory):
    return trained(tmp_path_factory, "moons-tanh", "scratch", "--data", "moons", "--hidden", "16,8", "--epochs",
                   "40", "--activation", "tanh")


@needs_chromium
def test_a_tanh_run_trains_here_to_its_own_accuracy_and_the_hidden_units_can_be_switched(moons_tanh, browser):
    run, engine, ds, P = moons_tanh
    summary = runs.read_json(run / runs.SUMMARY, what="run summary")
    open_learn(browser, run)
    assert browser.js("nnlabLearnPage.state().settings.activation") == "tanh"
    state = browser.js(f"nnlabLearnPage.trainEpochs({engine.cfg.epochs})")
    assert abs(state["test"]["accuracy"] - summary["test_accuracy"]) <= 0.02
    browser.js("nnlabLearnPage.fromTrained()")
    assert browser.js("nnlabLearnPage.state().test.accuracy") == pytest.approx(
        np.mean(P.argmax(axis=1) == ds.y_test), abs=1e-9)            # the run's weights through tanh
    browser.js("nnlabLearnPage.set('activation', 'relu')")            # the same weights through ReLU
    relu = browser.js("nnlabLearnPage.state()")
    assert relu["settings"]["activation"] == "relu"
    expected = Network(engine.net.W, engine.net.b, np.float64, "relu")
    from nnlab.scratch.network import predict_proba

    relu_acc = np.mean(predict_proba(expected, ds.X_test).argmax(axis=1) == ds.y_test)
    assert relu["test"]["accuracy"] == pytest.approx(relu_acc, abs=1e-9)
