"""RUN/report.html: one self-contained page per run that opens from the file system in any browser.

Every piece of text that comes from data (class names, paths, settings) is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from nnlab.files import write_bytes_atomic

if TYPE_CHECKING:
    from nnlab.viz.report_input import ReportInput

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 2px 10px; text-align: left; }
tr:nth-child(even) { background: #f6f6f6; } th { border-bottom: 1px solid #bbb; }
.metric { display: inline-block; margin-right: 2em; } .metric b { font-size: 1.6em; display: block; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; max-width: 46em; }
.notes { list-style: none; padding-left: 0; } .notes li { margin: 0.3em 0; } .warn { color: #a40; } .ok { color: #264; }
nav { background: #f6f6f6; padding: 0.6em 1em; font-size: 0.9em; columns: 2; }
nav a { display: block; } nav b { column-span: all; display: block; margin-bottom: 0.3em; }
"""

SETTINGS = ("model", "data", "classes", "loss", "start", "recipe", "recipe_used", "epochs", "batch_size", "lr",
            "schedule", "optimizer", "weight_decay", "hidden", "widths", "dropout", "batch_norm", "augment",
            "augment_used", "label_smoothing",
            "precision_used", "device_used", "threads", "val_fraction", "seed")


def trained_with(cfg, augment_used: str | None = None) -> str:
    """A line under the title saying what the run trained with: the PyTorch models' recipe in words (and what
    --augment became on this data, `augment_used`), the NumPy network's loss and start; nothing for a model trained
    elsewhere (its settings are not known)."""
    from nnlab.training.config import RECIPES, TorchConfig, recipe_in_words

    if cfg is None:
        return ""
    if isinstance(cfg, TorchConfig):
        other = next(name for name in RECIPES if name != cfg.recipe)
        text = f"Recipe {recipe_in_words(cfg)}."
        if cfg.augment and augment_used is not None:  # (digits are never mirrored; shifts need 10 epochs or more)
            text += f" Augmentation used on this data: {augment_used}."
        text += f" The other, --recipe {other}: {RECIPES[other].summary}."
    else:
        loss = {"log": "the log loss", "mse": "the squared error (--loss mse)"}.get(cfg.loss, cfg.loss)
        start = {"he": "He's random start"}.get(cfg.start, f"the {cfg.start} start (--start {cfg.start})")
        text = f"Training minimised {loss}, from {start}."
    return f'<p id="trained-with">{escape(text)}</p>\n'


def _setting(value) -> str:
    # floats to 4 significant digits: a derived default such as weight_decay = 128/900 reads 0.1422
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def sentence(text: str) -> str:
    """A console note's text as a sentence on a page: capitalised (the console's follows `note: `)."""
    return text[:1].upper() + text[1:]


def sanity_html(notes: list[dict], doctor: bool) -> str:
    """The run's sanity checks (summary.json's `sanity`, training/sanity.py), and a link to the doctor's page
    where `nnlab doctor RUN` wrote one."""
    items = "".join(f'<li class="{"ok" if n.get("ok") else "warn"}">{"✓" if n.get("ok") else "⚠"} '
                    f'{escape(sentence(str(n.get("text", ""))))}</li>' for n in notes if isinstance(n, dict))
    html = (f'<h3 id="sanity">Sanity checks</h3><ul class="notes">{items}</ul>' if items else "")
    if doctor:
        html += ('<p id="doctor-link">What each suggested fix measurably changed, tried on forks of this run: '
                 '<a href="doctor.html">the doctor\'s page</a>.</p>')
    elif any(isinstance(n, dict) and not n.get("ok") for n in notes):  # (viz/doctor_page.py links from here)
        html += ('<p id="doctor-link">To try the fixes on forks of this run and see what each changes: '
                 "<code>nnlab doctor RUN</code>.</p>")
    return html


