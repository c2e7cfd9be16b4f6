"""The page of `nnlab explain --net`: one step of backprop on a network written down by hand, and — given the
student's answers — each of their numbers marked, the first wrong step at the top. Pure: a HandWalk (and a
Marking) in, a string out; self-contained, no script.

Every number shown carries its exact float64 value in its `title` (hover to read it).
"""

from __future__ import annotations

from html import escape

import numpy as np

from nnlab.scratch.handnet import LOSSES, HandWalk, Rule
from nnlab.scratch.marking import MISTAKES, Mark, Marking, summary
from nnlab.viz.explain_page import STYLE, fmt, math

MAX_SHOWN = 8  # rows and columns of a matrix shown as numbers (a network worked by hand is small)

MARK_STYLE = """
.verdict { border: 3px solid #2a7; border-radius: 6px; padding: 0.8em 1.2em; margin: 1.2em 0; background: #f3fbf6; }
.verdict.wrong { border-color: #c33; background: #fff4f3; }
.verdict h2 { border: 0; margin: 0 0 0.3em; font-size: 1.5em; }
.verdict .first { font-size: 1.25em; } .verdict .first b { color: #b00; }
.chips { margin: 0.6em 0 0; line-height: 2.1; }
.chip { display: inline-block; padding: 0 0.6em; margin-right: 0.3em; border-radius: 1em; font: 0.95em ui-monospace,
        monospace; text-decoration: none; color: #222; border: 1px solid #bbb; }
.chip.right { background: #dff3e4; border-color: #7c9; } .chip.wrong, .chip.shape { background: #c33; color: #fff;
        border-color: #c33; font-weight: bold; } .chip.carried { background: #fde9c8; border-color: #e5b25c; }
.step.marked-wrong, .step.marked-shape { box-shadow: 0 0 0 3px #c33; }
.yours { margin-top: 0.5em; } .yours .label { font-weight: bold; }
table.num td.off { background: #c33 !important; color: #fff; font-weight: bold; }
table.num td.on { background: #dff3e4 !important; }
table.num td.carried { background: #fde9c8 !important; } .carried-text { color: #a66a00; font-weight: bold; }
.verdict p { margin: 0.35em 0; }
.conventions td, .conventions th { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
.conventions .eqs { font: italic 1.05em Georgia, serif; } .conventions th.here { background: #eef3fb; }
svg.curve text { font: 12px system-ui, sans-serif; fill: #444; }
"""

STATUS = {"right": "✓ right", "carried": "↳ follows from your earlier number", "wrong": "✗ wrong",
          "shape": "✗ wrong shape"}


def _dims(a: np.ndarray) -> str:
    return "×".join(map(str, a.shape)) if a.ndim else "1"


def _labels(key: str, convention: str) -> tuple[str, str]:
    """What a shown matrix's rows and columns are, in the page's notation."""
    base = key.removesuffix("_new").lstrip("d")
    if base[0] == "W":
        pair = ("input", "unit")
    elif base[0] == "b":
        pair = ("", "unit")
    elif key == "X":
        pair = ("sample", "feature")
    elif key == "Y":
        pair = ("sample", "output")
    else:
        pair = ("sample", "unit")
    return pair if convention == "rows" else pair[::-1]


def num(x: float) -> str:
    """6 significant digits: a worked example prints 9, a student writes 4 to 6 (hover for all of them)."""
    x = float(x)
    return "0" if x == 0 else f"{x:.6g}" if 1e-4 <= abs(x) < 1e6 else f"{x:.4e}"


