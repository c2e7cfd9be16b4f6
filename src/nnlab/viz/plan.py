"""The report's figure plan: which pictures a model and its data get, in report order, one table entry each.

An entry names its file, its title, the models and data it is for, the function that draws it and its
caption (`viz.captions`). The drawing functions compute what their picture needs from `Views` of the
report input (shared between the pictures and captions, computed once) and hand arrays to `viz.figures`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure as PlotFigure

from nnlab.metrics import calibration
from nnlab.models.bridge import dense_layers
from nnlab.training import health
from nnlab.viz import analysis, captions, figures, probes
from nnlab.viz.report_input import ReportInput, grey_images


@dataclass
class Figure:
    file: str      # under OUT/figures/
    title: str
    caption: str   # what to look for


@dataclass(frozen=True)
class Patches:
    """Where the strongest channels of one conv layer fire most, as image patches (its receptive field)."""

    patches: np.ndarray   # channels x k x size x size
    picked: list[int]     # the channels shown
    channels: int         # of the layer
    k: int
    size: int


class Views:
    """What the pictures and their captions share, derived from one report input and computed once."""

    def __init__(self, ev: ReportInput):
        self.ev = ev

    @cached_property
    def layers(self) -> dict[str, np.ndarray]:
        return self.ev.model.layer_weights()

    @cached_property
    def kernels(self) -> list[np.ndarray]:
        return [K for name, K in self.layers.items() if name.startswith("conv")]

    @cached_property
    def dense(self) -> list[np.ndarray]:
        return [W for name, W in self.layers.items() if name.startswith("dense")]

    @cached_property
    def first(self) -> np.ndarray:
        return next(iter(self.layers.values()))

    @cached_property
    def image_hw(self) -> tuple[int, int] | None:
        return tuple(self.ev.data.image_shape[1:]) if grey_images(self.ev.data) else None

    @cached_property
    def spread(self) -> np.ndarray | None:
        """How much each input varies over the training samples (its standard deviation), for images."""
        return self.ev.data.X_train.std(axis=0) if self.image_hw else None

    @cached_property
    def start(self) -> np.ndarray | None:
        """The dense first layer's start (a conv layer's kernels are shown as they are)."""
        return None if self.kernels else self.ev.start

    @cached_property
    def learned(self) -> np.ndarray | None:
        """What training added to the dense first layer (`analysis.learned_part`), where its start is kept."""
        W0 = self.start
        if self.kernels or self.image_hw is None or W0 is None or W0.shape != self.first.shape:
            return None
        return analysis.learned_part(self.first, W0, self.spread)

    @cached_property
    def kept_start(self) -> float:
        """The median unit's share of its start still in its weights."""
        return float(np.median(analysis.start_share(self.first, self.start, self.spread)))

    @cached_property
    def linear(self) -> list[np.ndarray]:
        """The dense layers the model computes with at test time: each batch norm folded into its dense
        layer (a per-unit scale)."""
        return self.dense if self.ev.model.kind == "scratch" else dense_layers(self.torch)[0]

    @cached_property
    def templates(self) -> np.ndarray | None:
        """The dense network's class templates on standardised inputs (as the first-layer picture), if its
        layers chain into one per class."""
        if not all(a.shape[1] == b.shape[0] for a, b in zip(self.linear, self.linear[1:])):
            return None
        T = analysis.class_templates(self.linear) * self.spread[:, None]
        if T.shape[1] != self.ev.data.n_classes:
            return None
        T[self.spread == 0] = np.nan
        return T

    @cached_property
    def torch(self):
        return self.ev.model.torch_model()

    @cached_property
    def pred(self) -> np.ndarray:
        return self.ev.P_test.argmax(axis=1)

    def pixels(self, X: np.ndarray) -> np.ndarray:
        """Model inputs back to [0, 1] images for display."""
        ds = self.ev.data
        return np.clip(ds.scaler.inverse(X).reshape(-1, *self.image_hw) / ds.scaler.pixel_max, 0, 1)

    @cached_property
    def cards_show_weights(self) -> bool:
        """Whether the unit cards show weights (filters, or a first layer without its start) rather than
        what training added."""
        return self.learned is None

    @cached_property
    def evolution(self) -> tuple[list[int], np.ndarray]:
        return analysis.evolution_frames(self.ev.snapshots, self.image_hw, None if self.kernels else self.spread)

    @cached_property
    def evolution_learned(self) -> bool:
        """Whether the evolution shows what training added (dense units from epoch 0 on) or the weights."""
        return not self.kernels and self.evolution[0][0] > 0

    def patches(self, index: int, channels: int = 8, k: int = 8) -> Patches:
        if index not in self._patches:
            self._patches[index] = _measure_patches(self, index, channels, k)
        return self._patches[index]

    @cached_property
    def _patches(self) -> dict[int, Patches]:
        return {}


