"""Atomic file writing: a reader never sees a half-written file, a crash never leaves one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from nnlab.errors import NNLabError


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call `write(f)` on a temporary file beside `path`, fsync it, then rename it over `path`.

    A failure (disk full, no permission, a folder gone) leaves the old file as it was and becomes an
    NNLabError that names the file."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise NNLabError(f"cannot write {path}: {e.strerror}; check the folder, or choose another --out") from e
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise NNLabError(f"cannot write {path}: {e.strerror}; free some disk space or choose another "
                             "--out (the previous version of the file is untouched)") from e
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    write_atomic(path, lambda f: f.write(data))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))
