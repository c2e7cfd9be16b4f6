"""A training run from start to finish: data, engine, epochs, checkpoints, test, summary.

The math lives in the engines; this module owns the run directory and what the user sees.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nnlab import runs
from nnlab.data import Dataset, Scaler, load, validation_split
from nnlab.errors import Interrupted, NNLabError
from nnlab.metrics import log_loss, summarize
from nnlab.threads import ThreadPolicy, arithmetic_record
from nnlab.training import cadence, distributed, health
from nnlab.training.config import MODELS, TrainConfig
from nnlab.training.engines import make_engine


@dataclass
class Splits:
    """The dataset and its seeded train/validation split."""

    data: Dataset
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


def load_splits(config: dict[str, Any]) -> Splits:
    ds = load(config["data"], classes=config["classes"], seed=config["seed"], noise=config["noise"])
    X_tr, y_tr, X_val, y_val = validation_split(ds.X_train, ds.y_train, config["val_fraction"], config["seed"])
    return Splits(ds, X_tr, y_tr, X_val, y_val)


def versions() -> dict[str, str]:
    import sklearn
    import torch

    import nnlab

    return {"nnlab": nnlab.__version__, "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "scikit-learn": sklearn.__version__}


def dataset_record(splits: Splits) -> dict[str, Any]:
    ds = splits.data
    return {
        "name": ds.name, "source": ds.source, "classes": list(ds.classes),
        "image_shape": list(ds.image_shape) if ds.image_shape else None, "n_features": ds.n_features,
        "n_train": len(splits.y_train), "n_val": len(splits.y_val), "n_test": len(ds.y_test),
        "scaler": ds.scaler.to_json(),
    }


# Small datasets get more epochs than the model's default, so that training takes at least MIN_STEPS
# steps: 20 epochs of moons are only 160.
MIN_STEPS = 1000


def default_epochs(model: str, n_train: int, batch_size: int) -> int:
    return max(MODELS[model].epochs, math.ceil(MIN_STEPS / math.ceil(n_train / batch_size)))


def default_weight_decay(n_train: int, batch_size: int) -> float:
    """The scratch network's L2 strength: a unit Gaussian prior on every weight (MAP training).

    The prior adds ||W||^2 / 2 to the summed loss, so ||W||^2 / 2n to the mean loss over n samples; the
    per-batch term (alpha / 2m) ||W||^2 (m = batch size, scikit-learn's convention) matches it with
    alpha = m / n. The prior's pull is fixed while the data's grows with n: small data is regularised more
    (breast-cancer, 5-fold CV on the training split: 97.5% with alpha = 1e-4, 98.5% with this; README)."""
    return batch_size / n_train


def engine_for(config: dict[str, Any], splits: Splits):
    ds = splits.data
    engine = make_engine(config, ds.n_features, ds.n_classes, ds.image_shape)
    engine.prepare(splits.X_train, splits.y_train, ds.mirror_invariant)
    return engine


# What a caller does with a finished run, given (run, engine, splits, test probabilities): the CLI and the
# Python API pass the report's renderer (nnlab.viz.render.render_run), so that training never imports viz.
Report = Callable[[Path, Any, Splits, np.ndarray], Any]


def train(config: TrainConfig | dict[str, Any], out: str, name: str | None, quiet: bool = False,
          on_epoch: Callable[[int, int], None] | None = None, report: Report | None = None) -> Path:
    """Train a new run as `config` says; returns its directory. `on_epoch(done, epochs)` is called after
    each saved epoch (`nnlab demo` draws its own progress line with it, quiet); `report` at the end."""
    called = time.perf_counter()
    config = config.to_dict() if isinstance(config, TrainConfig) else config
    splits = load_splits(config)
    n_train, batch_size = len(splits.y_train), config["batch_size"]
    if config["epochs"] is None:
        config = {**config, "epochs": default_epochs(config["model"], n_train, batch_size)}
    if config["weight_decay"] is None:  # (scratch only: the PyTorch models' AdamW decay has its own default)
        config = {**config, "weight_decay": default_weight_decay(n_train, batch_size)}
    engine = engine_for(config, splits)
    dist = distributed.context()
    run = None
    if dist.main:  # only rank 0 writes; the others learn the directory's name from it
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        run = runs.new_run_dir(out, name, f"{config['model']}-{config['data_label']}-{stamp}")
        runs.write_config(run, {**config, **engine.describe(), "dataset": dataset_record(splits),
                                "versions": versions(), "arithmetic": arithmetic_record(thread_policy(config, engine))})
    run = Path(dist.broadcast_text(str(run)))
    return _fit(run, config, engine, splits, start_epoch=0, history=[], train_seconds=0.0,
                quiet=quiet or not dist.main, on_epoch=on_epoch, report=report, wall=(called, 0.0))


def resume(run: str | Path, epochs: int, quiet: bool = False, report: Report | None = None,
           threads: int | None = None, on_epoch: Callable[[int, int], None] | None = None) -> Path:
    """Continue `run` in place until `epochs` epochs in total (with `threads` threads, if given: this
    machine's cores are not the first session's)."""
    called = time.perf_counter()
    run = Path(run)
    config = runs.read_config(run)
    tensors, state = runs.load_tensors(run / runs.CHECKPOINT)
    done = state.get("epoch", 0)
    if epochs < done:
        raise NNLabError(f"{run} has already trained {done} epochs; give --epochs {done} or more")
    if epochs != config["epochs"] and config.get("schedule") != "constant" and not quiet:
        print(f"note: the {config['schedule']} schedule now spans {epochs} epochs instead of "
              f"{config['epochs']}; the result differs from a straight run of either length")
    if state.get("model", config.get("model")) != config.get("model"):
        raise NNLabError(f"{run}: {runs.CHECKPOINT} holds a {state.get('model')!r} model but the config says "
                         f"{config.get('model')!r}; the run directory was tampered with")
    config = {**config, "epochs": epochs}  # (keeps device_used etc. from the first session)
    with _settings_of(run):
        splits = load_splits(config)
        engine = engine_for(config, splits)
    engine.load_state(tensors, state)
    config["threads"] = _resume_threads(run, config, engine, state.get("history", []), threads, quiet)
    dist = distributed.context()
    if dist.main:  # only now that everything loaded: a refused resume changes nothing
        runs.remove_stale_temp_files(run)
        runs.write_config(run, {**config, "arithmetic": arithmetic_record(thread_policy(config, engine))})
    return _fit(run, config, engine, splits, done, state.get("history", []), state.get("train_seconds", 0.0),
                quiet or not dist.main, on_epoch=on_epoch, report=report,
                wall=(called, state.get("wall_seconds", state.get("train_seconds", 0.0))))


def thread_policy(config: dict[str, Any], engine) -> ThreadPolicy:
    """The run's thread count: one per free core where the engine's bits do not depend on it (it then follows
    the machine's load), else fixed for the run from the cores this process may use (nnlab.threads)."""
    return ThreadPolicy(config.get("threads"), processes_here=distributed.local_processes(),
                        follow_load=engine.thread_invariant)


def _resume_threads(run: Path, config: dict[str, Any], engine, history: list, threads: int | None,
                    quiet: bool) -> int | None:
    """The thread count to go on with: the first session's where the engine's bits depend on it, so that a
    resumed run equals the straight one, unless --threads says otherwise (then say what that costs)."""
    if engine.thread_invariant:
        return threads
    recorded = config.get("arithmetic", {}).get("threads")
    if not isinstance(recorded, int):  # (a run written before config.json said: its last epoch's count)
        recorded = next((h["threads"] for h in reversed(history) if isinstance(h.get("threads"), int)), None)
    if threads is not None and recorded is not None and threads != recorded and not quiet:
        print(f"note: {run} trained on {recorded} threads so far; on {threads} the rest of it will not be "
              f"bit-identical to a straight run (drop --threads to go on with {recorded})")
    return threads if threads is not None else recorded


def _fit(run: Path, config, engine, splits: Splits, start_epoch: int, history: list, train_seconds: float,
         quiet: bool, on_epoch: Callable[[int, int], None] | None = None, report: Report | None = None,
         wall: tuple[float, float] = (0.0, 0.0)) -> Path:
    """The epochs from `start_epoch` on, then the test; `wall` is (perf_counter when the session was asked
    for, the wall seconds of earlier sessions), for summary.json's `wall_seconds`."""
    epochs, dist = config["epochs"], distributed.context()
    main = dist.main
    validating = len(splits.y_val) > 0  # --val-fraction 0: no validation split, nothing to measure on it
    X_probe, y_probe = (splits.X_val, splits.y_val) if validating else (splits.X_train, splits.y_train)
    X_probe, y_probe = X_probe[:health.PROBE], y_probe[:health.PROBE]  # the same fixed batch every epoch
    snapshots = load_snapshots(run, start_epoch) if main else {}
    finished = start_epoch  # epochs trained to the end (Ctrl-C may come in the middle of the next one)
    # The last finished epoch is copied at its end and written at the cadence of training.cadence, and at once
    # when Ctrl-C or a diverging loss stops the run; metrics.jsonl and the snapshots still hold every epoch.
    checkpoints = cadence.Checkpoints(run, main, saved=start_epoch)
    printing = cadence.Printing(epochs, quiet)
    before = engine.layer_weights()  # one copy of the weights per epoch: the end of one is the start of the next
    start = next(iter(before.values())) if start_epoch == 0 else None  # the whole first layer, as initialised
    if start_epoch == 0:
        snapshots["epoch0"] = first_layer(before)
    # The thread count is restored after the report: a notebook's own threads are its business.
    with thread_policy(config, engine) as threads:
        try:
            for epoch in range(start_epoch, epochs):
                started = time.perf_counter()
                with progress_bar(len(splits.y_train), f"epoch {epoch + 1}/{epochs}", quiet, threads.check) as bar:
                    loss, acc = engine.train_epoch(epoch, epochs, bar.update)
                    if not math.isfinite(loss):
                        checkpoints.flush(snapshots)
                        raise NNLabError(f"the training loss became {loss} in epoch {epoch + 1}; lower --lr (now "
                                         f"{config['lr']:g}) or --batch-size. " + _what_is_kept(run, finished, main))
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
                    snapshots[f"epoch{epoch + 1}"] = first_layer(after)
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


# The weight-evolution picture needs the first layer at several epochs: all of a conv layer's kernels,
# the first SNAPSHOT_UNITS units of a dense layer (its full history would cost megabytes per epoch).
SNAPSHOT_UNITS = 16


def first_layer(layer_weights: dict[str, np.ndarray]) -> np.ndarray:
    W = next(iter(layer_weights.values()))
    return W if W.ndim == 4 else np.ascontiguousarray(W[:, :SNAPSHOT_UNITS])


def load_snapshots(run: Path, done: int | None = None) -> dict[str, np.ndarray]:
    """The snapshots `epochN` kept in `run` (up to epoch `done`). They only feed a picture: a damaged
    file costs that picture, with a note, never the run."""
    path = run / runs.SNAPSHOTS
    if done == 0 or not path.exists():
        return {}
    try:
        tensors, _ = runs.load_tensors(path)
    except NNLabError as e:
        print(f"note: {e}; the weight-evolution picture starts afresh")
        return {}
    epochs = {k: int(k[5:]) for k in tensors if k.startswith("epoch") and k[5:].isdigit()}
    return {k: tensors[k] for k, e in sorted(epochs.items(), key=lambda t: t[1]) if done is None or e <= done}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _loss_acc(P: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return log_loss(P, y), float(np.mean(P.argmax(axis=1) == y))


def evaluate(engine, ds: Dataset) -> dict[str, Any]:
    return summarize(engine.predict_proba(ds.X_test), ds.y_test, ds.classes)


def load_run(run: str | Path):
    """(config, engine with the trained weights) of a finished or interrupted run."""
    run = Path(run)
    config = runs.read_config(run)
    tensors, meta = runs.load_tensors(run / runs.MODEL)
    if meta.get("model") != config.get("model"):
        raise NNLabError(f"{run}: {runs.MODEL} holds a {meta.get('model')!r} model but the config says "
                         f"{config.get('model')!r}; the run directory was tampered with")
    with _settings_of(run):
        record = config["dataset"]
        engine = make_engine(config, record["n_features"], len(record["classes"]), record["image_shape"])
    engine.load_weights(tensors)
    return config, engine


@contextmanager
def _settings_of(run: Path):
    """A setting missing from a stored config (edited by hand, or written by another version) is the
    user's problem to fix, not a crash."""
    try:
        yield
    except KeyError as e:
        raise NNLabError(f"{run}/{runs.CONFIG} lacks the setting {e}; it was edited or written by another "
                         "nnlab version: restore it or train the run again") from None


def scaler_of(config: dict[str, Any]) -> Scaler:
    return Scaler.from_json(config["dataset"]["scaler"])


class progress_bar:
    """A tqdm bar over the samples of an epoch, on a terminal only (quiet in logs and pipes); `tick()`, if
    given, is called at every update, bar or not (the thread policy measures the machine there)."""

    def __init__(self, total: int, desc: str, quiet: bool, tick: Callable[[], None] | None = None):
        self.bar, self.tick = None, tick
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="sample", leave=False, dynamic_ncols=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

    def update(self, n: int, loss: float, accuracy: float) -> None:
        if self.tick is not None:
            self.tick()
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.4f}", refresh=False)
            self.bar.update(n)

