"""The figures of one run: read the run directory, compute what each picture needs, save PNGs.

This is the only viz module that knows about models and runs; the figure functions see arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab import runs
from nnlab.metrics import calibration
from nnlab.models.bridge import dense_layers
from nnlab.training import health
from nnlab.viz import figures


@dataclass
class Figure:
    file: str      # under RUN/figures/
    title: str
    caption: str   # what to look for


def class_templates(Ws: list[np.ndarray]) -> np.ndarray:
    """(inputs x classes): the product W1·W2·…·WL, i.e. how each input pixel moves each class's logit
    when every ReLU on the way is active — the network's linear "template" of each class. A single
    sigmoid unit (the derived network) is the logit of class 1, so class 0's template is its negative."""
    T = Ws[0]
    for W in Ws[1:]:
        T = T @ W
    return np.concatenate([-T, T], axis=1) if T.shape[1] == 1 else T


def evolution_frames(snapshots: dict[str, np.ndarray], image_hw: tuple[int, int], units: int = 8,
                     frames: int = 7) -> tuple[list[int], np.ndarray]:
    """From the first-layer snapshots (epochN -> dense inputs x units, or conv out x in x kh x kw): up to
    `frames` epochs spread evenly from the first to the last, and the `units` strongest units at the end,
    as (epochs, (frames x units x h x w))."""
    epochs = sorted(int(k.removeprefix("epoch")) for k in snapshots)
    picked = sorted({epochs[round(i)] for i in np.linspace(0, len(epochs) - 1, min(frames, len(epochs)))})

    def as_tiles(W: np.ndarray) -> np.ndarray:  # (units x h x w)
        return W[:, 0] if W.ndim == 4 else W.T.reshape(W.shape[1], *image_hw)

    final = as_tiles(snapshots[f"epoch{epochs[-1]}"])
    strongest = figures.strongest_first(final.reshape(len(final), -1).T)[:units]
    return picked, np.stack([as_tiles(snapshots[f"epoch{e}"])[strongest] for e in picked])


def render_run(run: Path, engine=None, splits=None, P_test: np.ndarray | None = None) -> Path:
    """Figures and report.html of `run`; returns the report's path. A training job passes the engine,
    the data and the test probabilities it already holds, so nothing is loaded or predicted twice."""
    from nnlab.training import job
    from nnlab.viz.report import write_report

    config = runs.read_config(run)
    summary = runs.read_json(run / runs.SUMMARY, what="run summary")
    if engine is None:
        _, engine = job.load_run(run)
    if splits is None:
        splits = job.load_splits(config)
    if P_test is None:
        P_test = engine.predict_proba(splits.data.X_test)
    history = runs.read_metrics(run)
    made = render(run, engine, splits.data, P_test, summary, history)
    return write_report(run, config, summary, made, health.hints(history))


