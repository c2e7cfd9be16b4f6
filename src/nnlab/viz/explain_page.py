"""The HTML of `nnlab explain`: one self-contained page (no script, no CDN, pictures inline) that walks one
SGD step equation by equation, then sets the log loss beside the squared error. Pure: a Walk in, a string out.

Every number shown carries its exact float64 value in its `title` (hover to read it; the tests parse it).
"""

from __future__ import annotations

import base64
import io
import re
from html import escape

import numpy as np

from nnlab.scratch.walk import FD_STEP, LossRace, Step, Walk, output_gradient

ROWS, COLS = 4, 8  # the corner of each matrix shown as numbers

STYLE = """
body { font: 17px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2.2em; border-bottom: 2px solid #ddd; }
.lead { color: #444; max-width: 52em; }
nav { background: #f6f6f6; padding: 0.6em 1em; font-size: 0.9em; columns: 3; }
nav a { display: block; } nav b { column-span: all; display: block; margin-bottom: 0.3em; }
.step { border: 1px solid #ddd; border-left: 6px solid #888; border-radius: 4px; padding: 0.6em 1em 0.8em;
        margin: 1.2em 0; page-break-inside: avoid; }
.step.forward { border-left-color: #4a7ebb; } .step.loss { border-left-color: #8a5cb8; }
.step.backward { border-left-color: #c0504d; }
.eq { font: italic 1.6em/1.3 "STIX Two Math", "Cambria Math", Georgia, serif; }
.eq sub { font-size: 0.65em; } .phase { float: right; color: #888; font-size: 0.85em; }
.shape { font: 0.95em ui-monospace, monospace; color: #555; margin-left: 1em; }
.note { color: #555; margin: 0.2em 0 0.5em; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; }
table.num td { font: 0.9em ui-monospace, monospace; text-align: right; border: 1px solid #eee; min-width: 5.5em; }
table.num th { font-size: 0.8em; color: #666; font-weight: normal; }
.more { color: #777; font-size: 0.85em; }
.code { font: 0.9em ui-monospace, monospace; background: #f4f4f0; padding: 0.3em 0.6em; margin-top: 0.5em;
        border-radius: 3px; white-space: pre; overflow-x: auto; } .code .where { color: #888; }
.agree { font-size: 0.9em; color: #264; margin-top: 0.3em; } .bad { color: #b00; font-weight: bold; }
table.fd { font-size: 0.9em; margin-top: 0.4em; } table.fd td, table.fd th { border-bottom: 1px solid #eee;
        text-align: right; font-family: ui-monospace, monospace; } table.fd th { font-family: system-ui; }
.metric { display: inline-block; margin-right: 2.5em; } .metric b { font-size: 1.8em; display: block; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: 0.9em; max-width: 50em; }
.batch img { image-rendering: pixelated; width: 84px; height: 84px; border: 1px solid #ccc; margin-right: 6px; }
"""


def framed(html: str) -> str:
    """A whole page for Jupyter, in a frame: the page's own style must not restyle the notebook around it."""
    return f'<iframe srcdoc="{escape(html)}" style="width:100%;height:900px;border:1px solid #ddd"></iframe>'


def fmt(v: float) -> str:
    """How the page prints a number: 4 significant digits (its exact value is in the cell's title)."""
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.3e}"


def math(text: str) -> str:
    """An equation as HTML: escaped, then Z3 → Z<sub>3</sub>, e^(x) → e<sup>x</sup>."""
    html = escape(text)
    html = re.sub(r"e\^\(([^)]*)\)", r"e<sup>\1</sup>", html)
    return re.sub(r"([A-Za-z])(\d+)", r"\1<sub>\2</sub>", html)


def _cell(v: float, vmax: float, binary: bool = False) -> str:
    if binary:
        colour = "#d9d9d9" if v else "#ffffff"
    else:
        alpha = 0.65 * min(abs(v) / vmax, 1.0) if vmax > 0 else 0.0
        colour = f"rgba(214,39,40,{alpha:.2f})" if v > 0 else f"rgba(31,119,180,{alpha:.2f})"
    return f'<td style="background:{colour}" title="{float(v)!r}">{"1" if binary and v else fmt(v)}</td>'


