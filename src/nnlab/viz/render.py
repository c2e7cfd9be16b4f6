"""The figures of one run: read the run directory, compute what each picture needs, save PNGs.

This is the only viz module that knows about models and runs; the figure functions see arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab import runs
from nnlab.metrics import calibration
from nnlab.viz import figures


@dataclass
class Figure:
    file: str      # under RUN/figures/
    title: str
    caption: str   # what to look for


def dense_weights(engine) -> list[np.ndarray]:
    """Every dense layer's weights as (inputs x outputs), for the NumPy network and the MLP."""
    if engine.kind == "scratch":
        return list(engine.net.W)
    if engine.kind == "mlp":
        import torch

        return [m.weight.detach().cpu().numpy().T for m in engine.model.modules() if isinstance(m, torch.nn.Linear)]
    return []


def class_templates(Ws: list[np.ndarray]) -> np.ndarray:
    """(inputs x classes): the product W1·W2·…·WL, i.e. how each input pixel moves each class's logit
    when every ReLU on the way is active — the network's linear "template" of each class. A single
    sigmoid unit (the derived network) is the logit of class 1, so class 0's template is its negative."""
    T = Ws[0]
    for W in Ws[1:]:
        T = T @ W
    return np.concatenate([-T, T], axis=1) if T.shape[1] == 1 else T


def conv_kernels(engine) -> list[np.ndarray]:
    if engine.kind != "cnn":
        return []
    return [conv.weight.detach().cpu().float().numpy() for conv in engine.model.conv_layers()]


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
    made = render(run, engine, splits.data, P_test, summary)
    return write_report(run, config, summary, made)


def render(run: Path, engine, ds, P: np.ndarray, summary: dict) -> list[Figure]:
    """(Re)draw every figure of `run` into RUN/figures/ and return them in report order.
    `P` holds the test probabilities, `summary` the run's test metrics."""
    history = runs.read_metrics(run)
    out = run / "figures"
    out.mkdir(exist_ok=True)
    made: list[Figure] = []

    def add(fig, file: str, title: str, caption: str) -> None:
        figures.save(fig, out / file)
        made.append(Figure(file, title, caption))

    if history:
        add(figures.learning_curves(history), "learning_curves.png", "Learning curves",
            "Loss and accuracy per epoch. A validation curve that turns up while training keeps falling "
            "means overfitting; two curves still falling mean more epochs would help.")
    image_hw = tuple(ds.image_shape[1:]) if ds.image_shape and ds.image_shape[0] == 1 else None
    Ws = dense_weights(engine)
    if Ws and image_hw:
        W = Ws[0]
        add(figures.weight_tiles(W, image_hw, f"first-layer weights, {W.shape[1]} units (strongest first)"),
            "first_layer_weights.png", "First-layer weights",
            "Each tile is one hidden unit's incoming weights laid out as an image: red pixels raise the "
            "unit's input, blue pixels lower it. Look for strokes and outlines of the classes; pure noise "
            "means the unit learned little.")
        T = class_templates(Ws)
        add(figures.class_tiles(T, image_hw, list(ds.classes)), "class_templates.png", "Class templates",
            "For each class, the product of all weight matrices laid out as an image: how each pixel pushes "
            "that class's score when all ReLUs are on. Red pixels speak for the class, blue against it; it "
            "is the network's linear view of the class and ignores which units switch off.")
    for i, K in enumerate(conv_kernels(engine)):
        if i > 1:
            break
        add(figures.conv_kernels(K, f"conv layer {i + 1} kernels {K.shape[0]}x{K.shape[1]}x{K.shape[2]}x{K.shape[3]}"),
            f"conv{i + 1}_kernels.png", f"Conv layer {i + 1} kernels",
            "Every 3x3 kernel of the first conv layer: look for edge and blob detectors (a red side beside "
            "a blue side)." if i == 0 else
            "Kernels of the second conv layer, one row per output channel, one column per input channel: "
            "each output channel combines oriented patterns of the first layer's maps.")
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
    return made
