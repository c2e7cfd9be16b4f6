"""`nnlab doctor RUN`: try the fixes a run's checks suggest, and measure what each changed.

Every tool stops at the advice ("lower --lr"); a run here is reproducible from its config, so the advice can be
tried: for each check that fired (its training health, training/health.py, and its sanity notes,
training/sanity.py), the doctor forks the run's settings with each fix that check suggests, trains every fork
from the run's own seed for the same budget (the run's start, data order and arithmetic: what differs is the fix),
and compares each fork's validation loss, accuracy and health with the run's at that budget, the fixes that did
not help included. The forks are run directories in RUN/doctor/ (continue the best with `nnlab train --resume`);
the comparison is RUN/doctor.json, written atomically.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nnlab import runs
from nnlab.errors import Interrupted, NNLabError, pick
from nnlab.files import write_json_atomic
from nnlab.training import health, sanity
from nnlab.training.config import ScratchConfig, TorchConfig, TrainConfig
from nnlab.training.record import read_record

DOCTOR = "doctor.json"
FORKS = "doctor"          # RUN/doctor/FIX: each fork's run directory
FORMAT = "nnlab-doctor/1"
BUDGET_EPOCHS = 2         # the forks' default length: about the time of two of the run's epochs, ...
BETTER = 0.02             # a fix that lowers the validation loss by 2% or more helped; one that raises it, hurt


@dataclass(frozen=True)
class Fix:
    """One change of a run's settings: what it is in words, whether it applies to a run's settings, and the
    settings it changes (given the settings and the budget in epochs)."""

    words: str
    applies: Callable[[TrainConfig], bool]
    change: Callable[[TrainConfig, int, int], dict[str, Any]]  # (settings, budget epochs, steps per epoch)


def _always(cfg: TrainConfig) -> bool:
    return True


def _more_epochs(cfg: TrainConfig, budget: int, per_epoch: int) -> dict[str, Any]:
    return {"epochs": max(2 * budget, math.ceil(sanity.FEW_STEPS / per_epoch))}


# --fixes NAME: every fix the doctor knows, in the order it tries them
FIXES: dict[str, Fix] = {
    "lower-lr": Fix("a learning rate 10 times lower", _always, lambda c, b, s: {"lr": float(f"{c.lr / 10:.3g}")}),
    "higher-lr": Fix("a learning rate 10 times higher", _always, lambda c, b, s: {"lr": float(f"{c.lr * 10:.3g}")}),
    "more-steps": Fix("more optimiser steps (more epochs)", _always, _more_epochs),
    "less-weight-decay": Fix("weight decay 10 times weaker", lambda c: bool(c.weight_decay),
                             lambda c, b, s: {"weight_decay": float(f"{c.weight_decay / 10:.3g}")}),
    "more-weight-decay": Fix("weight decay 10 times stronger (1e-3 where there was none)", _always,
                             lambda c, b, s: {"weight_decay": float(f"{(c.weight_decay or 1e-4) * 10:.3g}")}),
    "he-start": Fix("He's random start", lambda c: isinstance(c, ScratchConfig) and c.start != "he",
                    lambda c, b, s: {"start": "he"}),
    "no-batch-norm": Fix("no batch norm", lambda c: isinstance(c, TorchConfig) and c.batch_norm,
                         lambda c, b, s: {"batch_norm": False}),
    "batch-norm": Fix("batch norm", lambda c: isinstance(c, TorchConfig) and not c.batch_norm,
                      lambda c, b, s: {"batch_norm": True}),
}

# Checks after which the doctor also overfits one batch (training/overfit.py): a run that learned nothing may
# have a model, loss or optimiser that cannot learn at all, which no fix of the schedule will mend
DID_NOT_LEARN = frozenset({"chance", "loss-flat", "val-chance", "frozen"})

# What each check that fired suggests trying, most likely first (the checks of health.checks and sanity.Note)
SUGGESTS: dict[str, tuple[str, ...]] = {
    "few-steps": ("more-steps",),
    "start-loss": ("he-start", "more-steps"),
    "chance": ("higher-lr", "lower-lr", "more-steps"),
    "loss-flat": ("higher-lr", "more-steps"),
    "test-chance": ("more-steps", "no-batch-norm"),
    "val-chance": ("more-weight-decay",),
    "overflow": ("lower-lr", "batch-norm"),
    "dead": ("lower-lr", "less-weight-decay"),
    "thrown": ("lower-lr",),
    "frozen": ("higher-lr",),
    "vanishing": ("batch-norm", "more-steps"),
}


def fired(history: list[dict], summary: dict) -> list[dict[str, str]]:
    """The checks of a run that raised a doubt: {check, text}, health's then the sanity notes'."""
    out = [{"check": key, "text": text} for key, ok, text in health.checks(history) if not ok]
    out += [{"check": n["check"], "text": n["text"]} for n in summary.get("sanity", []) if not n.get("ok", True)]
    return out


def suggested(checks: list[dict[str, str]], cfg: TrainConfig) -> list[str]:
    """The fixes the fired checks suggest that apply to `cfg`, each once, in the order suggested."""
    names = [f for c in checks for f in SUGGESTS.get(c["check"], ())]
    return [f for f in dict.fromkeys(names) if FIXES[f].applies(cfg)]


def default_budget(run_epochs: int, per_epoch: int) -> int:
    """Two epochs, or as many as FEW_STEPS optimiser steps take; the run's own length where that is shorter or
    not twice as long (then the yardstick is the run itself, trained again: its bits show the guarantee holds)."""
    budget = max(BUDGET_EPOCHS, math.ceil(sanity.FEW_STEPS / per_epoch))
    return run_epochs if 2 * budget > run_epochs else budget


def flags(change: dict[str, Any]) -> str:
    """A change as the options of `nnlab train` that make it: `--lr 0.0001`, `--no-batch-norm`."""
    out = []
    for name, value in change.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else f"--no-{name.replace('_', '-')}")
        else:
            out.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(out)


def measures(history: list[dict], summary: dict) -> dict[str, Any]:
    """What the doctor compares of a run or a fork: its last epoch's losses and accuracies, its test accuracy,
    the largest share of dead units in any layer at the end, and the checks still firing."""
    last = history[-1] if history else {}
    dead = [layer["dead"] for layer in (last.get("health") or {}).values() if layer.get("dead") is not None]
    return {"epochs": len(history), "loss": last.get("loss"), "accuracy": last.get("accuracy"),
            "val_loss": last.get("val_loss"), "val_accuracy": last.get("val_accuracy"),
            "test_accuracy": summary.get("test_accuracy"), "dead": max(dead) if dead else None,
            "train_seconds": summary.get("train_seconds"),
            "fired": sorted({c["check"] for c in fired(history, summary)})}


def verdict(before: dict, after: dict) -> str:
    """helped / no better / worse, by the validation loss (the training loss where there is none)."""
    key = "val_loss" if before.get("val_loss") is not None else "loss"
    b, a = before.get(key), after.get(key)
    if a is None or not math.isfinite(a):
        return "worse"
    if b is None or not math.isfinite(b):
        return "helped"
    if a < b * (1 - BETTER):
        return "helped"
    return "worse" if a > b * (1 + BETTER) else "no better"


def diagnose(run: str | Path, budget_epochs: int | None = None, fixes: list[str] | None = None,
             quiet: bool = True, on_fork: Callable[[str, dict], None] | None = None,
             lr_find: bool = False) -> dict[str, Any]:
    """Fork `run` for each fix its fired checks suggest (or the `fixes` named), train each for `budget_epochs`
    (default: default_budget), compare, write RUN/doctor.json; returns what it wrote. `on_fork(name, entry)`
    hears of each fork as it finishes. `lr_find`: also the learning-rate finder (training/lr_find.py), its
    suggestion checked by forks at it, a third of it and three times it."""
    called = time.perf_counter()
    run = Path(run)
    record = read_record(run)
    history = runs.read_metrics(run)
    summary_path = run / runs.SUMMARY
    if not summary_path.is_file() or not history:
        raise NNLabError(f"{run} has not finished training (no {runs.SUMMARY}); finish it first with "
                         f"nnlab train --resume {run} --epochs N")
    summary = runs.read_json(summary_path, what="run summary")
    cfg = record.settings
    threads = record.arithmetic.get("threads")
    if cfg.threads is None and isinstance(threads, int) and cfg.model != "scratch":
        cfg = replace(cfg, threads=threads)  # the run's own thread count: the forks' bits are the run's
    n_train = int(record.dataset.get("n_train", 0)) or 1
    per_epoch = math.ceil(n_train / cfg.batch_size)
    budget = default_budget(len(history), per_epoch) if budget_epochs is None else budget_epochs
    if budget < 1:
        raise NNLabError(f"--budget-epochs must be 1 or more, got {budget}")
    checks = fired(history, summary)
    for f in fixes or ():
        pick(FIXES, f, "fix")  # (an unknown name: did you mean, and the list)
    names = suggested(checks, cfg) if fixes is None else list(dict.fromkeys(fixes))
    skipped = [f for f in names if not FIXES[f].applies(cfg)]
    names = [f for f in names if f not in skipped]

    folder = run / FORKS
    base_cfg = replace(cfg, epochs=budget)
    # The yardstick every fork is measured against: the run's settings trained again for the budget, by this
    # nnlab on this machine (a run written by another version or machine may not be what they give today). For the
    # run's own length its weights must be the run's, bit for bit: `same_bits` says whether they are.
    baseline = _fork("as-is", {}, base_cfg, folder, quiet)
    if budget == len(history) and cfg.epochs == budget and baseline.get("run"):
        baseline["recorded"] = measures(history, summary)
        baseline["same_bits"] = _same_weights(run, Path(baseline["run"]))
    if on_fork is not None:
        on_fork("as-is", baseline)
    forks = []
    for name in names:
        change = FIXES[name].change(cfg, budget, per_epoch)
        entry = _fork(name, change, replace(base_cfg, **change), folder, quiet)
        entry["verdict"] = verdict(baseline, entry)
        entry["cleared"] = sorted(set(baseline.get("fired", [])) - set(entry.get("fired", [])))
        forks.append(entry)
        if on_fork is not None:
            on_fork(name, entry)
    found = _lr_find(cfg, base_cfg, baseline, folder, quiet, on_fork) if lr_find else None
    overfit = None
    if DID_NOT_LEARN & {c["check"] for c in checks}:
        from nnlab.training.overfit import overfit_config

        overfit = overfit_config(cfg).to_json()
        del overfit["losses"]  # (the line and the two ends say it)
    result = {"format": FORMAT, "run": str(run), "model": cfg.model, "data": cfg.data_label, "seed": cfg.seed,
              "lr": cfg.lr, "budget_epochs": budget, "run_epochs": len(history), "steps_per_epoch": per_epoch,
              "fired": checks, "skipped": skipped, "baseline": baseline, "forks": forks, "overfit": overfit,
              "lr_find": found, "seconds": round(time.perf_counter() - called, 3)}
    write_json_atomic(run / DOCTOR, result)
    return result


def _lr_find(cfg: TrainConfig, base_cfg: TrainConfig, baseline: dict, folder: Path, quiet: bool,
             on_fork: Callable[[str, dict], None] | None) -> dict[str, Any]:
    """The range test of the run's settings, and its suggestion checked by forks at a third of it, at it and at
    three times it, each judged against the yardstick."""
    from nnlab.training.lr_find import AROUND, range_test

    found = range_test(cfg)
    found["forks"] = []
    if found["suggestion"] is None:
        return found
    for rate, words in ((found["suggestion"] / AROUND, "a third of the suggestion"),
                        (found["suggestion"], "the range test's suggestion"),
                        (found["suggestion"] * AROUND, "three times the suggestion")):
        rate = float(f"{rate:.2g}")
        entry = _fork(f"lr-{rate:g}", {"lr": rate}, replace(base_cfg, lr=rate), folder, quiet)
        entry |= {"words": words, "verdict": verdict(baseline, entry)}
        found["forks"].append(entry)
        if on_fork is not None:
            on_fork(entry["fix"], entry)
    return found


def _same_weights(a: Path, b: Path) -> bool:
    import numpy as np

    wa, wb = runs.load_tensors(a / runs.MODEL)[0], runs.load_tensors(b / runs.MODEL)[0]
    return sorted(wa) == sorted(wb) and all(np.array_equal(wa[k], wb[k]) for k in wa)


def _fork(name: str, change: dict[str, Any], cfg: TrainConfig, folder: Path, quiet: bool) -> dict[str, Any]:
    """Train one fork into folder/NAME (NAME-2, ... where a doctor before left one) and measure it."""
    from nnlab.training import job

    folder.mkdir(exist_ok=True)
    where, n = name, 2
    while (folder / where).exists():
        where, n = f"{name}-{n}", n + 1
    entry: dict[str, Any] = {"fix": name, "change": change, "flags": flags(change), "words": FIXES[name].words
                             if name in FIXES else "the run's own settings"}
    try:
        fork = job.train(cfg, folder, where, quiet=quiet)
    except Interrupted:  # Ctrl-C stops the doctor (the fork's last finished epoch is kept, as any run's)
        raise
    except NNLabError as e:  # a fix that makes training diverge is a result, not a failure of the doctor
        return {**entry, "run": None, "error": str(e), "epochs": cfg.epochs, "val_loss": None, "loss": None,
                "fired": ["overflow"]}
    summary = runs.read_json(fork / runs.SUMMARY, what="run summary")
    return {**entry, "run": str(fork), **measures(runs.read_metrics(fork), summary)}


def _number(value, digits: str = ".4f") -> str:
    return "-" if value is None else format(value, digits)


def _share(value) -> str:
    return "-" if value is None else f"{value:.0%}"


def lr_find_lines(result: dict[str, Any], key: str) -> list[str]:
    """The learning-rate finder's findings: the range test in words, then a row per fork that checks it."""
    found, base = result.get("lr_find"), result["baseline"]
    if not found:
        return []
    out = [f"lr finder: a range test of {found['steps']} steps (batch {found['batch_size']}), the rate growing from "
           f"{found['start']:g} to {found['end']:g}"]
    if found["suggestion"] is None:
        return out + ["  the loss blew up at once: no rate to suggest; lower the start of the range"]
    low = min(v for v in found["smoothed"] if math.isfinite(v))
    steep = f", falls steepest at {found['steepest']:.2g}" if found.get("steepest") else ""
    out.append(f"  the smoothed training loss is lowest ({low:.4f}) at lr {found['lowest']:.2g}{steep}; suggestion "
               f"{found['suggestion']:g}, a tenth of the lowest's rate (the run's --lr {base_lr(result):g}); "
               f"checked by forks of {result['budget_epochs']} epoch{'s' if result['budget_epochs'] != 1 else ''}:")
    for f in found["forks"]:
        said = "worse (training diverged)" if f.get("error") else f["verdict"]
        out.append(f"  {f['flags']:<12} {f['words']:<28} {key} {_number(base.get(key))} -> {_number(f.get(key))}  "
                   f"{said}")
    return out


