"""The report's "Poke the network" section: the trained weights and a forward pass in plain JavaScript
(poke.js, inlined), so that a reader drags a point or draws a digit and watches the network answer,
from a file on disk, with no server and nothing fetched.

The page computes what `predict_proba` computes: the same dense ReLU layers (the MLP's batch norm folded
into them, dropout the identity, as at evaluation time), float32 weights accumulated in float64, and the
same input scaling the data layer applied in training.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nnlab.models.bridge import dense_layers
from nnlab.models.nets import MLP
from nnlab.scratch.network import ACTIVATIONS, Network

# Parameters the page embeds at most. float32 in base64 is 5.33 bytes a parameter, so the limit keeps the
# report under 8 MB and a forward pass (one multiply-add per weight) a few milliseconds in JavaScript. It
# admits the default MLP (784-1024-512-10: 1.33 million) and every NumPy network of the CLI's defaults.
# float16 would halve the page but miss NumPy's probabilities by ~1e-3, and the page promises them to 1e-5.
MAX_PARAMETERS = 1_500_000
SAMPLES_PER_CLASS = 2   # test images to pick from, per class (up to 10 classes), plus up to MISTAKES
MISTAKES = 6
TRAIN_POINTS = 400      # training points drawn under a 2-D field
SCRIPT = Path(__file__).with_name("poke.js")
# For the NumPy network on images, "one step on your drawing": learn.js (its backprop) before poke.js, the panel after
LEARN_SCRIPTS = (Path(__file__).with_name("learn.js"), Path(__file__).with_name("learn_drawing.js"))

STYLE = """
#poke .poke-app { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; margin-top: 1em; }
#poke canvas { image-rendering: pixelated; border: 1px solid #ccc; touch-action: none; align-self: flex-start; }
#poke .poke-app .poke-note { max-width: 440px; }
#poke .poke-col { display: flex; flex-direction: column; gap: 0.5em; }
#poke .poke-big { font-size: 1.5em; font-weight: bold; min-height: 1.5em; }
#poke .poke-bar { display: grid; grid-template-columns: 5em 1fr 4.2em; align-items: center; gap: 0.4em;
  font-size: 0.95em; width: 340px; } #poke .poke-bar span.t { overflow: hidden; white-space: nowrap; }
#poke .poke-bar div { height: 1.1em; background: #eee; } #poke .poke-bar i { display: block; height: 100%; }
#poke .poke-bar.top span.t { font-weight: bold; }
#poke button { font: inherit; padding: 0.2em 0.8em; } #poke button.on { background: #333; color: #fff; }
#poke .poke-thumbs { display: flex; flex-wrap: wrap; gap: 3px; max-width: 290px; }
#poke .poke-thumbs canvas { cursor: pointer; width: 28px; height: 28px; }
#poke .poke-thumbs canvas.wrong { border-color: #d22; }
#poke .poke-units { display: flex; flex-wrap: wrap; gap: 0.6em; }
#poke .poke-units figure { margin: 0; font-size: 0.8em; text-align: center; }
#poke .poke-units canvas { width: 84px; height: 84px; }
#poke .poke-note { color: #555; font-size: 0.9em; max-width: 46em; margin: 0.3em 0; }
#poke h4 { margin: 0.6em 0 0.2em; font-size: 1em; }
"""


@dataclass
class Dense:
    """A dense network as evaluation mode computes it: W[l] (inputs x outputs), b[l], whether the output is one
    sigmoid unit (the derived network) or a softmax, and the hidden layers' activation (a name of
    network.ACTIVATIONS, which poke.js and learn.js compute too)."""

    W: list[np.ndarray]
    b: list[np.ndarray]
    binary: bool
    activation: str = "relu"

    @property
    def parameters(self) -> int:
        return sum(W.size + b.size for W, b in zip(self.W, self.b))


def dense_network(model: Network | nn.Module, input_shape: tuple[int, ...] | None = None) -> Dense | str:
    """The network as dense layers, or why the page cannot run it: nnlab's NumPy network as it is (one
    sigmoid unit for two classes), nnlab's MLP, or any module made of dense ReLU layers (`own_dense`)."""
    if isinstance(model, Network):
        return Dense([np.asarray(W, np.float32) for W in model.W], [np.asarray(b, np.float32) for b in model.b],
                     model.binary, model.activation)
    if isinstance(model, MLP):  # batch norm folded into the linear layers, dropout the identity
        W, b = dense_layers(model)
        return Dense([w.astype(np.float32) for w in W], [c.astype(np.float32) for c in b], False)
    own = own_dense(model, input_shape) if input_shape is not None else None
    if own is not None:
        return own
    return (f"Poke the network: the page's JavaScript runs dense networks only (Linear layers with ReLU between "
            f"them, batch norm, dropout, flatten); this {type(model).__name__} is not one "
            + ("(a CNN's convolutions are not ported)." if any(isinstance(m, nn.Conv2d) for m in model.modules())
               else "or does not compute what its layers, in order, would."))


# A module of one's own is read as its leaf layers in the order they were made; these may appear in it.
DENSE_PARTS = (nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Flatten, nn.Identity)