def matrix_table(value: np.ndarray, row_label: str, col_label: str, binary: bool = False,
                 rows: int = ROWS, cols: int = COLS, row_index=None, col_index=None, row_names=None) -> str:
    """A corner of a matrix as numbers — the first rows and columns, or those of `row_index`/`col_index` —
    each cell coloured on the whole matrix's scale (red positive, blue negative), with what is not shown."""
    vmax = float(np.abs(value).max(initial=0))
    ri = list(range(min(rows, value.shape[0]))) if row_index is None else list(row_index)
    ci = list(range(min(cols, value.shape[1]))) if col_index is None else list(col_index)
    head = "<tr><th></th>" + "".join(f"<th>{escape(col_label)} {j + 1}</th>" for j in ci) + "</tr>"
    body = "".join(f"<tr><th>{escape(row_names[i] if row_names else f'{row_label} {i + 1}')}</th>"
                   + "".join(_cell(value[i, j], vmax, binary) for j in ci) + "</tr>" for i in ri)
    hidden = []
    for kept, total, what, index in ((ri, value.shape[0], "rows", row_index), (ci, value.shape[1], "columns",
                                                                              col_index)):
        if len(kept) < total:
            hidden.append(f"{len(kept)} of {total} {what}" if index is None or kept == list(range(len(kept)))
                          else f"the {len(kept)} of {total} {what} that vary most in the batch")
    scale = "" if binary else f"; the colours are on the whole matrix's scale (largest |value| {fmt(vmax)})"
    more = f'<div class="more">showing {" and ".join(hidden)}{scale}</div>' if hidden else ""
    return f'<table class="num">{head}{body}</table>{more}'


LABELS = {"Z": ("sample", "unit"), "A": ("sample", "unit"), "dZ": ("sample", "unit"), "dA": ("sample", "unit"),
          "mask": ("sample", "unit"), "dW": ("input", "unit"), "db": ("", "unit"), "L": ("", "")}


def step_html(step: Step, walk: Walk) -> str:
    kind = re.match(r"[a-zA-Z]+?(?=\d|$)", step.key).group(0)
    rows, cols = LABELS.get(kind, ("row", "col"))
    names = _sample_names(walk) if rows == "sample" else None
    if step.key == "L":
        table = f'<div class="metric"><b title="{float(step.value[0, 0])!r}">{fmt(step.value[0, 0])}</b>loss</div>'
    else:
        index = None
        if step.key == "dW1":
            rows, index = "feature", shown_features(walk.X)
        if kind in ("Z", "A", "dZ") and step.key[-1] == str(len(walk.sizes) - 1) and not walk.binary:
            cols = "class"
        table = matrix_table(step.value, rows, cols, binary=kind == "mask", row_index=index, row_names=names)
    code = "".join(f'<div class="code"><span class="where">{escape(c.file)}:{c.number}</span>  {escape(c.text)}</div>'
                   for c in step.code)
    diff = step.network_difference
    agree = ""
    if diff is not None:
        where = "forward" if step.phase != "backward" else "backward"
        ok = diff <= 1e-12 * max(1.0, float(np.abs(step.value).max(initial=0)))
        agree = (f'<div class="agree">✓ network.py\'s {where} computes the same numbers (largest difference '
                 f"{diff:.1e})</div>" if ok else
                 f'<div class="agree bad">✗ network.py\'s {where} differs from the equation by up to {diff:.2e}'
                 "</div>")
    checks = ""
    if step.checks:
        param = step.key[1:]
        rows_html = "".join(
            f"<tr><td>{param} {_entry(c.index, step.key)}</td><td title=\"{c.analytic!r}\">{c.analytic:.8e}</td>"
            f"<td title=\"{c.numeric!r}\">{c.numeric:.8e}</td><td>{c.error:.1e}</td>"
            f"<td>{_verdict(c)}</td></tr>" for c in step.checks)
        checks = (f'<table class="fd"><tr><th>entry</th><th>backward</th><th>(L(θ+h) − L(θ−h)) / 2h</th>'
                  f"<th>relative error</th><th></th></tr>{rows_html}</table>"
                  f'<div class="more">Finite differences with h = {FD_STEP:g}: each entry of {param} nudged up and '
                  "down, the loss recomputed by network.py's forward; the largest entries and one at random.</div>")
    note = f'<p class="note">{escape(step.note)}</p>' if step.note else ""
    return (f'<section class="step {step.phase}" id="step-{escape(step.key)}"><span class="phase">{step.phase}'
            f'</span><span class="eq">{math(step.equation)}</span><span class="shape">{escape(step.shape)}</span>'
            f"{note}{table}{code}{agree}{checks}</section>")


