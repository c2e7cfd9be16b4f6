"""The explain page: its numbers are network.py's to 1e-12, its checks are real, it is self-contained."""

import re
from dataclasses import replace

import numpy as np
import pytest

from nnlab.scratch.network import Workspace, backward, forward
from nnlab.scratch.walk import pick_batch
from nnlab.training import job
from nnlab.training.record import read_record
from nnlab.viz.explain import explain
from nnlab.viz.explain_page import page
from tests.training.test_job import BASE
from tests.viz.browser import needs_chromium, open_page


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny moons run, trained without its report (explain is what is tested)."""
    return job.train(replace(BASE, hidden=[6, 5]), tmp_path_factory.mktemp("runs"), "moons", quiet=True)


def section(html: str, key: str) -> str:
    return re.search(rf'<section class="step \w+" id="step-{key}">(.*?)</section>', html, re.S).group(1)


def exact_numbers(html: str) -> np.ndarray:
    """Every number of a section's matrix table, read from its cells' titles (the exact float64 values)."""
    table = re.search(r'<table class="num">(.*?)</table>', html, re.S).group(1)
    return np.array([float(t) for t in re.findall(r'<td [^>]*title="([^"]+)"', table)])


def test_the_page_shows_the_networks_own_forward_and_backward_to_1e12(run):
    e = explain(run)
    _, engine = job.load_run(run)
    splits = job.load_splits(read_record(run).settings)
    idx = pick_batch(splits.y_train, 4)
    X, y = splits.X_train[idx].astype(np.float64), splits.y_train[idx]
    net = engine.net
    from nnlab.scratch.network import Network

    net = Network(net.W, net.b, np.float64)
    ws = Workspace.create(net, 4)
    Z3 = forward(net, X, ws).copy()
    backward(net, X, y, ws)
    expected = {"A1": ws.A[0], "A2": ws.A[1], "Z3": Z3, "dZ3": ws.dZ[2], "dZ2": ws.dZ[1], "dZ1": ws.dZ[0],
                "dW3": ws.dW[2], "db3": ws.db[2][None], "dW2": ws.dW[1][:4], "db1": ws.db[0][None]}
    for key, value in expected.items():
        shown = exact_numbers(section(e.html, key))
        corner = value[:4, :8].ravel()
        np.testing.assert_allclose(shown, corner, rtol=0, atol=1e-12, err_msg=key)
        np.testing.assert_allclose(e.walk.step(key).value[:4, :8].ravel(), corner, rtol=0, atol=1e-12)
    assert f'title="{e.walk.loss_before!r}"' in e.html and f'title="{e.walk.loss_after!r}"' in e.html
    assert e.walk.loss_after < e.walk.loss_before
    n = sum(len(s.checks) for s in e.walk.steps)
    assert n >= 6 and f"all {n} finite-difference checks pass" in e.html and "FAIL" not in e.html
    # each check's numbers are on the page, and network.py's source line with its number
    for step in e.walk.steps:
        for c in step.checks:
            assert f'title="{c.numeric!r}"' in e.html
        for line in step.code:
            assert f"{line.file}:{line.number}" in section(e.html, step.key)


def test_a_broken_backward_shows_as_failed_checks_on_the_page(run, monkeypatch):
    import nnlab.scratch.network as network

    monkeypatch.setattr(network.np, "greater", lambda a, b, out: out.fill(True) or out)
    html = explain(run, compare=False).html
    assert "finite-difference checks FAIL" in html and "✗ FAIL" in html
    assert "network.py's backward differs from the equation" in html


def test_the_page_is_self_contained_and_escaped(run):
    e = explain(run, weights="start")
    assert not re.search(r'(src|href)="(?!#|data:)', e.html)  # no file, no URL: pictures travel inside
    assert "https://" not in e.html and "http://" not in e.html and "<script" not in e.html
    assert 'id="log-vs-mse"' in e.html and e.race is not None
    hostile = page(e.walk, 'a<b>&"c"', "<i>context</i>", ["<b>zero</b>", "one"])
    assert "<b>zero</b>" not in hostile and "&lt;b&gt;zero&lt;/b&gt;" in hostile and "a&lt;b&gt;" in hostile


def test_the_start_is_the_runs_start_and_the_log_loss_beats_the_squared_error(run):
    from nnlab import runs

    e = explain(run, weights="start")
    first = runs.load_tensors(run / runs.START)[0]["first_layer"]
    np.testing.assert_array_equal(e.walk.update[0][1], first)  # W1 before the step: the start, exactly
    log, mse = e.race.curves["log"]["log_loss"], e.race.curves["mse"]["log_loss"]
    assert log[0] == mse[0] and log[-1] < mse[-1]


def test_jupyter_shows_the_page_in_a_frame(run, tmp_path):
    import nnlab

    e = nnlab.explain(nnlab.load_run(run), compare=False)
    assert e._repr_html_().startswith("<iframe srcdoc=")
    assert e.write(tmp_path / "step.html").read_text() == e.html


def test_the_report_of_a_scratch_run_links_its_walk(moons_run):
    r = moons_run
    report = (r / "report.html").read_text()
    assert 'id="explain"' in report and 'href="explain.html"' in report and "finite-difference checks pass" in report
    assert "One step of backprop, shown" in (r / "explain.html").read_text()


@needs_chromium
def test_the_page_opens_in_headless_chromium_with_every_picture(run, tmp_path):
    page_path = explain(run).write(tmp_path / "explain.html")
    images, loaded, dom = open_page(page_path, tmp_path / "profile")
    assert images == 1 and loaded == 1  # the log-vs-squared-error figure (moons has no sample pictures)
    assert "One step of backprop, shown" in dom and "Why the log loss and not the squared error" in dom


def test_the_start_of_a_confident_wrong_run_is_that_start(tmp_path):
    """--weights start rebuilds the start the run trained from, --start included: here every training sample's
    logit is at least 10 (training/starts.py), not He's start."""
    from nnlab.viz.explain import start_network

    run = job.train(replace(BASE, epochs=1, start="confident-wrong"), tmp_path, "cw", quiet=True)
    walked = explain(run, samples=4, weights="start", compare=False).walk
    assert walked.step(f"A{len(walked.sizes) - 1}").value.min() >= 0.9999  # every sample: class 1, surely
    cfg = read_record(run).settings
    splits = job.load_splits(cfg)
    ds = replace(splits.data, X_train=splits.X_train, y_train=splits.y_train)
    start = start_network(run, cfg, ds)
    assert float(forward(start, ds.X_train, Workspace.create(start, len(ds.X_train))).min()) >= 10 - 1e-4
