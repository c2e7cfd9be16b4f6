import hashlib

import pytest

from nnlab.data import fetch as fetch_module
from nnlab.errors import NNLabError


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local 'server' (file:// URLs) holding two files, with their SHA-256 recorded."""
    served = tmp_path / "server"
    served.mkdir()
    files = {"a.gz": b"first file", "b.gz": b"second file"}
    for name, content in files.items():
        (served / name).write_bytes(content)
    digests = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    monkeypatch.setitem(fetch_module.SOURCES, "mnist", (served.as_uri() + "/", digests))
    return digests


def test_fetch_downloads_and_verifies(tmp_path, mirror):
    dest = fetch_module.fetch("mnist", tmp_path / "cache", progress=lambda s: None)
    assert (dest / "a.gz").read_bytes() == b"first file"
    assert not list(dest.glob("*.part"))
    said = []
    fetch_module.fetch("mnist", dest, progress=said.append)  # second time: nothing downloaded
    assert all("present, checksum ok" in s for s in said)


def test_fetch_with_a_wrong_checksum_keeps_nothing(tmp_path, mirror, monkeypatch):
    base, digests = fetch_module.SOURCES["mnist"]
    monkeypatch.setitem(fetch_module.SOURCES, "mnist", (base, {**digests, "b.gz": "0" * 64}))
    with pytest.raises(NNLabError, match="checksum mismatch"):
        fetch_module.fetch("mnist", tmp_path / "cache", progress=lambda s: None)
    assert not (tmp_path / "cache" / "b.gz").exists()
    assert not (tmp_path / "cache" / "b.gz.part").exists()


def test_fetch_unreachable_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(fetch_module.SOURCES, "mnist", ((tmp_path / "gone").as_uri() + "/", {"a.gz": "0" * 64}))
    with pytest.raises(NNLabError, match="cannot download .*copy the IDX files"):
        fetch_module.fetch("mnist", tmp_path / "cache", progress=lambda s: None)
