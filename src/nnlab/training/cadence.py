"""How often a run writes its checkpoint and prints a line: by the clock, not by the epoch.

A checkpoint is four fsynced files (checkpoint, model, metrics, snapshots); on small data writing them took ten
times longer than the epoch (200 iris epochs: 3.2 s of saving against 0.37 s of training), and hundreds of
epochs printed hundreds of lines in a second.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnlab import runs


@dataclass
class Saved:
    """Everything a checkpoint of one finished epoch writes, copied so that training on cannot change it."""

    kind: str
    epoch: int
    tensors: dict[str, np.ndarray]
    state: dict[str, Any]
    weights: dict[str, np.ndarray]
    history: list
    train_seconds: float
    wall_seconds: float


def write_checkpoint(run: Path, saved: Saved) -> None:
    runs.save_tensors(run / runs.CHECKPOINT, saved.tensors,
                      {**saved.state, "model": saved.kind, "epoch": saved.epoch, "history": saved.history,
                       "train_seconds": saved.train_seconds, "wall_seconds": saved.wall_seconds})
    runs.save_tensors(run / runs.MODEL, saved.weights, {"model": saved.kind, "epoch": saved.epoch})
    runs.write_metrics(run, saved.history)


# A run saves its first epoch (something to resume at once), then at most every CHECKPOINT_SECONDS (longer if a
# save is slow: saving stays under CHECKPOINT_SHARE of the time), its last epoch, and the last finished epoch
# when Ctrl-C or a diverging loss stops it. A kill loses at most the epochs since the last save; a resume from
# there ends exactly where the straight run ends (tests/training/test_faults.py).
CHECKPOINT_SECONDS = 5.0
CHECKPOINT_SHARE = 0.05


class Checkpoints:
    """The checkpoint cadence of one session of a run: `finished` after each epoch, `flush` to write it."""

    def __init__(self, run: Path, main: bool, saved: int):
        self.run, self.main, self.saved = run, main, saved
        self.pending: Saved | None = None
        self.weight_names: list[str] | None = None  # which of the state's tensors model.safetensors holds
        self.last_write, self.write_cost = time.perf_counter(), 0.0

    def finished(self, engine, epoch: int, history: list, train_seconds: float, wall_seconds: float) -> None:
        tensors, state = engine.state()
        copy = {k: np.array(v, copy=True) for k, v in tensors.items()}  # (views of live weights otherwise)
        if self.weight_names is None:  # (the same every epoch: not worth a second pass over the weights)
            self.weight_names = list(engine.weights())
        self.pending = Saved(engine.kind, epoch, copy, state, {k: copy[k] for k in self.weight_names},
                             list(history), train_seconds, wall_seconds)

    def due(self, epoch: int, epochs: int) -> bool:
        if epoch == epochs or self.saved == 0:
            return True
        waited = time.perf_counter() - self.last_write
        return waited >= max(CHECKPOINT_SECONDS, self.write_cost / CHECKPOINT_SHARE)

    def flush(self, snapshots: dict[str, np.ndarray]) -> None:
        """Write the last finished epoch, if it is not on disk yet (rank 0 only)."""
        if not self.main or self.pending is None or self.pending.epoch == self.saved:
            return
        started = time.perf_counter()
        write_checkpoint(self.run, self.pending)
        kept = {k: v for k, v in snapshots.items() if k == "epoch0" or int(k[5:]) <= self.pending.epoch}
        runs.save_tensors(self.run / runs.SNAPSHOTS, kept, {"what": "first-layer weights by epoch"})
        self.saved, self.last_write = self.pending.epoch, time.perf_counter()
        self.write_cost = self.last_write - started


# Hundreds of epochs of small data would print hundreds of lines in a second or two: a run prints at most
# about PRINTED_LINES epoch lines, evenly spaced, the last always, and a line at least every PRINT_SECONDS.
PRINTED_LINES = 25
PRINT_SECONDS = 10.0


class Printing:
    """Which epochs get their line."""

    def __init__(self, epochs: int, quiet: bool):
        self.every, self.quiet, self.last = max(1, math.ceil(epochs / PRINTED_LINES)), quiet, time.perf_counter()
        self.epochs = epochs

    def due(self, epoch: int) -> bool:
        now = time.perf_counter()
        if self.quiet or not (epoch % self.every == 0 or epoch == self.epochs or now - self.last >= PRINT_SECONDS):
            return False
        self.last = now
        return True
