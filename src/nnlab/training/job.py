"""A training run from start to finish: data, engine, epochs, checkpoints, test, summary.

The math lives in the engines; this module owns the run directory and what the user sees.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nnlab import runs
from nnlab.data import Dataset, Scaler, load, validation_split
from nnlab.errors import Interrupted, NNLabError
from nnlab.metrics import log_loss, summarize
from nnlab.threads import ThreadPolicy, arithmetic_record
from nnlab.training import cadence, distributed, health, sanity
from nnlab.training.config import TrainConfig, model_spec
from nnlab.training.engines import make_engine
from nnlab.training.progress import progress_bar
from nnlab.training.record import RunRecord, read_record, write_record


@dataclass
class Splits:
    """The dataset and its seeded train/validation split."""

    data: Dataset
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


def load_splits(cfg: TrainConfig) -> Splits:
    ds = load(cfg.data, classes=cfg.classes, seed=cfg.seed, noise=cfg.noise)
    X_tr, y_tr, X_val, y_val = validation_split(ds.X_train, ds.y_train, cfg.val_fraction, cfg.seed)
    return Splits(ds, X_tr, y_tr, X_val, y_val)


def versions() -> dict[str, str]:
    """The libraries' versions, read from their installed metadata: a NumPy run need not import PyTorch (2 s)."""
    from importlib.metadata import version

    import nnlab

    return {"nnlab": nnlab.__version__, "python": platform.python_version(), "numpy": np.__version__,
            "torch": version("torch"), "scikit-learn": version("scikit-learn")}


def dataset_record(splits: Splits) -> dict[str, Any]:
    ds = splits.data
    return {
        "name": ds.name, "source": ds.source, "classes": list(ds.classes),
        "image_shape": list(ds.image_shape) if ds.image_shape else None, "n_features": ds.n_features,
        "n_train": len(splits.y_train), "n_val": len(splits.y_val), "n_test": len(ds.y_test),
        "scaler": ds.scaler.to_json(), "background": background(splits),
    }


def background(splits: Splits) -> float | None:
    """How bright the training images' border is, 0 (black) to 1 (white): `nnlab predict` compares a file's
    own border with it, so that a digit drawn dark on light (as people draw) is not scored as MNIST's light on
    dark. None for data that are not grey images."""
    shape = splits.data.image_shape
    if shape is None or shape[0] != 1 or len(splits.y_train) == 0:
        return None
    images = splits.data.scaler.inverse(splits.X_train).reshape(-1, *shape[1:]) / splits.data.scaler.pixel_max
    ring = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    return round(float(ring.mean()), 3)


def engine_for(cfg: TrainConfig, splits: Splits):
    ds = splits.data
    engine = make_engine(cfg, ds.n_features, ds.n_classes, ds.image_shape)
    engine.prepare(splits.X_train, splits.y_train, ds.mirror_invariant)
    return engine


# What a caller does with a finished run, given (run, engine, splits, test probabilities): the CLI and the
# Python API pass the report's renderer (nnlab.viz.render.render_run), so that training never imports viz.
Report = Callable[[Path, Any, Splits, np.ndarray], Any]


def train(cfg: TrainConfig, out: str, name: str | None, quiet: bool = False,
          on_epoch: Callable[[int, int], None] | None = None, report: Report | None = None) -> Path:
    """Train a new run as `cfg` says; returns its directory. `on_epoch(done, epochs)` is called after
    each saved epoch (`nnlab demo` draws its own progress line with it, quiet); `report` at the end."""
    called = time.perf_counter()
    splits = load_splits(cfg)
    cfg = cfg.resolve(len(splits.y_train))  # the defaults that depend on the data's size
    engine = engine_for(cfg, splits)
    start_loss = measure_start_loss(engine, splits)
    dist = distributed.context()
    if not quiet and dist.main:
        for line in sanity.printed(before_notes(cfg, splits, start_loss)):
            print(line, flush=True)
    run = None
    if dist.main:  # only rank 0 writes; the others learn the directory's name from it
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        run = runs.new_run_dir(out, name, f"{cfg.model}-{cfg.data_label}-{stamp}")
        write_record(run, RunRecord(cfg, {**engine.describe(), "start_loss": round(start_loss, 6)},
                                    dataset_record(splits), arithmetic(cfg, engine), versions()))
    run = Path(dist.broadcast_text(str(run)))
    return _fit(run, cfg, engine, splits, start_epoch=0, history=[], train_seconds=0.0,
                quiet=quiet or not dist.main, on_epoch=on_epoch, report=report, wall=(called, 0.0),
                start_loss=start_loss)


