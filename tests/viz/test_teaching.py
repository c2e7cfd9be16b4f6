"""The pictures teach what their captions promise, measured on short real runs (5,000 MNIST digits, moons).

Each figure is caught as the report draws it, so the tests read what a user sees: the tiles of the first-layer
picture, the attributions under the saliency images, the lines of the health plot and every figure's text.
"""

import numpy as np
import pytest
import torch

from nnlab import runs
from nnlab.cli import build_parser
from nnlab.cli.train import make_config
from nnlab.training import health, job
from nnlab.training.record import read_record
from nnlab.viz import captions, figures, probes, render
from nnlab.viz.report_input import ReportInput

pytestmark = pytest.mark.slow


def train(tmp_path_factory, monkeypatch_figures, name: str, *argv: str) -> tuple:
    """Train `nnlab train ARGV` with the CLI's defaults; returns (run, {figure file: Figure}). The figures are
    caught instead of saved: these tests read the figures as drawn, and writing each as a PNG (a second
    drawing, tested with every report elsewhere) took a third of this module's time."""
    config = make_config(build_parser().parse_args(["train", *argv]))
    caught: dict = {}

    def catch(fig, path):
        fig.legibility = legibility(fig)
        caught[path.name] = fig

    monkeypatch_figures.setattr(figures, "save", catch)
    run = job.train(config, tmp_path_factory.mktemp(name), name, quiet=True, report=render.render_run)
    monkeypatch_figures.undo()
    return run, caught


def legibility(fig) -> tuple[list[tuple[str, float]], bool]:
    """(text, font size in points) for every visible text of fig, and whether everything drawn lies inside
    the figure (a title or label that sticks out is cut off in the PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # the figures are built without pyplot: a canvas with a renderer to measure on
    canvas.draw()
    drawn = fig.get_tightbbox(canvas.get_renderer())  # inches
    W, H = fig.get_size_inches()
    inside = drawn.x0 >= -0.01 and drawn.y0 >= -0.01 and drawn.x1 <= W + 0.01 and drawn.y1 <= H + 0.01
    texts = [(t.get_text(), t.get_fontsize()) for t in
             fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontsize"))
             if t.get_visible() and t.get_text().strip()]
    return texts, inside


@pytest.fixture(scope="module")
def runs_(tmp_path_factory):
    """Real runs with the CLI's defaults, the longest training in the suite (~12 s of the module's time), kept
    so: what is measured is what real training makes of real digits (strokes in the first layer, attribution
    on the object, a run that stalls), which tiny data or a few steps would not show."""
    mp = pytest.MonkeyPatch()
    made = {
        "scratch": train(tmp_path_factory, mp, "scratch", "scratch", "--data", "mnist-5k", "--epochs", "4"),
        "binary": train(tmp_path_factory, mp, "binary", "scratch", "--data", "mnist-5k", "--classes", "3,8",
                        "--epochs", "30"),
        "mlp": train(tmp_path_factory, mp, "mlp", "mlp", "--data", "mnist-5k", "--epochs", "4"),
        "cnn": train(tmp_path_factory, mp, "cnn", "cnn", "--data", "mnist-5k", "--epochs", "1"),
        "moons": train(tmp_path_factory, mp, "moons", "scratch", "--data", "moons"),
        "stalled": train(tmp_path_factory, mp, "stalled", "scratch", "--data", "moons", "--lr", "1e-9",
                         "--schedule", "constant", "--epochs", "12"),
    }
    return made


def shown_tiles(fig, n: int, h: int, w: int, cols: int, lines: int = 1) -> np.ndarray:
    """The tiles of a montage figure, cut back out of its first axes' image (NaN where blank)."""
    canvas = np.ma.filled(fig.axes[0].images[0].get_array().astype(float), np.nan)
    _, corners = figures.montage(np.zeros((n, h, w)), cols, label_room=lines)
    return np.stack([canvas[y:y + h, x:x + w] for y, x in corners])


