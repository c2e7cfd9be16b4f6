"""The report's "Train it here" section: for a 2-D run of the NumPy network, the network trains again in the
page, in plain JavaScript (learn.js: network.py's forward and backward and optim.py's steps, float64), from
the run's own random start or from its trained weights, with the decision field and the loss curves redrawn
while it learns (learn_page.js), from a file on disk, with no server and nothing fetched.

The page embeds the run's start (the weights `ScratchEngine` draws from the run's seed, the same bits), the
training points as the network saw them (standardised, float32), the test points, and the run's settings.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np

from nnlab.viz.poke import _b64, script_json, scripts

SCRIPTS = [Path(__file__).with_name(name) for name in ("learn.js", "learn_data.js", "learn_plots.js", "learn_page.js")]
# Work per page step ~ batch x parameters; past this many parameters a step and the field's redraw would no
# longer fit a frame (60 per second) and the page would stop feeling live, so larger networks are not offered.
MAX_PARAMETERS = 200_000
MAX_POINTS = 20_000  # training + test points embedded (float32, 2 numbers each: ~210 kB at the limit)

STYLE = """
#learn .learn-app { display: flex; flex-wrap: wrap; gap: 1em 1.4em; align-items: flex-start; margin-top: .6em; }
#learn .learn-bar { display: flex; flex-wrap: wrap; gap: .4em .9em; align-items: center; width: 100%; }
#learn .learn-bar label { font-size: .92em; } #learn select { font: inherit; }
#learn button { font: inherit; padding: .25em .9em; } #learn button.on { background: #333; color: #fff; }
#learn button:focus-visible, #learn select:focus-visible { outline: 3px solid #0af; }
#learn canvas { border: 1px solid #ccc; display: block; align-self: flex-start; touch-action: none; }
#learn .learn-col.plane { width: 402px; } #learn .learn-col.side { width: 524px; }
#learn .learn-col { display: flex; flex-direction: column; gap: .4em; }
#learn .learn-big { font-size: 1.3em; font-weight: bold; font-variant-numeric: tabular-nums; }
#learn .learn-numbers { font-size: 1.1em; font-variant-numeric: tabular-nums; }
#learn .learn-numbers b { font-size: 1.2em; }
#learn input { font: inherit; }
#learn .learn-note { color: #555; font-size: .9em; max-width: 46em; margin: .3em 0; }
#learn .learn-key { display: inline-block; width: 1.6em; border-top: 3px solid; vertical-align: middle;
  margin-right: .3em; }
