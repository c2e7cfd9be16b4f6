"""The report's "See through the CNN" section: the page's CNN forward (learn_cnn.js) equals PyTorch's for the
default CNN, batch norm and all, and the arithmetic it shows for a value is the value it draws."""

import json

import numpy as np
import pytest
import torch

from nnlab.data.dataset import make_dataset
from nnlab.models.nets import CNN
from nnlab.viz import learn_cnn, poke
from tests.viz.browser import Browser, needs_chromium


def default_cnn(classes: int = 10) -> CNN:
    """The CLI's CNN (widths 16, 32, 64 on 28x28), batch norm statistics and affine parameters far from their
    start, one gamma negative (so max-pool and batch norm do not commute)."""
    torch.manual_seed(0)
    model = CNN((1, 28, 28), [16, 32, 64], classes, dropout=0.3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.2, 2)
                m.weight.uniform_(0.5, 2)
                m.bias.uniform_(-0.5, 0.5)
        model.features[2].weight[0] = -1.0
    return model.eval()


def images(n: int = 40):
    rng = np.random.default_rng(0)
    X = (rng.random((n, 1, 28, 28)) > 0.8).astype(np.float32) * 255
    y = np.arange(n) % 10
    return make_dataset("img", X.reshape(n, -1), y, X.reshape(n, -1)[:20], y[:20], tuple(str(k) for k in range(10)),
                        image_shape=(1, 28, 28))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory, browser):
    model, ds = default_cnn(), images()
    parts, why = poke.report_parts(model, ds)
    assert [p[0] for p in parts] == ["cnn"] and why == []
    path = tmp_path_factory.mktemp("cnn") / "cnn.html"
    path.write_text(f"<!doctype html><meta charset='utf-8'><body><section id=\"cnn\">{parts[0][2]}</section></body>")
    browser.open(path.as_uri(), "window.nnlabCNN")
    return model, ds


@needs_chromium
def test_the_pages_cnn_is_pytorchs(page, browser):
    model, ds = page
    X = ds.X_test[:20]
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(X).reshape(-1, 1, 28, 28)), dim=1).numpy()
    got = np.array(browser.js(f"nnlabCNN.predict({json.dumps(X.tolist())})"))
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    assert np.abs(expected - 0.1).max() > 0.05  # not a flat answer that anything would match
    ms = browser.js("nnlabCNN.time(20)")
    print(f"\nCNN forward in the page (1-16-32-64 on 28x28, {learn_cnn.parameters(learn_cnn.cnn_layers(model)):,} "
          f"parameters): {ms:.1f} ms")


@needs_chromium
def test_the_feature_maps_and_the_arithmetic_are_the_models(page, browser):
    model, ds = page
    assert ds.scaler.kind == "pixels"  # the model input is the grey level itself
    browser.js(f"nnlabCNN.setGrey({json.dumps(ds.X_test[3].tolist())})")
    x = torch.from_numpy(ds.X_test[[3]]).reshape(1, 1, 28, 28)
    with torch.no_grad():
        maps = []
        a = x
        for m in model.features:
            a = m(a)
            if isinstance(m, torch.nn.ReLU):
                maps.append(a[0].numpy().ravel())
    state = browser.js("nnlabCNN.state()")
    for page_map, torch_map in zip(state["maps"], maps):
        np.testing.assert_allclose(page_map, torch_map, atol=1e-4)
    shown = browser.js("nnlabCNN.explain(1, 5, 3, 4)")
    assert shown["value"] == pytest.approx(maps[1].reshape(32, 7, 7)[5, 3, 4], abs=1e-4)
    text = browser.js("nnlabCNN.state().dot")
    assert "max-pool" in text and "16 input channels" in text and f"{shown['value']:.4f}" in text
    browser.js("nnlabCNN.showKernels(2, 7)")
    assert "32 kernels" in browser.js("nnlabCNN.state().kernels")


def test_nnlabs_cnn_has_the_page_and_an_mlp_does_not(page):
    _, ds = page
    assert learn_cnn.report_parts(torch.nn.Linear(784, 10), ds) == ([], [])