def render(run: Path, engine, ds, P: np.ndarray, summary: dict, history: list[dict]) -> list[Figure]:
    """(Re)draw every figure of `run` into RUN/figures/ and return them in report order.
    `P` holds the test probabilities, `summary` the run's test metrics, `history` its epochs."""
    out = run / "figures"
    out.mkdir(exist_ok=True)
    made: list[Figure] = []

    def add(fig, file: str, title: str, caption: str) -> None:
        figures.save(fig, out / file)
        made.append(Figure(file, title, caption))

    if history:
        validated = history[-1].get("val_loss") is not None
        add(figures.learning_curves(history), "learning_curves.png", "Learning curves",
            "Loss and accuracy per epoch. A validation curve that turns up while training keeps falling "
            "means overfitting; two curves still falling mean more epochs would help. Training figures are "
            "measured during the epoch, with dropout, augmentation and label smoothing on, so they can sit "
            "below the validation ones." if validated else
            "Loss and accuracy per epoch on the training data, measured during the epoch. This run held out "
            "no validation split (--val-fraction 0), so these curves cannot show overfitting: the test "
            "metrics above are the only check on data the network did not train on.")
    image_hw = tuple(ds.image_shape[1:]) if ds.image_shape and ds.image_shape[0] == 1 else None
    layers = engine.layer_weights()
    dense = [W for name, W in layers.items() if name.startswith("dense")]
    kernels = [K for name, K in layers.items() if name.startswith("conv")]
    if image_hw and not kernels:
        W = dense[0]
        add(figures.weight_tiles(W, image_hw, f"first-layer weights, {W.shape[1]} units (strongest first)"),
            "first_layer_weights.png", "First-layer weights",
            "Each tile is one hidden unit's incoming weights laid out as an image: red pixels raise the "
            "unit's input, blue pixels lower it. Look for strokes and outlines of the classes; pure noise "
            "means the unit learned little." + (
                " This MLP has batch norm after the layer (its default), which leaves much of the random "
                "start in these weights: on Fashion-MNIST the tiles are far noisier than with "
                "--no-batch-norm, although the network is more accurate (see the README)."
                if engine.kind == "mlp" and engine.config.get("batch_norm") else ""))
        # The product needs the weights the MLP computes with at test time: each batch norm folded into its
        # dense layer (a per-unit scale). The tiles above are drawn each to its own peak, so raw ones serve.
        linear = dense_layers(engine.torch_model())[0] if engine.kind == "mlp" else dense
        add(figures.class_tiles(class_templates(linear), image_hw, list(ds.classes)), "class_templates.png",
            "Class templates",
            "For each class, the product of all weight matrices (any batch norm folded in) laid out as an "
            "image: how each pixel pushes that class's score when all ReLUs are on. Red pixels speak for the "
            "class, blue against it; it is the network's linear view of the class and ignores which units "
            "switch off.")
    for i, K in enumerate(kernels[:2]):
        add(figures.conv_kernels(K, f"conv layer {i + 1} kernels {K.shape[0]}x{K.shape[1]}x{K.shape[2]}x{K.shape[3]}"),
            f"conv{i + 1}_kernels.png", f"Conv layer {i + 1} kernels",
            "Every 3x3 kernel of the first conv layer: look for edge and blob detectors (a red side beside "
            "a blue side)." if i == 0 else
            "Kernels of the second conv layer, one row per output channel, one column per input channel: "
            "each output channel combines oriented patterns of the first layer's maps.")
    if image_hw:
        _image_figures(run, engine, layers, ds, P, image_hw, add)
    add(figures.confusion_matrix(np.array(summary["confusion_matrix"]), list(ds.classes)), "confusion_matrix.png",
        "Confusion matrix", "Rows are the true classes, columns the predictions; off-diagonal cells show "
        "which classes the model confuses.")
    pred = P.argmax(axis=1)
    wrong = np.flatnonzero(pred != ds.y_test)
    if image_hw and len(wrong):
        worst = wrong[np.argsort(-P[wrong, pred[wrong]])][:24]
        images = ds.scaler.inverse(ds.X_test[worst]).reshape(-1, *image_hw) / ds.scaler.pixel_max
        captions = [f"{ds.classes[ds.y_test[i]]} → {ds.classes[pred[i]]} {P[i, pred[i]]:.0%}" for i in worst]
        add(figures.image_gallery(np.clip(images, 0, 1), captions, "most confident mistakes: true → predicted"),
            "confident_mistakes.png", "Most confident mistakes",
            "Test images the model got wrong with the highest confidence. Some are mislabelled or truly "
            "ambiguous; the rest show what the model has not learned.")
    cal = calibration(P, ds.y_test)
    add(figures.reliability_diagram(cal["edges"], cal["accuracy"], cal["count"], cal["ece"]),
        "calibration.png", "Calibration",
        "How far to trust the stated confidence: bars under the diagonal mean the model is more confident "
        "than it is right (over-confident), bars above it under-confident. The expected calibration error "
        "(ECE) is the average gap, weighted by how many test samples fall in each bar.")
    if ds.n_features == 2 and ds.n_classes == 2:
        lo, hi = ds.X_test.min(axis=0) - 0.5, ds.X_test.max(axis=0) + 0.5
        xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        prob = engine.predict_proba(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))[:, 1].reshape(xx.shape)
        add(figures.decision_boundary(xx, yy, prob, ds.X_test, ds.y_test, list(ds.classes)),
            "decision_boundary.png", "Decision boundary",
            "The probability of the second class over the (standardised) plane, with the test points; the "
            "black line is where the network is undecided.")
    if any(h.get("health") for h in history):
        add(figures.training_health(history, health.DEAD_WARN, health.RATIO_HIGH, health.RATIO_LOW),
            "training_health.png", "Training health",
            "Per layer, measured after each epoch on a fixed batch of validation samples (training samples "
            "if the run has no validation split): the share of ReLU units that never fire (dead), the size "
            "of the loss gradient, and how far the epoch moved the weights relative to their size. Dashed red "
            "lines bound the healthy range; the notes above say in words what is out of it.")
    return made


