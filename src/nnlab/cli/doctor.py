"""`nnlab doctor RUN`: try the fixes a run's checks suggest on forks of it, and say what each changed;
`nnlab doctor --overfit-batch MODEL --data DATA` (or RUN): can the model memorise one small batch?"""

from __future__ import annotations

from pathlib import Path

from nnlab.cli.options import name_list, positive_int
from nnlab.cli.train import add_setting
from nnlab.errors import NNLabError
from nnlab.training.config import MODELS, options
from nnlab.training.doctor import FIXES


def register(commands, common) -> None:
    p = commands.add_parser(
        "doctor", parents=[common], help="try the fixes a run's checks suggest, or overfit one batch",
        description="nnlab doctor RUN: for each check of RUN that fired (training health, sanity notes), train a "
        "fork of RUN's settings with each fix it suggests (RUN/doctor/FIX, from RUN's own seed and start), for "
        "the same budget, and print what each fix changed (validation loss, accuracy, dead units: run -> fork), "
        "the fixes that did not help included; RUN/doctor.json and RUN/doctor.html keep it. "
        "nnlab doctor --overfit-batch MODEL --data DATA [train options] (or --overfit-batch RUN): train on one "
        "small batch alone and say whether the training loss falls toward zero (exit 0), or not (exit 1).")
    p.add_argument("target", nargs="?", metavar="RUN_DIR|MODEL",
                   help=f"a run directory written by `nnlab train`; with --overfit-batch also a model "
                        f"({', '.join(MODELS)}) with --data and `nnlab train`'s options")
    p.add_argument("--overfit-batch", action="store_true",
                   help="train on one small batch and check that the loss falls toward zero; default: off")
    p.add_argument("--samples", type=positive_int, default=None,
                   help="--overfit-batch: the batch's size, taken from every class in turn; default: 32")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="--overfit-batch: optimiser steps on it; default: 200")
    p.add_argument("--budget-epochs", type=positive_int, default=None,
                   help="RUN: epochs each fork trains (a fix of more steps trains more); default: 2, or as many as "
                        "100 optimiser steps take, the run's own length where that is not twice as long")
    p.add_argument("--fixes", type=name_list, default=None,
                   help=f"RUN: the fixes to try, whatever fired ({', '.join(FIXES)}); default: those the fired "
                        "checks suggest")
    p.add_argument("--lr-find", action="store_true",
                   help="RUN: also a learning-rate range test from the run's start, its suggestion checked by forks "
                        "at it, a third of it and three times it; default: off")
    p.add_argument("--data", help="--overfit-batch MODEL: dataset name or path; required there")
    for name, spec in options().items():  # `nnlab train`'s settings, for --overfit-batch MODEL
        add_setting(p, name, spec)
    p.set_defaults(run=run)


def run(args) -> int:
    if args.target is None:
        raise NNLabError("say what to examine: nnlab doctor RUN_DIR, or nnlab doctor --overfit-batch "
                         "{scratch,mlp,cnn} --data DATA")
    given = [name for name in options() if getattr(args, name) is not None] + (["data"] if args.data else [])
    if args.overfit_batch:
        if args.budget_epochs is not None or args.fixes is not None or args.lr_find:
            raise NNLabError("--budget-epochs, --fixes and --lr-find are for nnlab doctor RUN, not --overfit-batch")
        return overfit(args, given)
    if given or args.samples is not None or args.steps is not None:
        flag = "--" + (given[0] if given else "samples" if args.samples is not None else "steps").replace("_", "-")
        raise NNLabError(f"{flag} is for --overfit-batch; nnlab doctor RUN forks the run's own settings (choose "
                         "what changes with --fixes)")
    if args.target in MODELS:
        raise NNLabError(f"{args.target!r} is a model, not a run directory: nnlab doctor --overfit-batch "
                         f"{args.target} --data DATA, or nnlab doctor RUN_DIR")
    return diagnose(args)


# What --overfit-batch decides itself: one step per epoch on the batch, a constant rate, no regulariser
DECIDED = {"epochs": "--steps", "batch_size": "--samples", "schedule": "a constant rate",
           "weight_decay": "none", "dropout": "none", "label_smoothing": "none", "augment": "none"}


def overfit(args, given: list[str]) -> int:
    from nnlab.training.config import TrainConfig
    from nnlab.training.overfit import SAMPLES, STEPS, memorising, overfit_config

    decided = [name for name in given if name in DECIDED]
    if decided:
        name = decided[0]
        raise NNLabError(f"--{name.replace('_', '-')} is decided by --overfit-batch ({DECIDED[name]}: it memorises "
                         "one batch without what keeps a network from memorising); drop it")

    if args.target in MODELS:
        if args.data is None:
            raise NNLabError(f"--overfit-batch {args.target} needs --data DATA")
        cfg = TrainConfig.create(args.target, args.data, **{name: getattr(args, name) for name in options()})
    else:
        if given:
            raise NNLabError(f"--{given[0].replace('_', '-')} is for --overfit-batch MODEL; with a run directory "
                             "the run's own settings are used")
        from nnlab.training.record import read_record

        cfg = read_record(args.target).settings
    samples, steps = args.samples or SAMPLES, args.steps or STEPS
    mem = memorising(cfg, samples, steps)
    print(f"overfitting {samples} training samples of {cfg.data_label} with {cfg.model} for {steps} steps: "
          f"{mem.optimizer} at a constant --lr {mem.lr:g}, without weight decay"
          + (", dropout, label smoothing or augmentation" if "dropout" in type(mem).__dataclass_fields__ else ""),
          flush=True)
    result = overfit_config(cfg, samples, steps)
    for note in result.notes:
        if not note.ok:
            print(f"note: {note.text}")
    print(result.line)
    return 0 if result.ok else 1


def diagnose(args) -> int:
    from nnlab.training import doctor
    from nnlab.training.record import read_record

    read_record(args.target)  # a clear error for a missing or foreign directory before any work

    def heard(name: str, entry: dict) -> None:
        if name != "as-is":
            epochs = entry.get("epochs")
            print(f"fork {name} ({entry.get('flags')}): {epochs} epoch{'s' if epochs != 1 else ''}, "
                  f"{entry.get('train_seconds') or 0:.2f} s", flush=True)

    result = doctor.diagnose(Path(args.target), args.budget_epochs, args.fixes, quiet=True, on_fork=heard,
                             lr_find=args.lr_find)
    for line in doctor.lines(result):
        print(line)
    from nnlab.viz.doctor_page import write_doctor_page

    print(f"page={write_doctor_page(Path(args.target), result)}")
    return 0
