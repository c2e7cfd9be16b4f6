"""Figure functions: each takes arrays (never a model) and returns a matplotlib Figure.

Weights are drawn with a diverging colormap centred on zero (red positive, blue negative) and a
symmetric colour scale, so that the sign of a weight reads at a glance and 0 is always white.
Grids of many small pictures (units, kernels, images) are drawn as one image built by `montage`,
with one axes per grid rather than per tile: a few hundred tiles then cost milliseconds, not seconds.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

DIVERGING = "RdBu_r"

# Legibility, for the report's column (970 px) on a 1400-px screen. A figure at most MAX_WIDTH inches wide
# is shown at its own size (DPI pixels an inch), so text of FONT points is FONT * DPI / 72 = 13.75 px, as
# large as the page's small print (13.5 px); a wider figure would be shrunk, and its text with it.
DPI = 110
MAX_WIDTH = 8.8
MAX_HEIGHT = 12.0  # inches: about a screen and a half; a larger picture is split or summarised
FONT = 9.0


def style(font: float = FONT) -> dict[str, float]:
    """The rcParams nnlab draws with: text of `font` points, titles a point larger."""
    return {"font.size": font, "axes.titlesize": font + 1, "axes.labelsize": font, "xtick.labelsize": font,
            "ytick.labelsize": font, "legend.fontsize": font, "figure.titlesize": font + 1}


def styled(font: float = FONT):
    """`style(font)` for the length of a `with` block or of each call of a decorated function, then the
    caller's rcParams back as they were. It must be on while a figure is drawn, not only saved: a text's
    size is fixed when the text is made."""
    return matplotlib.rc_context(style(font))


def subplots(*grid: int, figsize: tuple[float, float], **kwargs):
    """A Figure and its axes, as `plt.subplots` makes them but not through pyplot: no backend is chosen and
    no global list of figures is kept, so nothing changes for the caller's own plots (and no GUI toolkit
    is loaded); the figure is freed when it is dropped."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def montage(tiles: np.ndarray, cols: int, label_room: bool | int = False) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Tiles (n x h x w) laid out in rows of `cols`, one blank (NaN) pixel line between them and, with
    `label_room`, a strip above each row for labels (of `label_room` lines, if a number). Returns the
    canvas and each tile's top-left corner."""
    n, h, w = tiles.shape
    rows, gap = math.ceil(n / cols), max(1, round(0.1 * min(h, w)))
    top = max(1, round(h * (0.2 * int(label_room) + 0.08))) if label_room else 0
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
          vmax: float, labels: list[str] | None):
    """Draw a montage (canvas, corners) on ax, gaps blank, with the labels above their tiles; returns the image."""
    canvas, corners = made
    image = ax.imshow(canvas, cmap=matplotlib.colormaps[cmap].with_extremes(bad="white"), vmin=vmin, vmax=vmax,
                      interpolation="nearest")
    ax.axis("off")
    for (y, x), label in zip(corners, labels or []):
        ax.text(x + tile_width / 2 - 0.5, y - 0.8, label, ha="center", va="bottom", fontsize=FONT,
                linespacing=1.0)
    return image


def _lines(labels: list[str] | None) -> int:
    return max((label.count("\n") + 1 for label in labels), default=1) if labels is not None else 0


def _show_tiles(ax, tiles: np.ndarray, cols: int, cmap: str, vmin: float, vmax: float,
                labels: list[str] | None = None):
    """Draw `montage(tiles)` on ax, with labels above the tiles; returns the image."""
    return _draw(ax, montage(tiles, cols, label_room=_lines(labels)), tiles.shape[2], cmap, vmin, vmax, labels)


def _tile_figure(tiles: np.ndarray, cols: int, inch: float, cmap: str, vmin: float, vmax: float,
                 labels: list[str] | None = None, title_room: float = 0.45, colorbar: str | None = None) -> Figure:
    """A figure of one montage, sized so that it fills the width at `inch` per column (within MAX_WIDTH),
    with a colour bar labelled `colorbar` if given."""
    made = montage(tiles, cols, label_room=_lines(labels))
    bar = 0.9 if colorbar else 0.0
    aspect = made[0].shape[0] / made[0].shape[1]
    width = min(cols * inch, MAX_WIDTH - bar, (MAX_HEIGHT - title_room - 0.5) / aspect)
    fig, ax = subplots(figsize=(max(width + bar, 1.5), width * aspect + title_room))
    image = _draw(ax, made, tiles.shape[2], cmap, vmin, vmax, labels)
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.9 / (width + bar), shrink=0.8, pad=0.02, label=colorbar)
    return fig


