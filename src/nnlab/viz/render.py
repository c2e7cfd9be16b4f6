"""A report: its figures, its interactive sections and report.html, drawn from one `ReportInput`.

    render_run(run)            nnlab viz RUN, and the end of every training run
    render(ev, out)            any report input (nnlab.report builds one from a model of one's own)
"""

from __future__ import annotations

from pathlib import Path

from nnlab.viz import learn, plan, poke
from nnlab.viz.plan import Figure
from nnlab.viz.report import write_report
from nnlab.viz.report_input import ReportInput


def render_run(run: Path, engine=None, splits=None, P_test=None) -> Path:
    """Figures and report.html of `run`; returns the report's path. A training job passes the engine,
    the data and the test probabilities it already holds, so nothing is loaded or predicted twice."""
    return render(ReportInput.from_run(run, engine, splits, P_test), run)[0]


def render(ev: ReportInput, out: Path) -> tuple[Path, list[Figure]]:
    """(Re)draw every figure that applies to `ev` into OUT/figures/ and write OUT/report.html (OUT: the run
    directory, for a run's input); returns the page's path and the figures in report order."""
    made = plan.draw(ev, out)
    # (The explain page's race figure draws in its own style context: the order no longer matters for the
    # figures' text size, tests/viz/test_styles.py.)
    sections = []
    if ev.numpy_net is not None:  # a run of the hand-written backprop: one step of it shown (RUN/explain.html)
        from nnlab.viz.explain import report_section

        sections.append(report_section(out, ev.run_settings, ev.numpy_net, ev.data))
    # The page runs the network itself: nnlab's NumPy network as it is, anything else as its PyTorch module.
    poked, why_not = poke.report_parts(ev.numpy_net if ev.numpy_net is not None else ev.model.torch_model(),
                                       ev.data, ev.P_test)
    learned, why_not_learn = learn.report_parts(ev)  # the NumPy network of a 2-D run trains again in the page
    return write_report(out, ev, made, plan.not_shown(ev.data, ev.history) + why_not + why_not_learn,
                        sections + poked + learned), made