def yardstick_lines(result: dict[str, Any], key: str) -> list[str]:
    """Whether the run's settings, trained again, gave the run's own bits."""
    base = result["baseline"]
    if "same_bits" not in base:
        return [f"  (the run as it was: its settings trained again for {result['budget_epochs']} epochs)"]
    if base["same_bits"]:
        return ["  (the run as it was: its settings trained again give its own weights, bit for bit)"]
    recorded = base["recorded"].get(key)
    return [f"  (the run as it was: its settings trained again give other weights than the run's, {key} "
            f"{_number(base.get(key))} where the run recorded {_number(recorded)}: it was trained by another nnlab "
            "version or on another machine; each fork is compared with today's)"]


def base_lr(result: dict[str, Any]) -> float:
    return float(result.get("lr", math.nan))


def lines(result: dict[str, Any]) -> list[str]:
    """The doctor's findings as console lines: the checks that fired, then a row per fork, each measure as
    `run -> fork`, and its verdict."""
    base, forks = result["baseline"], result["forks"]
    out = [f"doctor: {result['run']} ({result['model']} on {result['data']}, {result['run_epochs']} epoch"
           f"{'s' if result['run_epochs'] != 1 else ''}): {len(result['fired'])} check"
           f"{'s' if len(result['fired']) != 1 else ''} fired"]
    out += [f"  - {c['check']}: {c['text']}" for c in result["fired"]]
    if result["skipped"]:
        out.append(f"  (not for this model: {', '.join(result['skipped'])})")
    key = "val_loss" if base.get("val_loss") is not None else "loss"
    if not forks:
        out.append("nothing to try" + ("" if result["fired"] else ": no check fired") + "; --fixes "
                   + ",".join(FIXES) + " tries any of these anyway")
        out += lr_find_lines(result, key)
        if result.get("overfit"):
            out.append(result["overfit"]["line"] + " (with the run's settings)")
        return out
    out.append(f"each fork trained {result['budget_epochs']} epoch{'s' if result['budget_epochs'] != 1 else ''} "
               f"(unless its fix is more), seed {result['seed']}, from the run's own start; run -> fork:")
    out += yardstick_lines(result, key)
    rows = [("fix", "change", "epochs", key, "accuracy" if key == "loss" else "val_accuracy", "dead", "verdict")]
    rows.append(("(the run as it was)", "", str(base.get("epochs")), _number(base.get(key)),
                 _number(base.get("accuracy" if key == "loss" else "val_accuracy"), ".3f"), _share(base.get("dead")),
                 ""))
    acc = "accuracy" if key == "loss" else "val_accuracy"
    for f in forks:
        said = f["verdict"] + (f" (clears {', '.join(f['cleared'])})" if f.get("cleared") else "")
        if f.get("error"):
            said = "worse (training diverged)"
        rows.append((f["fix"], f["flags"], str(f.get("epochs")),
                     f"{_number(base.get(key))} -> {_number(f.get(key))}",
                     f"{_number(base.get(acc), '.3f')} -> {_number(f.get(acc), '.3f')}",
                     f"{_share(base.get('dead'))} -> {_share(f.get('dead'))}", said))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    helped = [f for f in forks if f["verdict"] == "helped" and not f.get("error")]
    if helped:
        best = min(helped, key=lambda f: f.get(key) if f.get(key) is not None else math.inf)
        out.append(f"best: {best['fix']} ({best['flags']}): {key} {_number(base.get(key))} -> {_number(best.get(key))}"
                   f"; train on from it with nnlab train --resume {best['run']} --epochs N")
    else:
        out.append(f"no fix lowered the {key.replace('_', ' ')} by {BETTER:.0%} or more in this budget "
                   "(a longer --budget-epochs, or --fixes to try others)")
    out += lr_find_lines(result, key)
    if result.get("overfit"):
        out.append(result["overfit"]["line"] + " (with the run's settings)")
    out.append(f"the doctor took {result['seconds']:.1f} s; its findings: {Path(result['run']) / DOCTOR}")
    return out