def neighbour_correlation(tiles: np.ndarray) -> float:
    """Mean over tiles of the correlation between horizontally and vertically adjacent pixels (both drawn):
    about 0 for the random start's speckle, high for strokes and outlines."""
    out = []
    for t in tiles:
        pairs = [(t[:, :-1], t[:, 1:]), (t[:-1], t[1:])]
        a = np.concatenate([x[np.isfinite(x) & np.isfinite(y)] for x, y in pairs])
        b = np.concatenate([y[np.isfinite(x) & np.isfinite(y)] for x, y in pairs])
        out.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(out))


def spread_of(run) -> np.ndarray:
    return job.load_splits(read_record(run).settings).X_train.std(axis=0)


@pytest.mark.parametrize("model", ["scratch", "binary", "mlp"])
def test_the_first_layer_picture_shows_strokes_and_leaves_never_varying_pixels_blank(runs_, model):
    run, caught = runs_[model]
    learned = shown_tiles(caught["first_layer_learned.png"], 32, 28, 28, 8)
    raw = shown_tiles(caught["first_layer_weights.png"], 32, 28, 28, 8)
    # Structure: neighbouring pixels agree, as in strokes; the raw weights (today's picture before this
    # one existed) are the random start's speckle.
    print(model, neighbour_correlation(learned), neighbour_correlation(raw))
    assert neighbour_correlation(learned) > 0.4, neighbour_correlation(learned)
    assert neighbour_correlation(raw) < 0.3, neighbour_correlation(raw)
    never = (spread_of(run) == 0).reshape(28, 28)
    assert never.sum() > 50                                      # MNIST's border
    assert np.isnan(learned[:, never]).all()                     # no ink where no pixel ever varies
    assert np.isfinite(learned[:, ~never]).all()


def object_share(images: np.ndarray, maps: np.ndarray) -> float:
    """The share of |attribution| on the object's pixels (ink above 0.1), averaged over the images."""
    on = images > 0.1
    return float(np.mean([np.abs(m)[o].sum() / np.abs(m).sum() for m, o in zip(maps, on)]))


def smoothgrad(model, X, target, input_shape, samples=16, noise=0.15) -> np.ndarray:
    """The attribution the report drew before: |gradient| of the class score, averaged over noisy copies."""
    x = torch.from_numpy(X).reshape(len(X), *input_shape)
    gen, total = torch.Generator().manual_seed(0), torch.zeros_like(x)
    for _ in range(samples):
        noisy = (x + noise * torch.randn(x.shape, generator=gen)).requires_grad_(True)
        logits = model(noisy)
        score = (logits.gather(1, torch.as_tensor(target)[:, None])[:, 0] - logits.mean(1)).sum()
        total += torch.autograd.grad(score, noisy)[0]
    return (total / samples).abs().reshape(len(X), -1).numpy()


@pytest.mark.parametrize("model", ["scratch", "mlp", "cnn"])
def test_attribution_lands_on_the_object_one_image_per_class(runs_, model):
    run, caught = runs_[model]
    fig = caught["saliency.png"]
    images = shown_tiles(fig, 10, 28, 28, 10, lines=2)
    assert np.isfinite(images).all()                               # ten classes, ten images
    drawn = np.ma.filled(fig.axes[1].images[0].get_array().astype(float), np.nan)
    _, corners = figures.montage(np.zeros((10, 28, 28)), 10, label_room=2)
    maps = np.stack([drawn[y:y + 28, x:x + 28] for y, x in corners])
    assert object_share(images, maps) > 0.9, object_share(images, maps)
    # Against the previous method on the same images and model.
    _, engine = job.load_run(run)
    ds = job.load_splits(read_record(run).settings).data
    shown = [int(np.flatnonzero(ds.y_test == k)[0]) for k in range(10)]
    target = engine.predict_proba(ds.X_test[shown]).argmax(axis=1)
    shape = (1, 28, 28) if model == "cnn" else (784,)
    before = smoothgrad(engine.torch_model(), ds.X_test[shown], target, shape).reshape(-1, 28, 28)
    assert object_share(images, before) < object_share(images, maps) - 0.2, object_share(images, before)


