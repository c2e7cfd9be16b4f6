"""`nnlab demo`: the main job on embedded data (no download needed), in a few minutes on two cores."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

# (what it shows, model, settings): the derived binary network first, then the multiclass models, each with
# the default settings of `nnlab train` but for the PyTorch models' epochs. On 5,000 digits `nnlab train` gives
# the MLP 35 epochs and the CNN 67 (at least config.MIN_STEPS steps: the user's default, where the best accuracy
# from small data is the point); the demo, whose point is to show each model in a minute, gives them 20 and 10
# (docs/benchmarks.md, issue 22: the MLP at 15 epochs was a full point below its 35, at 20 within 0.2; the CNN
# at 10 within 0.4 of its 67).
JOBS = [
    ("derived network (sigmoid + log loss) on moons", "scratch", {"data": "moons"}),
    ("derived network on MNIST digits 3 vs 8", "scratch", {"data": "mnist-5k", "classes": ["3", "8"]}),
    ("NumPy network (softmax) on 5,000 MNIST digits", "scratch", {"data": "mnist-5k"}),
    ("PyTorch MLP on 5,000 MNIST digits", "mlp", {"data": "mnist-5k", "epochs": 20}),
    ("PyTorch CNN on 5,000 MNIST digits", "cnn", {"data": "mnist-5k", "epochs": 10}),
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
    from nnlab.training import job
    from nnlab.training.config import TrainConfig
    from nnlab.viz.render import render_run

    started = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if not args.quiet:
        print(f"nnlab demo: {len(JOBS)} networks on data that ships with the packages, a report for each "
              "(a few minutes on two cores)", flush=True)
    results = []
    # A run's report is drawn while the next run trains (one drawing thread: pyplot is used by it alone); its
    # line is printed, in order, once its report is done.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnlab-report") as drawing:
        waiting: list[tuple[RunProgress, Future]] = []
        for i, (title, model, settings) in enumerate(JOBS, 1):
            # What `nnlab train MODEL --data D [--classes ...] [--epochs N]` would do: the same config and defaults.
            config = TrainConfig.create(model, settings["data"], classes=settings.get("classes"),
                                        epochs=settings.get("epochs"))
            name = f"demo-{stamp}-{model}-{settings['data']}" + ("-" + "v".join(settings["classes"])
                                                                 if settings.get("classes") else "")
            drawn: list[Future] = []
            progress = RunProgress(f"[{i}/{len(JOBS)}] {title}", args.quiet)
            with progress:
                run_dir = job.train(config, args.out, name, quiet=True, on_epoch=progress.epoch,
                                    report=lambda *a, drawn=drawn: drawn.append(drawing.submit(timed, render_run, *a)))
            summary = runs.read_json(run_dir / runs.SUMMARY, what="run summary")
            results.append((title, summary["test_accuracy"], summary["train_seconds"], run_dir,
                            summary["wall_seconds"]))
            _print_done(waiting)
            waiting.append((progress, drawn[0]))
        _print_done(waiting, everything=True)
    print(f"\n{'test acc':>8}  {'training':>8}  {'wall':>7}  run")
    for title, acc, seconds, _, wall in results:
        print(f"{acc:>8.2%}  {seconds:>6.1f} s  {wall:>5.1f} s  {title}")
    print(f"(training: the epochs alone; wall: the whole run but its report) in {Path(args.out) / f'demo-{stamp}'}-*")
    index = write_index(Path(args.out) / f"demo-{stamp}.html", [r[:4] for r in results])
    print(f"\n{len(JOBS)} runs in {minutes(time.perf_counter() - started)}. The reports: open {index} in a "
          "browser.")
    print(how_to_run_nnlab())


def _print_done(waiting: list, everything: bool = False) -> None:
    """The lines of the runs whose reports are drawn, in order (all of them, waiting, if `everything`)."""
    while waiting and (everything or waiting[0][1].done()):
        progress, drawn = waiting.pop(0)
        progress.report_done(drawn.result())  # (an error in drawing is raised here, in the main thread)


def timed(function, *args) -> float:
    """The seconds `function(*args)` took."""
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


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
    """One line per run: a bar over the epochs on a terminal (tqdm, on stderr), then, once its report is
    drawn, a plain line with the epochs and the time spent training and drawing; only the line in a pipe."""

    def __init__(self, title: str, quiet: bool):
        self.title, self.quiet, self.bar = title, quiet, None
        self.epochs, self.started, self.trained, self.ended = 0, time.perf_counter(), None, None

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
            if done == epochs:  # (also draws the bar's last state: update alone may wait for its interval)
                self.bar.set_postfix_str("trained")

    def __exit__(self, kind, *_):
        if self.bar is not None:
            self.bar.close()
        self.ended = time.perf_counter()

    def report_done(self, report_seconds: float) -> None:
        """The run's line: its epochs, the wall time until its last epoch, the time its report took (drawn
        beside the next run's training)."""
        if not self.quiet:
            trained = self.trained or self.ended
            print(f"{self.title}: {self.epochs} epochs in {trained - self.started:.1f} s, report "
                  f"{report_seconds:.1f} s", flush=True)


# The picture that says most about each kind of run, first found wins.
KEY_PICTURES = ("decision_boundary.png", "first_layer_learned.png", "conv2_patches.png", "conv1_kernels.png",
                "first_layer_weights.png", "learning_curves.png")


def key_picture(run_dir: Path) -> str | None:
    """The run's key picture, as a path relative to the run's folder (None if it has no figures)."""
    return next((f"figures/{name}" for name in KEY_PICTURES if (run_dir / "figures" / name).is_file()), None)


def write_index(path: Path, results: list) -> Path:
    """One page linking every run's report, with a thumbnail of its key picture, its test accuracy and
    training time."""
    from html import escape

    from nnlab.files import write_bytes_atomic

    def row(title: str, acc: float, seconds: float, run_dir: Path) -> str:
        report = f"{escape(run_dir.name)}/report.html"
        picture = key_picture(run_dir)
        thumb = (f'<a href="{report}"><img src="{escape(run_dir.name)}/{escape(picture)}" alt="key picture of '
                 f'{escape(title)}"></a>' if picture else "")
        return (f'<tr><td class="thumb">{thumb}</td><td><a href="{report}">{escape(title)}</a>'
                f'<div class="acc">{acc:.2%}</div><div>test accuracy · {seconds:.1f} s of training</div></td></tr>')

    rows = "".join(row(*result) for result in results)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>nnlab demo</title>
<style>body {{ font: 15px/1.45 system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; }}
td {{ padding: 8px 14px; vertical-align: top; border-bottom: 1px solid #eee; }}
.thumb img {{ width: 320px; height: 190px; object-fit: cover; object-position: top; border: 1px solid #ddd; }}
.acc {{ font-size: 1.6em; font-weight: bold; margin-top: 0.3em; }}</style></head><body>
<h1>nnlab demo</h1><p>Each run's report shows its settings, test metrics and pictures of what it learned; click a
picture or a title to open it.</p>
<table>{rows}</table></body></html>
"""
    write_bytes_atomic(path, page.encode("utf-8"))
    return path
