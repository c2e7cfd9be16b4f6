"""nnlab's figures bring their own style and leave the caller's matplotlib as it was (issue #23): importing the
report code changes no rcParams, and a figure drawn after the explain page's larger one still has the
report's 9-pt text."""

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.text import Text

from nnlab.scratch.walk import LossRace
from nnlab.viz import explain_page, figures

ROOT = Path(__file__).resolve().parents[2]
HISTORY = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 1 / (e + 1), "val_loss": 1.2 / e, "val_accuracy": 0.5}
           for e in (1, 2, 3)]
RACE = LossRace(0.1, 8, 16, {loss: {"log_loss": [0.7, 0.5, 0.4], "accuracy": [0.5, 0.7, 0.8]}
                             for loss in ("log", "mse")})


def rc_snapshot() -> dict:
    """Every rcParam as stored. (dict.items, not RcParams' own reading: reading 'backend' through RcParams
    picks a backend, which would change what is being compared.)"""
    return dict(dict.items(matplotlib.rcParams))


def draw_some() -> list:
    """A few report figures and the explain page's race figure, each saved as a report saves it."""
    drawn = [figures.learning_curves(HISTORY), figures.confusion_matrix(np.array([[3, 1], [0, 4]]), ["a", "b"]),
             figures.weight_tiles(np.random.default_rng(0).normal(size=(3, 4, 4)), list("xyz"), "weights"),
             explain_page.race_figure(RACE, (0.01, 1))]
    for fig in drawn:
        figures.png_bytes(fig)
    return drawn


def texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_importing_and_drawing_leaves_the_callers_rcparams_as_they_were(tmp_path):
    """In a fresh process, as a notebook user would: their rcParams, snapshot before nnlab is imported, are
    the same after importing the report code and drawing with it."""
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import matplotlib
before = dict(dict.items(matplotlib.rcParams))  # as rc_snapshot, which cannot be imported before nnlab is
from nnlab.viz import explain_page, figures, render  # noqa: F401
from tests.viz.test_styles import draw_some, rc_snapshot
draw_some()
after = rc_snapshot()
print(json.dumps(sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))))
"""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # no backend chosen for nnlab in advance
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(ROOT / "src")}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    changed = json.loads(proc.stdout.splitlines()[-1])
    assert changed == [], f"nnlab changed the rcParams {changed}"


def test_drawing_in_this_process_leaves_rcparams_as_they_were():
    before = rc_snapshot()
    draw_some()
    assert rc_snapshot() == before


def test_a_report_figure_drawn_after_the_explain_pages_figure_has_the_reports_text_size():
    race = explain_page.race_figure(RACE, (0.01, 1))
    fig = figures.confusion_matrix(np.array([[3, 1], [0, 4]]), ["cat", "dog"])
    # every text of it: tick labels, axis labels, the counts in the cells, the colour bar's label
    sizes = {t.get_text(): t.get_fontsize() for t in texts(fig)}
    assert {"cat", "dog", "3", "4", "predicted", "share of the true class"} <= set(sizes)
    assert set(sizes.values()) == {figures.FONT} == {9.0}, sizes
    # while the race figure, shown larger, has its own 11-pt text (titles a point larger)
    axes_text = [t for ax in race.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label,
                                                 ax.yaxis.label) if t.get_text().strip()]
    assert axes_text and {t.get_fontsize() for t in axes_text} == {11.0}
    assert {ax.title.get_fontsize() for ax in race.axes} == {12.0}
    figures.png_bytes(race)  # saved in the report's style, it keeps its own sizes
    assert {t.get_fontsize() for ax in race.axes for t in ax.get_xticklabels() if t.get_text()} == {11.0}


def test_every_figure_function_draws_in_the_style():
    """A figure function left undecorated would draw in whatever style the caller has."""
    made = [f for name, f in vars(figures).items() if inspect.isfunction(f) and not name.startswith("_")
            and inspect.signature(f).return_annotation == "Figure"]
    assert len(made) >= 15
    assert [f.__name__ for f in made if not hasattr(f, "__wrapped__")] == []