def _verdict(check) -> str:
    if check.passed:
        return "✓"
    if check.kink:
        return ('<span class="more" title="p ± h switches a ReLU on or off: the difference straddles a corner of '
                'the loss">at a ReLU kink: no derivative to check</span>')
    return "<span class=bad>✗ FAIL</span>"


def _sample_names(walk: Walk) -> list[str]:
    return [f"sample {i + 1} · y = {int(k)}" for i, k in enumerate(walk.y)]


def _entry(index: tuple[int, ...], key: str) -> str:
    """W3 (input 5, unit 1): a parameter entry named as the tables name its row and column, from 1."""
    if len(index) == 1:
        return f"(unit {index[0] + 1})"
    return f"({'feature' if key == 'dW1' else 'input'} {index[0] + 1}, unit {index[1] + 1})"


def shown_features(X: np.ndarray, cols: int = COLS) -> list[int] | None:
    """Wide inputs (images) are mostly constant in a small batch (MNIST's border is 0 everywhere): show the
    features that vary most across it, in order. None: the first ones will do."""
    if X.shape[1] <= cols:
        return None
    spread = X.std(axis=0) + np.abs(X).mean(axis=0) * 1e-9  # ties (all constant) broken towards non-zero
    return sorted(int(j) for j in np.argsort(-spread, kind="stable")[:cols])


def update_html(walk: Walk) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{'×'.join(map(str, before.shape))}</td>"
        f"<td>{fmt(np.linalg.norm(after - before))}</td><td>{fmt(np.linalg.norm(before))}</td></tr>"
        for name, before, after in walk.update)
    name, before, after = walk.update[-2]  # the output layer's weights, entry by entry
    b, a = before.ravel()[:6], after.ravel()[:6]
    cols = before.shape[1]
    entries = "".join(f"<tr><td>{escape(name)} (input {k // cols + 1}, unit {k % cols + 1})</td>"
                      f"<td title=\"{b[k]!r}\">{fmt(b[k])}</td><td>{fmt(a[k] - b[k])}</td>"
                      f"<td title=\"{a[k]!r}\">{fmt(a[k])}</td></tr>" for k in range(len(b)))
    went_down = walk.loss_after < walk.loss_before
    verdict = (f'<p class="agree">✓ The loss went down by {fmt(walk.loss_before - walk.loss_after)}. The straight-line '
               f"forecast from the gradient alone was a change of −lr·‖dθ‖² = {fmt(walk.predicted_change)}; the loss "
               "curves, so a real step gains less (or more) — the smaller lr, the closer the two.</p>"
               if went_down else
               f'<p class="bad">✗ The loss went up: lr = {walk.lr:g} overshoots here. Try a smaller one '
               "(--lr).</p>")
    code = walk.update_code
    return f"""<p>Every parameter moves against its gradient, all at once, by the learning rate lr = {walk.lr:g}:</p>
<div class="eq">θ ← θ − lr·dθ</div>
<div class="code"><span class="where">{escape(code.file)}:{code.number}</span>  {escape(code.text)}</div>
<p>Then the same batch goes forward again.</p>
<div class="metric"><b title="{walk.loss_before!r}">{fmt(walk.loss_before)}</b>loss before the step</div>
<div class="metric"><b title="{walk.loss_after!r}">{fmt(walk.loss_after)}</b>loss after the step</div>
{verdict}
<table class="fd"><tr><th>parameter</th><th>shape</th><th>‖Δ‖ (how far it moved)</th><th>‖θ‖ before</th></tr>
{rows}</table>
<p>The output layer's first weights, entry by entry:</p>
<table class="fd"><tr><th>entry</th><th>before</th><th>−lr·d{escape(name)}</th><th>after</th></tr>{entries}</table>"""


def png(fig) -> str:
    from nnlab.viz import figures

    return base64.b64encode(figures.png_bytes(fig)).decode("ascii")


RACE_FONT = 11.0  # points: the race figure is drawn 15 inches wide and shown shrunk to the page's column


