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
from dataclasses import dataclass

import numpy as np

from nnlab.metrics import sum_of_squares

PROBE = 512

# Limits of the healthy range, chosen from runs that trained well (README) and rules of thumb:
DEAD_WARN = 0.25          # a quarter of a layer's units dead: capacity is being lost
RATIO_HIGH = 1.0          # an epoch moved the weights by more than their own size
RATIO_LOW = 1e-4          # the weights barely move, although the learning rate is not small
VANISHING = 1e-3          # first layer's gradient a thousand times weaker than the last layer's
STEADY_LR = 0.25          # epochs below this share of the peak learning rate are warm-up or annealing


@dataclass
class Spans:
    """Which epochs each check judges; the words and the figure's red lines both use these.

    later:  every epoch after the first (which starts from random weights, so may move them a lot and
            still have units that have not found their inputs): judged for dead units and too-large updates.
    steady: later epochs whose learning rate is at least STEADY_LR of the run's peak: judged for stalled
            updates. Warm-up and the annealed end of a schedule move the weights little by design. (Runs
            that did not record their rates: the middle half of the later epochs.)"""

    epochs: list[int]
    later: list[bool]
    steady: list[bool]


def spans(history: list[dict]) -> Spans:
    records = [h for h in history if h.get("health")]
    n = len(records)
    later = [i > 0 or n == 1 for i in range(n)]
    rates = [h.get("lr") for h in records]
    if all(r is not None for r in rates) and n:
        peak = max(r for r, judged in zip(rates, later) if judged)
        steady = [judged and r >= STEADY_LR * peak for r, judged in zip(rates, later)]
    else:
        first = 1 if n > 1 else 0
        m = n - first
        lo, hi = first + m // 4, first + max(m * 3 // 4, m // 4 + 1)
        steady = [lo <= i < hi for i in range(n)]
    return Spans([h["epoch"] for h in records], later, steady)


def measure(engine, before: dict[str, np.ndarray], after: dict[str, np.ndarray], X: np.ndarray,
            y: np.ndarray) -> dict[str, dict]:
    """The health record of one epoch, given the layer weights from its start and its end."""
    probed = engine.probe(X, y)
    record = {}
    for name, W in after.items():
        size = math.sqrt(sum_of_squares(before[name]))  # (the same bits on any thread count, as training)
        ratio = math.sqrt(sum_of_squares(W - before[name])) / size if size else math.inf
        dead = probed[name]["dead"]
        record[name] = {"grad_norm": _round(probed[name]["grad_norm"]), "update_ratio": _round(ratio),
                        "dead": None if dead is None else round(dead, 4)}
    return record


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def hints(history: list[dict]) -> list[tuple[bool, str]]:
    """(healthy, sentence) for each check, from the per-epoch health records in `history`. Each check
    judges the epochs that `spans` gives it, which are also where the figure draws its red line."""
    return [(ok, text) for _, ok, text in checks(history)]


# The keys of the checks (what `nnlab doctor` maps to the fixes it tries): "overflow" (a gradient overflowed),
# "dead" (dead ReLUs), "thrown" (updates larger than the weights), "frozen" (updates far smaller), "steady"
# (neither), "vanishing" (the first layer's gradient far weaker), "gradients" (it is not).
def checks(history: list[dict]) -> list[tuple[str, bool, str]]:
    """(check, healthy, sentence) for each check, as `hints` says them."""
    records = [h["health"] for h in history if h.get("health")]
    if not records:
        return []
    span = spans(history)
    last, layers = records[-1], list(records[-1])
    later = [(e, r) for e, r, judged in zip(span.epochs, records, span.later) if judged]
    steady = [(e, r) for e, r, judged in zip(span.epochs, records, span.steady) if judged]
    out: list[tuple[str, bool, str]] = []

    nonfinite = [n for r in records for n in r if not math.isfinite(r[n]["grad_norm"])]
    if nonfinite:
        out.append(("overflow", False, f"The gradient of {nonfinite[0]} overflowed: lower --lr, or add --batch-norm."))

    dead = [(r[n]["dead"], n, e) for e, r in later for n in layers if r[n]["dead"] is not None]
    if dead:
        share, name, epoch = max(dead)
        if share >= DEAD_WARN:
            out.append(("dead", False, f"{share:.0%} of {name}'s units never fire on the probe batch in epoch {epoch} "
                               f"(dead ReLUs; {last[name]['dead']:.0%} at the end): they get no gradient and stay "
                               "dead. Lower --lr or --weight-decay."))
        else:
            out.append(("dead", True, f"Dead ReLU units: at most {share:.0%} per layer after the first epoch ({name}), "
                              f"under the {DEAD_WARN:.0%} warning level."))

    high = [(r[n]["update_ratio"], n, e) for e, r in later for n in r if r[n]["update_ratio"] > RATIO_HIGH]
    if high:
        ratio, name, epoch = max(high)
        out.append(("thrown", False,
                    f"Epoch {epoch} moved {name}'s weights by {ratio:.3g} times their own size: the learning "
                    "rate is likely too high (lower --lr)."))
    low = [n for n in layers if any(r[n]["update_ratio"] < RATIO_LOW for _, r in steady)]
    if low:
        out.append(("frozen", False,
                    f"{', '.join(low)} barely change{'s' if len(low) == 1 else ''} while the learning rate "
                    f"is high (weights move by under {RATIO_LOW:g} of their size in an epoch): the learning "
                    "rate is likely too low (raise --lr)."))
    if not high and not low:
        ratios = [r[n]["update_ratio"] for _, r in steady or later for n in r]
        out.append(("steady", True,
                    f"Update-to-weight ratios per epoch between {min(ratios):.2g} and {max(ratios):.2g} "
                    "while the learning rate is high: the weights move steadily, neither frozen nor thrown "
                    "around (they move less in warm-up and as the schedule anneals, by design)."))

    first, final = layers[0], layers[-1]
    g_first, g_final = last[first]["grad_norm"], last[final]["grad_norm"]
    if len(layers) > 1 and g_final > 0 and math.isfinite(g_first) and g_first < VANISHING * g_final:
        out.append(("vanishing", False,
                    f"The gradient reaching {first} is {g_final / max(g_first, 1e-30):.3g} times weaker "
                    f"than at {final} (vanishing gradients): use fewer layers or --batch-norm."))
    elif len(layers) > 1 and not nonfinite:
        out.append(("gradients", True,
                    f"Gradients reach every layer: {first}'s is {g_first / g_final:.2g} times {final}'s "
                    f"(a warning below {VANISHING:g})."))
    return out
