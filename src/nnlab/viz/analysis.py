"""Weight analysis: what the first-layer and class pictures show, computed from weight arrays alone.

Functions of arrays, returning arrays; the figure plan (`viz.plan`) decides which apply to a model.
"""

from __future__ import annotations

import numpy as np

from nnlab.viz.figures import strongest_first


def class_templates(Ws: list[np.ndarray]) -> np.ndarray:
    """(inputs x classes): the product W1·W2·…·WL, i.e. how each input pixel moves each class's logit
    when every ReLU on the way is active — the network's linear "template" of each class. A single
    sigmoid unit (the derived network) is the logit of class 1, so class 0's template is its negative."""
    T = Ws[0]
    for W in Ws[1:]:
        T = T @ W
    return np.concatenate([-T, T], axis=1) if T.shape[1] == 1 else T


def start_share(W: np.ndarray, W0: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(units,): how much of its random start each unit still holds, c = <W, W0> / <W0, W0> over the inputs
    that vary. Weight decay shrinks the start (to nothing, in a unit training did not use), so W - W0 would
    show the start itself, upside down; W - c W0 takes away what is left of it."""
    v = spread > 0
    return (W[v] * W0[v]).sum(axis=0) / np.maximum((W0[v] * W0[v]).sum(axis=0), 1e-30)


def learned_part(W: np.ndarray, W0: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(inputs x units): what training added to a dense first layer, W - c W0 (c: `start_share`), times
    each input's spread (its standard deviation over the training set), NaN where the input never varies.

    The random start W0 is as large as the learned part and speckles every tile; taking it away leaves
    what the data wrote. Scaling by the spread gives the weights the layer would have on standardised
    inputs: a pixel that is black in almost every image moves the unit little however its weight drifted,
    and one that never varies cannot matter at all, so it is left blank."""
    D = (W - start_share(W, W0, spread) * W0) * spread[:, None]
    D[spread == 0] = np.nan
    return D


def evolution_frames(snapshots: dict[str, np.ndarray], image_hw: tuple[int, int], spread: np.ndarray | None = None,
                     units: int = 6, frames: int = 7) -> tuple[list[int], np.ndarray]:
    """From the first-layer snapshots (epochN -> dense inputs x units, or conv out x in x kh x kw): up to
    `frames` epochs spread evenly from the first to the last, and the `units` that changed most by the end,
    as (epochs, (frames x units x h x w)). Dense layers given the input `spread` show `learned_part` (so
    epoch 0 would be blank and is left out); conv kernels show their weights from epoch 0 on."""
    epochs = sorted(int(k.removeprefix("epoch")) for k in snapshots)
    dense = snapshots[f"epoch{epochs[0]}"].ndim == 2
    learned = dense and spread is not None and epochs[0] == 0

    def as_tiles(e: int) -> np.ndarray:  # (units x h x w)
        W = snapshots[f"epoch{e}"]
        if not dense:
            return W[:, 0]
        if learned:
            W = learned_part(W, snapshots["epoch0"], spread)
        return W.T.reshape(W.shape[1], *image_hw)

    shown = epochs[1:] if learned and len(epochs) > 1 else epochs
    picked = sorted({shown[round(i)] for i in np.linspace(0, len(shown) - 1, min(frames, len(shown)))})
    final = np.nan_to_num(as_tiles(epochs[-1]))
    start = np.nan_to_num(as_tiles(epochs[0]))
    changed = strongest_first((final - (0 if learned else start)).reshape(len(final), -1).T)[:units]
    return picked, np.stack([as_tiles(e)[changed] for e in picked])