def write_report(out: Path, ev: ReportInput, figures: list, missing: list[str] = (),
                 sections: list[tuple[str, str, str]] = ()) -> Path:
    """OUT/report.html of the report input `ev` and its drawn `figures`; `missing`: what is not shown and why;
    `sections`: more (anchor, title, HTML) after the figures, their HTML the caller's, escaped there."""
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(_setting(ev.settings[k]))}</td></tr>"
                   for k in SETTINGS if k in ev.settings and ev.settings[k] is not None)
    summary = ev.summary
    per_class = "".join(
        f"<tr><td>{escape(str(c['class']))}</td><td>{c['precision']:.3f}</td><td>{c['recall']:.3f}</td>"
        f"<td>{c['f1']:.3f}</td><td>{c['support']}</td></tr>" for c in summary.get("per_class", []))
    figs = "".join(
        f'<figure id="{escape(Path(f.file).stem)}"><h3>{escape(f.title)}</h3>'
        f'<img src="figures/{escape(f.file)}" alt="{escape(f.title)}">'
        f"<figcaption>{escape(f.caption)}</figcaption></figure>" for f in figures)
    notes = "".join(f'<li class="{"ok" if ok else "warn"}">{"✓" if ok else "⚠"} {escape(text)}</li>'
                    for ok, text in ev.health)
    if notes:
        health = (f'<ul class="notes">{notes}</ul><p>Measured after each epoch; the figure '
                  '<a href="#training_health">Training health</a> shows it per layer.</p>')
    else:  # say what would measure it, not only that nothing did
        how = ("its training history holds no health records: give the Recorder a fixed batch to measure on, "
               "<code>nnlab.Recorder(model, probe=(X, y))</code>" if ev.history else
               "no training history was given: pass the <code>nnlab.Recorder</code> your loop fed, with "
               "<code>probe=(X, y)</code>, as <code>recorder=</code>")
        health = f"<p>Not measured for this model: {how}.</p>"
    health += sanity_html(summary.get("sanity", []), (out / "doctor.html").is_file())
    title = f"{ev.model_name} on {ev.data_name}"
    contents = [("metrics", "Test metrics"), ("per-class", "Per class"), ("health", "Training health in words")]
    contents += [(Path(f.file).stem, f.title) for f in figures] + [(a, t) for a, t, _ in sections]
    contents += [("settings", "Settings")]
    more = "".join(f'<section id="{escape(a)}"><h2>{escape(t)}</h2>{html}</section>' for a, t, html in sections)
    splits = ((ev.n_train, "training"), (ev.n_val, "validation"), (ev.n_test, "test samples"))
    counts = ", ".join(f"{n} {what}" for n, what in splits if n is not None)
    seconds = (f'<div class="metric"><b>{summary["train_seconds"]:.1f} s</b>training time</div>'
               if "train_seconds" in summary else "")
    absent = ('<div id="not-shown"><h3>Not shown for this model and data</h3><ul>'
              + "".join(f"<li>{escape(m)}</li>" for m in missing) + "</ul></div>") if missing else ""
    nav = "".join(f'<a href="#{escape(anchor)}">{escape(text)}</a>' for anchor, text in contents)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnlab · {escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>nnlab run: {escape(title)}</h1>
<p>{escape(str(out.name))} · {escape(counts)} · {escape(str(len(ev.data.classes)))} classes</p>
{trained_with(ev.run_settings, ev.settings.get("augment_used"))}<nav id="contents"><b>Contents</b>{nav}</nav>
<section id="metrics"><h2>Test metrics</h2>
<div class="metric"><b>{summary['test_accuracy']:.2%}</b>test accuracy</div>
<div class="metric"><b>{summary['test_loss']:.4f}</b>test log loss</div>
{seconds}
<div class="metric"><b>{summary.get('epochs', '?')}</b>epochs</div></section>
<section id="per-class"><h2>Per class</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>
<th>test samples</th></tr>{per_class}</table></section>
<section id="health"><h2>Training health</h2>{health}</section>
<section id="figures"><h2>What it learned</h2>{figs}{absent}</section>
{more}
<section id="settings"><h2>Settings</h2><table>{rows}</table>
<p>Full settings, data scaling and library versions: <a href="config.json">config.json</a>;
per-epoch figures: <a href="metrics.jsonl">metrics.jsonl</a>.</p></section>
</body></html>
"""
    path = out / "report.html"
    write_bytes_atomic(path, page.encode("utf-8"))
    return path