# -- drawing, one function per picture: Views in, a matplotlib figure out --------------------------------------

def _learning_curves(v: Views) -> PlotFigure:
    return figures.learning_curves(v.ev.history)


def _first_layer_learned(v: Views, shown: int = 32) -> PlotFigure:
    D = v.learned
    order = _first_layer_order(v, shown)
    return figures.weight_tiles(D[:, order].T.reshape(-1, *v.image_hw), [str(j) for j in order],
                                f"first layer: what training added, {len(order)} of {v.first.shape[1]} units "
                                "(most changed first)", colorbar="(W − c·W₀) × pixel spread")


def _first_layer_weights(v: Views, shown: int = 32) -> PlotFigure:
    W, order = v.first, _first_layer_order(v, shown)
    title = ("the same units' raw weights W (random start included), each on its own scale" if v.learned is not None
             else f"first-layer weights, {len(order)} of {W.shape[1]} units (strongest first), each on its own scale")
    return figures.weight_tiles(W[:, order].T.reshape(-1, *v.image_hw), [str(j) for j in order], title)


def _first_layer_order(v: Views, shown: int) -> np.ndarray:
    """The units both first-layer pictures show: most changed by training first, or strongest first."""
    return figures.strongest_first(v.first if v.learned is None else np.nan_to_num(v.learned))[:shown]


def _dense_class_templates(v: Views) -> PlotFigure:
    return figures.class_tiles(v.templates, v.image_hw, list(v.ev.data.classes))


def _conv1_kernels(v: Views) -> PlotFigure:
    K = v.kernels[0]
    tiles = K[:, 0] if K.shape[1] == 1 else K.mean(axis=1)
    order = figures.strongest_first(tiles.reshape(len(tiles), -1).T)[:64]
    return figures.conv_kernels(tiles[order], [f"ch {c}" for c in order],
                                f"conv layer 1: {len(order)} kernels of {K.shape[2]}x{K.shape[3]} (strongest first)"
                                + ("" if K.shape[1] == 1 else ", mean over input channels"))


def _saliency(v: Views) -> PlotFigure:
    ds, pred = v.ev.data, v.pred
    # The first test image of each class, up to 10: where the model looks, class by class.
    shown = [int(np.flatnonzero(ds.y_test == k)[0]) for k in range(ds.n_classes) if (ds.y_test == k).any()][:10]
    black = ds.scaler.transform(np.zeros((1, ds.n_features)))[0]
    attributions = probes.integrated_gradients(v.torch, ds.X_test[shown], pred[shown], black, v.ev.input_shape)
    attributions = attributions.reshape(len(shown), -1, *v.image_hw).sum(axis=1)  # channels summed
    return figures.saliency_maps(v.pixels(ds.X_test[shown]), attributions,
                                 [f"{ds.classes[ds.y_test[i]]}\n→ {ds.classes[pred[i]]}" for i in shown])


def _feature_maps(v: Views) -> PlotFigure:
    ds = v.ev.data
    right = np.flatnonzero(v.pred == ds.y_test)
    i = int(right[0]) if len(right) else 0
    maps = probes.feature_maps(v.torch, ds.X_test[i], v.ev.input_shape)
    return figures.feature_maps(v.pixels(ds.X_test[i : i + 1])[0], maps, f"test image: {ds.classes[ds.y_test[i]]}")


def _measure_patches(v: Views, index: int, channels: int, k: int) -> Patches:
    """For the strongest channels of conv layer `index`: the test-image patches (its receptive field) where
    each fires most. Its kernels themselves combine the maps below and read as noise."""
    K, X, input_shape = v.kernels[index - 1], v.ev.data.X_test, v.ev.input_shape
    picked = [int(c) for c in figures.strongest_first(K.reshape(K.shape[0], -1).T)[:channels]]
    where = probes.strongest_positions(v.torch, X, input_shape, index, picked, k)  # channels x k x 3
    size, jump, start = probes.receptive_field(v.torch, index, channels=input_shape[0], image_hw=input_shape[1:])
    images = v.pixels(X[np.unique(where[..., 0])])
    lookup = {int(i): n for n, i in enumerate(np.unique(where[..., 0]))}
    padded = np.pad(images, ((0, 0), (size, size), (size, size)))  # black outside the image
    patches = np.zeros((*where.shape[:2], size, size))
    for c, row in enumerate(where):
        for j, (i, r, col) in enumerate(row):
            top, left = (round(start + p * jump - (size - 1) / 2) + size for p in (r, col))
            patches[c, j] = padded[lookup[int(i)], top:top + size, left:left + size]
    return Patches(patches, picked, K.shape[0], k, size)


