"""`nnlab viz RUN_DIR`: (re)draw a run's figures and write its report.html."""

from __future__ import annotations

from pathlib import Path


def register(commands, common) -> None:
    p = commands.add_parser("viz", parents=[common], help="(re)render a run's figures and report.html")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(run=run)


def run(args) -> None:
    from nnlab.runs import read_config
    from nnlab.viz.render import render_run

    read_config(args.run_dir)  # a clear error for a missing or foreign directory before any work
    print(f"report={render_run(Path(args.run_dir))}")