def race_figure(race: LossRace, wrong: tuple[float, int] | None):
    """Left: m·dL/dZ over the output A for y = 1 and y = 0, for both losses, a confident mistake marked.
    Right: the log loss of both runs per epoch; the accuracy in a third panel."""
    from nnlab.viz import figures

    # Larger text than the report's, in a style of its own that is on only while this figure is drawn:
    # figures drawn later in the same process keep the report's size.
    with figures.styled(RACE_FONT):
        fig, (ax, bx, cx) = figures.subplots(1, 3, figsize=(15, 5.4))
        a = np.linspace(1e-3, 1 - 1e-3, 400)
        colours = {"log": "#c0504d", "mse": "#4a7ebb"}
        names = {"log": "log loss: A − Y", "mse": "squared error: (A − Y)·A(1 − A)"}
        for loss in ("log", "mse"):
            ax.plot(a, output_gradient(a, 1, loss), color=colours[loss], lw=2.2, label=f"{names[loss]}, y = 1")
            ax.plot(a, output_gradient(a, 0, loss), color=colours[loss], lw=1.4, ls="--", label="y = 0")
        if wrong is not None:
            a0, y0 = wrong
            for loss in ("log", "mse"):
                g = output_gradient(np.array(a0), y0, loss)
                ax.plot([a0], [g], "o", ms=9, color=colours[loss], mec="black", zorder=5)
            label_at = (0.35, -0.7) if y0 else (0.1, 0.7)
            ax.annotate(f"confident mistake\ny = {y0}, A = {a0:.3f}", (a0, output_gradient(np.array(a0), y0, "log")),
                        xytext=label_at, textcoords="data", arrowprops={"arrowstyle": "->", "color": "#444"})
            ax.annotate("", (a0, output_gradient(np.array(a0), y0, "mse")), xytext=label_at, textcoords="data",
                        arrowprops={"arrowstyle": "->", "color": "#444"})
        ax.axhline(0, color="#999", lw=0.8)
        ax.set(xlabel="output A = σ(Z)", ylabel="m · dL/dZ", title="the push each loss gives one sample")
        ax.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        epochs = np.arange(len(race.curves["log"]["log_loss"]))
        for loss in ("log", "mse"):
            label = "trained with the log loss" if loss == "log" else "trained with the squared error"
            bx.plot(epochs, race.curves[loss]["log_loss"], color=colours[loss], lw=2, label=label)
            cx.plot(epochs, race.curves[loss]["accuracy"], color=colours[loss], lw=2, label=label)
        bx.set(xlabel="epoch", ylabel="log loss on these samples", title="learning curves: loss")
        cx.set(xlabel="epoch", ylabel="accuracy on these samples", title="learning curves: accuracy")
        bx.legend(fontsize=10)
        for axis in (ax, bx, cx):
            axis.grid(alpha=0.3)
        fig.tight_layout()
    return fig


def race_html(race: LossRace, wrong: tuple[float, int] | None, wrong_source: str) -> str:
    cases = [("a textbook confident mistake: 99% sure of class 0, but y = 1", (0.01, 1))]
    if wrong is not None:
        cases.append((wrong_source, wrong))
    body = ""
    for what, (a0, y0) in cases:
        g_log, g_mse = (float(output_gradient(np.array(a0), y0, loss)) for loss in ("log", "mse"))
        ratio = f"{abs(g_log / g_mse):.0f}×" if g_mse else "∞"
        body += (f"<tr><td style=\"text-align:left\">{escape(what)}</td><td>{y0}</td><td>{a0:.4f}</td>"
                 f"<td>{fmt(g_log)}</td><td>{fmt(g_mse)}</td><td>{ratio}</td></tr>")
    rows = ("<table class=\"fd\"><tr><th>sample</th><th>y</th><th>A</th><th>m·dZ, log loss</th>"
            f"<th>m·dZ, squared error</th><th>log / squared</th></tr>{body}</table>")
    final = {loss: race.curves[loss] for loss in ("log", "mse")}
    return f"""<p>The derivation chose the log loss because, with a sigmoid output, it makes dL/dZ a plain
difference. The squared error L = (1/2m)·Σ(A − Y)² keeps the sigmoid's slope A(1 − A) as a factor:</p>
<div class="eq">log loss: dZ = (A − Y)/m &nbsp;&nbsp;&nbsp; squared error: dZ = (A − Y)·A(1 − A)/m</div>
<p>The slope A(1 − A) is near 0 wherever the output is near 0 or 1 — right or wrong. So on a <b>confident
mistake</b> the squared error barely pushes, just when a push is most needed; the log loss pushes with full
strength (left). Both were then trained from the same starting weights on the same {race.samples} training
samples, with the same plain SGD (lr = {race.lr:g}, batches of {race.batch_size}, the same shuffling), and
both are measured with the same yardstick, the log loss and accuracy on those samples (middle, right).</p>
{rows}
<figure><img src="data:image/png;base64,{png(race_figure(race, wrong))}"
alt="dL/dZ of both losses and their learning curves">
<figcaption>Left: how hard each loss pushes one sample's logit, m·dL/dZ, over the output A (solid: label 1,
dashed: label 0). Middle and right: after {len(final['log']['log_loss']) - 1} epochs the log loss reached
{fmt(final['log']['log_loss'][-1])} and {final['log']['accuracy'][-1]:.1%} accuracy, the squared error
{fmt(final['mse']['log_loss'][-1])} and {final['mse']['accuracy'][-1]:.1%}.</figcaption></figure>"""


