"""A page comparing runs: their settings, the loss each minimised and where it ended, test metrics, size and time
side by side, and their learning curves on shared axes. One self-contained HTML file (the figure is embedded),
linking each run's report."""

from __future__ import annotations

import base64
import os
from html import escape
from pathlib import Path

from nnlab import runs
from nnlab.errors import NNLabError
from nnlab.files import write_bytes_atomic
from nnlab.training.config import RECIPES, TorchConfig, departures, in_words
from nnlab.viz import figures
from nnlab.viz.report import STYLE


def parameter_count(run: Path) -> int:
    """Trainable numbers in the model: every tensor but batch norm's running statistics."""
    tensors, _ = runs.load_tensors(run / runs.MODEL)
    return sum(int(t.size) for name, t in tensors.items() if "running_" not in name and "num_batches" not in name)


def load(run: Path) -> dict:
    from nnlab.training.record import read_record

    cfg = read_record(run).settings
    if not (run / runs.SUMMARY).is_file():
        raise NNLabError(f"{run} has no test results yet (summary.json); finish it with "
                         f"nnlab train --resume {run} --epochs {cfg.epochs or 'N'}")
    return {"run": run, "settings": cfg, "summary": runs.read_json(run / runs.SUMMARY, what="run summary"),
            "history": runs.read_metrics(run), "params": parameter_count(run)}


def write_compare(run_dirs: list[Path], out: Path) -> Path:
    if out.suffix.lower() not in (".html", ".htm"):
        raise NNLabError(f"--out {out}: the comparison is a web page; give a file name ending in .html")
    if out.exists() and not out.is_file():
        raise NNLabError(f"--out {out} is a folder; give a file name ending in .html")
    items = [load(Path(r)) for r in run_dirs]  # every run checked before anything is written
    labels = _labels(items)
    curves = figures.compare_curves({label: item["history"] for label, item in zip(labels, items)})
    png = base64.b64encode(figures.png_bytes(curves)).decode("ascii")

    best = {id(item) for item in best_on_same_data(items)}
    rows = []
    for label, item in zip(labels, items):
        c, s = item["settings"], item["summary"]
        report = item["run"] / "report.html"
        link = Path(os.path.relpath(report.resolve(), out.resolve().parent)).as_posix()
        shape = list(c.widths if c.model == "cnn" else c.hidden)
        acc = f"{s['test_accuracy']:.2%}"
        last = item["history"][-1] if item["history"] else {}
        rows.append(
            f"<tr><td><a href=\"{escape(link)}\">{escape(label)}</a></td><td>{escape(c.model)}</td>"
            f"<td>{escape(c.data_label or c.data)}</td><td>{escape(str(shape))}</td>"
            f"<td>{escape(trained_from(c))}</td><td>{escape(loss_minimised(c))}</td>"
            f"<td>{_loss(last.get('loss'))} / {_loss(last.get('val_loss'))}</td>"
            f"<td>{'<b>' + acc + '</b>' if id(item) in best else acc}</td><td>{s['test_loss']:.4f}</td>"
            f"<td>{s.get('train_seconds', 0):.1f}</td><td>{s.get('epochs', '?')}</td><td>{item['params']:,}</td>"
            f"<td>{escape(f'{c.lr:g}, {c.batch_size}, {c.seed}')}</td></tr>")
    recipes = sorted({item["settings"].recipe for item in items if isinstance(item["settings"], TorchConfig)})
    meaning = "".join(f" {escape(name)}: {escape(RECIPES[name].summary)}." for name in recipes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnlab · comparing {len(items)} runs</title>
<style>{STYLE}</style></head><body>
<h1>nnlab: comparing {len(items)} runs</h1>
<section id="table"><h2>Results</h2><table style="font-size: 0.82em">
<tr><th>run</th><th>model</th><th>data</th><th>layers</th><th>start / recipe</th><th>loss minimised</th>
<th>final log loss, training / validation</th><th>test accuracy</th><th>test log loss</th>
<th>training s</th><th>epochs</th><th>parameters</th><th>lr, batch, seed</th></tr>
{''.join(rows)}</table>
<p>Bold marks the best test accuracy among runs on the same data (accuracies on different data do not
compare). Each run's name links to its own report. "Loss minimised" is what training descended; the final
losses (the last epoch's) and the test loss are the log loss for every run, whatever it minimised, so that runs
of the squared error (--loss mse) and of the log loss compare on one scale: a large log loss beside a fair
accuracy means some samples are still confidently wrong. "Start" is the NumPy network's (--start), "recipe" the
PyTorch models' (--recipe, with what was given beside it).{meaning}</p></section>
<section id="curves"><h2>Learning curves</h2>
<figure><img src="data:image/png;base64,{png}" alt="learning curves of every run">
<figcaption>Validation loss and accuracy per epoch, one colour per run (training loss dashed). Compare where
each curve flattens and which one overfits first (validation loss turning up).</figcaption></figure></section>
</body></html>
"""
    write_bytes_atomic(out, page.encode("utf-8"))
    return out


def loss_minimised(cfg) -> str:
    """What a run's training descended, in words: the scratch network's --loss, or the PyTorch models' log loss
    (label-smoothed, where it was)."""
    if cfg.model == "scratch":
        return {"log": "log loss", "mse": "squared error (mse)"}.get(cfg.loss, cfg.loss)
    return f"log loss, label-smoothed {cfg.label_smoothing:g}" if cfg.label_smoothing else "log loss"


def trained_from(cfg) -> str:
    """The scratch network's --start, or the PyTorch models' --recipe with what was given beside it: `plain`,
    `plain + dropout 0.2`, `fast + no augmentation` (the page says below what each recipe is)."""
    if not isinstance(cfg, TorchConfig):
        return cfg.start
    changed = departures(cfg)
    return cfg.recipe + "".join(f" + {in_words(k, v)}" for k, v in changed.items())


def _loss(value) -> str:
    return "—" if value is None else f"{value:.4f}"


def best_on_same_data(items: list[dict]) -> list[dict]:
    """The runs with the best test accuracy among those on the same data, for data that more than one
    run used (a run alone on its data is best of nothing)."""
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item["settings"].data_label or item["settings"].data, []).append(item)
    best = []
    for group in groups.values():
        top = max(i["summary"]["test_accuracy"] for i in group)
        best += [i for i in group if len(group) > 1 and i["summary"]["test_accuracy"] == top]
    return best


def _labels(items: list[dict]) -> list[str]:
    """Each run's folder name; its path where two runs share a name."""
    names = [item["run"].name for item in items]
    return [str(item["run"]) if names.count(n) > 1 else n for item, n in zip(items, names)]
