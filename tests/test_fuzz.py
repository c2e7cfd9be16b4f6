"""Fuzzing: random and mutated bytes fed to every reader. Each must give a correct result or one clean
NNLabError, never another exception, a hang or a huge allocation.

`make test` runs a bounded number of examples per reader; a long run (see README):
    NNLAB_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlab import runs
from nnlab.data import Scaler, load, read_idx
from nnlab.data.idx import DTYPES
from nnlab.data.inputs import read_input
from nnlab.errors import NNLabError

EXAMPLES = int(os.environ.get("NNLAB_FUZZ_EXAMPLES", "60"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """A valid file with a few bytes flipped, inserted, deleted, or the tail cut off."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[at:at + draw(st.integers(1, 8))]
        elif op == "cut":
            del data[at:]
    return bytes(data)


def bytes_or_mutation(seed: bytes):
    return st.one_of(st.binary(max_size=200), mutated(seed))


def idx_file(shape=(3, 4, 4)) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + bytes(range(48))


def clean_or_correct(read):
    """Run `read()`; an NNLabError is a clean refusal, anything else must be returned, not raised."""
    try:
        return read()
    except NNLabError:
        return None


@fuzz
@given(data=bytes_or_mutation(idx_file()), compressed=st.booleans())
def test_idx_reader(tmp_path, data, compressed):
    path = tmp_path / "f.idx"
    path.write_bytes(gzip.compress(data) if compressed else data)
    array = clean_or_correct(lambda: read_idx(path))
    if array is not None:  # what was read is what the header declares
        header = data[:4]
        assert header[:2] == b"\0\0" and header[2] in DTYPES and array.ndim == header[3]
        assert array.nbytes == len(data) - 4 - 4 * array.ndim


@fuzz
@given(data=mutated(gzip.compress(idx_file())))
def test_idx_reader_on_damaged_gzip(tmp_path, data):
    path = tmp_path / "f.idx"
    path.write_bytes(data)
    clean_or_correct(lambda: read_idx(path))


CSV = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n1.5,2.5,x\n3,4.5,y\n"


@fuzz
@given(data=bytes_or_mutation(CSV))
def test_csv_reader(tmp_path, data):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    ds = clean_or_correct(lambda: load(str(path)))
    if ds is not None:
        assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_test).all()
        assert ds.n_classes >= 2 and set(np.unique(ds.y_train)) <= set(range(ds.n_classes))


def png_bytes(size=(6, 6), value=128) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, format="PNG")
    return buffer.getvalue()


@fuzz
@given(data=bytes_or_mutation(png_bytes()))
def test_image_folder_reader(tmp_path, data):
    for k, cls in enumerate(("cat", "dog")):
        (tmp_path / "imgs" / cls).mkdir(parents=True, exist_ok=True)
        for i in range(3):
            (tmp_path / "imgs" / cls / f"{i}.png").write_bytes(png_bytes(value=60 + 100 * k + i))
    (tmp_path / "imgs" / "cat" / "fuzz.png").write_bytes(data)
    ds = clean_or_correct(lambda: load(str(tmp_path / "imgs")))
    if ds is not None:
        assert ds.image_shape[0] == 1 and np.isfinite(ds.X_train).all()


PIXELS = Scaler.from_json({"kind": "pixels", "pixel_max": 255.0})


@fuzz
@given(data=bytes_or_mutation(png_bytes()), suffix=st.sampled_from([".png", ".jpg"]))
def test_predict_image_input(tmp_path, data, suffix):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(data)
    row = clean_or_correct(lambda: read_input(path, 36, (1, 6, 6), PIXELS))
    if row is not None:
        x, _ = row
        assert x.shape == (1, 36) and np.isfinite(x).all()


def npy_bytes() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(36, dtype=np.float32).reshape(6, 6))
    return buffer.getvalue()


@fuzz
@given(data=bytes_or_mutation(npy_bytes()))
def test_predict_npy_input(tmp_path, data):
    path = tmp_path / "x.npy"
    path.write_bytes(data)
    row = clean_or_correct(lambda: read_input(path, 36, (1, 6, 6), PIXELS))
    if row is not None:
        assert row[0].shape == (1, 36) and np.isfinite(row[0]).all()


def safetensors_bytes() -> bytes:
    from safetensors.numpy import save

    return save({"W1": np.ones((3, 2), np.float32), "b1": np.zeros(2, np.float32)},
                metadata={"nnlab": json.dumps({"model": "scratch", "epoch": 1})})


@fuzz
@given(data=bytes_or_mutation(safetensors_bytes()))
def test_weights_reader(tmp_path, data):
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    got = clean_or_correct(lambda: runs.load_tensors(path))
    if got is not None:
        tensors, metadata = got
        assert all(isinstance(v, np.ndarray) for v in tensors.values())


@fuzz
@given(data=bytes_or_mutation(json.dumps({"format": runs.FORMAT, "model": "scratch", "epochs": 3}).encode()))
def test_config_reader(tmp_path, data):
    (tmp_path / "run").mkdir(exist_ok=True)
    (tmp_path / "run" / runs.CONFIG).write_bytes(data)
    config = clean_or_correct(lambda: runs.read_config(tmp_path / "run"))
    if config is not None:
        assert config["format"] == runs.FORMAT


@pytest.mark.parametrize("header", [
    b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }",
    b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (3,), }",
])
def test_npy_whose_header_claims_too_much_is_refused_without_allocating(tmp_path, header):
    path = tmp_path / "x.npy"
    path.write_bytes(header.ljust(128, b" ")[:127] + b"\n")
    with pytest.raises(NNLabError):
        read_input(Path(path), 36, (1, 6, 6), PIXELS)