def batch_html(walk: Walk, classes: list[str], images: np.ndarray | None) -> str:
    pictures = ""
    if images is not None:
        from PIL import Image

        tags = []
        for img in images:
            buf = io.BytesIO()
            Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(buf, format="PNG")
            tags.append(f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode("ascii")}" alt="">')
        pictures = f'<p class="batch">{"".join(tags)}</p>'
    labels = ", ".join(f"sample {i + 1}: {escape(classes[int(k)])} (y = {int(k)})" for i, k in enumerate(walk.y))
    return (f"{pictures}<p>{labels}</p>"
            + matrix_table(walk.X, "sample", "feature", col_index=shown_features(walk.X),
                           row_names=_sample_names(walk)))


def page(walk: Walk, title: str, context: str, classes: list[str], images: np.ndarray | None = None,
         race: LossRace | None = None, wrong: tuple[float, int] | None = None, wrong_source: str = "") -> str:
    L = len(walk.sizes) - 1
    output = ("sigmoid + squared error" if walk.loss == "mse" else "sigmoid + log loss" if walk.binary
              else "softmax + log loss (cross-entropy)")
    phases = [("forward", "Forward: from X to the prediction"), ("loss", "The loss"),
              ("backward", "Backward: from the loss to every gradient")]
    sections = []
    for phase, heading in phases:
        cards = "".join(step_html(s, walk) for s in walk.steps if s.phase == phase)
        sections.append((phase, heading, cards))
    sections.append(("update", "The update, and the loss before and after", update_html(walk)))
    if race is not None:
        sections.append(("log-vs-mse", "Why the log loss and not the squared error",
                         race_html(race, wrong, wrong_source)))
    nav = "".join(f'<a href="#{a}">{escape(h)}</a>' for a, h, _ in [("batch", "The batch", ""), *sections])
    n_checks = sum(len(s.checks) for s in walk.steps)
    failed = sum(c.failed for s in walk.steps for c in s.checks)
    kinks = sum(c.kink and not c.passed for s in walk.steps for c in s.checks)
    verdict = (f'<span class="agree">all {n_checks} finite-difference checks pass</span>' if not failed + kinks else
               f'<span class="bad">{failed} of {n_checks} finite-difference checks FAIL</span>' if failed else
               f'<span class="agree">{n_checks - kinks} of {n_checks} finite-difference checks pass; {kinks} '
               "straddle a ReLU kink, where there is no derivative to check</span>")
    kink = (f" The hidden pre-activation nearest ReLU's kink is {walk.near_kink:.1e} from it: a difference of "
            f"h = {FD_STEP:g} may cross it there, and a check that does is marked, not failed."
            if walk.near_kink < 10 * FD_STEP else "")
    body = "".join(f'<h2 id="{a}">{escape(h)}</h2>{html}' for a, h, html in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnlab · one step of backprop · {escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>One step of backprop, shown</h1>
<p class="lead">{escape(title)} · network {'-'.join(map(str, walk.sizes))} ({output}), {L} layers · a batch of
{len(walk.X)} · float64 · {verdict}.</p>
<p class="lead">{escape(context)} Each card is one equation of
nnlab's docs/derivation.md in the order backprop runs them: the equation, the shapes,
the first rows of its numbers (red positive, blue negative; hover a number for its exact value), the line of
nnlab's <code>network.py</code> that computes it, and — for each gradient — a check against finite
differences.{kink}</p>
<nav><b>Contents</b>{nav}</nav>
<h2 id="batch">The batch</h2>{batch_html(walk, classes, images)}
{body}
</body></html>
"""
