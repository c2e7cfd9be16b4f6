"""The walk of `nnlab explain --net` as Markdown with LaTeX equations (`--markdown OUT.md`): a handout or a
solution sheet that renders on GitHub, in Jupyter and through pandoc. Pure: a HandWalk in, a string out.

The equations are the walk's own (scratch/handnet.py's rules), turned into LaTeX here, so the sheet and the page
cannot say different things.
"""

from __future__ import annotations

import re

import numpy as np

from nnlab.scratch.handnet import LOSSES, HandWalk
from nnlab.scratch.marking import MISTAKES, Marking, summary

DIGITS = 6  # significant digits of the numbers on the sheet

# Unicode of the equations → LaTeX, in order (longer patterns first).
TEX = [("(1/m)·", r"\tfrac{1}{m}"), ("/ m", "/m"), ("Σ over samples of", r"\sum_{\text{samples}}"),
       ("·Σ ½·Σ", r"\sum_{\text{samples}} \tfrac{1}{2} \sum_{\text{outputs}}"), (", row by row", r"\text{ (each row)}"),
       (", column by column", r"\text{ (each column)}"), ("·", r" \, "), ("ᵀ", r"^{\top}"), ("⊙", r" \odot "),
       ("−", "-"), ("σ", r"\sigma"), ("Σ", r"\sum"), ("←", r"\leftarrow"), ("²", "^{2}"), ("lr", r"\eta"),
       ("ReLU", r"\mathrm{ReLU}"), ("softmax", r"\mathrm{softmax}"), ("tanh", r"\tanh"), ("log", r"\log"),
       ("max", r"\max"), ("1[", r"\mathbb{1}[")]


def latex(equation: str) -> str:
    """Z1 = X·W1 + b1 → Z_{1} = X \\, W_{1} + b_{1}."""
    text = re.sub(r"e\^\(([^)]*)\)", r"e^{\1}", equation)
    for a, b in TEX:
        text = text.replace(a, b)
    return re.sub(r"(?<![\\a-zA-Z])(d?[A-Za-z])(\d+)", r"\1_{\2}", text)


def _number(x: float) -> str:
    return f"{float(x):.{DIGITS}g}"


def matrix(value: np.ndarray) -> str:
    v = np.atleast_2d(value)
    rows = r" \\ ".join(" & ".join(_number(x) for x in row) for row in v)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def markdown(walk: HandWalk, marking: Marking | None = None) -> str:
    net = walk.net
    conv = net.convention
    arch = " → ".join([str(net.sizes[0])] + [f"{s} ({a})" for s, a in zip(net.sizes[1:], net.activations)])
    lines = [f"# One step of backprop: {net.title or 'a network written by hand'}", "",
             f"Network {arch}; loss ${latex(LOSSES[net.loss].text.format(A=f'A{net.depth}'))}$; a batch of "
             f"{net.m}; learning rate $\\eta = {net.lr:g}$; the **{conv}** notation"
             + (" (a sample is a row, $Z = X W + b$)." if conv == "rows" else
                " (a sample is a column, $Z = W A + b$)."), "",
             "Written by `nnlab explain --net`; every gradient agrees with finite differences"
             if all(c.passed for c in walk.checks) else "**Some gradients disagree with finite differences.**", ""]
    if marking is not None:
        lines += ["## Your answers", "", summary(marking, walk.keys), "", "| step | verdict | likely mistake |",
                  "|---|---|---|"]
        lines += [f"| {k.key} | {k.status} | {MISTAKES[k.mistake].says if k.mistake else ''} |"
                  for k in marking.marks]
        lines.append("")
    lines += ["## The batch", "", f"$$X = {matrix(walk.shown('X'))} \\qquad Y = {matrix(walk.shown('Y'))}$$", ""]
    heads = {"forward": "## Forward", "loss": "## The loss", "backward": "## Backward", "update": "## The update"}
    for rule in walk.rules:
        if rule.phase in heads:
            lines += [heads.pop(rule.phase), ""]
        eq = rule.equation if conv == "rows" else rule.columns
        value = walk.shown(rule.key)
        lines += [f"$$ {latex(eq)} $$", "", f"$$ {latex(rule.key.replace('_new', ''))}"
                  + ("" if rule.phase != "update" else r"^{\text{new}}") + f" = {matrix(value)} $$", ""]
    lines += [f"Loss before the step ${_number(walk.losses[0])}$, after it ${_number(walk.losses[1])}$.", ""]
    if len(walk.losses) > 2:
        lines += [f"## {len(walk.losses) - 1} steps", "", "| after step | loss |", "|---:|---:|"]
        lines += [f"| {i} | {_number(v)} |" for i, v in enumerate(walk.losses)]
        lines.append("")
    return "\n".join(lines)