def _conv_patches(index: int) -> Callable[[Views], PlotFigure]:
    def draw(v: Views) -> PlotFigure:
        p = v.patches(index)
        return figures.patch_rows(p.patches, [f"ch {c}" for c in p.picked],
                                  f"conv layer {index}: where {len(p.picked)} of its {p.channels} channels fire most "
                                  f"({p.size}x{p.size}-pixel patches)")

    return draw


def _cnn_class_templates(v: Views) -> PlotFigure:
    ds = v.ev.data
    X_class = probes.optimise_class_inputs(v.torch, v.ev.input_shape, ds.n_classes)
    return figures.image_gallery(X_class.reshape(-1, *v.image_hw), list(ds.classes),
                                 "inputs optimised for each class score", cols=10)


def _unit_cards(v: Views) -> PlotFigure:
    ds, first = v.ev.data, v.first
    if v.cards_show_weights:
        cnn = bool(v.kernels)
        units = figures.strongest_first(first.reshape(first.shape[0], -1).T if cnn else first)[:6]
        weights = first[units, 0] if cnn else first[:, units].T.reshape(-1, *v.image_hw)
    else:  # the same view and order as the first-layer picture: what training added, most changed first
        units = figures.strongest_first(np.nan_to_num(v.learned))[:6]
        weights = v.learned[:, units].T.reshape(-1, *v.image_hw)
    acts = probes.first_hidden_activations(v.torch, ds.X_test, v.ev.input_shape)[:, units]  # samples x units
    top = np.argsort(-acts, axis=0, kind="stable")[:6].T                                    # units x (up to) 6
    return figures.unit_cards(weights, v.pixels(ds.X_test[top.ravel()]).reshape(*top.shape, *v.image_hw),
                              [int(u) for u in units], np.take_along_axis(acts, top.T, axis=0).T)


def _weight_evolution(v: Views) -> PlotFigure:
    epochs, tiles = v.evolution
    return figures.weight_evolution(epochs, tiles,
                                    "first-layer filters during training (each filter's epochs left to right)"
                                    if v.kernels else "what training added to first-layer units, epoch by epoch "
                                    "(each unit's epochs left to right)" if v.evolution_learned else
                                    "first-layer weights during training (each unit's epochs left to right)")


def _confusion_matrix(v: Views) -> PlotFigure:
    return figures.confusion_matrix(np.array(v.ev.summary["confusion_matrix"]), list(v.ev.data.classes))


def _confident_mistakes(v: Views) -> PlotFigure:
    ds, P, pred = v.ev.data, v.ev.P_test, v.pred
    wrong = np.flatnonzero(pred != ds.y_test)
    worst = wrong[np.argsort(-P[wrong, pred[wrong]])][:18]
    images = ds.scaler.inverse(ds.X_test[worst]).reshape(-1, *v.image_hw) / ds.scaler.pixel_max
    labels = [f"{ds.classes[ds.y_test[i]]}\n→ {ds.classes[pred[i]]} {P[i, pred[i]]:.0%}" for i in worst]
    return figures.image_gallery(np.clip(images, 0, 1), labels, "most confident mistakes: true → predicted")


def _calibration(v: Views) -> PlotFigure:
    cal = calibration(v.ev.P_test, v.ev.data.y_test)
    return figures.reliability_diagram(cal["edges"], cal["accuracy"], cal["count"], cal["ece"])


def _decision_boundary(v: Views) -> PlotFigure:
    ds = v.ev.data
    lo, hi = ds.X_test.min(axis=0) - 0.5, ds.X_test.max(axis=0) + 0.5
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    prob = v.ev.model.predict_proba(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))[:, 1].reshape(xx.shape)
    return figures.decision_boundary(xx, yy, prob, ds.X_test, ds.y_test, list(ds.classes))


def _training_health(v: Views) -> PlotFigure:
    span = health.spans(v.ev.history)
    return figures.training_health(v.ev.history, span.later, span.steady, health.DEAD_WARN, health.RATIO_HIGH,
                                   health.RATIO_LOW)


# -- which models and data each picture is for -------------------------------------------------------------

def _dense_image(v: Views) -> bool:
    return v.image_hw is not None and not v.kernels


def _cnn_image(v: Views) -> bool:
    return v.image_hw is not None and bool(v.kernels)


def _conv_layers(n: int) -> Callable[[Views], bool]:
    return lambda v: _cnn_image(v) and len(v.kernels) >= n


