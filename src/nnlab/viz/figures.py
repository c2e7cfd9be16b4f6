"""Figure functions: each takes arrays (never a model) and returns a matplotlib Figure.

Weights are drawn with a diverging colormap centred on zero (red positive, blue negative) and a
symmetric colour scale, so that the sign of a weight reads at a glance and 0 is always white.
Grids of many small pictures (units, kernels, images) are drawn as one image built by `montage`,
with one axes per grid rather than per tile: a few hundred tiles then cost milliseconds, not seconds.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # files only: no display needed, no GUI toolkit loaded
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DIVERGING = "RdBu_r"


def montage(tiles: np.ndarray, cols: int, label_room: bool = False) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Tiles (n x h x w) laid out in rows of `cols`, one blank (NaN) pixel line between them and, with
    `label_room`, a strip above each row for labels. Returns the canvas and each tile's top-left corner."""
    n, h, w = tiles.shape
    rows, gap = math.ceil(n / cols), max(1, round(0.1 * min(h, w)))
    top = max(2, round(0.45 * h)) if label_room else 0
    cell_h, cell_w = top + h + gap, w + gap
    canvas = np.full((rows * cell_h - gap, cols * cell_w - gap), np.nan)
    corners = []
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = r * cell_h + top, c * cell_w
        canvas[y:y + h, x:x + w] = tile
        corners.append((y, x))
    return canvas, corners


def _draw(ax, made: tuple[np.ndarray, list[tuple[int, int]]], tile_width: int, cmap: str, vmin: float,
          vmax: float, labels: list[str] | None, fontsize: float) -> None:
    """Draw a montage (canvas, corners) on ax, gaps blank, with the labels above their tiles."""
    canvas, corners = made
    ax.imshow(canvas, cmap=plt.get_cmap(cmap).with_extremes(bad="white"), vmin=vmin, vmax=vmax,
              interpolation="nearest")
    ax.axis("off")
    for (y, x), label in zip(corners, labels or []):
        ax.text(x + tile_width / 2 - 0.5, y - 0.8, label, ha="center", va="bottom", fontsize=fontsize)


def _show_tiles(ax, tiles: np.ndarray, cols: int, cmap: str, vmin: float, vmax: float,
                labels: list[str] | None = None, fontsize: float = 6) -> None:
    """Draw `montage(tiles)` on ax, with labels above the tiles."""
    _draw(ax, montage(tiles, cols, label_room=labels is not None), tiles.shape[2], cmap, vmin, vmax, labels,
          fontsize)


def _tile_figure(tiles: np.ndarray, cols: int, inch: float, cmap: str, vmin: float, vmax: float,
                 labels: list[str] | None = None, fontsize: float = 6, title_room: float = 0.45) -> Figure:
    """A figure of one montage, sized so that it fills the width at `inch` per column."""
    made = montage(tiles, cols, label_room=labels is not None)
    width = max(cols * inch, 3.0)
    fig, ax = plt.subplots(figsize=(width, width * made[0].shape[0] / made[0].shape[1] + title_room))
    _draw(ax, made, tiles.shape[2], cmap, vmin, vmax, labels, fontsize)
    return fig


def scaled_to_peak(tiles: np.ndarray) -> np.ndarray:
    """Each tile divided by its largest |value|: every tile on its own scale, [-1, 1] (or [0, 1] for
    tiles with no negative values)."""
    limits = np.abs(tiles).reshape(len(tiles), -1).max(axis=1)
    return tiles / np.where(limits > 0, limits, 1.0)[:, None, None]


def _titled(fig: Figure, title: str, pad: float = 0.3) -> None:
    """Suptitle and tight layout, with room kept for the title (tight_layout alone ignores it)."""
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=pad, rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))


def strongest_first(W: np.ndarray) -> np.ndarray:
    """Column order of W (inputs x units) by each unit's weight norm, largest first."""
    return np.argsort(-np.linalg.norm(W, axis=0), kind="stable")


def weight_tiles(W: np.ndarray, image_shape: tuple[int, int], title: str, max_tiles: int = 64) -> Figure:
    """First-layer weights as images: tile j is unit j's incoming weights folded to the image shape,
    each with its own symmetric colour scale; the strongest units first, labelled with their index."""
    order = strongest_first(W)[:max_tiles]
    cols = min(len(order), 16)
    tiles = scaled_to_peak(W[:, order].T.reshape(-1, *image_shape))
    fig = _tile_figure(tiles, cols, 0.9, DIVERGING, -1, 1, [str(j) for j in order])
    _titled(fig, title)
    return fig


def class_tiles(T: np.ndarray, image_shape: tuple[int, int], classes: list[str]) -> Figure:
    """One image per class (column of T), labelled by the class. Each has its own symmetric colour scale
    set at the 99th percentile of |T|: a few border pixels, rarely lit in training, keep large weights
    and would otherwise wash the rest of the picture out."""
    tiles = T.T.reshape(-1, *image_shape)
    limits = np.array([np.percentile(np.abs(t), 99) or np.abs(t).max() or 1.0 for t in tiles])
    cols = min(len(tiles), 10)
    fig = _tile_figure(np.clip(tiles / limits[:, None, None], -1, 1), cols, 1.3, DIVERGING, -1, 1, list(classes),
                       7, title_room=0.1)
    fig.tight_layout(pad=0.3)
    return fig


