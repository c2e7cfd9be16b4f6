"""RUN/doctor.html: what `nnlab doctor` found and tried, for a reader: the checks that fired, a row per fork with
each measure as run -> fork and its verdict, and every fork's validation-loss curve beside the run's (inline SVG:
no figure files, drawn from the forks' own metrics.jsonl). The run's report links to it."""

from __future__ import annotations

import math
import re
from html import escape
from pathlib import Path
from typing import Any

from nnlab import runs
from nnlab.files import write_bytes_atomic
from nnlab.viz.report import STYLE

COLOURS = ("#444", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
VERDICT = {"helped": "ok", "no better": "", "worse": "warn"}


def write_doctor_page(run: Path, result: dict[str, Any]) -> Path:
    """Write RUN/doctor.html from the doctor's result (doctor.json) and link it from RUN/report.html."""
    path = run / "doctor.html"
    write_bytes_atomic(path, page(result).encode("utf-8"))
    link_from_report(run)
    return path


def _curve(entry: dict[str, Any], key: str) -> list[float]:
    where = entry.get("run")
    if not where or not Path(where, runs.METRICS).is_file():
        return []
    return [h[key] for h in runs.read_metrics(Path(where)) if h.get(key) is not None and math.isfinite(h[key])]


def curves_svg(series: list[tuple[str, list[float]]], label: str, width: int = 640, height: int = 260) -> str:
    """Each named series of per-epoch values as a line (epoch 1 at the left), on one log-free linear scale."""
    drawn = [(name, values) for name, values in series if values]
    if not drawn:
        return ""
    top = max(max(v) for _, v in drawn)
    bottom = min(min(v) for _, v in drawn)
    span = (top - bottom) or 1.0
    longest = max(len(v) for _, v in drawn)
    left, right, up, down = 56, 150, 12, 30
    x = lambda i: left + (width - left - right) * (i / max(longest - 1, 1))  # noqa: E731
    y = lambda v: up + (height - up - down) * (1 - (v - bottom) / span)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(label)} per epoch">',
             f'<line x1="{left}" y1="{height - down}" x2="{width - right}" y2="{height - down}" stroke="#999"/>',
             f'<line x1="{left}" y1="{up}" x2="{left}" y2="{height - down}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{up + 4}" text-anchor="end" font-size="11">{top:.3g}</text>',
             f'<text x="{left - 6}" y="{height - down}" text-anchor="end" font-size="11">{bottom:.3g}</text>',
             f'<text x="{left}" y="{height - 8}" font-size="11">epoch 1</text>',
             f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="11">epoch {longest}</text>']
    for k, (name, values) in enumerate(drawn):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        dash = ' stroke-dasharray="5,3"' if k == 0 else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}"/>')
        if len(values) == 1:
            parts.append(f'<circle cx="{x(0):.1f}" cy="{y(values[0]):.1f}" r="5" fill="{colour}"/>')
        parts.append(f'<text x="{width - right + 8}" y="{up + 14 + 16 * k}" font-size="12" fill="{colour}">'
                     f'{escape(name)}</text>')
    return "".join(parts) + "</svg>"