def table(value: np.ndarray, key: str, convention: str, marks: np.ndarray | None = None,
          off: str = "off") -> str:
    """Numbers of a matrix (a vector as one row or column), coloured on its own scale, or — with `marks` —
    green where right and red (or `off`'s colour) where off."""
    v = np.atleast_2d(value)
    if value.ndim == 1:
        v = v if convention == "rows" else v.T
    rows_label, cols_label = _labels(key, convention)
    vmax = float(np.abs(v).max(initial=0))
    r, c = min(v.shape[0], MAX_SHOWN), min(v.shape[1], MAX_SHOWN)
    bad = None if marks is None else np.atleast_2d(marks).reshape(v.shape)
    head = "<tr><th></th>" + "".join(f"<th>{escape(cols_label)} {j + 1}</th>" for j in range(c)) + "</tr>"
    body = ""
    for i in range(r):
        body += f"<tr><th>{escape(rows_label)} {i + 1 if rows_label else ''}</th>"
        for j in range(c):
            x = float(v[i, j])
            if bad is not None:
                cls = off if bad[i, j] else "on"
                body += f'<td class="{cls}" title="{x!r}">{x:g}</td>'
            else:
                alpha = 0.55 * min(abs(x) / vmax, 1.0) if vmax > 0 else 0.0
                colour = f"rgba(214,39,40,{alpha:.2f})" if x > 0 else f"rgba(31,119,180,{alpha:.2f})"
                body += f'<td style="background:{colour}" title="{x!r}">{num(x)}</td>'
        body += "</tr>"
    more = (f'<div class="more">showing {r} of {v.shape[0]} rows and {c} of {v.shape[1]} columns</div>'
            if (r, c) != v.shape else "")
    return f'<table class="num">{head}{body}</table>{more}'


def _equation(rule: Rule, convention: str) -> str:
    return rule.equation if convention == "rows" else rule.columns


def card(rule: Rule, walk: HandWalk, mark: Mark | None) -> str:
    conv = walk.net.convention
    value = walk.shown(rule.key)
    shapes = ", ".join(f"{k} {_dims(walk.shown(k))}" for k in rule.inputs) + f" → {_dims(value)}"
    if rule.key == "L":
        numbers = f'<div class="metric"><b title="{float(value[0, 0])!r}">{num(value[0, 0])}</b>loss</div>'
    else:
        numbers = table(value, rule.key, conv)
    checks = ""
    param = rule.key[1:] if rule.key[:2] in ("dW", "db") else None
    if param:
        mine = [c for c in walk.checks if c.param == param]
        worst = max(mine, key=lambda c: c.error)
        ok = all(c.passed for c in mine)
        which = f"all {len(mine)} entries" if len(mine) == walk.values[param].size else (
            f"the {len(mine)} entries checked (its largest 6 and 2 at random, of {walk.values[param].size})")
        checks = (f'<div class="agree{"" if ok else " bad"}">{"✓" if ok else "✗"} finite differences agree on '
                  f"{which} of d{param}: each entry of {param} nudged by ±h, the loss recomputed "
                  f"(largest relative difference {worst.error:.1e})</div>" if ok else
                  f'<div class="agree bad">✗ finite differences disagree on {sum(not c.passed for c in mine)} of '
                  f"{len(mine)} entries of d{param}</div>")
    yours = ""
    cls = rule.phase
    if mark is not None:
        cls += f" marked-{mark.status}"
        verdict = STATUS[mark.status]
        style = {"right": "agree", "carried": "carried-text"}.get(mark.status, "bad")
        why = ""
        if mark.mistake:
            why = f" — likely {escape(MISTAKES[mark.mistake].says)}. <b>Fix:</b> {escape(MISTAKES[mark.mistake].fix)}."
        elif mark.status == "carried":
            why = (" — recomputed from your own " + ", ".join(mark.from_keys) + ", this step is right: it is wrong "
                   "only because of an earlier step")
        elif mark.status == "shape":
            why = f": yours is {_dims(mark.answer)}, it is {_dims(mark.expected)} here"
        answer = (table(mark.answer, rule.key, conv, mark.bad, "carried" if mark.status == "carried" else "off")
                  if rule.key != "L" else f" (yours: {float(mark.answer.ravel()[0]):g})")
        if mark.status == "shape":
            answer = f"<p>{escape(np.array2string(mark.answer, separator=', '))}</p>"
        yours = (f'<div class="yours"><span class="label">Your {escape(rule.key)}: '
                 f'<span class="{style}">{verdict}</span></span>{why}{answer}</div>')
    note = f'<p class="note">{escape(rule.note)}</p>' if rule.note else ""
    return (f'<section class="step {cls}" id="step-{escape(rule.key)}"><span class="phase">{rule.phase}</span>'
            f'<span class="eq">{math(_equation(rule, conv))}</span><span class="shape">{escape(shapes)}</span>'
            f"{note}{numbers}{checks}{yours}</section>")


