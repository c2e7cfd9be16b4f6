"""`nnlab explain RUN_DIR`: one SGD step of a scratch run's network, equation by equation, as a web page."""

from __future__ import annotations

from pathlib import Path

from nnlab.cli.options import positive_float, positive_int


def register(commands, common) -> None:
    p = commands.add_parser("explain", parents=[common], help="walk one step of backprop of a scratch run",
                            description="Write a page that walks one SGD step of a scratch run's network on a "
                            "few of its training samples: every equation of the derivation with its shapes, "
                            "numbers, the line of network.py that computes it and a finite-difference check; "
                            "then the update, and (two classes) the log loss against the squared error.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a scratch run directory written by `nnlab train scratch`")
    p.add_argument("--out", help="the page to write; default: RUN_DIR/explain.html")
    p.add_argument("--samples", type=positive_int, default=4, help="samples in the batch (at most 64); default: 4")
    p.add_argument("--weights", choices=("trained", "start"), default="trained",
                   help="the trained weights, or those the run started from; default: trained")
    p.add_argument("--lr", type=positive_float, default=0.1, help="the SGD step's learning rate; default: 0.1")
    p.set_defaults(run=run)


def run(args) -> None:
    from nnlab.viz.explain import check_out, check_settings, explain

    out = Path(args.out) if args.out else Path(args.run_dir) / "explain.html"
    check_settings(args.samples, args.weights, args.lr)
    if args.out:
        check_out(out)  # before the work: a bad --out fails at once
    page = explain(args.run_dir, args.samples, args.weights, args.lr)
    print(f"page={page.write(out)}")