def _n(value, digits: str = ".4f") -> str:
    return "–" if value is None else format(value, digits)


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def page(result: dict[str, Any]) -> str:
    base, forks = result["baseline"], result["forks"]
    key = "val_loss" if base.get("val_loss") is not None else "loss"
    acc = "val_accuracy" if key == "val_loss" else "accuracy"
    fired = "".join(f'<li class="warn">⚠ <b>{escape(c["check"])}</b>: {escape(c["text"])}</li>'
                    for c in result["fired"]) or '<li class="ok">✓ No check fired.</li>'
    rows = [f"<tr><td>the run as it was</td><td></td><td>{base.get('epochs')}</td><td>{_n(base.get(key))}</td>"
            f"<td>{_n(base.get(acc), '.3f')}</td><td>{_pct(base.get('dead'))}</td>"
            f"<td>{_n(base.get('test_accuracy'), '.3f')}</td><td></td></tr>"]
    for f in forks:
        verdict = "worse (training diverged)" if f.get("error") else f["verdict"]
        cleared = f" — clears {', '.join(f['cleared'])}" if f.get("cleared") else ""
        rows.append(
            f"<tr><td><b>{escape(f['fix'])}</b><br><small>{escape(f.get('words', ''))}</small></td>"
            f"<td><code>{escape(f['flags'])}</code></td><td>{f.get('epochs')}</td>"
            f"<td>{_n(base.get(key))} → {_n(f.get(key))}</td>"
            f"<td>{_n(base.get(acc), '.3f')} → {_n(f.get(acc), '.3f')}</td>"
            f"<td>{_pct(base.get('dead'))} → {_pct(f.get('dead'))}</td>"
            f"<td>{_n(base.get('test_accuracy'), '.3f')} → {_n(f.get('test_accuracy'), '.3f')}</td>"
            f'<td class="{VERDICT.get(f["verdict"], "")}">{escape(verdict + cleared)}</td></tr>')
    table = ("<table><tr><th>fix</th><th>change</th><th>epochs</th><th>" + key.replace("_", " ") + "</th><th>"
             + acc.replace("_", " ") + "</th><th>dead units</th><th>test accuracy</th><th>verdict</th></tr>"
             + "".join(rows) + "</table>")
    svg = curves_svg([("the run", _curve(base, key))] + [(f["fix"], _curve(f, key)) for f in forks],
                     key.replace("_", " "))
    budget = result["budget_epochs"]
    skipped = (f"<p>Suggested but not for this model: {escape(', '.join(result['skipped']))}.</p>"
               if result["skipped"] else "")
    how = (f"Each fork is the run's own settings with one fix, trained from the run's seed ({result['seed']}: the "
           f"same start, data order and arithmetic, so what differs is the fix) for {budget} epoch"
           f"{'s' if budget != 1 else ''} ({budget * result['steps_per_epoch']} optimiser steps), unless its fix is "
           f"more steps. A fix helped when it lowered the {key.replace('_', ' ')} by 2% or more, and made it worse "
           f"when it raised it by 2% or more. Each fork is a run directory: train on from the best with "
           f"<code>nnlab train --resume RUN/doctor/FIX --epochs N</code>. The doctor took {result['seconds']:.1f} s.")
    if result.get("overfit"):
        o = result["overfit"]
        how += (f"</p><p class=\"{'ok' if o['ok'] else 'warn'}\" id=\"overfit\">The run did not learn, so the doctor "
                f"also trained its model on {o['samples']} samples alone: {escape(o['line'])}.")
    title = f"{result['model']} on {result['data']}"
    epochs = f"{result['run_epochs']} epoch{'s' if result['run_epochs'] != 1 else ''}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnlab doctor · {escape(title)}</title>
<style>{STYLE}#tried td:nth-child(n+2):not(:last-child) {{ white-space: nowrap; }}</style></head><body>
<h1>nnlab doctor: {escape(title)}</h1>
<p>{escape(result['run'])} · {epochs} · <a href="report.html">the run's report</a> ·
<a href="doctor.json">doctor.json</a></p>
<section id="fired"><h2>What fired</h2><ul class="notes">{fired}</ul>{skipped}</section>
<section id="tried"><h2>What each fix changed (the run → the fork)</h2>{table}<p>{how}</p></section>
<section id="curves"><h2>{escape(key.replace('_', ' ').capitalize())} per epoch, the run (dashed) and each fork</h2>
{svg}</section>
</body></html>
"""


LINK = ('<p id="doctor-link">What each suggested fix measurably changed, tried on forks of this run: '
        '<a href="doctor.html">the doctor\'s page</a>.</p>')


def link_from_report(run: Path) -> None:
    """Put the doctor's link into RUN/report.html without drawing the report again: the report writes a
    paragraph with id doctor-link where a check fired (replaced here), else it goes under the health heading."""
    report = run / "report.html"
    if not report.is_file():
        return
    text = report.read_text(encoding="utf-8")
    if re.search(r'<p id="doctor-link">.*?</p>', text, flags=re.S):
        text = re.sub(r'<p id="doctor-link">.*?</p>', lambda m: LINK, text, count=1, flags=re.S)
    elif '<h2>Training health</h2>' in text:
        text = text.replace("<h2>Training health</h2>", "<h2>Training health</h2>" + LINK, 1)
    else:
        return
    write_bytes_atomic(report, text.encode("utf-8"))
