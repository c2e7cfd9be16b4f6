"""`nnlab train`, `nnlab eval`, `nnlab predict`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from nnlab.cli.options import (
    fraction,
    fraction_or_zero,
    int_list,
    name_list,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)
from nnlab.errors import NNLabError
from nnlab.training.config import DEFAULT_EPOCHS, MODELS, model_defaults

# The defaults live with the models (training/config.py); --help and docs/options.md show them per model.
DEFAULTS = {model: model_defaults(model) for model in MODELS}


def shown(value) -> str:
    """A default as a user would type it: 256,128 for a list, on/off for a switch, 0.001 for a float."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def grouped(values: dict[str, object]) -> str:
    """{'scratch': 1e-3, 'mlp': 1e-3, 'cnn': 5e-3} -> `0.001 (scratch, mlp), 0.005 (cnn)`."""
    groups: dict[str, list[str]] = {}
    for name, value in values.items():
        groups.setdefault(shown(value), []).append(name)
    return ", ".join(f"{value} ({', '.join(names)})" for value, names in groups.items())


def default_of(key: str, none: str = "") -> str:
    """`default: 0.001 (scratch, mlp), 0.005 (cnn)` from DEFAULTS, for --help; one value if every model
    shares it. `none` says what a default of None means."""
    values = {model: none if d[key] is None else d[key] for model, d in DEFAULTS.items() if key in d}
    if len(values) == len(DEFAULTS) and len({shown(v) for v in values.values()}) == 1:
        return f"default: {shown(next(iter(values.values())))}"
    return f"default: {grouped(values)}"


def epochs_default() -> str:
    from nnlab.training.job import MIN_STEPS

    return (f"default: {grouped(DEFAULT_EPOCHS)}, raised on small data so that training takes at least "
            f"{MIN_STEPS:,} steps")


def register(commands, common) -> None:
    from nnlab.data.synthetic import DEFAULT_NOISE

    p = commands.add_parser("train", parents=[common], help="train a model and write a run directory",
                            description="Train a model and write a run directory (its last output line is "
                            "test_accuracy=... run=RUN_DIR). Defaults differ per model where marked; "
                            "every option and its defaults: docs/options.md.")
    p.add_argument("model", nargs="?", choices=tuple(MODELS), help="scratch (NumPy), mlp or cnn (PyTorch)")
    p.add_argument("--data", help="dataset name or path (see `nnlab data list`); required")
    p.add_argument("--epochs", type=positive_int,
                   help=f"epochs in total (with --resume: to continue to); {epochs_default()}")
    p.add_argument("--batch-size", type=positive_int, help=f"samples per step; {default_of('batch_size')}")
    p.add_argument("--lr", "--learning-rate", type=positive_float,
                   help=f"learning rate (the peak, with onecycle); {default_of('lr')}")
    p.add_argument("--hidden", type=int_list, help=f"hidden layer sizes; {default_of('hidden')}")
    p.add_argument("--optimizer", choices=("sgd", "momentum", "adam"), help=default_of("optimizer"))
    p.add_argument("--loss", choices=("log", "mse"),
                   help="scratch: log loss, or mse, the squared error of the sigmoid output (two classes; the "
                        f"derivation's counter-example, see `nnlab explain`); {default_of('loss')}")
    p.add_argument("--momentum", type=fraction, default=0.9, help="for --optimizer momentum; default: 0.9")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum; default: off")
    p.add_argument("--weight-decay", type=nonnegative_float,
                   help="scratch: L2 alpha, the loss term (alpha/2m)||W||^2 per batch of m; mlp/cnn: PyTorch's "
                        "weight_decay (decoupled, AdamW, with adam); "
                        + default_of("weight_decay", none="batch size / training samples, a unit Gaussian "
                                                          "prior on the weights"))
    p.add_argument("--schedule", choices=("cosine", "onecycle", "constant"),
                   help=f"learning-rate schedule; {default_of('schedule')}")
    p.add_argument("--dropout", type=fraction_or_zero, help=f"dropout rate; {default_of('dropout')}")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None,
                   help=f"batch norm after each hidden dense layer; {default_of('batch_norm')}")
    p.add_argument("--widths", type=int_list, help=f"channels of the conv blocks; {default_of('widths')}")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="on images: cnn random shifts and flips, mlp flips only (flips only where they keep "
                        f"the class); {default_of('augment')}")
    p.add_argument("--label-smoothing", type=fraction_or_zero,
                   help=f"label smoothing of the loss; {default_of('label_smoothing')}")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"),
                   help=f"bf16 autocast or plain fp32, auto: bf16 where the CPU or GPU has it; "
                        f"{default_of('precision')}")
    p.add_argument("--classes", type=name_list,
                   help="keep only these classes, e.g. 0,6 or Shirt,Coat (two: binary); default: all")
    p.add_argument("--noise", type=nonnegative_float,
                   help="noise of the 2-D sets; default: " + grouped(DEFAULT_NOISE))
    p.add_argument("--val-fraction", type=fraction_or_zero, default=0.1,
                   help="validation share of the training data; 0 trains on all of it, without validation "
                        "curves (small data: breast-cancer has 456 training samples); default: 0.1")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seeds the weights, split and shuffling; "
                                                                   "default: 0")
    p.add_argument("--out", default="runs", help="parent folder of run directories; default: runs")
    p.add_argument("--name", help="run directory name; default: MODEL-DATA-TIMESTAMP")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help="mlp/cnn; auto: CUDA, then MPS, then CPU (scratch always runs on the CPU); default: auto")
    p.add_argument("--threads", type=positive_int,
                   help="CPU threads for the math; default: scratch, one per core that other processes leave "
                        "free (its results do not depend on it); mlp/cnn, one per core this process may use, "
                        "for the whole run (OMP_NUM_THREADS, if set, fixes it too)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run in place to --epochs in total; "
                                                       "default: a new run")
    p.add_argument("--quiet", action="store_true", help="no progress output; default: off")
    p.set_defaults(run=run_train)

    e = commands.add_parser("eval", parents=[common], help="test accuracy of a trained run")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--data", help="evaluate on this dataset's test split; default: the run's own dataset")
    e.set_defaults(run=run_eval)

    q = commands.add_parser("predict", parents=[common], help="classify image or .npy files")
    q.add_argument("run_dir", metavar="RUN_DIR")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.set_defaults(run=run_predict)