def _image_figures(run: Path, engine, layers: dict[str, np.ndarray], ds, P: np.ndarray, image_hw: tuple[int, int],
                   add) -> None:
    """The pictures that need a model to probe: saliency, feature maps, class inputs, unit cards, and
    the weight evolution kept during training."""
    from nnlab.viz import probes

    model = engine.torch_model()
    cnn = engine.kind == "cnn"
    input_shape = tuple(ds.image_shape) if cnn else (ds.n_features,)

    def pixels(X: np.ndarray) -> np.ndarray:  # model inputs back to [0, 1] images for display
        return np.clip(ds.scaler.inverse(X).reshape(-1, *image_hw) / ds.scaler.pixel_max, 0, 1)

    pred = P.argmax(axis=1)
    # one test image of each class (in test order), up to 8: saliency across the classes
    shown = [int(np.flatnonzero(ds.y_test == k)[0]) for k in range(ds.n_classes) if (ds.y_test == k).any()][:8]
    maps = probes.saliency(model, ds.X_test[shown], pred[shown], input_shape).reshape(-1, *image_hw)
    add(figures.saliency_maps(pixels(ds.X_test[shown]), maps,
                              [f"{ds.classes[ds.y_test[i]]} → {ds.classes[pred[i]]}" for i in shown]),
        "saliency.png", "Saliency maps",
        "Under each test image (true → predicted class), how strongly each pixel moves the predicted class's "
        "score against the others. Bright pixels on the object's telling parts are good; bright pixels on "
        "the background mean the model leans on something that is not the object.")

    if cnn:
        right = np.flatnonzero(pred == ds.y_test)
        i = int(right[0]) if len(right) else 0
        maps = probes.feature_maps(model, ds.X_test[i], input_shape)
        add(figures.feature_maps(pixels(ds.X_test[i : i + 1])[0], maps, f"test image: {ds.classes[ds.y_test[i]]}"),
            "feature_maps.png", "Feature maps",
            "One test image through each conv block (after the ReLU, first 16 channels, bright = strong). "
            "The first block answers to edges and strokes at full size; deeper blocks are smaller and "
            "answer to larger parts. A map that is dark for every image belongs to a dead channel.")
        X_class = probes.optimise_class_inputs(model, input_shape, ds.n_classes)
        add(figures.image_gallery(X_class.reshape(-1, *image_hw), list(ds.classes),
                                  "inputs optimised for each class score"),
            "class_templates.png", "Class templates",
            "For each class, an input image found by gradient ascent on the class score (from a grey image, "
            "kept smooth and in [0, 1]): what the network looks for. Recognisable outlines mean it learned the "
            "shapes; stripes and speckle mean it keys on texture.")

    first = next(iter(layers.values()))
    units = figures.strongest_first(first.reshape(first.shape[0], -1).T if cnn else first)[:8]
    weights = first[units, 0] if cnn else first[:, units].T.reshape(-1, *image_hw)
    acts = probes.first_hidden_activations(model, ds.X_test, input_shape)[:, units]  # samples x units
    top = np.argsort(-acts, axis=0, kind="stable")[:6].T                             # units x (up to) 6
    add(figures.unit_cards(weights, pixels(ds.X_test[top.ravel()]).reshape(*top.shape, *image_hw),
                           [int(u) for u in units], np.take_along_axis(acts, top.T, axis=0).T),
        "unit_cards.png", "What excites the first hidden layer",
        "For the strongest first-layer units (filters, for the CNN): the weights, then the six test images "
        "with the highest activation (mean over the map, for a filter) and its value. A unit that prefers "
        "one class is a detector for it; mixed classes mean a shared part such as an edge or a sleeve.")

    from nnlab.training.job import load_snapshots

    snapshots = load_snapshots(run)
    if snapshots:
        epochs, tiles = evolution_frames(snapshots, image_hw)
        add(figures.weight_evolution(epochs, tiles), "weight_evolution.png", "Weight evolution",
            "The strongest first-layer units (filters, for the CNN) from their random start (epoch 0) to the "
            "end. Structure should appear early and then sharpen; a tile that stays noise did not learn.")