def conv_kernels(K: np.ndarray, title: str, max_out: int = 32, max_in: int = 16) -> Figure:
    """Conv kernels (out x in x kh x kw). First layer (one input channel): one tile per filter. Deeper:
    one row per output channel, one column per input channel (up to the limits). One symmetric colour
    scale per output channel."""
    out_ch, in_ch = min(K.shape[0], max_out), min(K.shape[1], max_in)
    kh, kw = K.shape[2:]
    scaled = scaled_to_peak(K[:out_ch].reshape(out_ch, -1, kw)).reshape(out_ch, -1, kh, kw)  # per output channel
    tiles = scaled[:, :in_ch].reshape(-1, kh, kw)
    cols = min(out_ch, 8) if in_ch == 1 else in_ch
    fig = _tile_figure(tiles, cols, 0.9 if in_ch == 1 else 0.45, DIVERGING, -1, 1)
    shown = f" (first {out_ch} of {K.shape[0]} outputs, {in_ch} of {K.shape[1]} inputs)" if K.shape[1] > 1 else ""
    _titled(fig, title + shown, pad=0.2)
    return fig


def _values(history: list[dict], key: str) -> list[float]:
    """One value per epoch; NaN (not drawn) where the run has none (trained with --val-fraction 0)."""
    return [np.nan if h.get(key) is None else h[key] for h in history]


def learning_curves(history: list[dict]) -> Figure:
    """Loss and accuracy per epoch, training (as measured during the epoch) and validation (if any)."""
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, label in ((left, "loss", "log loss"), (right, "accuracy", "accuracy")):
        ax.plot(epochs, [h[key] for h in history], "o-", ms=3, label="training")
        if any(h.get(f"val_{key}") is not None for h in history):
            ax.plot(epochs, _values(history, f"val_{key}"), "o-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
    """Images (n x h x w, values in [0, 1]) in a grid, each with a caption above it."""
    cols = min(cols, max(len(images), 1))
    fig = _tile_figure(images, cols, 1.3, "gray", 0, 1, captions)
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


def saliency_maps(images: np.ndarray, maps: np.ndarray, captions: list[str]) -> Figure:
    """Images (n x h x w in [0, 1]) above their saliency maps (n x h x w, each scaled to its maximum)."""
    n = len(images)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(n * 1.3, 3.0), 3.7))
    _show_tiles(top, images, n, "gray", 0, 1, captions)
    # (empty labels keep both montages the same shape, so each map sits exactly under its image)
    _show_tiles(bottom, scaled_to_peak(maps), n, "hot", 0, 1, [""] * n)
    _titled(fig, "test images (top) and their saliency: where a change moves the class score most")
    return fig


def feature_maps(image: np.ndarray, maps: list[np.ndarray], caption: str, max_channels: int = 16) -> Figure:
    """One image (h x w in [0, 1]) and, one row per conv block, its first channels' maps (c x h x w),
    each map on its own scale from 0 to its maximum."""
    fig, axes = plt.subplots(len(maps) + 1, 1, figsize=(max_channels * 0.75, (len(maps) + 1) * 1.05 + 0.2),
                             gridspec_kw={"height_ratios": [1.3] + [1] * len(maps)})
    _show_tiles(axes[0], image[None], 1, "gray", 0, 1)
    axes[0].set_title(caption, fontsize=7)
    for ax, (row, block) in zip(axes[1:], enumerate(maps, start=1)):
        _show_tiles(ax, scaled_to_peak(block[:max_channels]), max_channels, "viridis", 0, 1)
        ax.set_title(f"block {row}: {block.shape[0]} maps of {block.shape[1]}x{block.shape[2]}"
                     + (f" (first {max_channels})" if block.shape[0] > max_channels else ""), fontsize=7)
    fig.tight_layout(pad=0.3)
    return fig


def weight_evolution(epochs: list[int], tiles: np.ndarray) -> Figure:
    """tiles (epochs x units x h x w): one row per unit, one column per epoch, each tile on its own
    symmetric colour scale (the picture shows how the pattern forms, not how large it grows)."""
    n_epochs, n_units, h, w = tiles.shape
    by_unit = tiles.transpose(1, 0, 2, 3).reshape(-1, h, w)
    labels = [f"epoch {e}" for e in epochs] + [""] * (len(by_unit) - n_epochs)
    fig = _tile_figure(scaled_to_peak(by_unit), n_epochs, 0.95, DIVERGING, -1, 1, labels, fontsize=7)
    _titled(fig, "first-layer weights during training (rows: units)")
    return fig


def unit_cards(weights: np.ndarray, images: np.ndarray, units: list[int], activations: np.ndarray) -> Figure:
    """One row per unit: its weight picture (h x w, left), then the inputs that excite it most
    (images: units x k x h x w in [0, 1]) labelled with their activation."""
    n, k = images.shape[:2]
    fig, (left, right) = plt.subplots(1, 2, figsize=((k + 1) * 1.0 + 0.3, n * 1.1 + 0.5),
                                      gridspec_kw={"width_ratios": [1, k]})
    _show_tiles(left, scaled_to_peak(weights), 1, DIVERGING, -1, 1, [f"unit {u}" for u in units], fontsize=7)
    _show_tiles(right, images.reshape(-1, *images.shape[2:]), k, "gray", 0, 1,
                [f"{a:.2f}" for a in activations.ravel()])
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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
        left.plot(epochs, _values(history, "val_loss"), "-", color=colour, label=label)
        left.plot(epochs, [h["loss"] for h in history], "--", color=colour, lw=0.8)
        right.plot(epochs, _values(history, "val_accuracy"), "-", color=colour, label=label)
    for ax, label in ((left, "log loss (validation; training dashed)"), (right, "validation accuracy")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG, then freed."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def save(fig: Figure, path) -> None:
    """Write the figure as PNG atomically, then free it."""
    from nnlab.files import write_bytes_atomic

    write_bytes_atomic(path, png_bytes(fig))
