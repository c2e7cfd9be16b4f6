"""Figure functions: each takes arrays (never a model) and returns a matplotlib Figure.

Weights are drawn with a diverging colormap centred on zero (red positive, blue negative) and a
symmetric colour scale, so that the sign of a weight reads at a glance and 0 is always white.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, no GUI toolkit loaded
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DIVERGING = "RdBu_r"


def _grid(n: int, max_cols: int = 16) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def _titled(fig: Figure, title: str, pad: float = 0.3) -> None:
    """Suptitle and tight layout, with room kept for the title (tight_layout alone ignores it)."""
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=pad, rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))


def strongest_first(W: np.ndarray) -> np.ndarray:
    """Column order of W (inputs x units) by each unit's weight norm, largest first."""
    return np.argsort(-np.linalg.norm(W, axis=0), kind="stable")


def weight_tiles(W: np.ndarray, image_shape: tuple[int, int], title: str, max_tiles: int = 64) -> Figure:
    """First-layer weights as images: tile j is unit j's incoming weights folded to the image shape,
    each with its own symmetric colour scale; the strongest units first."""
    order = strongest_first(W)[:max_tiles]
    rows, cols = _grid(len(order))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9 + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, j in zip(axes.flat, order):
        _diverging(ax, W[:, j].reshape(image_shape))
        ax.set_title(str(j), fontsize=6, pad=1)
    _titled(fig, title)
    return fig