def verdict_html(walk: HandWalk, marking: Marking) -> str:
    first = marking.first_wrong
    chips = "".join(f'<a class="chip {k.status}" href="#step-{escape(k.key)}" title="{escape(STATUS[k.status])}">'
                    f'{escape(k.key)} {"✓" if k.ok else "↳" if k.status == "carried" else "✗"}</a>'
                    for k in marking.marks)
    right = sum(k.ok for k in marking.marks)
    if first is None:
        head = "✓ Your numbers are right" if right == len(marking.marks) else "✓ No step of yours is wrong"
        lines = [escape(summary(marking, walk.keys))]
    else:
        head = f"✗ The first wrong step is {first.key}"
        lines = [f'<span class="first"><a href="#step-{escape(first.key)}"><b>{escape(first.key)}</b></a>: '
                 f"{math(_equation(walk.rule(first.key), marking.convention))}</span>"]
        if first.mistake:
            m = MISTAKES[first.mistake]
            lines += [f"<b>Likely:</b> {escape(m.says)}.", f"<b>Fix:</b> {escape(m.fix)}."]
        elif first.status == "shape":
            lines.append(f"Yours is {_dims(first.answer)}; here it is {_dims(first.expected)}.")
        order = walk.keys
        later = [k for k in marking.marks if order.index(k.key) > order.index(first.key)]
        carried = [k.key for k in later if k.status == "carried"]
        wrong = [k.key for k in later if k.status in ("wrong", "shape")]
        if carried:
            lines.append(f"<b>Then:</b> {escape(', '.join(carried))} {'is' if len(carried) == 1 else 'are'} wrong "
                         "only because of it — recomputed from your own earlier numbers, those steps are right.")
        if wrong:
            lines.append(f"<b>Also wrong on {'its' if len(wrong) == 1 else 'their'} own:</b> "
                         f"{escape(', '.join(wrong))}.")
        lines.append(f"{right} of {len(marking.marks)} answers are right.")
    body = "".join(f"<p>{line}</p>" for line in lines)
    return (f'<div class="verdict{" wrong" if first else ""}"><h2>{escape(head)}</h2>{body}'
            f'<div class="chips">{chips}</div>'
            "<p class=\"more\">Each number is checked to the precision you wrote it with (one unit of its last "
            "digit), and also against what the step gives from your own earlier numbers: ↳ marks a step that is "
            "right but inherits an earlier mistake.</p></div>")


def conventions_html(walk: HandWalk) -> str:
    L = walk.net.depth
    here = walk.net.convention
    pairs = [(r.equation, r.columns) for r in walk.rules if r.key in ("Z1", f"dZ{L}", f"dW{L}", f"db{L}", f"dA{L - 1}")]
    eqs = {c: "<br>".join(math(p[i]) for p in pairs) for i, c in enumerate(("rows", "columns"))}
    th = {c: ' class="here"' if c == here else "" for c in eqs}
    return f"""<p>Two notations write the same step. This page writes <b>{here}</b> (the spec's
<code>"convention"</code>); your answers are read in it.</p>
<table class="conventions"><tr><th{th["rows"]}>rows (nnlab's)</th><th{th["columns"]}>columns (many courses')</th></tr>
<tr><td>a sample is a row; W is inputs × units</td><td>a sample is a column; W is units × inputs</td></tr>
<tr><td>the 1/m of the mean is in dZ of the output</td><td>dZ of the output is A − Y; the 1/m is in dW and db</td></tr>
<tr><td class="eqs">{eqs["rows"]}</td><td class="eqs">{eqs["columns"]}</td></tr></table>
<p class="more">So W, Z, A and dW of one notation are the transposes of the other's, b and db are the same numbers,
and for a batch of m samples dZ and dA differ by the factor m as well: dZ (columns) = m · dZᵀ (rows).</p>"""


def curve_svg(losses: list[float], width: int = 560, height: int = 200) -> str:
    """The loss after each step as an inline SVG line (no picture library: the page stays a few kB)."""
    pad, n = 44, len(losses) - 1
    lo, hi = min(losses), max(losses)
    span = hi - lo or 1.0

    def xy(i: int, v: float) -> str:
        return f"{pad + (width - pad - 10) * i / max(n, 1):.1f},{10 + (height - pad) * (hi - v) / span:.1f}"

    points = " ".join(xy(i, v) for i, v in enumerate(losses))
    return (f'<svg class="curve" width="{width}" height="{height}" role="img" aria-label="loss per step">'
            f'<polyline points="{points}" fill="none" stroke="#c0504d" stroke-width="2"/>'
            f'<text x="4" y="16">{fmt(hi)}</text><text x="4" y="{height - pad + 10}">{fmt(lo)}</text>'
            f'<text x="4" y="{height / 2:.0f}">loss</text>'
            f'<text x="{pad}" y="{height - 12}">step 0</text><text x="{width - 60}" y="{height - 12}">step {n}</text>'
            "</svg>")


