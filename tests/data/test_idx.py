import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnlab.data import read_idx, write_idx
from nnlab.data.idx import DTYPES
from nnlab.errors import NNLabError

NATIVE_DTYPES = [dt.newbyteorder("=") for dt in DTYPES.values()]


@settings(max_examples=60, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(NATIVE_DTYPES),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
        elements={"allow_nan": False},
    ),
    compressed=st.booleans(),
)
def test_write_then_read_gives_the_same_array(tmp_path_factory, array, compressed):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compressed else "a.idx")
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_with_the_dtype_code(tmp_path):
    write_idx(tmp_path / "a", np.arange(6, dtype=np.int16).reshape(2, 3))
    raw = (tmp_path / "a").read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0B, 2])
    assert struct.unpack(">2I", raw[4:12]) == (2, 3)
    assert struct.unpack(">6h", raw[12:]) == tuple(range(6))


def idx_bytes(code=0x08, shape=(2, 3), payload=None):
    data = payload if payload is not None else bytes(int(np.prod(shape)))
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x01\x00\x08\x01" + bytes(8), "bad magic"),
        (b"", "bad magic"),
        (idx_bytes(code=0x07), "unknown IDX dtype code 0x07"),
        (bytes([0, 0, 8, 0]), "0 dimensions"),
        (bytes([0, 0, 8, 3, 0, 0]), "truncated IDX header"),
        (idx_bytes(shape=(2, 3), payload=bytes(5)), "the file can hold at most 5 bytes"),
        (idx_bytes(shape=(2, 3), payload=bytes(7)), "more data than the header declares"),
        (idx_bytes(shape=(4_000_000_000, 4_000_000_000), payload=b""), "truncated or not IDX"),
    ],
)
def test_malformed_files_are_refused_with_a_message(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(NNLabError, match=message):
        read_idx(path)


def test_truncated_gzip_is_refused(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(idx_bytes(shape=(50, 50)))[:-12])
    with pytest.raises(NNLabError, match="corrupt gzip|truncated"):
        read_idx(path)


def test_gzip_whose_header_lies_about_the_size_is_refused(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(idx_bytes(shape=(10, 10), payload=bytes(40))))
    with pytest.raises(NNLabError, match="truncated: header declares shape \\(10, 10\\)"):
        read_idx(path)


def test_gzip_header_claiming_more_than_deflate_can_hold_is_refused_before_reading(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(idx_bytes(shape=(60000, 60000), payload=b"")))
    with pytest.raises(NNLabError, match="can hold at most"):
        read_idx(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(NNLabError, match="no such file"):
        read_idx(tmp_path / "nope")
    with pytest.raises(NNLabError, match="is a folder"):
        read_idx(tmp_path)


def test_write_refuses_unsupported_dtype(tmp_path):
    with pytest.raises(NNLabError, match="cannot write dtype"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=np.complex64))
    assert not (tmp_path / "a").exists()