# The start loss is measured on up to this many training samples (a subset of them can sit far from the
# whole: moons' first 512 scored 3.69 where all 900 scored 2.55)
START_SAMPLES = 4096


def measure_start_loss(engine, splits: Splits) -> float:
    """The log loss before the first update on the first START_SAMPLES training samples, as the untrained model
    predicts them (evaluation mode: no batch statistics are updated, no random number drawn: the run's bits stay)."""
    X, y = splits.X_train[:START_SAMPLES], splits.y_train[:START_SAMPLES]
    return log_loss(engine.predict_proba(X), y)


def before_notes(cfg: TrainConfig, splits: Splits, start_loss: float | None) -> list[sanity.Note]:
    """The sanity checks of a run before it trains: its steps, its start loss, its inputs' scale."""
    notes = [sanity.few_steps(cfg, len(splits.y_train))]
    if start_loss is not None:
        notes.append(sanity.start_loss(start_loss, splits.data.n_classes, min(len(splits.y_train), START_SAMPLES),
                                       getattr(cfg, "start", None)))
    return notes + sanity.input_scale(splits.X_train[:health.PROBE], splits.data.scaler.kind)


def resume(run: str | Path, epochs: int, quiet: bool = False, report: Report | None = None,
           threads: int | None = None, on_epoch: Callable[[int, int], None] | None = None) -> Path:
    """Continue `run` in place until `epochs` epochs in total (with `threads` threads, if given: this
    machine's cores are not the first session's)."""
    called = time.perf_counter()
    run = Path(run)
    record = read_record(run)
    cfg = record.settings
    tensors, state = runs.load_tensors(run / runs.CHECKPOINT)
    done = state.get("epoch", 0)
    if epochs < done:
        raise NNLabError(f"{run} has already trained {done} epochs; give --epochs {done} or more")
    if epochs != cfg.epochs and cfg.schedule != "constant" and not quiet:
        print(f"note: the {cfg.schedule} schedule now spans {epochs} epochs instead of "
              f"{cfg.epochs}; the result differs from a straight run of either length")
    if state.get("model", cfg.model) != cfg.model:
        raise NNLabError(f"{run}: {runs.CHECKPOINT} holds a {state.get('model')!r} model but the config says "
                         f"{cfg.model!r}; the run directory was tampered with")
    splits = load_splits(cfg)
    cfg = replace(cfg, epochs=epochs)
    engine = engine_for(cfg, splits)
    engine.load_state(tensors, state)
    cfg = replace(cfg, threads=_resume_threads(run, record, engine, state.get("history", []), threads, quiet))
    dist = distributed.context()
    if dist.main:  # only now that everything loaded: a refused resume changes nothing
        runs.remove_stale_temp_files(run)  # (the facts of the first session, device used and all, are kept)
        write_record(run, replace(record, settings=cfg, arithmetic=arithmetic(cfg, engine)))
    return _fit(run, cfg, engine, splits, done, state.get("history", []), state.get("train_seconds", 0.0),
                quiet or not dist.main, on_epoch=on_epoch, report=report,
                wall=(called, state.get("wall_seconds", state.get("train_seconds", 0.0))),
                start_loss=record.facts.get("start_loss"))


def thread_policy(cfg: TrainConfig, engine) -> ThreadPolicy:
    """The run's thread count: one per free core where the engine's bits do not depend on it (it then follows
    the machine's load), else fixed for the run from the cores this process may use (nnlab.threads)."""
    return ThreadPolicy(cfg.threads, processes_here=distributed.local_processes(),
                        follow_load=engine.thread_invariant)


def arithmetic(cfg: TrainConfig, engine) -> dict:
    return arithmetic_record(thread_policy(cfg, engine), pytorch=model_spec(cfg.model).engine == "torch")