def class_tiles(T: np.ndarray, image_shape: tuple[int, int], classes: list[str]) -> Figure:
    """One image per class (column of T), titled by the class. Each has its own symmetric colour scale
    set at the 99th percentile of |T|: a few border pixels, rarely lit in training, keep large weights
    and would otherwise wash the rest of the picture out."""
    rows, cols = _grid(T.shape[1], 10)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5 + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, k in zip(axes.flat, range(T.shape[1])):
        tile = T[:, k].reshape(image_shape)
        limit = float(np.percentile(np.abs(tile), 99)) or float(np.abs(tile).max()) or 1.0
        ax.imshow(tile, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(classes[k], fontsize=7)
    fig.tight_layout(pad=0.3)
    return fig


def conv_kernels(K: np.ndarray, title: str, max_out: int = 32, max_in: int = 16) -> Figure:
    """Conv kernels (out x in x kh x kw) as a grid: one row per output channel, one column per input
    channel (up to the limits), one symmetric colour scale per output channel."""
    out_ch, in_ch = min(K.shape[0], max_out), min(K.shape[1], max_in)
    if K.shape[1] == 1:  # first layer: one picture per filter, laid out in a grid
        rows, cols = _grid(out_ch, 8)
        fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9 + 0.5), squeeze=False)
        pairs = [(o, 0) for o in range(out_ch)]
    else:
        fig, axes = plt.subplots(out_ch, in_ch, figsize=(in_ch * 0.45, out_ch * 0.45 + 0.5), squeeze=False)
        pairs = [(o, i) for o in range(out_ch) for i in range(in_ch)]
    for ax in axes.flat:
        ax.axis("off")
    for ax, (o, i) in zip(axes.flat, pairs):
        limit = float(np.abs(K[o]).max()) or 1.0
        ax.imshow(K[o, i], cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
    shown = f" (first {out_ch} of {K.shape[0]} outputs, {in_ch} of {K.shape[1]} inputs)" if K.shape[1] > 1 else ""
    _titled(fig, title + shown, pad=0.2)
    return fig


def learning_curves(history: list[dict]) -> Figure:
    """Loss and accuracy per epoch, training (as measured during the epoch) and validation."""
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, label in ((left, "loss", "log loss"), (right, "accuracy", "accuracy")):
        ax.plot(epochs, [h[key] for h in history], "o-", ms=3, label="training")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "o-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def confusion_matrix(C: np.ndarray, classes: list[str]) -> Figure:
    """Counts of true class (rows) against predicted class (columns), shaded by the row share."""
    C = np.asarray(C)
    share = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.55 * len(classes) + 1.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if C[i, j]:
                ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    fig.tight_layout()
    return fig


def image_gallery(images: np.ndarray, captions: list[str], title: str, cols: int = 8) -> Figure:
    """Images (n x h x w, values in [0, 1]) in a grid, each with a caption."""
    rows, cols = _grid(max(len(images), 1), cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(caption, fontsize=6)
    _titled(fig, title)
    return fig


def decision_boundary(xx: np.ndarray, yy: np.ndarray, prob: np.ndarray, X: np.ndarray, y: np.ndarray,
                      classes: list[str]) -> Figure:
    """The probability of class 1 over the plane, with the test points on top (TensorFlow Playground's view)."""
    fig, ax = plt.subplots(figsize=(5, 4.4))
    field = ax.contourf(xx, yy, prob, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.8)
    ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1)
    for k, marker in ((0, "o"), (1, "s")):
        ax.scatter(X[y == k, 0], X[y == k, 1], s=10, marker=marker, edgecolors="k", linewidths=0.4,
                   c="tab:blue" if k == 0 else "tab:red", label=classes[k])
    fig.colorbar(field, ax=ax, label=f"P({classes[1]})")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    fig.tight_layout()
    return fig


def reliability_diagram(edges: np.ndarray, accuracy: np.ndarray, count: np.ndarray, ece: float) -> Figure:
    """Accuracy per confidence bin against the diagonal of perfect calibration, with the bin counts."""
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(4.8, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.bar(centres, np.nan_to_num(accuracy), width=width * 0.9, color="tab:blue", label="accuracy")
    top.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_title(f"expected calibration error {ece:.3f}", fontsize=9)
    top.legend(fontsize=7, loc="upper left")
    bottom.bar(centres, count, width=width * 0.9, color="gray")
    bottom.set_yscale("log")
    bottom.set_xlabel("confidence of the predicted class")
    bottom.set_ylabel("samples")
    fig.tight_layout()
    return fig


def _hide_axes(axes) -> None:
    for ax in np.asarray(axes).flat:
        ax.axis("off")


def _diverging(ax, tile: np.ndarray) -> None:
    limit = float(np.abs(tile).max()) or 1.0
    ax.imshow(tile, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")


def saliency_maps(images: np.ndarray, maps: np.ndarray, captions: list[str]) -> Figure:
    """Images (n x h x w in [0, 1]) above their saliency maps (n x h x w, each scaled to its maximum)."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(n * 1.3, 3.1), squeeze=False)
    _hide_axes(axes)
    for j in range(n):
        axes[0, j].imshow(images[j], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0, j].set_title(captions[j], fontsize=6)
        axes[1, j].imshow(maps[j], cmap="hot", vmin=0, vmax=float(maps[j].max()) or 1.0, interpolation="nearest")
    _titled(fig, "test images (top) and their saliency: where a change moves the class score most")
    return fig


def feature_maps(image: np.ndarray, maps: list[np.ndarray], caption: str, max_channels: int = 16) -> Figure:
    """One image (h x w in [0, 1]) and, one row per conv block, its first channels' maps (c x h x w)."""
    cols = min(max_channels, max(m.shape[0] for m in maps))
    fig, axes = plt.subplots(len(maps) + 1, cols, figsize=(cols * 0.8, (len(maps) + 1) * 0.9 + 0.3), squeeze=False)
    _hide_axes(axes)
    axes[0, 0].imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0, 0].set_title(caption, fontsize=6, loc="left")
    for row, block in enumerate(maps, start=1):
        for c in range(min(cols, block.shape[0])):
            axes[row, c].imshow(block[c], cmap="viridis", vmin=0, vmax=float(block[c].max()) or 1.0,
                                interpolation="nearest")
        axes[row, 0].set_title(f"block {row}: {block.shape[0]} maps of {block.shape[1]}x{block.shape[2]}",
                               fontsize=6, loc="left")
    fig.tight_layout(pad=0.3)
    return fig


def weight_evolution(epochs: list[int], tiles: np.ndarray) -> Figure:
    """tiles (epochs x units x h x w): one row per unit, one column per epoch, each tile on its own
    symmetric colour scale (the picture shows how the pattern forms, the title how large it is)."""
    n_epochs, n_units = tiles.shape[:2]
    fig, axes = plt.subplots(n_units, n_epochs, figsize=(n_epochs * 0.95, n_units * 0.95 + 0.5), squeeze=False)
    _hide_axes(axes)
    for e in range(n_epochs):
        axes[0, e].set_title(f"epoch {epochs[e]}", fontsize=7)
        for u in range(n_units):
            _diverging(axes[u, e], tiles[e, u])
    _titled(fig, "first-layer weights during training (rows: units)")
    return fig


def unit_cards(weights: np.ndarray, images: np.ndarray, units: list[int], activations: np.ndarray) -> Figure:
    """One row per unit: its weight picture (h x w), then the inputs that excite it most
    (images: units x k x h x w in [0, 1]) with their activation."""
    n, k = images.shape[:2]
    fig, axes = plt.subplots(n, k + 1, figsize=((k + 1) * 1.0, n * 1.1 + 0.4), squeeze=False)
    _hide_axes(axes)
    for i in range(n):
        _diverging(axes[i, 0], weights[i])
        axes[i, 0].set_title(f"unit {units[i]}", fontsize=7)
        for j in range(k):
            axes[i, j + 1].imshow(images[i, j], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[i, j + 1].set_title(f"{activations[i, j]:.2f}", fontsize=6)
    _titled(fig, "first hidden layer: each unit's weights and the test images that excite it most")
    return fig


def training_health(history: list[dict], dead_warn: float, ratio_high: float, ratio_low: float) -> Figure:
    """Per layer over the epochs: dead ReLU share, gradient norm, update-to-weight ratio; the limits of
    the healthy range dashed."""
    records = [(h["epoch"], h["health"]) for h in history if h.get("health")]
    epochs = [e for e, _ in records]
    layers = list(records[-1][1])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    panels = (("dead", "share of dead ReLU units", False), ("grad_norm", "gradient norm ‖dL/dW‖", True),
              ("update_ratio", "update-to-weight ratio per epoch", True))
    for ax, (key, label, log) in zip(axes, panels):
        for name in layers:
            values = [r[name][key] for _, r in records]
            if any(v is not None for v in values):
                ax.plot(epochs, [np.nan if v is None else v for v in values], "o-", ms=3, label=name)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].axhline(dead_warn, color="tab:red", ls="--", lw=1)
    axes[0].set_ylim(-0.02, 1.02)
    for limit in (ratio_high, ratio_low):
        axes[2].axhline(limit, color="tab:red", ls="--", lw=1)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def compare_curves(histories: dict[str, list[dict]]) -> Figure:
    """Validation loss and accuracy per epoch of several runs on shared axes (training loss dashed)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (label, history) in enumerate(histories.items()):
        colour = f"C{i % 10}"
        epochs = [h["epoch"] for h in history]
        left.plot(epochs, [h["val_loss"] for h in history], "-", color=colour, label=label)
        left.plot(epochs, [h["loss"] for h in history], "--", color=colour, lw=0.8)
        right.plot(epochs, [h["val_accuracy"] for h in history], "-", color=colour, label=label)
    for ax, label in ((left, "log loss (validation; training dashed)"), (right, "validation accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def save(fig: Figure, path) -> None:
    """Write the figure as PNG atomically, then free it."""
    import io

    from nnlab.files import write_bytes_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())
