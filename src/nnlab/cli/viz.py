"""`nnlab viz RUN_DIR`: (re)draw a run's figures and write its report.html;
`nnlab compare RUN_DIR...`: one page comparing runs."""

from __future__ import annotations

import time
from pathlib import Path


def register(commands, common) -> None:
    p = commands.add_parser("viz", parents=[common], help="(re)render a run's figures and report.html")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `nnlab train`")
    p.set_defaults(run=run)
    p = commands.add_parser("compare", parents=[common], help="write a page comparing runs",
                            description="Write one web page comparing two or more runs: settings, test "
                            "metrics and learning curves; each run links to its report.")
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="two or more run directories")
    p.add_argument("--out", help="the page to write; default: compare-TIMESTAMP.html next to the first run "
                                 "(in its parent folder, e.g. runs/)")
    p.set_defaults(run=compare)


def run(args) -> None:
    from nnlab.runs import read_config
    from nnlab.viz.render import render_run

    read_config(args.run_dir)  # a clear error for a missing or foreign directory before any work
    print(f"report={render_run(Path(args.run_dir))}")


def compare(args) -> None:
    from nnlab.errors import NNLabError
    from nnlab.viz.compare import write_compare

    if len(args.run_dirs) < 2:
        raise NNLabError("compare needs two runs or more: nnlab compare RUN_DIR RUN_DIR ...")
    out = Path(args.out) if args.out else default_page(Path(args.run_dirs[0]))
    print(f"page={write_compare([Path(r) for r in args.run_dirs], out)}")


def default_page(first_run: Path) -> Path:
    """compare-TIMESTAMP.html beside the first run (runs/ usually), never over an existing page."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = first_run.parent if first_run.name else first_run.resolve().parent  # (`.` has no name)
    page, n = folder / f"compare-{stamp}.html", 2
    while page.exists():
        page, n = folder / f"compare-{stamp}-{n}.html", n + 1
    return page
