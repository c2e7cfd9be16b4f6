import pytest

from nnlab.errors import NNLabError
from nnlab.files import write_atomic, write_bytes_atomic


def test_atomic_write_replaces_whole_files(tmp_path):
    path = tmp_path / "a.json"
    write_bytes_atomic(path, b"one")
    write_bytes_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "a.json"
    write_bytes_atomic(path, b"old")

    def disk_full(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(NNLabError, match="cannot write .*a.json: No space left on device"):
        write_atomic(path, disk_full)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_writing_into_a_missing_or_non_folder_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NNLabError, match="cannot write"):
        write_bytes_atomic(tmp_path / "file" / "a.json", b"x")


def test_written_files_get_the_users_usual_permissions_not_private_ones(tmp_path):
    import os
    import stat

    old = os.umask(0o027)
    try:
        write_bytes_atomic(tmp_path / "a.json", b"{}")
        (tmp_path / "b.json").write_bytes(b"{}")  # what open() gives under the same umask
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "a.json").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o640