def update_html(walk: HandWalk) -> str:
    before, after = walk.losses[0], walk.losses[1]
    down = after < before
    text = (f'<p class="agree">✓ The loss went down by {fmt(before - after)}.</p>' if down else
            f'<p class="bad">✗ The loss went up: lr = {walk.net.lr:g} overshoots here.</p>')
    steps = ""
    if len(walk.losses) > 2:
        rows = "".join(f"<tr><td>{i}</td><td title=\"{v!r}\">{v:.9g}</td></tr>" for i, v in enumerate(walk.losses)
                       if i < 6 or i == len(walk.losses) - 1)
        steps = (f"<h3>{len(walk.losses) - 1} steps</h3><p>The same step again and again, each from the weights "
                 f"the last one left: the loss falls from {fmt(walk.losses[0])} to {fmt(walk.losses[-1])}.</p>"
                 f"{curve_svg(walk.losses)}<table class=\"fd\"><tr><th>after step</th><th>loss</th></tr>{rows}"
                 "</table>")
    return f"""<p>Every parameter moves against its gradient, all at once, by lr = {walk.net.lr:g}; the gradients
of every layer were computed with the weights of the forward pass, before any of them moved.</p>
<div class="metric"><b title="{before!r}">{fmt(before)}</b>loss before the step</div>
<div class="metric"><b title="{after!r}">{fmt(after)}</b>loss after the step</div>{text}{steps}"""


def page(walk: HandWalk, marking: Marking | None = None, source: str = "") -> str:
    net = walk.net
    marks = {k.key: k for k in marking.marks} if marking else {}
    title = net.title or "a network written by hand"
    arch = " → ".join([str(net.sizes[0])] + [f"{s} ({a})" for s, a in zip(net.sizes[1:], net.activations)])
    loss_word = {"mse": "the squared error: ½·Σ over the outputs of (A − Y)², then the mean over the samples (the "
                        "worked examples' convention; with one sample it is E_total = Σ ½(target − out)²)",
                 "log": "the log loss of each sigmoid output, summed over the outputs, mean over the samples",
                 "cross-entropy": "the cross-entropy of the softmax, mean over the samples"}[net.loss]
    fd = all(c.passed for c in walk.checks)
    sections = [("batch", "The batch", "<h4>X</h4>" + table(walk.shown("X"), "X", net.convention)
                 + "<h4>Y</h4>" + table(walk.shown("Y"), "Y", net.convention)),
                ("notation", "Two notations", conventions_html(walk))]
    for phase, heading in (("forward", "Forward: from X to the prediction"), ("loss", "The loss"),
                           ("backward", "Backward: from the loss to every gradient"),
                           ("update", "The update")):
        cards = "".join(card(r, walk, marks.get(r.key)) for r in walk.rules if r.phase == phase)
        if phase == "update":
            cards = update_html(walk) + cards
        sections.append((phase, heading, cards))
    nav = "".join(f'<a href="#{a}">{escape(h)}</a>' for a, h, _ in sections)
    body = "".join(f'<h2 id="{a}">{escape(h)}</h2>{html}' for a, h, html in sections)
    top = verdict_html(walk, marking) if marking else ""
    where = f" · {escape(source)}" if source else ""
    loss = escape(LOSSES[net.loss].text.format(A=f"A{net.depth}"))
    yours = ", and your answer" if marking else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnlab · backprop by hand · {escape(title)}</title>
<style>{STYLE}{MARK_STYLE}</style></head><body>
<h1>One step of backprop{", checked" if marking else ""}</h1>
<p class="lead">{escape(title)}{where} · network {escape(arch)} · {loss}
 · a batch of {net.m} · lr = {net.lr:g} · float64 ·
<span class="{"agree" if fd else "bad"}">finite differences {"agree with" if fd else "DISAGREE with"} every
gradient entry</span>.</p>
{top}
<p class="lead">The loss is {escape(loss_word)}. Each card is one equation in the order backprop runs them: the
equation, the shapes, its numbers (red positive, blue negative; hover a number for its exact value){yours}.</p>
<nav><b>Contents</b>{nav}</nav>
{body}
</body></html>
"""