def own_dense(model: nn.Module, input_shape: tuple[int, ...]) -> Dense | None:
    """A module of one's own (a student's nn.Sequential MLP, or a class of Linear layers with F.relu between
    them) as dense ReLU layers, batch norm folded in; None unless, on random inputs, those layers give the
    probabilities the module gives (softmax of its logits) to 1e-5: what the order of its layers suggests is
    checked, never assumed."""
    leaves = [m for m in model.modules() if not list(m.children())]
    linears = [m for m in leaves if isinstance(m, nn.Linear)]
    if not linears or any(not isinstance(m, DENSE_PARTS) for m in leaves):
        return None
    W: list[np.ndarray] = []
    b: list[np.ndarray] = []
    with torch.no_grad():
        for m in leaves:
            if isinstance(m, nn.Linear):
                W.append(m.weight.double().numpy().T)
                b.append(m.bias.double().numpy() if m.bias is not None else np.zeros(m.out_features))
            elif isinstance(m, nn.BatchNorm1d) and W:  # W' = W * s, b' = (b - mu) * s + beta
                s = (m.weight.double() / torch.sqrt(m.running_var.double() + m.eps)).numpy()
                W[-1], b[-1] = W[-1] * s, (b[-1] - m.running_mean.double().numpy()) * s + m.bias.double().numpy()
    if any(w.shape[1] != nxt.shape[0] for w, nxt in zip(W, W[1:])):
        return None
    net = Dense([w.astype(np.float32) for w in W], [c.astype(np.float32) for c in b], W[-1].shape[1] == 1)
    X = torch.from_numpy(np.random.default_rng(0).normal(size=(64, *input_shape)).astype(np.float32))
    try:
        with torch.no_grad():
            expected = torch.softmax(model(X).double(), dim=1).numpy()
    except (RuntimeError, ValueError, TypeError):
        return None
    got = _probabilities(net, X.reshape(len(X), -1).double().numpy())
    return net if expected.shape == got.shape and np.allclose(got, expected, atol=1e-5, rtol=0) else None


def _probabilities(net: Dense, X: np.ndarray) -> np.ndarray:
    """What the page computes, in float64: the hidden layers' g, then a sigmoid unit (two columns) or a softmax."""
    A = X
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        A = A @ W.astype(np.float64) + b
        if l < len(net.W) - 1:
            ACTIVATIONS[net.activation].g(A)  # A = g(Z), in place
    if net.binary:
        p = 0.5 * (1 + np.tanh(0.5 * A[:, 0]))
        return np.c_[1 - p, p]
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def payload(net: Dense, ds, P: np.ndarray | None = None) -> dict:
    """Everything poke.js needs, as JSON: the layers (float32, base64), the input scaling, the classes and
    what to show under the controls (training points for 2-D data, test images for images)."""
    s = ds.scaler
    data: dict = {
        "classes": list(ds.classes), "binary": net.binary, "activation": net.activation,
        "layers": [{"n_in": W.shape[0], "n_out": W.shape[1], "W": _b64(W), "b": _b64(b)} for W, b in zip(net.W, net.b)],
        "scaler": {"kind": s.kind, "pixel_max": s.pixel_max} if s.kind == "pixels" else
                  {"kind": s.kind, "pixel_max": s.pixel_max, "mean": s.mean.tolist(), "std": s.std.tolist()},
    }
    if ds.n_features == 2:
        rng = np.random.default_rng(0)
        keep = np.sort(rng.permutation(len(ds.y_train))[:TRAIN_POINTS])
        raw = s.inverse(ds.X_train[keep]).astype(np.float64)
        test = s.inverse(ds.X_test).astype(np.float64)
        both = np.r_[raw, test]
        pad = 0.15 * (both.max(axis=0) - both.min(axis=0))
        data.update(kind="points", x=np.round(raw, 4).tolist(), y=ds.y_train[keep].tolist(),
                    lo=(both.min(axis=0) - pad).tolist(), hi=(both.max(axis=0) + pad).tolist())
        return data
    shown = [i for k in range(min(ds.n_classes, 10)) for i in np.flatnonzero(ds.y_test == k)[:SAMPLES_PER_CLASS]]
    wrong = np.flatnonzero(P.argmax(axis=1) != ds.y_test)[:MISTAKES] if P is not None else []
    shown += [int(i) for i in wrong if i not in shown]
    images = np.clip(s.inverse(ds.X_test[shown]) / s.pixel_max, 0, 1)  # grey levels in [0, 1], as drawn
    h, w = ds.image_shape[1:]
    spread = s.inverse(ds.X_train).std(axis=0) / s.pixel_max  # how much each pixel varies, in grey levels
    data.update(kind="image", h=int(h), w=int(w), images=_b64(images), labels=ds.y_test[shown].tolist(),
                wrong=[i in set(wrong.tolist() if len(wrong) else []) for i in shown], spread=_b64(spread))
    return data


