"""`nnlab demo`: the main job on embedded data (no download needed), in a few minutes on two cores."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# (what it shows, model, settings): the derived binary network first, then the multiclass models,
# each with the default settings of `nnlab train`.
JOBS = [
    ("derived network (sigmoid + log loss) on moons", "scratch", {"data": "moons"}),
    ("derived network on MNIST digits 3 vs 8", "scratch", {"data": "mnist-5k", "classes": ["3", "8"]}),
    ("NumPy network (softmax) on 5,000 MNIST digits", "scratch", {"data": "mnist-5k"}),
    ("PyTorch MLP on 5,000 MNIST digits", "mlp", {"data": "mnist-5k"}),
    ("PyTorch CNN on 5,000 MNIST digits", "cnn", {"data": "mnist-5k"}),
]


def register(commands, common) -> None:
    p = commands.add_parser("demo", help="the main job on embedded data", parents=[common],
                            description="Train five networks on data that ships with the packages (no "
                            "download) and write a report for each: a few minutes on two cores.")
    p.add_argument("--out", default="runs", help="where runs are written; default: runs")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the results; default: off")
    p.set_defaults(run=run)


def run(args) -> None:
    from nnlab import runs
    from nnlab.cli import build_parser
    from nnlab.cli.train import make_config
    from nnlab.training import job

    started = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if not args.quiet:
        print(f"nnlab demo: {len(JOBS)} networks on data that ships with the packages, a report for each "
              "(a few minutes on two cores)", flush=True)
    results = []
    for i, (title, model, settings) in enumerate(JOBS, 1):
        # Exactly what `nnlab train MODEL --data D [--classes ...]` would do: the same parser and defaults.
        argv = ["train", model, "--data", settings["data"]]
        if settings.get("classes"):
            argv += ["--classes", ",".join(settings["classes"])]
        config = make_config(build_parser().parse_args(argv))
        name = f"demo-{stamp}-{model}-{settings['data']}" + ("-" + "v".join(settings["classes"])
                                                             if settings.get("classes") else "")
        with RunProgress(f"[{i}/{len(JOBS)}] {title}", args.quiet) as progress:
            run_dir = job.train(config, args.out, name, quiet=True, on_epoch=progress.epoch)
        summary = runs.read_json(run_dir / runs.SUMMARY, what="run summary")
        results.append((title, summary["test_accuracy"], summary["train_seconds"], run_dir))
    width = max(len(title) for title, *_ in results)
    print(f"\n{'test acc':>9}  {'training':>8}  {'run':<{width}}  directory")
    for title, acc, seconds, run_dir in results:
        print(f"{acc:>9.2%}  {seconds:>6.1f} s  {title:<{width}}  {run_dir}")
    index = write_index(Path(args.out) / f"demo-{stamp}.html", results)
    print(f"\n{len(JOBS)} runs in {minutes(time.perf_counter() - started)}. The reports: open {index} in a "
          "browser.")
    print(how_to_run_nnlab())


def minutes(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s} s" if m else f"{s} s"


def how_to_run_nnlab() -> str:
    """Where the `nnlab` command is, said as the commands to type: after `make demo` it sits in .venv,
    which is not on PATH until activated."""
    scripts = Path(sys.executable).parent
    if sys.prefix == sys.base_prefix:  # not in a virtual environment: nnlab is on PATH or nowhere
        return "Run nnlab yourself: nnlab --help (the README has a tour)"
    try:
        scripts = scripts.relative_to(Path.cwd())
    except ValueError:
        pass
    activate = scripts / ("activate.bat" if os.name == "nt" else "activate")
    return (f"Run nnlab yourself: {'' if os.name == 'nt' else '. '}{activate}  then  nnlab --help\n"
            f"  or without activating: {scripts / 'nnlab'} train scratch --data moons   (a tour: README.md)")


class RunProgress:
    """One line per run: a bar over the epochs on a terminal (tqdm, on stderr), then a plain line with
    the epochs and the time spent training and drawing the report; only the plain line in a pipe."""

    def __init__(self, title: str, quiet: bool):
        self.title, self.quiet, self.bar = title, quiet, None
        self.epochs, self.started, self.trained = 0, time.perf_counter(), None

    def __enter__(self):
        if not self.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(desc=self.title, unit="epoch", leave=False, dynamic_ncols=True)
        return self

    def epoch(self, done: int, epochs: int) -> None:
        self.epochs = epochs
        if done == epochs:
            self.trained = time.perf_counter()
        if self.bar is not None:
            self.bar.total = epochs
            self.bar.update(done - self.bar.n)
            if done == epochs:
                self.bar.set_postfix_str("drawing the report")

    def __exit__(self, kind, *_):
        if self.bar is not None:
            self.bar.close()
        if kind is None and not self.quiet:
            now = time.perf_counter()
            trained = self.trained or now
            print(f"{self.title}: {self.epochs} epochs in {trained - self.started:.1f} s, report "
                  f"{now - trained:.1f} s", flush=True)


def write_index(path: Path, results: list) -> Path:
    """One page linking every run's report, with its test accuracy and training time."""
    from html import escape

    from nnlab.files import write_bytes_atomic

    rows = "".join(
        f'<tr><td><a href="{escape(run_dir.name)}/report.html">{escape(title)}</a></td>'
        f"<td>{acc:.2%}</td><td>{seconds:.1f} s</td></tr>" for title, acc, seconds, run_dir in results)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>nnlab demo</title>
<style>body {{ font: 15px/1.45 system-ui, sans-serif; max-width: 900px; margin: 2em auto; }}
td, th {{ padding: 3px 12px; text-align: left; }}</style></head><body>
<h1>nnlab demo</h1><p>Each run's report shows its settings, test metrics and pictures of what it learned.</p>
<table><tr><th>run</th><th>test accuracy</th><th>training</th></tr>{rows}</table></body></html>
"""
    write_bytes_atomic(path, page.encode("utf-8"))
    return path
