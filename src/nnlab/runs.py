"""The run directory: one writer and one reader for everything a training run leaves behind.

    RUN/config.json              every setting, the dataset, the seed, library versions
    RUN/checkpoint.safetensors   weights + optimiser state; the resume state (epoch, RNG, metrics
                                 so far) travels in the same file's metadata, so one atomic rename
                                 makes a checkpoint complete
    RUN/model.safetensors        the trained weights alone
    RUN/metrics.jsonl            one line per epoch
    RUN/summary.json             test metrics
    RUN/snapshots.safetensors    first-layer weights after each epoch (for the weight-evolution picture)
    RUN/start.safetensors        the whole first layer as initialised (the report shows what training added)
    RUN/figures/*.png, RUN/report.html

Everything is written atomically; nothing is ever loaded with pickle.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from nnlab.errors import NNLabError, did_you_mean
from nnlab.files import write_bytes_atomic, write_json_atomic

CONFIG = "config.json"
CHECKPOINT = "checkpoint.safetensors"
MODEL = "model.safetensors"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
SNAPSHOTS = "snapshots.safetensors"
START = "start.safetensors"
FORMAT = "nnlab-run/2"  # /2 keeps the settings apart from the facts of the run (training/record.py)
READABLE = ("nnlab-run/1", FORMAT)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._,+=@-]{0,199}$")


def new_run_dir(out: str | os.PathLike, name: str | None, default_name: str) -> Path:
    """Create OUT/NAME. A given --name must be new; the default name gets -2, -3, ... if taken."""
    out = Path(out)
    if name is not None and (not SAFE_NAME.match(name) or name in (".", "..")):
        raise NNLabError(f"--name {name!r} must be a plain folder name (letters, digits, . _ - , + = @), "
                         "not a path")
    candidate = name or _safe(default_name)
    run = out / candidate
    if name is not None and run.exists():
        raise NNLabError(f"run directory {run} exists; choose another --name, or continue it with --resume {run}")
    suffix = 2
    while run.exists():
        run, suffix = out / f"{candidate}-{suffix}", suffix + 1
    try:
        run.mkdir(parents=True)
    except OSError as e:
        raise NNLabError(f"cannot create the run directory {run}: {e.strerror}; choose a writable --out") from e
    return run


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._,+=@-]+", "_", text).strip("_.") or "run"


def remove_stale_temp_files(run: Path) -> None:
    """Temp files of atomic writes that a killed process left behind (the files they were to replace
    are intact: that is what the temp-and-rename is for)."""
    for path in [*run.glob(".*.tmp"), *run.glob("figures/.*.tmp")]:
        path.unlink(missing_ok=True)


def write_config(run: Path, config: dict[str, Any]) -> None:
    write_json_atomic(run / CONFIG, {"format": FORMAT, **config})


def read_config(run: str | os.PathLike) -> dict[str, Any]:
    """The config of an existing run; a clear error for a missing, foreign or damaged directory."""
    run = Path(run)
    if not run.is_dir():
        parent = run.parent if run.parent.is_dir() else None
        siblings = [p.name for p in parent.iterdir() if (p / CONFIG).is_file()] if parent is not None else []
        guess = did_you_mean(run.name, siblings)
        raise NNLabError(f"run directory {run} does not exist{guess}; give the folder `nnlab train` printed")
    config = read_json(run / CONFIG, what="run config")
    if not isinstance(config, dict) or config.get("format") not in READABLE:
        raise NNLabError(f"{run}: not an nnlab run directory ({CONFIG} has no format {FORMAT!r})")
    return config


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NNLabError(f"{path} is missing: the {what} was never written or was deleted; "
                         "train the run again") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise NNLabError(f"{path}: damaged {what} ({e}); restore it or train the run again") from None


def save_tensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Tensors in safetensors, with JSON metadata under the key `nnlab`."""
    from safetensors.numpy import save

    contiguous = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    write_bytes_atomic(path, save(contiguous, metadata={"nnlab": json.dumps(metadata)}))


def load_tensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The tensors and metadata written by `save_tensors`, or a clear error if damaged."""
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise NNLabError(f"{path} is missing; the run did not finish an epoch, or the file was deleted")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = json.loads((f.metadata() or {})["nnlab"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, KeyError, ValueError, OSError, json.JSONDecodeError) as e:
        raise NNLabError(f"{path}: damaged or not an nnlab weights file ({e}); "
                         "restore it or train the run again") from None
    return tensors, metadata


def write_metrics(run: Path, history: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(record) + "\n" for record in history)
    write_bytes_atomic(run / METRICS, text.encode("utf-8"))


def read_metrics(run: Path) -> list[dict[str, Any]]:
    path = run / METRICS
    if not path.is_file():
        return []
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise NNLabError(f"{path}: damaged metrics ({e}); train the run again") from None


def write_summary(run: Path, summary: dict[str, Any]) -> None:
    write_json_atomic(run / SUMMARY, summary)


# The weight-evolution picture needs the first layer at several epochs: all of a conv layer's kernels,
# the first SNAPSHOT_UNITS units of a dense layer (its full history would cost megabytes per epoch).
SNAPSHOT_UNITS = 16


def first_layer(layer_weights: dict[str, np.ndarray]) -> np.ndarray:
    """What SNAPSHOTS keeps of one epoch: the first layer's kernels, or its first SNAPSHOT_UNITS units."""
    W = next(iter(layer_weights.values()))
    return W if W.ndim == 4 else np.ascontiguousarray(W[:, :SNAPSHOT_UNITS])


def load_snapshots(run: Path, done: int | None = None) -> dict[str, np.ndarray]:
    """The snapshots `epochN` kept in `run` (up to epoch `done`). They only feed a picture: a damaged
    file costs that picture, with a note, never the run."""
    path = run / SNAPSHOTS
    if done == 0 or not path.exists():
        return {}
    try:
        tensors, _ = load_tensors(path)
    except NNLabError as e:
        print(f"note: {e}; the weight-evolution picture starts afresh")
        return {}
    epochs = {k: int(k[5:]) for k in tensors if k.startswith("epoch") and k[5:].isdigit()}
    return {k: tensors[k] for k, e in sorted(epochs.items(), key=lambda t: t[1]) if done is None or e <= done}