def test_the_attributions_drawn_add_up_to_the_score(runs_):
    run, _ = runs_["mlp"]
    _, engine = job.load_run(run)
    ds = job.load_splits(read_record(run).settings).data
    X, model = ds.X_test[:4], engine.torch_model()
    target = engine.predict_proba(X).argmax(axis=1)
    A = probes.integrated_gradients(model, X, target, np.zeros(784, np.float32), (784,))
    rise = probes.class_scores(model, X, target, (784,)) - probes.class_scores(model, np.zeros((4, 784), np.float32),
                                                                                target, (784,))
    np.testing.assert_allclose(A.sum(axis=1), rise, rtol=0.05)


def test_training_and_validation_curves_measure_the_same_loss(runs_):
    """With weight decay on, the training curve used to include the L2 term and sit far above validation."""
    run, caught = runs_["moons"]
    history = runs.read_metrics(run)
    record = read_record(run)
    assert record.settings.weight_decay > 0.05
    last = history[-1]
    assert abs(last["loss"] - last["val_loss"]) < 0.1, last   # was 0.333 against 0.128
    left = caught["learning_curves.png"].axes[0]
    np.testing.assert_allclose(left.lines[0].get_ydata(), [h["loss"] for h in history])
    np.testing.assert_allclose(left.lines[1].get_ydata(), [h["val_loss"] for h in history])
    caption = captions.curves(ReportInput.from_run(run).facts, validated=True)
    assert "dropout" not in caption and "augment" not in caption and "L2 penalty" in caption


def crossings(fig) -> bool:
    """Whether any plotted point lies beyond a red limit line where that line is drawn (dead share and update
    ratio above their upper limits, update ratio below its lower one)."""
    for ax in (fig.axes[0], fig.axes[2]):
        limits = [line for line in ax.lines if line.get_color() == "tab:red"]
        data = [line for line in ax.lines if line.get_color() != "tab:red"]
        values = [np.nanmax(np.asarray(line.get_ydata(), float)) for line in limits]
        for limit in limits:
            y = np.asarray(limit.get_ydata(), float)
            lower = len(limits) > 1 and np.nanmax(y) == min(values)
            for line in data:
                v = np.asarray(line.get_ydata(), float)
                drawn = np.isfinite(y) & np.isfinite(v)
                if (v[drawn] < y[drawn]).any() if lower else (v[drawn] > y[drawn]).any():
                    return True
    return False


@pytest.mark.parametrize("name, stalled", [("moons", False), ("stalled", True)])
def test_health_words_and_red_lines_agree(runs_, name, stalled):
    run, caught = runs_[name]
    history = runs.read_metrics(run)
    warned = [text for ok, text in health.hints(history) if not ok]
    assert bool(warned) == stalled, warned
    assert crossings(caught["training_health.png"]) == stalled
    if not stalled:  # the annealed end moves little by design: the old full-width red line was crossed there
        ratios = [r["update_ratio"] for h in history for r in h["health"].values()]
        assert min(ratios) < health.RATIO_LOW
    else:
        assert any("raise --lr" in text for text in warned)


def test_every_figure_fits_the_page_with_text_as_large_as_its_small_print(runs_):
    problems, seen = [], set()
    for name, (_, caught) in runs_.items():
        for file, fig in caught.items():
            seen.add(file)
            width, height = fig.get_size_inches()
            if width > figures.MAX_WIDTH + 1e-6 or height > figures.MAX_HEIGHT:
                problems.append((name, file, "size", width, height))
            texts, inside = fig.legibility
            if not inside:
                problems.append((name, file, "text cut off at the edge"))
            problems += [(name, file, "small text", text, size) for text, size in texts if size < figures.FONT - 1e-6]
    assert not problems, problems
    assert len(seen) >= 15   # every kind of figure the report draws was measured
