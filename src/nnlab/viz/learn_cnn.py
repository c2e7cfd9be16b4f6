"""The report's "See through the CNN" section: nnlab's CNN runs in the page (learn_cnn.js: 3x3 convolutions,
max-pooling, batch norm, ReLU, then the dense head with its batch norm folded in, in float64 JavaScript), so
a reader draws a digit and sees every block's feature maps, a channel's kernels, and the dot product of patch
and kernel behind any value, from a file on disk with nothing fetched.

Batch norm after a pool is kept as its own per-channel scale and shift (y = s·x + t), not folded into the
convolution: max-pooling commutes with a positive scale only, and a learned gamma may be negative.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nnlab.models.nets import CNN
from nnlab.viz.poke import _b64, script_json, scripts

SCRIPT = Path(__file__).with_name("learn_cnn.js")
MAX_PARAMETERS = 1_500_000  # as poke.py's: float32 in base64, the page stays a few MB and a forward ~10 ms
SAMPLES = 12                # test images to start from

STYLE = """
#cnn .cnn-app { display: flex; flex-wrap: wrap; gap: 1em 1.4em; align-items: flex-start; margin-top: .6em; }
#cnn canvas { image-rendering: pixelated; border: 1px solid #ccc; touch-action: none; }
#cnn .cnn-col { display: flex; flex-direction: column; gap: .4em; }
#cnn .cnn-maps { display: flex; flex-wrap: wrap; gap: 3px; max-width: 980px; }
#cnn .cnn-maps canvas { cursor: crosshair; } #cnn .cnn-maps canvas.on { outline: 3px solid #0af; }
#cnn .cnn-note { color: #555; font-size: .9em; max-width: 46em; margin: .3em 0; }
#cnn .cnn-bar { display: grid; grid-template-columns: 5em 200px 4em; gap: .4em; align-items: center; font-size: .95em; }
#cnn .cnn-bar div { height: 1em; background: #eee; } #cnn .cnn-bar i { display: block; height: 100%; background: #555; }
#cnn .cnn-dot { font-family: ui-monospace, monospace; font-size: .85em; white-space: pre-wrap; max-width: 60em; }
#cnn button { font: inherit; padding: .2em .8em; } #cnn h4 { margin: .6em 0 .2em; }
"""


def _t(x: torch.Tensor) -> np.ndarray:
    return x.detach().double().cpu().numpy()


def cnn_layers(model: CNN) -> dict:
    """The CNN as the page computes it: blocks of (3x3 kernels, pooled?, batch-norm scale s and shift t),
    then the head's dense layers with its batch norm folded in (W' = W·s, b' = (b - mu)·s + beta)."""
    blocks, pending = [], None
    for m in model.features:
        if isinstance(m, nn.Conv2d):
            pending = {"K": _t(m.weight), "pool": False, "c_in": m.in_channels, "c_out": m.out_channels}
            blocks.append(pending)
        elif isinstance(m, nn.MaxPool2d):
            pending["pool"] = True
        elif isinstance(m, nn.BatchNorm2d):
            s = _t(m.weight) / np.sqrt(_t(m.running_var) + m.eps)
            pending["s"], pending["t"] = s, _t(m.bias) - _t(m.running_mean) * s
    dense = []
    for m in model.head:
        if isinstance(m, nn.Linear):
            dense.append([_t(m.weight).T, _t(m.bias) if m.bias is not None else np.zeros(m.out_features)])
        elif isinstance(m, nn.BatchNorm1d):
            s = _t(m.weight) / np.sqrt(_t(m.running_var) + m.eps)
            dense[-1] = [dense[-1][0] * s, (dense[-1][1] - _t(m.running_mean)) * s + _t(m.bias)]
    return {"blocks": blocks, "dense": dense}


def parameters(layers: dict) -> int:
    return sum(b["K"].size for b in layers["blocks"]) + sum(W.size + c.size for W, c in layers["dense"])


def payload(model: CNN, ds) -> dict:
    layers = cnn_layers(model)
    s = ds.scaler
    shown = [int(i) for k in range(min(ds.n_classes, 10)) for i in np.flatnonzero(ds.y_test == k)[:2]][:SAMPLES]
    images = np.clip(s.inverse(ds.X_test[shown]) / s.pixel_max, 0, 1)
    return {
        "classes": list(ds.classes), "shape": list(ds.image_shape),
        "blocks": [{"c_in": b["c_in"], "c_out": b["c_out"], "pool": b["pool"], "K": _b64(b["K"]),
                    "s": b.get("s", np.ones(b["c_out"])).tolist(), "t": b.get("t", np.zeros(b["c_out"])).tolist()}
                   for b in layers["blocks"]],
        "dense": [{"n_in": W.shape[0], "n_out": W.shape[1], "W": _b64(W), "b": _b64(c)} for W, c in layers["dense"]],
        "scaler": {"kind": s.kind, "pixel_max": s.pixel_max} if s.kind == "pixels" else
                  {"kind": s.kind, "pixel_max": s.pixel_max, "mean": s.mean.tolist(), "std": s.std.tolist()},
        "images": _b64(images), "labels": ds.y_test[shown].tolist(),
    }


def report_parts(model, ds) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The "See through the CNN" section for nnlab's CNN on one-channel images, and the note of why not."""
    if not isinstance(model, CNN) or ds.image_shape is None or ds.image_shape[0] != 1:
        return [], []
    n = parameters(cnn_layers(model))
    if n > MAX_PARAMETERS:
        return [], [f"See through the CNN: this CNN has {n:,} parameters; the page runs CNNs of up to "
                    f"{MAX_PARAMETERS:,} (float32 in the page)."]
    (script,) = scripts(SCRIPT)
    intro = ("The trained CNN runs in this page, in plain JavaScript, from the weights stored in it (its "
             "probabilities equal PyTorch's to 1e-4). Draw a digit on the pad (or pick a test image): every block's "
             "feature maps are drawn below it, brighter where the channel responds. Click a map to see the "
             "channel's kernels (one 3×3 kernel per input channel; red raises it, blue lowers it); hover over "
             "a map to see the arithmetic behind that value: the patch under the kernel, their dot product, "
             "the max of the pool, the batch norm and the ReLU.")
    html = (f"<style>{STYLE}</style><p class=\"cnn-note\">{escape(intro)}</p>"
            '<div class="cnn-app" id="cnn-app"></div>'
            '<noscript><p class="cnn-note">This section needs JavaScript.</p></noscript>'
            f'<script type="application/json" id="cnn-data">{script_json(payload(model, ds))}</script>'
            f"<script>{script}</script>")
    return [("cnn", "See through the CNN", html)], []
