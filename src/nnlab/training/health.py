"""Training health: how each layer is doing, measured after every epoch and judged in plain words.

Measured per weighted layer on a fixed probe batch (the first PROBE validation samples,
or training samples when the run holds none out):
- grad_norm: ‖dL/dW‖, the size of the loss gradient of the layer's weights;
- update_ratio: ‖W_after − W_before‖ / ‖W_before‖, how much one epoch moved the weights relative
  to their size;
- dead: the share of the layer's ReLU units (channels, for a conv layer) that output 0 for every
  probe sample. A dead unit gets no gradient, so it stays dead.
"""

from __future__ import annotations

import math

import numpy as np

PROBE = 512

# Limits of the healthy range, chosen from runs that trained well (README) and rules of thumb:
DEAD_WARN = 0.25          # a quarter of a layer's units dead: capacity is being lost
RATIO_HIGH = 1.0          # an epoch moved the weights by more than their own size
RATIO_LOW = 1e-4          # the weights barely move, although the schedule is not near its end
VANISHING = 1e-3          # first layer's gradient a thousand times weaker than the last layer's


def measure(engine, before: dict[str, np.ndarray], after: dict[str, np.ndarray], X: np.ndarray,
            y: np.ndarray) -> dict[str, dict]:
    """The health record of one epoch, given the layer weights from its start and its end."""
    probed = engine.probe(X, y)
    record = {}
    for name, W in after.items():
        size = float(np.linalg.norm(before[name]))
        ratio = float(np.linalg.norm(W - before[name])) / size if size else math.inf
        dead = probed[name]["dead"]
        record[name] = {"grad_norm": _round(probed[name]["grad_norm"]), "update_ratio": _round(ratio),
                        "dead": None if dead is None else round(dead, 4)}
    return record


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def hints(history: list[dict]) -> list[tuple[bool, str]]:
    """(healthy, sentence) for each check, from the per-epoch health records in `history`."""
    records = [h["health"] for h in history if h.get("health")]
    if not records:
        return []
    last, layers = records[-1], list(records[-1])
    out: list[tuple[bool, str]] = []

    nonfinite = [n for r in records for n in r if not math.isfinite(r[n]["grad_norm"])]
    if nonfinite:
        out.append((False, f"The gradient of {nonfinite[0]} overflowed: lower --lr, or add --batch-norm."))

    dead = {n: last[n]["dead"] for n in layers if last[n]["dead"] is not None}
    worst = max(dead, key=dead.get) if dead else None
    if worst and dead[worst] >= DEAD_WARN:
        out.append((False, f"{dead[worst]:.0%} of {worst}'s units never fire on the probe batch (dead ReLUs): "
                           "they get no gradient and stay dead. Lower --lr or --weight-decay."))
    elif worst:
        out.append((True, f"Dead ReLU units: at most {dead[worst]:.0%} per layer ({worst}), under the "
                          f"{DEAD_WARN:.0%} warning level."))

    # The first epoch starts from random weights, so it may move them a lot; judge the epochs after it.
    later = records[1:] or records
    high = [(n, r[n]["update_ratio"]) for r in later for n in r if r[n]["update_ratio"] > RATIO_HIGH]
    if high:
        name, ratio = max(high, key=lambda t: t[1])
        out.append((False, f"An epoch moved {name}'s weights by {ratio:.3g} times their own size: the learning "
                           "rate is likely too high (lower --lr)."))
    # The middle half of training: away from warm-up and from the decayed end of a schedule.
    middle = later[len(later) // 4: max(len(later) * 3 // 4, len(later) // 4 + 1)]
    low = [n for n in layers if max(r[n]["update_ratio"] for r in middle) < RATIO_LOW]
    if low:
        out.append((False, f"{', '.join(low)} barely change{'s' if len(low) == 1 else ''} in mid-training "
                           f"(weights move by under {RATIO_LOW:g} of their size per epoch): the learning rate is "
                           "likely too low (raise --lr)."))
    if not high and not low:
        ratios = [r[n]["update_ratio"] for r in later for n in r]
        out.append((True, f"Update-to-weight ratios per epoch between {min(ratios):.2g} and {max(ratios):.2g}: "
                          "the weights move steadily, neither frozen nor thrown around."))

    first, final = layers[0], layers[-1]
    g_first, g_final = last[first]["grad_norm"], last[final]["grad_norm"]
    if len(layers) > 1 and g_final > 0 and math.isfinite(g_first) and g_first < VANISHING * g_final:
        out.append((False, f"The gradient reaching {first} is {g_final / max(g_first, 1e-30):.3g} times weaker "
                           f"than at {final} (vanishing gradients): use fewer layers or --batch-norm."))
    elif len(layers) > 1 and not nonfinite:
        out.append((True, f"Gradients reach every layer: {first}'s is {g_first / g_final:.2g} times {final}'s "
                          f"(a warning below {VANISHING:g})."))
    return out