def render_run(*args) -> None:
    """Every run explains itself: figures and report.html. Imported when the run is done: matplotlib and
    torch cost seconds, and a mistyped class or a missing file needs neither to say so."""
    from nnlab.viz.render import render_run

    render_run(*args)


def run_train(args) -> None:
    from nnlab.training import job

    if args.resume:
        if args.epochs is None:
            raise NNLabError("--resume needs --epochs N: the number of epochs in total to train to")
        run = job.resume(args.resume, args.epochs, quiet=args.quiet, report=render_run, threads=args.threads)
    else:
        if args.model is None or args.data is None:
            raise NNLabError("say what to train: nnlab train {scratch,mlp,cnn} --data DATA")
        run = job.train(make_config(args), args.out, args.name, quiet=args.quiet, report=render_run)
    print_result(run)


def make_config(args) -> dict:
    """The run's settings from the command line: the options given, over the model's defaults."""
    from nnlab.training.config import TrainConfig

    settings = {key: getattr(args, key) for key in ("epochs", "batch_size", "lr", "optimizer", "momentum",
                                                      "nesterov", "weight_decay", "schedule", "hidden", "widths",
                                                      "dropout", "batch_norm", "augment", "label_smoothing",
                                                      "precision", "classes", "noise", "val_fraction", "seed",
                                                      "device", "threads", "loss")}
    return TrainConfig.create(args.model, args.data, **settings).to_dict()


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

    config, engine = job.load_run(args.run_dir)
    record = config["dataset"]
    if args.data is None:
        ds = load(config["data"], classes=config["classes"], seed=config["seed"], noise=config["noise"])
    else:
        ds = load(args.data, classes=config["classes"])
        if ds.n_features != record["n_features"] or ds.n_classes != len(record["classes"]):
            raise NNLabError(f"{args.data} has {ds.n_features} features and {ds.n_classes} classes; the run "
                             f"was trained on {record['n_features']} and {len(record['classes'])}")
        # Scale the new data the way the run's training data was scaled.
        ds = replace(ds, X_test=job.scaler_of(config).transform(ds.scaler.inverse(ds.X_test)))
    summary = job.evaluate(engine, ds)
    print(f"test_loss={summary['test_loss']:.4f}")
    print(f"test_accuracy={summary['test_accuracy']:.4f}")


def run_predict(args) -> int:
    from nnlab.cli import report_error
    from nnlab.data.inputs import read_input
    from nnlab.training import job

    config, engine = job.load_run(args.run_dir)
    record = config["dataset"]
    shape = tuple(record["image_shape"]) if record["image_shape"] else None
    scaler = job.scaler_of(config)
    good, rows = [], []
    for file in args.files:  # a bad file is reported and skipped: the others are still classified
        try:
            row, notice = read_input(Path(file), record["n_features"], shape, scaler)
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
            print(f"{file}\t{record['classes'][k]}\t{p[k]:.4f}")
    return 0 if len(good) == len(args.files) else 2
