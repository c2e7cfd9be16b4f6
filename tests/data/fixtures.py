"""Tiny datasets written to disk in the formats users bring."""

from pathlib import Path

import numpy as np

from nnlab.data import write_idx


def write_idx_folder(folder: Path, n_train=40, n_test=10, size=6, n_classes=3, gz=True, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        y = np.arange(n) % n_classes
        X = (rng.integers(0, 60, (n, size, size)) + 60 * y[:, None, None]).astype(np.uint8)
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", X)
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", y.astype(np.uint8))
    return folder


def write_image_folder(folder: Path, classes=("cat", "dog"), per_class=5, size=(8, 6)) -> Path:
    from PIL import Image

    for k, name in enumerate(classes):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = np.full(size[::-1], 40 + 150 * k + i, dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i}.png")
    return folder
