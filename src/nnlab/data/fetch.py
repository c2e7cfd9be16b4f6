"""Download the named IDX datasets into the cache: resumable, verified by SHA-256, atomic."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from nnlab.data.catalog import CATALOG, cache_dir
from nnlab.errors import NNLabError, did_you_mean

# Official locations; SHA-256 of the original .gz files (as recorded by TensorFlow Datasets).
SOURCES = {
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    ),
    "mnist": (
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
}
CHUNK = 1 << 20


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def fetch(name: str, dest: Path | None = None, progress=print) -> Path:
    """Download `name` into `dest` (default: the user cache). Files already verified are kept;
    a `.part` file left by an interrupted download is resumed."""
    if name not in CATALOG:
        raise NNLabError(f"unknown dataset {name!r}{did_you_mean(name, CATALOG)}; `nnlab data fetch` downloads "
                         f"{', '.join(SOURCES)}")
    if name not in SOURCES:
        raise NNLabError(f"`nnlab data fetch` downloads {', '.join(SOURCES)}; {name} needs no download")
    base_url, files = SOURCES[name]
    dest = dest or cache_dir() / name
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NNLabError(f"cannot create {dest}: {e.strerror}; set NNLAB_DATA to a writable folder") from e
    for filename, digest in files.items():
        target = dest / filename
        if target.is_file() and sha256(target) == digest:
            progress(f"{target}: present, checksum ok")
            continue
        _download(base_url + filename, target, digest, progress)
    return dest


def _download(url: str, target: Path, digest: str, progress) -> None:
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            resumed = response.status == 206
            with open(part, "ab" if resumed else "wb") as f:
                for block in iter(lambda: response.read(CHUNK), b""):
                    f.write(block)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or e
        raise NNLabError(
            f"cannot download {url}: {reason}; check the network, or copy the IDX files into "
            f"{target.parent} by hand (a partial download is kept and resumed next time)"
        ) from None
    if sha256(part) != digest:
        part.unlink()
        raise NNLabError(f"{url}: checksum mismatch (expected SHA-256 {digest}); run the fetch again")
    os.replace(part, target)
    progress(f"{target}: downloaded, checksum ok")