def scripts(*paths: Path) -> list[str]:
    """The texts of the package's scripts to inline into a report, each checked: an inlined script must not
    end its own <script> element."""
    texts = [p.read_text(encoding="utf-8") for p in paths]
    for path, text in zip(paths, texts):
        if "</script" in text.lower():
            raise ValueError(f"{path.name} must not contain '</script'")
    return texts


def script_json(obj) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' (so no '</script>' or '<!--' can end the element early)
    and no U+2028/2029 (line breaks to old JavaScript parsers)."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    for c, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(c, code)
    return text


def section(model: Network | nn.Module, ds, P: np.ndarray | None = None) -> tuple[str, str | None]:
    """(the section's HTML, or "", and what the "not shown" list should say instead, or None) for `model`
    (see `dense_network`) on the data `ds` it was trained on, `P` its test probabilities."""
    image = ds.image_shape is not None and ds.image_shape[0] == 1
    if not image and ds.n_features != 2:
        return "", (f"Poke the network: the page lets you move a 2-D point or draw a grey image; these inputs are "
                    f"{ds.n_features} plain features.")
    net = dense_network(model, tuple(ds.image_shape) if image else (ds.n_features,))
    if isinstance(net, str):
        return "", net
    if net.parameters > MAX_PARAMETERS:
        return _shell(f"<p class=\"poke-note\">This network has {net.parameters:,} parameters; the page embeds "
                      f"networks of up to {MAX_PARAMETERS:,} (float32, {MAX_PARAMETERS * 16 // 3 / 1e6:.0f} MB in "
                      "the page) so that the report stays a file that opens in a second and a forward pass stays "
                      "a few milliseconds. Train a smaller one (--hidden) to poke it here.</p>"), None
    trainable = isinstance(model, Network) and image
    before, after = scripts(*LEARN_SCRIPTS) if trainable else ("", "")
    (script,) = scripts(SCRIPT)
    data = {**payload(net, ds, P), "trainable": trainable}
    return _shell(_intro(net, ds) + '<div class="poke-app" id="poke-app"></div>'
                  '<noscript><p class="poke-note">This section needs JavaScript.</p></noscript>'
                  f'<script type="application/json" id="poke-data">{script_json(data)}</script>'
                  + "".join(f"<script>{s}</script>" for s in (before, script, after) if s)), None


def _shell(body: str) -> str:
    return f"<style>{STYLE}</style>{body}"  # the report puts it in <section id="poke"> with its heading


def _intro(net: Dense, ds) -> str:
    sizes = "-".join(str(n) for n in [net.W[0].shape[0], *(W.shape[1] for W in net.W)])
    output = "one sigmoid unit" if net.binary else "a softmax"
    hidden = "ReLU" if net.activation == "relu" else net.activation
    what = (f"The trained network ({sizes}, {hidden} hidden layers, {output}; {net.parameters:,} parameters) runs "
            "in this page, in plain JavaScript, from the weights stored in it: its probabilities equal "
            "the Python model's to 1e-5. ")
    s = ds.scaler
    if ds.n_features == 2:
        howto = ("Drag the black point, or click to move it there; shift-click adds a point, each labelled with "
                 "its probability. The bars (or grid cells, for wide layers) show each hidden unit's activation for "
                 "the black point; hover over a unit (click to keep it) to colour the plane by that unit's "
                 "activation instead of the network's probability, and see what the unit has learned to detect. ")
        scaling = ("The axes are the data's own units; the page standardises a point as training did, "
                   + ", ".join(f"{v}' = ({v} {'−' if m >= 0 else '+'} {abs(m):.3g}) / {d:.3g}"
                               for v, m, d in zip("xy", s.mean, s.std)) + ".")
    else:
        h, w = ds.image_shape[1:]
        howto = (f"Draw with the mouse on the {h}×{w} canvas (right button or the eraser to rub out), or pick a "
                 "test image and edit it. The bars give each class's probability; the grid shows every "
                 "first-layer unit's activation (bright = strong); the units that fire most are drawn below "
                 "as their weights (red: a bright pixel there raises the unit, blue: lowers it) and lit up "
                 "by your drawing (each pixel's grey level × its weight). ")
        scaling = ("Pixels are grey levels from 0 (black) to 1 (white stroke), as the network's training images "
                   + ("were after dividing by " + f"{s.pixel_max:g}." if s.kind == "pixels" else
                      "were after the same scaling.")
                   + " \"Centre\" moves your drawing's centre of mass to the middle, as MNIST's digits were prepared: "
                   "try the same digit off-centre to see how little the network knows about shifts.")
    return f'<p class="poke-note">{escape(what + howto + scaling)}</p>'


def report_parts(model: Network | nn.Module, ds,
                 P: np.ndarray | None = None) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The report's "Poke the network" section as (anchor, title, HTML), if any, and the note of why not."""
    from nnlab.viz import learn_cnn  # (it imports this module's helpers)

    html, why_not = section(model, ds, P)
    cnn, cnn_why_not = learn_cnn.report_parts(model, ds)
    if cnn:
        why_not = None  # the CNN has its own page: the dense one's refusal would only confuse
    return ([("poke", "Poke the network", html)] if html else []) + cnn, ([why_not] if why_not else []) + cnn_why_not
