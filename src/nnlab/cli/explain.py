"""`nnlab explain RUN_DIR` and `nnlab explain --net SPEC.json`: one SGD step of backprop, equation by equation,
as a web page — of a scratch run's network, or of a network written down by hand (with `--answers`: a hand
calculation checked)."""

from __future__ import annotations

from pathlib import Path

from nnlab.cli.options import positive_float, positive_int
from nnlab.errors import NNLabError

RUN_ONLY = ("samples", "weights")


def register(commands, common) -> None:
    p = commands.add_parser("explain", parents=[common], help="walk one step of backprop (a run, or your own network)",
                            description="Write a page that walks one SGD step of backprop: every equation of the "
                            "derivation with its shapes, numbers and a finite-difference check, then the update. "
                            "Of a scratch run's network on a few of its training samples (RUN_DIR), or of a network "
                            "written down by hand (--net SPEC.json: its weights, batch, loss and lr, as in a "
                            "homework); --answers checks a hand calculation of that step and points to the first "
                            "wrong number.")
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                   help="a scratch run directory written by `nnlab train scratch` (or give --net)")
    p.add_argument("--net", metavar="SPEC.json",
                   help='a network written by hand: {"layers": [{"W": ..., "b": ..., "activation": ...}, ...], '
                        '"X": ..., "Y": ..., "loss": "mse" | "log" | "cross-entropy", "lr": ...}; see '
                        "examples/homework.json; default: none (give RUN_DIR or --net)")
    p.add_argument("--answers", metavar="ANSWERS.json",
                   help='your own numbers for any steps, e.g. {"A1": [[0.5933, 0.5969]], "dW2": ...}, '
                        "each checked to the digits you wrote; default: none")
    p.add_argument("--steps", type=positive_int, default=1,
                   help="walk this many SGD steps and show the loss falling; default: 1")
    p.add_argument("--json", metavar="OUT.json",
                   help="also write every value and gradient as JSON; default: none")
    p.add_argument("--markdown", metavar="OUT.md",
                   help="also write the walk as Markdown with LaTeX; default: none")
    p.add_argument("--out", help="the page to write; default: RUN_DIR/explain.html, or SPEC.html beside the spec")
    p.add_argument("--samples", type=positive_int, help="a run: samples in the batch (at most 64); default: 4")
    p.add_argument("--weights", choices=("trained", "start"),
                   help="a run: the trained weights, or those the run started from; default: trained")
    p.add_argument("--convention", choices=("rows", "columns"),
                   help="a run: the notation, nnlab's rows (X·W + b) or a course's columns (W·A + b); "
                        "default: rows")
    p.add_argument("--lr", type=positive_float,
                   help="the SGD step's learning rate; default: 0.1 for a run, the spec's for --net")
    p.set_defaults(run=run)


def run(args) -> None:
    if (args.run_dir is None) == (args.net is None):
        raise NNLabError("give a scratch run directory or --net SPEC.json (one of the two)")
    if args.net is not None:
        return run_net(args)
    from nnlab.viz.explain import by_hand, check_out, check_settings, explain

    samples, weights = args.samples or 4, args.weights or "trained"
    lr = 0.1 if args.lr is None else args.lr
    out = Path(args.out) if args.out else Path(args.run_dir) / "explain.html"
    check_settings(samples, weights, lr)
    hand = args.convention == "columns" or args.steps != 1 or any((args.answers, args.json, args.markdown))
    if not hand:
        if args.out:
            check_out(out)  # before the work: a bad --out fails at once
        page = explain(args.run_dir, samples, weights, lr)
        print(f"page={page.write(out)}")
        return
    # The notation of a course, answers, steps, JSON or Markdown: the run's step walked as a network by hand
    targets = _targets(out, args)
    e = by_hand(args.run_dir, samples, weights, lr, args.convention or "rows", args.steps, args.answers)
    _write(e, targets)


def run_net(args) -> None:
    from nnlab.viz.homework import explain_net

    for flag in RUN_ONLY:
        if getattr(args, flag) is not None:
            raise NNLabError(f"--{flag} is for a run directory; a network from --net walks its own batch X")
    if args.convention is not None:
        raise NNLabError('--convention is for a run directory; a spec says its own: "convention": "columns"')
    targets = _targets(Path(args.out) if args.out else Path(args.net).with_suffix(".html"), args)
    _write(explain_net(args.net, args.steps, args.answers, args.lr), targets)


def _targets(out: Path, args) -> list[Path]:
    from nnlab.viz.homework import check_out

    targets = [(out, (".html", ".htm"))] + [(Path(p), (e,)) for p, e in ((args.json, ".json"), (args.markdown, ".md"))
                                             if p is not None]
    for path, endings in targets:
        check_out(path, endings)  # before the work: nothing is written unless everything can be
    return [path for path, _ in targets]


def _write(e, targets: list[Path]) -> None:
    for path in targets:
        print(f"{path.suffix.lstrip('.')}={e.write(path)}")
    if e.marking is not None:
        from nnlab.scratch.marking import summary

        print(summary(e.marking, e.walk.keys))