def scaled_to_peak(tiles: np.ndarray) -> np.ndarray:
    """Each tile divided by its largest |value|: every tile on its own scale, [-1, 1] (or [0, 1] for
    tiles with no negative values)."""
    limits = np.abs(tiles).reshape(len(tiles), -1).max(axis=1)
    return tiles / np.where(limits > 0, limits, 1.0)[:, None, None]


def _titled(fig: Figure, title: str, pad: float = 0.3) -> None:
    """Suptitle and tight layout, with room kept for the title (tight_layout alone ignores it)."""
    # Wrapped to the figure's width (about 0.085 inch a character at the title's size): never cut off.
    lines = textwrap.wrap(title, max(20, int(fig.get_figwidth() / 0.085)))
    fig.suptitle("\n".join(lines))
    fig.tight_layout(pad=pad, rect=(0, 0, 1, 1 - (0.12 + 0.2 * len(lines)) / fig.get_figheight()))


def symmetric_limit(values: np.ndarray, percentile: float = 99.5) -> float:
    """One colour limit for a picture of signed values: a high percentile of |value| (a few extreme pixels
    would otherwise wash out the rest), never 0."""
    finite = np.abs(values[np.isfinite(values)])
    limit = float(np.percentile(finite, percentile)) if finite.size else 0.0
    return limit or float(finite.max(initial=0.0)) or 1.0


def strongest_first(W: np.ndarray) -> np.ndarray:
    """Column order of W (inputs x units) by each unit's weight norm, largest first."""
    return np.argsort(-np.linalg.norm(W, axis=0), kind="stable")


@styled()
def weight_tiles(tiles: np.ndarray, labels: list[str], title: str, colorbar: str | None = None,
                 cols: int = 8) -> Figure:
    """Weight pictures (n x h x w, NaN = blank), in the order given. With `colorbar`, all on one symmetric
    colour scale (so a faint tile means a small weight); without, each on its own (the pattern, not the size)."""
    if colorbar:
        limit = symmetric_limit(tiles)
        shown = np.clip(tiles / limit, -1, 1)
    else:
        shown = scaled_to_peak(np.nan_to_num(tiles)) + np.where(np.isnan(tiles), np.nan, 0)
    cols = min(len(tiles), cols)
    fig = _tile_figure(shown, cols, 1.05, DIVERGING, -1, 1, labels, colorbar=colorbar)
    if colorbar:
        bar = fig.axes[-1]
        bar.set_yticks([-1, 0, 1], [f"{-limit:.2g}", "0", f"{limit:.2g}"])
    _titled(fig, title)
    return fig


@styled()
def class_tiles(T: np.ndarray, image_shape: tuple[int, int], classes: list[str]) -> Figure:
    """One image per class (column of T, NaN = blank), labelled by the class. Each has its own symmetric
    colour scale set at the 99th percentile of |T|: a few extreme pixels would otherwise wash the rest out."""
    tiles = T.T.reshape(-1, *image_shape)
    limits = np.array([symmetric_limit(t, 99) for t in tiles])
    cols = min(len(tiles), 10)
    fig = _tile_figure(np.clip(tiles / limits[:, None, None], -1, 1), cols, 0.85, DIVERGING, -1, 1, list(classes),
                       title_room=0.1)
    fig.tight_layout(pad=0.3)
    return fig


@styled()
def conv_kernels(K: np.ndarray, labels: list[str], title: str) -> Figure:
    """First-layer conv kernels (n x kh x kw, for one input channel), on one symmetric colour scale with
    a colour bar, large enough to see each kernel's orientation."""
    limit = symmetric_limit(K, 99)  # (a single large kernel would otherwise wash the rest out)
    cols = min(len(K), 8)
    fig = _tile_figure(np.clip(K / limit, -1, 1), cols, 0.95, DIVERGING, -1, 1, labels, colorbar="weight")
    fig.axes[-1].set_yticks([-1, 0, 1], [f"{-limit:.2g}", "0", f"{limit:.2g}"])
    _titled(fig, title, pad=0.2)
    return fig


