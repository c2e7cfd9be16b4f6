"""The IDX format of MNIST and Fashion-MNIST: reader and writer, raw or gzip.

Layout: two zero bytes, a dtype code, the number of dimensions n, then n big-endian uint32 sizes,
then the values in big-endian, C order. Every claim of the header is checked against the bytes
that are really there before anything large is allocated.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from nnlab.errors import NNLabError
from nnlab.files import write_bytes_atomic

# IDX dtype code -> big-endian NumPy dtype.
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES = {dt.newbyteorder("="): code for code, dt in DTYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot compress better than about 1032:1, so a gzip of c bytes holds at most this many.
MAX_DEFLATE_RATIO = 1032
MAX_DIMS = 8


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or .gz) into a native-endian array, validating it fully."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            compressed = f.read(2) == GZIP_MAGIC
            size_on_disk = os.fstat(f.fileno()).st_size
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f) if compressed else f
            try:
                return _read_stream(stream, path, size_on_disk, compressed)
            except (OSError, EOFError, zlib.error) as e:
                if isinstance(e, FileNotFoundError):
                    raise
                raise NNLabError(f"{path}: corrupt gzip data ({e}); download the file again") from e
    except FileNotFoundError as e:
        raise NNLabError(f"{path}: no such file") from e
    except IsADirectoryError as e:
        raise NNLabError(f"{path}: is a folder, expected an IDX file") from e
    except PermissionError as e:
        raise NNLabError(f"{path}: permission denied; check the file's permissions") from e


def _read_stream(stream: io.BufferedIOBase, path: Path, size_on_disk: int, compressed: bool) -> np.ndarray:
    header = stream.read(4)
    if len(header) < 4 or header[0] != 0 or header[1] != 0:
        raise NNLabError(f"{path}: not an IDX file (bad magic number); expected 00 00 <type> <dims>")
    code, ndim = header[2], header[3]
    if code not in DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in DTYPES)
        raise NNLabError(f"{path}: unknown IDX dtype code 0x{code:02X}; known codes are {known}")
    if not 1 <= ndim <= MAX_DIMS:
        raise NNLabError(f"{path}: IDX header declares {ndim} dimensions; expected 1 to {MAX_DIMS}")
    raw_sizes = stream.read(4 * ndim)
    if len(raw_sizes) < 4 * ndim:
        raise NNLabError(f"{path}: truncated IDX header; the file ends inside the dimension sizes")
    shape = struct.unpack(f">{ndim}I", raw_sizes)
    dtype = DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a lying header cannot overflow

    # Refuse a lying header before allocating anything it asks for.
    room = size_on_disk * MAX_DEFLATE_RATIO if compressed else size_on_disk - 4 - 4 * ndim
    if expected > room:
        raise NNLabError(
            f"{path}: IDX header declares shape {shape} ({expected:,} bytes) but the file can hold "
            f"at most {max(room, 0):,} bytes; the file is truncated or not IDX"
        )
    data = stream.read(expected + 1)  # one byte more, to notice trailing data
    if len(data) < expected:
        raise NNLabError(
            f"{path}: truncated: header declares shape {shape} ({expected:,} bytes of data) but only "
            f"{len(data):,} bytes follow; download the file again"
        )
    if len(data) > expected:
        raise NNLabError(
            f"{path}: more data than the header declares for shape {shape}; the file is corrupt"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` as IDX (gzip-compressed when `path` ends in .gz), atomically."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in CODES:
        names = ", ".join(sorted(str(d) for d in CODES))
        raise NNLabError(f"cannot write dtype {array.dtype} as IDX; convert the array to one of {names}")
    if not 1 <= array.ndim <= MAX_DIMS:
        raise NNLabError(f"IDX holds 1 to {MAX_DIMS} dimensions, the array has {array.ndim}")
    header = bytes([0, 0, CODES[native], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=DTYPES[CODES[native]]).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    write_bytes_atomic(path, payload)