#learn .learn-units { display: flex; flex-wrap: wrap; gap: .4em; max-width: 540px; }
#learn .learn-units figure { margin: 0; font-size: .78em; text-align: center; color: #555; }
#learn kbd { border: 1px solid #bbb; border-radius: 3px; padding: 0 .3em; font-size: .85em; }
"""


def start_network(settings, n_features: int, n_classes: int):
    """The run's random start: the network `ScratchEngine` builds from the run's settings (its seed), before
    any step, so that the page's reset is the run's own beginning, bit for bit."""
    from nnlab.training.engines import ScratchEngine  # the one place that draws a run's start

    return ScratchEngine(settings, n_features, n_classes).net


def why_not(ev) -> str | None:
    """Why the report has no "Train it here" section for `ev`, or None when it has one."""
    ds, net, cfg = ev.data, ev.numpy_net, ev.run_settings
    if ds.n_features != 2 or ds.image_shape is not None:
        return None  # not a 2-D run: nothing to say, the section is for points on a plane
    if net is None or cfg is None or getattr(cfg, "model", None) != "scratch":
        return ("Train it here: the page retrains nnlab's NumPy network (nnlab train scratch) of a 2-D run; "
                "this model is not one.")
    if cfg.loss != "log":
        return "Train it here: the page's backprop is the derived network's (log loss); this run differs."
    if net.theta.size > MAX_PARAMETERS:
        return (f"Train it here: this network has {net.theta.size:,} parameters; the page trains networks of up "
                f"to {MAX_PARAMETERS:,}, so that a step and a redraw fit a frame. Try --hidden 16,8.")
    if len(ds.y_train) + len(ds.y_test) > MAX_POINTS:
        return f"Train it here: the page embeds up to {MAX_POINTS:,} points; this run has more."
    return None


def payload(ev) -> dict:
    """Everything learn_page.js needs, as JSON: the sizes, the start and trained weights (float32, base64),
    the training and test points as the network takes them, the run's settings and curves."""
    ds, net, cfg = ev.data, ev.numpy_net, ev.run_settings
    start = start_network(cfg, ds.n_features, ds.n_classes)
    if start.sizes != net.sizes:
        raise ValueError(f"the run's start {start.sizes} does not fit its network {net.sizes}")
    both = np.r_[ds.X_train, ds.X_test].astype(np.float64)
    pad = 0.15 * (both.max(axis=0) - both.min(axis=0))
    history = ev.history or []
    return {
        "classes": list(ds.classes), "sizes": net.sizes, "activation": net.activation, "max_parameters": MAX_PARAMETERS,
        "start": _b64(start.theta), "trained": _b64(net.theta),
        "X": _b64(ds.X_train), "y": np.asarray(ds.y_train).astype(int).tolist(),
        "X_test": _b64(ds.X_test), "y_test": np.asarray(ds.y_test).astype(int).tolist(),
        "lo": (both.min(axis=0) - pad).tolist(), "hi": (both.max(axis=0) + pad).tolist(),
        "settings": {"lr": cfg.lr, "batch_size": cfg.batch_size, "alpha": float(cfg.weight_decay or 0.0),
                     "optimizer": cfg.optimizer, "momentum": cfg.momentum, "nesterov": bool(cfg.nesterov),
                     "schedule": cfg.schedule, "epochs": int(cfg.epochs), "seed": int(cfg.seed)},
        "run": {"loss": [_finite(h.get("loss")) for h in history],
                "val_loss": [_finite(h.get("val_loss")) for h in history],
                "test_accuracy": _finite(ev.summary.get("test_accuracy"))},
    }


def _finite(v):
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def section(ev) -> str:
    """The section's HTML for a report input that has one (`why_not(ev)` is None and it is a 2-D run)."""
    texts = scripts(*SCRIPTS)
    cfg, sizes = ev.run_settings, "-".join(str(n) for n in ev.numpy_net.sizes)
    intro = (f"The network of this run ({sizes}) trains again here, in this page: the same backpropagation "
             f"and {cfg.optimizer} step as the Python code (float64 JavaScript), from the run's own random start "
             "(seed {seed}) or from its trained weights. Press play and watch the decision boundary form; change "
             "the learning rate, batch size or L2 strength as it trains, or try another 2-D set, noise or hidden "
             "sizes (a new random start, drawn in the page). The page shuffles its batches with its own seeded "
             "generator, so \"reset\" replays exactly the same page run; it is not NumPy's order, so its curve is "
             "a sibling of the run's (grey), not a copy.").format(seed=cfg.seed)
    return (f"<style>{STYLE}</style><p class=\"learn-note\">{escape(intro)}</p>"
            '<div class="learn-app" id="learn-app" tabindex="-1"></div>'
            '<noscript><p class="learn-note">This section needs JavaScript.</p></noscript>'
            f'<script type="application/json" id="learn-data">{script_json(payload(ev))}</script>'
            + "".join(f"<script>{s}</script>" for s in texts))


def report_parts(ev) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The report's "Train it here" section as (anchor, title, HTML), if any, and the note of why not."""
    if ev.data.n_features != 2 or ev.data.image_shape is not None:
        return [], []
    reason = why_not(ev)
    if reason:
        return [], [reason]
    return [("learn", "Train it here", section(ev))], []