def _resume_threads(run: Path, record: RunRecord, engine, history: list, threads: int | None,
                    quiet: bool) -> int | None:
    """The thread count to go on with: the first session's where the engine's bits depend on it, so that a
    resumed run equals the straight one, unless --threads says otherwise (then say what that costs)."""
    if engine.thread_invariant:
        return threads
    recorded = record.arithmetic.get("threads")
    if not isinstance(recorded, int):  # (a run written before config.json said: its last epoch's count)
        recorded = next((h["threads"] for h in reversed(history) if isinstance(h.get("threads"), int)), None)
    if threads is not None and recorded is not None and threads != recorded and not quiet:
        print(f"note: {run} trained on {recorded} threads so far; on {threads} the rest of it will not be "
              f"bit-identical to a straight run (drop --threads to go on with {recorded})")
    return threads if threads is not None else recorded


def _fit(run: Path, cfg: TrainConfig, engine, splits: Splits, start_epoch: int, history: list, train_seconds: float,
         quiet: bool, on_epoch: Callable[[int, int], None] | None = None, report: Report | None = None,
         wall: tuple[float, float] = (0.0, 0.0), start_loss: float | None = None) -> Path:
    """The epochs from `start_epoch` on, then the test; `wall` is (perf_counter when the session was asked
    for, the wall seconds of earlier sessions), for summary.json's `wall_seconds`; `start_loss` the loss before
    the first update (None for runs written before it was kept), for the sanity checks."""
    epochs, dist = cfg.epochs, distributed.context()
    main = dist.main
    validating = len(splits.y_val) > 0  # --val-fraction 0: no validation split, nothing to measure on it
    X_probe, y_probe = (splits.X_val, splits.y_val) if validating else (splits.X_train, splits.y_train)
    X_probe, y_probe = X_probe[:health.PROBE], y_probe[:health.PROBE]  # the same fixed batch every epoch
    snapshots = runs.load_snapshots(run, start_epoch) if main else {}
    finished = start_epoch  # epochs trained to the end (Ctrl-C may come in the middle of the next one)
    # The last finished epoch is copied at its end and written at the cadence of training.cadence, and at once
    # when Ctrl-C or a diverging loss stops the run; metrics.jsonl and the snapshots still hold every epoch.
    checkpoints = cadence.Checkpoints(run, main, saved=start_epoch)
    printing = cadence.Printing(epochs, quiet)
    before = engine.layer_weights()  # one copy of the weights per epoch: the end of one is the start of the next
    start = next(iter(before.values())) if start_epoch == 0 else None  # the whole first layer, as initialised
    if start_epoch == 0:
        snapshots["epoch0"] = runs.first_layer(before)
    # The thread count is restored after the report: a notebook's own threads are its business.
    with thread_policy(cfg, engine) as threads:
        try:
            for epoch in range(start_epoch, epochs):
                started = time.perf_counter()
                with progress_bar(len(splits.y_train), f"epoch {epoch + 1}/{epochs}", quiet, threads.check) as bar:
                    loss, acc = engine.train_epoch(epoch, epochs, bar.update)
                    if not math.isfinite(loss):
                        checkpoints.flush(snapshots)
                        raise NNLabError(f"the training loss became {loss} in epoch {epoch + 1}; lower --lr (now "
                                         f"{cfg.lr:g}) or --batch-size. " + _what_is_kept(run, finished, main))
                    val_loss, val_acc = (_loss_acc(engine.predict_proba(splits.X_val), splits.y_val) if validating
                                         else (None, None))
                train_seconds += time.perf_counter() - started
                after = engine.layer_weights()
                history.append({"epoch": epoch + 1, "loss": round(loss, 6), "accuracy": round(acc, 6),
                                "val_loss": _rounded(val_loss), "val_accuracy": _rounded(val_acc),
                                "seconds": round(train_seconds, 3),
                                "lr": float(f"{engine.epoch_lr(epoch, epochs):.4g}"), "threads": threads.threads,
                                "health": health.measure(engine, before, after, X_probe, y_probe)})
                before = after
                if main:
                    snapshots[f"epoch{epoch + 1}"] = runs.first_layer(after)
                    checkpoints.finished(engine, epoch + 1, history, train_seconds,
                                         wall[1] + time.perf_counter() - wall[0])
                    if checkpoints.due(epoch + 1, epochs):
                        checkpoints.flush(snapshots)
                    if start is not None:  # once, with the first checkpoint: the report shows what training added
                        runs.save_tensors(run / runs.START, {"first_layer": start},
                                          {"what": "first-layer weights as initialised"})
                        start = None
                finished = epoch + 1
                if on_epoch is not None:
                    on_epoch(finished, epochs)
                if printing.due(finished):
                    shown = f"  val_loss {val_loss:.4f}  val_acc {val_acc:.4f}" if validating else ""
                    print(f"epoch {epoch + 1:>3}/{epochs}  loss {loss:.4f}  acc {acc:.4f}{shown}", flush=True)
        except KeyboardInterrupt:
            checkpoints.flush(snapshots)  # the last finished epoch, whatever the cadence had written
            if finished == 0:
                raise Interrupted("interrupted; " + _what_is_kept(run, finished, main)) from None
            raise Interrupted(f"interrupted; the last finished epoch is saved in {run}: continue with "
                              f"nnlab train --resume {run} --epochs {epochs}") from None
        ds = splits.data
        P_test = engine.predict_proba(ds.X_test)  # once: for the summary and for the figures
        summary = summarize(P_test, ds.y_test, ds.classes)
        summary["train_seconds"] = round(train_seconds, 3)
        # Beside it, the whole wall time (data, epochs, checkpoints, the test; not the report): on small
        # data the two differ most, and a user sees where the time went.
        summary["wall_seconds"] = round(wall[1] + time.perf_counter() - wall[0], 3)
        summary["epochs"] = epochs
        after = sanity.after_training(history, splits.y_train, splits.y_val, ds.classes, start_loss, cfg)
        after += sanity.test_chance(summary["test_accuracy"], history, ds.y_test, ds.classes)
        summary["sanity"] = [n.to_json() for n in before_notes(cfg, splits, start_loss) + after]
        if not quiet:
            for line in sanity.printed(after):
                print(line, flush=True)
        if dist.world > 1:
            summary["world_size"] = dist.world
            summary["max_weight_gap_between_ranks"] = engine_gap = dist.max_weight_gap(engine.model)
            if engine_gap > 0:
                print(f"warning: the ranks' weights differ by up to {engine_gap:g}", file=sys.stderr)
        if main:
            runs.write_summary(run, summary)
            if report is not None:
                report(run, engine, splits, P_test)
    return run