@dataclass(frozen=True)
class Entry:
    file: str
    title: str
    shown_for: Callable[[Views], bool]
    draw: Callable[[Views], PlotFigure]
    caption: str | Callable[[Views], str]


PLAN: tuple[Entry, ...] = (
    Entry("learning_curves.png", "Learning curves", lambda v: bool(v.ev.history), _learning_curves,
          captions.learning_curves),
    Entry("first_layer_learned.png", "First layer: what training learned",
          lambda v: _dense_image(v) and v.learned is not None, _first_layer_learned, captions.first_layer_learned),
    Entry("first_layer_weights.png", "First-layer weights as they are", _dense_image, _first_layer_weights,
          captions.first_layer_weights),
    Entry("class_templates.png", "Class templates", lambda v: _dense_image(v) and v.templates is not None,
          _dense_class_templates, captions.DENSE_CLASS_TEMPLATES),
    Entry("conv1_kernels.png", "Conv layer 1 kernels", lambda v: bool(v.kernels), _conv1_kernels,
          captions.conv1_kernels),
    Entry("saliency.png", "Where the model looks", lambda v: v.image_hw is not None, _saliency, captions.SALIENCY),
    Entry("feature_maps.png", "Feature maps", _cnn_image, _feature_maps, captions.FEATURE_MAPS),
    Entry("conv2_patches.png", "Conv layer 2: what its channels respond to", _conv_layers(2), _conv_patches(2),
          captions.conv_patches(2)),
    Entry("conv3_patches.png", "Conv layer 3: what its channels respond to", _conv_layers(3), _conv_patches(3),
          captions.conv_patches(3)),
    Entry("class_templates.png", "Class templates", _cnn_image, _cnn_class_templates, captions.CNN_CLASS_TEMPLATES),
    Entry("unit_cards.png", "What excites the first hidden layer", lambda v: v.image_hw is not None, _unit_cards,
          captions.unit_cards),
    Entry("weight_evolution.png", "Weight evolution", lambda v: v.image_hw is not None and bool(v.ev.snapshots),
          _weight_evolution, captions.weight_evolution),
    Entry("confusion_matrix.png", "Confusion matrix", lambda v: True, _confusion_matrix, captions.CONFUSION_MATRIX),
    Entry("confident_mistakes.png", "Most confident mistakes",
          lambda v: v.image_hw is not None and bool((v.pred != v.ev.data.y_test).any()), _confident_mistakes,
          captions.CONFIDENT_MISTAKES),
    Entry("calibration.png", "Calibration", lambda v: True, _calibration, captions.calibration),
    Entry("decision_boundary.png", "Decision boundary",
          lambda v: v.ev.data.n_features == 2 and v.ev.data.n_classes == 2, _decision_boundary,
          captions.DECISION_BOUNDARY),
    Entry("training_health.png", "Training health", lambda v: any(h.get("health") for h in v.ev.history),
          _training_health, captions.training_health),
)


def draw(ev: ReportInput, out: Path, plan: tuple[Entry, ...] = PLAN) -> list[Figure]:
    """Draw every entry of `plan` that applies to `ev` into OUT/figures/; returns them in report order."""
    folder = out / "figures"
    folder.mkdir(exist_ok=True)
    v, made = Views(ev), []
    for entry in plan:
        if entry.shown_for(v):
            figures.save(entry.draw(v), folder / entry.file)
            caption = entry.caption if isinstance(entry.caption, str) else entry.caption(v)
            made.append(Figure(entry.file, entry.title, caption))
    return made


def not_shown(ds, history: list[dict]) -> list[str]:
    """What the report cannot show for this model and data, and why: a reader should not have to guess
    why a picture is missing."""
    out = []
    if not history:
        out.append("Learning curves, weight evolution and training health: no training history was recorded "
                   "(give nnlab.report the nnlab.Recorder your training loop fed).")
    elif not any(h.get("health") for h in history):
        out.append("Training health: it needs a fixed probe batch, nnlab.Recorder(model, probe=(X, y)).")
    if ds.image_shape is None and ds.n_features != 2:
        out.append("Weight pictures, attributions and the images that excite each unit: the inputs are "
                   f"{ds.n_features} plain features, not an image.")
    elif ds.image_shape is not None and ds.image_shape[0] != 1:
        out.append(f"Weight pictures, attributions, feature maps: these are colour images ({ds.image_shape[0]} "
                   "channels), which the report does not draw yet.")
    if ds.n_features == 2 and ds.n_classes != 2:
        out.append("Decision boundary: drawn for two classes only.")
    return out
