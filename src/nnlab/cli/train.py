"""`nnlab train`, `nnlab eval`, `nnlab predict`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from nnlab import checks
from nnlab.cli.options import option_type
from nnlab.errors import NNLabError
from nnlab.training.config import DEFAULT_EPOCHS, MIN_STEPS, MODELS, TrainConfig, default, model_defaults, options

# The defaults live with the models (training/config.py); --help and docs/options.md show them per model.
DEFAULTS = {model: model_defaults(model) for model in MODELS}


def shown(value) -> str:
    """A default as a user would type it: 256,128 for a list, on/off for a switch, 0.001 for a float."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def grouped(values: dict[str, object]) -> str:
    """{'scratch': 1e-3, 'mlp': 1e-3, 'cnn': 5e-3} -> `0.001 (scratch, mlp), 0.005 (cnn)`."""
    groups: dict[str, list[str]] = {}
    for name, value in values.items():
        groups.setdefault(shown(value), []).append(name)
    return ", ".join(f"{value} ({', '.join(names)})" for value, names in groups.items())


def default_of(name: str, none: str = "") -> str:
    """`default: 0.001 (scratch, mlp), 0.01 (cnn)` for --help, from each model's config; one value if every
    model shares it. `none` says what a default of None means."""
    values = {model: default(model, name) for model, spec in MODELS.items()
              if name in spec.config.__dataclass_fields__}
    values = {model: none if value is None else value for model, value in values.items()}
    if len(values) == len(MODELS) and len({shown(v) for v in values.values()}) == 1:
        return f"default: {shown(next(iter(values.values())))}"
    return f"default: {grouped(values)}"


def epochs_default() -> str:
    return (f"default: {grouped(DEFAULT_EPOCHS)}, raised on small data so that training takes at least "
            f"{MIN_STEPS:,} steps")


def add_setting(parser, name: str, spec) -> None:
    """The option of one field of the configs (training/config.py): its type from the field's rule, its
    choices from the field's name table, its help with each model's default."""
    meta, flag = spec.metadata, "--" + name.replace("_", "-")
    text = epochs_default() if name == "epochs" else default_of(name, meta["none"])
    help = f"{meta['help']}; {text}" if meta["help"] else text
    if meta["rule"] is checks.switch:
        parser.add_argument(flag, *meta["aliases"], dest=name, action=argparse.BooleanOptionalAction,
                            default=None, help=help)
    elif meta["choices"] is not None:
        parser.add_argument(flag, *meta["aliases"], dest=name, choices=tuple(meta["choices"]), help=help)
    else:
        parser.add_argument(flag, *meta["aliases"], dest=name, type=option_type(meta["rule"]), help=help)


def register(commands, common) -> None:
    p = commands.add_parser("train", parents=[common], help="train a model and write a run directory",
                            description="Train a model and write a run directory (its last output line is "
                            "test_accuracy=... run=RUN_DIR). Defaults differ per model where marked; "
                            "every option and its defaults: docs/options.md.")
    p.add_argument("model", nargs="?", choices=tuple(MODELS),
                   help=", ".join(f"{name} ({'NumPy' if spec.engine == 'numpy' else 'PyTorch'})"
                                  for name, spec in MODELS.items()))
    p.add_argument("--data", help="dataset name or path (see `nnlab data list`); required")
    for name, spec in options().items():  # every setting, written once in training/config.py
        add_setting(p, name, spec)
    p.add_argument("--out", default="runs", help="parent folder of run directories; default: runs")
    p.add_argument("--name", help="run directory name; default: MODEL-DATA-TIMESTAMP")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run in place to --epochs in total; "
                                                       "default: a new run")
    p.add_argument("--quiet", action="store_true", help="no progress output; default: off")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                   help="draw the figures and report.html when training ends; --no-report saves a few seconds a "
                        "run (a sweep, say), and `nnlab viz RUN_DIR` draws them later; default: on")
    p.set_defaults(run=run_train)

    e = commands.add_parser("eval", parents=[common], help="test accuracy of a trained run")
    e.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `nnlab train`")
    e.add_argument("--data", help="evaluate on this dataset's test split; default: the run's own dataset")
    e.set_defaults(run=run_eval)

    q = commands.add_parser("predict", parents=[common], help="classify image or .npy files",
                            description="Classify files with a trained run: prints FILE, class and its "
                            "probability, a line per file. A file that cannot be read is reported and skipped.")
    q.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `nnlab train`")
    q.add_argument("files", nargs="+", metavar="FILE",
                   help="PNG or JPEG images (turned grey and resized to the run's image size) or .npy arrays of "
                        "one sample's raw values, as in the training files (its features, or an image of the "
                        "run's shape)")
    q.set_defaults(run=run_predict)


