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
    write_bytes_atomic(path, page(result, (run / "report.html").is_file()).encode("utf-8"))
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


def range_svg(found: dict[str, Any], run_lr: float, width: int = 640, height: int = 260) -> str:
    """The range test: the smoothed training loss against the rate (log scale), the raw losses as dots, and
    vertical marks at the suggestion, the lowest point and the run's own rate."""
    lrs, smooth, raw = found["lrs"], found["smoothed"], found["losses"]
    keep = [i for i, v in enumerate(smooth) if math.isfinite(v) and math.isfinite(raw[i])]
    if len(keep) < 2:
        return ""
    values = [smooth[i] for i in keep] + [raw[i] for i in keep]
    top, bottom = min(max(values), 3 * max(smooth[i] for i in keep)), min(values)
    span = (top - bottom) or 1.0
    lo, hi = math.log10(lrs[0]), math.log10(lrs[-1]) if lrs[-1] > lrs[0] else math.log10(lrs[0]) + 1
    left, right, up, down = 56, 20, 12, 34
    x = lambda lr: left + (width - left - right) * (math.log10(lr) - lo) / (hi - lo)  # noqa: E731
    y = lambda v: up + (height - up - down) * (1 - (min(v, top) - bottom) / span)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="the range test: training loss against the learning rate">',
             f'<line x1="{left}" y1="{height - down}" x2="{width - right}" y2="{height - down}" stroke="#999"/>',
             f'<line x1="{left}" y1="{up}" x2="{left}" y2="{height - down}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{up + 4}" text-anchor="end" font-size="11">{top:.3g}</text>',
             f'<text x="{left - 6}" y="{height - down}" text-anchor="end" font-size="11">{bottom:.3g}</text>']
    for e in range(math.ceil(lo), math.floor(hi) + 1):
        parts.append(f'<text x="{x(10.0 ** e):.1f}" y="{height - 18}" text-anchor="middle" font-size="10">'
                     f'1e{e}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 4}" text-anchor="middle" font-size="11">'
                 'learning rate (log scale)</text>')
    parts += [f'<circle cx="{x(lrs[i]):.1f}" cy="{y(raw[i]):.1f}" r="1.8" fill="#bbb"/>' for i in keep]
    points = " ".join(f"{x(lrs[i]):.1f},{y(smooth[i]):.1f}" for i in keep)
    parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{points}"/>')
    marks = [(found.get("suggestion"), "#2ca02c", "suggestion"), (found.get("lowest"), "#d62728", "lowest"),
             (run_lr, "#444", "the run's")]
    for k, (lr, colour, label) in enumerate(marks):
        if lr is None or not lrs[0] <= lr <= lrs[-1]:
            continue
        parts.append(f'<line x1="{x(lr):.1f}" y1="{up}" x2="{x(lr):.1f}" y2="{height - down}" stroke="{colour}" '
                     'stroke-dasharray="4,3"/>')
        parts.append(f'<text x="{x(lr) + 4:.1f}" y="{up + 12 + 13 * k}" font-size="11" fill="{colour}">'
                     f'{escape(label)} {lr:.2g}</text>')
    return "".join(parts) + "</svg>"