def _what_is_kept(run: Path, epoch: int, main: bool) -> str:
    """After a failed epoch: say what is left. Before the first checkpoint the run holds nothing to
    resume, so its directory (the config alone) goes, rather than stay half-written."""
    if epoch > 0:
        return f"The last good checkpoint (epoch {epoch}) is kept in {run}"
    if main and {p.name for p in run.iterdir()} <= {runs.CONFIG}:
        (run / runs.CONFIG).unlink(missing_ok=True)
        run.rmdir()
    return "No epoch finished, so nothing was saved"


def save_checkpoint(run: Path, engine, epoch: int, history: list, train_seconds: float,
                    wall_seconds: float | None = None) -> None:
    """Checkpoint first (the file resume trusts), then the files derived from it."""
    tensors, state = engine.state()
    wall = train_seconds if wall_seconds is None else wall_seconds
    cadence.write_checkpoint(run, cadence.Saved(engine.kind, epoch, tensors, state, engine.weights(), list(history),
                                                train_seconds, wall))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _loss_acc(P: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return log_loss(P, y), float(np.mean(P.argmax(axis=1) == y))


def evaluate(engine, ds: Dataset) -> dict[str, Any]:
    return summarize(engine.predict_proba(ds.X_test), ds.y_test, ds.classes)


def load_run(run: str | Path) -> tuple[RunRecord, Any]:
    """(record, engine with the trained weights) of a finished or interrupted run."""
    run = Path(run)
    record = read_record(run)
    tensors, meta = runs.load_tensors(run / runs.MODEL)
    if meta.get("model") != record.settings.model:
        raise NNLabError(f"{run}: {runs.MODEL} holds a {meta.get('model')!r} model but the config says "
                         f"{record.settings.model!r}; the run directory was tampered with")
    try:
        data = record.dataset
        engine = make_engine(record.settings, data["n_features"], len(data["classes"]), data["image_shape"],
                             record.facts)
    except KeyError as e:
        raise NNLabError(f"{run}/{runs.CONFIG} lacks the dataset's {e}; it was edited or written by another nnlab "
                         "version: restore it or train the run again") from None
    engine.load_weights(tensors)
    return record, engine


def scaler_of(record: RunRecord) -> Scaler:
    return Scaler.from_json(record.dataset["scaler"])