def render_run(*args) -> None:
    """Every run explains itself: figures and report.html. Imported when the run is done: matplotlib and
    torch cost seconds, and a mistyped class or a missing file needs neither to say so."""
    from nnlab.errors import Interrupted
    from nnlab.viz.render import render_run

    try:
        render_run(*args)
    except KeyboardInterrupt:  # the run is trained and saved by now: only its pictures are missing
        run = args[0]
        raise Interrupted(f"interrupted while drawing the report; the run is trained and saved in {run}: draw "
                          f"its report with nnlab viz {run}") from None


def run_train(args) -> None:
    from nnlab.training import job

    report = render_run if args.report else None
    if args.resume:
        if args.epochs is None:
            raise NNLabError("--resume needs --epochs N: the number of epochs in total to train to")
        run = job.resume(args.resume, args.epochs, quiet=args.quiet, report=report, threads=args.threads)
    else:
        if args.model is None or args.data is None:
            raise NNLabError("say what to train: nnlab train {scratch,mlp,cnn} --data DATA")
        run = job.train(make_config(args), args.out, args.name, quiet=args.quiet, report=report)
    if report is None and not args.quiet:
        print(f"no report drawn (--no-report); nnlab viz {run} draws it")
    print_result(run)


def make_config(args) -> TrainConfig:
    """The run's settings from the command line: the options given, over the model's defaults."""
    return TrainConfig.create(args.model, args.data, **{name: getattr(args, name) for name in options()})


def print_result(run: Path) -> None:
    from nnlab import runs
    from nnlab.training import distributed

    if not distributed.context().main:
        return
    summary = runs.read_json(run / runs.SUMMARY, what="run summary")
    print(f"test_accuracy={summary['test_accuracy']:.4f} run={run}")


def run_eval(args) -> None:
    from nnlab.data import load
    from nnlab.training import job

    record, engine = job.load_run(args.run_dir)
    cfg, data = record.settings, record.dataset
    if args.data is None:
        ds = load(cfg.data, classes=cfg.classes, seed=cfg.seed, noise=cfg.noise)
    else:
        ds = load(args.data, classes=cfg.classes)
        if ds.n_features != data["n_features"] or ds.n_classes != len(data["classes"]):
            raise NNLabError(f"{args.data} has {ds.n_features} features and {ds.n_classes} classes; the run "
                             f"was trained on {data['n_features']} and {len(data['classes'])}")
        # Scale the new data the way the run's training data was scaled.
        ds = replace(ds, X_test=job.scaler_of(record).transform(ds.scaler.inverse(ds.X_test)))
    summary = job.evaluate(engine, ds)
    print(f"test_loss={summary['test_loss']:.4f}")
    print(f"test_accuracy={summary['test_accuracy']:.4f}")


def run_predict(args) -> int:
    from nnlab.cli import report_error
    from nnlab.data.inputs import read_input
    from nnlab.training import job

    record, engine = job.load_run(args.run_dir)
    data = record.dataset
    shape = tuple(data["image_shape"]) if data["image_shape"] else None
    scaler = job.scaler_of(record)
    good, rows = [], []
    for file in args.files:  # a bad file is reported and skipped: the others are still classified
        try:
            row, notice = read_input(Path(file), data["n_features"], shape, scaler, data.get("background"))
        except NNLabError as e:
            if args.debug:
                raise
            report_error(e)
            continue
        if notice:
            print(notice, file=sys.stderr)
        good.append(file)
        rows.append(row)
    if rows:
        P = engine.predict_proba(np.concatenate(rows))
        for file, p in zip(good, P):
            k = int(p.argmax())
            print(f"{file}\t{data['classes'][k]}\t{p[k]:.4f}")
    return 0 if len(good) == len(args.files) else 2