def lr_find_html(result: dict[str, Any], key: str) -> str:
    found = result.get("lr_find")
    if not found:
        return ""
    base = result["baseline"]
    acc = "val_accuracy" if key == "val_loss" else "accuracy"
    rows = "".join(
        f"<tr><td><code>{escape(f['flags'])}</code></td><td>{escape(f['words'])}</td>"
        f"<td>{_n(base.get(key))} → {_n(f.get(key))}</td><td>{_n(base.get(acc), '.3f')} → {_n(f.get(acc), '.3f')}"
        f'</td><td class="{VERDICT.get(f["verdict"], "")}">'
        f"{escape('worse (training diverged)' if f.get('error') else f['verdict'])}</td></tr>"
        for f in found["forks"])
    steepest = f"; it falls steepest at {found['steepest']:.2g}" if found.get("steepest") else ""
    said = ("The loss blew up at once: there is no rate to suggest." if found["suggestion"] is None else
            f"The smoothed training loss is lowest at lr {found['lowest']:.2g}; the suggestion, "
            f"{found['suggestion']:g}, is a tenth of that rate, where the loss still falls steeply (at the lowest "
            f"point itself it is about to blow up){steepest}. The run trained at {result.get('lr', float('nan')):g}.")
    table = (f"<table><tr><th>rate</th><th>what</th><th>{key.replace('_', ' ')}</th><th>{acc.replace('_', ' ')}"
             f"</th><th>verdict</th></tr>{rows}</table>" if rows else "")
    return (f'<section id="lr-find"><h2>The learning-rate finder</h2><p>A range test from the run\'s start: one '
            f"step per batch of {found['batch_size']} while the rate grows from {found['start']:g} to "
            f"{found['end']:g} ({found['steps']} steps; grey dots: each batch's loss, blue: their moving "
            f"average). {said}</p>{range_svg(found, result.get('lr', float('nan')))}<p>The suggestion checked, "
            f"each a fork trained as the fixes above (the run → the fork):</p>{table}</section>")


def _n(value, digits: str = ".4f") -> str:
    return "–" if value is None else format(value, digits)


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def page(result: dict[str, Any], has_report: bool = True) -> str:
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
    found = (result.get("lr_find") or {}).get("forks", [])
    svg = curves_svg([("the run", _curve(base, key))] + [(f["fix"], _curve(f, key)) for f in forks + found],
                     key.replace("_", " "))
    budget = result["budget_epochs"]
    skipped = (f"<p>Suggested but not for this model: {escape(', '.join(result['skipped']))}.</p>"
               if result["skipped"] else "")
    if base.get("same_bits") is True:
        again = ("The first row is the run's settings trained again: they gave the run's own weights, bit for bit. ")
    elif base.get("same_bits") is False:
        again = ("The first row is the run's settings trained again: they gave other weights than the run's (it was "
                 f"trained by another nnlab version or on another machine; the run recorded {key.replace('_', ' ')} "
                 f"{_n(base['recorded'].get(key))}), and each fork is compared with them. ")
    else:
        again = f"The first row is the run's settings trained again for {result['budget_epochs']} epochs. "
    what = key.replace("_", " ")
    how = (again + "Each fork is the run's own settings with one fix, trained from the run's seed "
           f"({result['seed']}: the same start, data order and arithmetic, so what differs is the fix) for "
           f"{budget} epoch{'s' if budget != 1 else ''} ({budget * result['steps_per_epoch']} optimiser steps), "
           f"unless its fix is more steps. A fix helped when it lowered the {what} by 2% or more, and made it "
           "worse when it raised it by 2% or more. Each fork is a run directory: train on from the best with "
           "<code>nnlab train --resume RUN/doctor/FIX --epochs N</code>. "
           f"The doctor took {result['seconds']:.1f} s.")
    if result.get("overfit"):
        o = result["overfit"]
        how += (f"</p><p class=\"{'ok' if o['ok'] else 'warn'}\" id=\"overfit\">The run did not learn, so the doctor "
                f"also trained its model on {o['samples']} samples alone: {escape(o['line'])}.")
    title = f"{result['model']} on {result['data']}"
    report = ('<a href="report.html">the run\'s report</a>' if has_report else
              f"no report drawn for the run (<code>nnlab viz {escape(result['run'])}</code> draws it)")
    epochs = f"{result['run_epochs']} epoch{'s' if result['run_epochs'] != 1 else ''}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnlab doctor · {escape(title)}</title>
<style>{STYLE}#tried td:nth-child(n+2):not(:last-child) {{ white-space: nowrap; }}</style></head><body>
<h1>nnlab doctor: {escape(title)}</h1>
<p>{escape(result['run'])} · {epochs} · {report} ·
<a href="doctor.json">doctor.json</a></p>
<section id="fired"><h2>What fired</h2><ul class="notes">{fired}</ul>{skipped}</section>
<section id="tried"><h2>What each fix changed (the run → the fork)</h2>{table}<p>{how}</p></section>
{lr_find_html(result, key)}
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