@styled()
def patch_rows(patches: np.ndarray, labels: list[str], title: str) -> Figure:
    """patches (channels x k x h x w, in [0, 1]): one row per channel, its k patches side by side in grey,
    the channel's label above the row's first patch."""
    k = patches.shape[1]
    tiles = patches.reshape(-1, *patches.shape[2:])
    fig = _tile_figure(tiles, k, 0.75, "gray", 0, 1, [label if j == 0 else "" for label in labels for j in range(k)])
    _titled(fig, title, pad=0.2)
    return fig


def _values(history: list[dict], key: str) -> list[float]:
    """One value per epoch; NaN (not drawn) where the run has none (trained with --val-fraction 0)."""
    return [np.nan if h.get(key) is None else h[key] for h in history]


@styled()
def learning_curves(history: list[dict]) -> Figure:
    """Loss and accuracy per epoch, training (as measured during the epoch) and validation (if any); a
    panel only for what the history holds (a loop of one's own may record the loss alone)."""
    epochs = [h["epoch"] for h in history]
    panels = [(key, label) for key, label in (("loss", "log loss"), ("accuracy", "accuracy"))
              if any(h.get(key) is not None or h.get(f"val_{key}") is not None for h in history)]
    fig, axes = subplots(1, len(panels), figsize=(MAX_WIDTH if len(panels) > 1 else MAX_WIDTH / 2 + 0.4, 3.4),
                             squeeze=False)
    for ax, (key, label) in zip(axes[0], panels):
        if any(h.get(key) is not None for h in history):
            ax.plot(epochs, _values(history, key), "o-", ms=3, label="training")
        if any(h.get(f"val_{key}") is not None for h in history):
            ax.plot(epochs, _values(history, f"val_{key}"), "o-", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


@styled()
def confusion_matrix(C: np.ndarray, classes: list[str]) -> Figure:
    """Counts of true class (rows) against predicted class (columns), shaded by the row share."""
    C = np.asarray(C)
    share = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
    size = min(max(4.0, 0.6 * len(classes) + 1.5), MAX_WIDTH - 1.5)
    fig, ax = subplots(figsize=(size + 1, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if C[i, j]:
                ax.text(j, i, str(C[i, j]), ha="center", va="center",
                        color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    fig.tight_layout()
    return fig


@styled()
def image_gallery(images: np.ndarray, captions: list[str], title: str, cols: int = 6) -> Figure:
    """Images (n x h x w, values in [0, 1]) in a grid, each with a caption (one or more lines) above it."""
    cols = min(cols, max(len(images), 1))
    fig = _tile_figure(images, cols, 1.4, "gray", 0, 1, captions)
    _titled(fig, title)
    return fig


@styled()
def decision_boundary(xx: np.ndarray, yy: np.ndarray, prob: np.ndarray, X: np.ndarray, y: np.ndarray,
                      classes: list[str]) -> Figure:
    """The probability of class 1 over the plane, with the test points on top (TensorFlow Playground's view)."""
    fig, ax = subplots(figsize=(5, 4.4))
    field = ax.contourf(xx, yy, prob, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.8)
    ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1)
    for k, marker in ((0, "o"), (1, "s")):
        ax.scatter(X[y == k, 0], X[y == k, 1], s=10, marker=marker, edgecolors="k", linewidths=0.4,
                   c="tab:blue" if k == 0 else "tab:red", label=classes[k])
    fig.colorbar(field, ax=ax, label=f"P({classes[1]})")
    ax.legend(loc="upper right")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    fig.tight_layout()
    return fig


@styled()
def reliability_diagram(edges: np.ndarray, accuracy: np.ndarray, count: np.ndarray, ece: float) -> Figure:
    """Accuracy per confidence bin against the diagonal of perfect calibration, with the bin counts."""
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    fig, (top, bottom) = subplots(2, 1, figsize=(4.8, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.bar(centres, np.nan_to_num(accuracy), width=width * 0.9, color="tab:blue", label="accuracy")
    top.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_title(f"expected calibration error {ece:.3f}", pad=26)
    # Above the axes, under the title: inside them it would hide the bars of some model wherever it sat.
    top.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    bottom.bar(centres, count, width=width * 0.9, color="gray")
    bottom.set_yscale("log")
    # A short panel: ticks at powers of 10 only, labelled once each (minor labels would overlap them).
    bottom.yaxis.set_major_locator(LogLocator(base=10, numticks=4))
    bottom.yaxis.set_minor_formatter(NullFormatter())
    bottom.set_xlabel("confidence of the predicted class")
    bottom.set_ylabel("samples")
    fig.tight_layout()
    return fig


@styled()
def saliency_maps(images: np.ndarray, attributions: np.ndarray, captions: list[str]) -> Figure:
    """Images (n x h x w in [0, 1]) above their signed attributions (n x h x w): red for the class,
    blue against, each on its own symmetric scale; black input pixels (no attribution) stay white."""
    n = len(images)
    limits = np.array([symmetric_limit(a) for a in attributions])
    shown = np.clip(attributions / limits[:, None, None], -1, 1)
    width = min(max(n * 0.85, 3.0), MAX_WIDTH)
    fig, (top, bottom) = subplots(2, 1, figsize=(width, width / n * 2.6 + 0.5))
    _show_tiles(top, images, n, "gray", 0, 1, captions)
    # (empty labels keep both montages the same shape, so each map sits exactly under its image)
    _show_tiles(bottom, shown, n, DIVERGING, -1, 1, ["\n" * (_lines(captions) - 1)] * n)
    _titled(fig, "test images and their attributions (red: for the predicted class, blue: against)")
    return fig


@styled()
def feature_maps(image: np.ndarray, maps: list[np.ndarray], caption: str, max_channels: int = 16) -> Figure:
    """One image (h x w in [0, 1]) and, one row per conv block, its first channels' maps (c x h x w),
    each map on its own scale from 0 to its maximum."""
    fig, axes = subplots(len(maps) + 1, 1, figsize=(MAX_WIDTH, (len(maps) + 1) * 0.95 + 0.4),
                             gridspec_kw={"height_ratios": [1.3] + [1] * len(maps)})
    _show_tiles(axes[0], image[None], 1, "gray", 0, 1)
    axes[0].set_title(caption)
    for ax, (row, block) in zip(axes[1:], enumerate(maps, start=1)):
        _show_tiles(ax, scaled_to_peak(block[:max_channels]), max_channels, "viridis", 0, 1)
        ax.set_title(f"block {row}: {block.shape[0]} maps of {block.shape[1]}x{block.shape[2]}"
                     + (f" (first {max_channels})" if block.shape[0] > max_channels else ""))
    fig.tight_layout(pad=0.3)
    return fig


@styled()
def weight_evolution(epochs: list[int], tiles: np.ndarray, title: str) -> Figure:
    """tiles (epochs x units x h x w, NaN = blank): each unit's epochs left to right, each unit on one symmetric
    colour scale set by its last epoch, so the picture shows the pattern forming and growing. Short runs put units
    side by side (about 8 tiles a row), so that 2 epochs of 6 units are not a column 3 times as tall as wide."""
    n_epochs, n_units, h, w = tiles.shape
    limits = np.array([symmetric_limit(tiles[-1, u]) for u in range(n_units)])
    by_unit = np.clip(tiles.transpose(1, 0, 2, 3) / limits[:, None, None, None], -1, 1).reshape(-1, h, w)
    per_row = max(1, min(n_units, round(8 / n_epochs)))  # units a row: about 8 tiles, never fewer than the epochs
    # every row labelled where units sit side by side: the labels mark where one unit's epochs end
    labels = [f"epoch {e}" for e in epochs] * (n_units if per_row > 1 else 1)
    labels += [""] * (len(by_unit) - len(labels))
    fig = _tile_figure(by_unit, n_epochs * per_row, 1.0, DIVERGING, -1, 1, labels)
    _titled(fig, title)
    return fig


@styled()
def unit_cards(weights: np.ndarray, images: np.ndarray, units: list[int], activations: np.ndarray) -> Figure:
    """One row per unit: its weight picture (h x w, NaN = blank; left), then the inputs that excite it
    most (images: units x k x h x w in [0, 1]) labelled with their activation."""
    n, k = images.shape[:2]
    fig, (left, right) = subplots(1, 2, figsize=(min((k + 1) * 1.05 + 0.3, MAX_WIDTH), n * 1.25 + 0.5),
                                      gridspec_kw={"width_ratios": [1, k]})
    scaled = scaled_to_peak(np.nan_to_num(weights)) + np.where(np.isnan(weights), np.nan, 0)
    _show_tiles(left, scaled, 1, DIVERGING, -1, 1, [f"unit {u}" for u in units])
    _show_tiles(right, images.reshape(-1, *images.shape[2:]), k, "gray", 0, 1,
                [f"{a:.2f}" for a in activations.ravel()])
    _titled(fig, "each unit (left) and the test images that excite it most")
    return fig


@styled()
def training_health(history: list[dict], later: list[bool], steady: list[bool], dead_warn: float,
                    ratio_high: float, ratio_low: float) -> Figure:
    """Per layer over the epochs: dead ReLU share, gradient norm, update-to-weight ratio. Each limit of
    the healthy range is a red dashed line drawn only over the epochs its check judges (`later`: dead units
    and too-large updates; `steady`: stalled updates), so a point beyond a drawn line is what the words warn
    of; the epochs of warm-up or annealing are shaded in the update panel."""
    records = [(h["epoch"], h["health"]) for h in history if h.get("health")]
    epochs = [e for e, _ in records]
    layers = list(records[-1][1])
    fig, axes = subplots(1, 3, figsize=(MAX_WIDTH, 3.3))
    panels = (("dead", "dead ReLU share", False), ("grad_norm", "gradient norm ‖dL/dW‖", True),
              ("update_ratio", "update / weight, per epoch", True))
    for ax, (key, label, log) in zip(axes, panels):
        for name in layers:
            values = [r[name][key] for _, r in records]
            if any(v is not None for v in values):
                ax.plot(epochs, [np.nan if v is None else v for v in values], "o-", ms=3, label=name)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label)
        ax.grid(alpha=0.3)

    def limit(ax, value: float, judged: list[bool]) -> None:
        ax.plot(epochs, [value if j else np.nan for j in judged], color="tab:red", ls="--", lw=1.2)

    if any(r[name]["dead"] is not None for _, r in records for name in layers):
        limit(axes[0], dead_warn, later)
    else:  # tanh, sigmoid or linear hidden units: no flat side that stops a unit, nothing to measure
        axes[0].text(0.5, 0.5, "not measured:\na dead unit is a ReLU's\n(this network has none)",
                     transform=axes[0].transAxes, ha="center", va="center", color="0.35")
        axes[0].set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
    axes[0].set_ylim(-0.02, 1.02)
    limit(axes[2], ratio_high, later)
    limit(axes[2], ratio_low, steady)
    quiet = [e for e, j, s in zip(epochs, later, steady) if j and not s]
    for e in quiet:  # warm-up and annealing epochs: small updates expected, not judged for stalling
        axes[2].axvspan(e - 0.5, e + 0.5, color="0.85", lw=0, zorder=0)
    if quiet:
        axes[2].set_xlabel("epoch (shaded: low learning rate)")
    axes[1].legend()
    fig.tight_layout()
    return fig


@styled()
def compare_curves(histories: dict[str, list[dict]]) -> Figure:
    """Validation loss and accuracy per epoch of several runs on shared axes (training loss dashed)."""
    fig, (left, right) = subplots(1, 2, figsize=(MAX_WIDTH, 3.8))
    for i, (label, history) in enumerate(histories.items()):
        colour = f"C{i % 10}"
        epochs = [h["epoch"] for h in history]
        dots = {"marker": "o", "ms": 4} if len(epochs) < 3 else {}  # a line of one point draws nothing
        left.plot(epochs, _values(history, "val_loss"), "-", color=colour, label=label, **dots)
        left.plot(epochs, [h["loss"] for h in history], "--", color=colour, lw=0.8, **dots)
        right.plot(epochs, _values(history, "val_accuracy"), "-", color=colour, label=label, **dots)
    for ax, label in ((left, "log loss (validation; training dashed)"), (right, "validation accuracy")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    right.legend()
    fig.tight_layout()
    return fig


@styled()  # (text that matplotlib makes only when it draws, such as extra tick labels, gets the report's size)
def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG; one made through pyplot is closed there, so pyplot's list of figures does not grow."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    if fig.canvas.manager is not None:  # only pyplot's figures have a manager (ours are freed when dropped)
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buffer.getvalue()


def save(fig: Figure, path) -> None:
    """Write the figure as PNG atomically, then free it."""
    from nnlab.files import write_bytes_atomic

    write_bytes_atomic(path, png_bytes(fig))
