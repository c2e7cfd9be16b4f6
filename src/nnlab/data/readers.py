"""Datasets from the user's own files: a folder of IDX files, a CSV file, a folder of images."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import numpy as np

from nnlab.data.dataset import Dataset, make_dataset, stratified_test_split
from nnlab.data.idx import read_idx
from nnlab.errors import NNLabError

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def find_idx_files(folder: Path) -> dict[str, Path] | None:
    """The four MNIST-style files in `folder` (raw or .gz), or None if any is missing."""
    found = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def read_idx_folder(folder: Path, name: str, classes: tuple[str, ...] | None = None) -> Dataset:
    """An MNIST-style folder: train/t10k images (n x h x w) and labels (n)."""
    files = find_idx_files(folder)
    if files is None:
        wanted = ", ".join(f"{s}[.gz]" for s in IDX_FILES.values())
        raise NNLabError(f"{folder}: not an IDX dataset folder; it needs the files {wanted}")
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim not in (3, 4) or labels.ndim != 1:
            raise NNLabError(
                f"{files[f'{split}_images']}: expected images of shape (n, height, width) and labels (n), "
                f"got {images.shape} and {labels.shape}"
            )
        if len(images) != len(labels):
            raise NNLabError(
                f"{folder}: {len(images)} {split} images but {len(labels)} {split} labels; they must match"
            )
    images = arrays["train_images"]
    image_shape = (1, *images.shape[1:]) if images.ndim == 3 else tuple(images.shape[1:])
    if classes is None:  # a folder of your own: the labels must be the classes 0..k-1, each one trained on
        labels = arrays["train_labels"]
        n = int(max(labels.max(), arrays["test_labels"].max())) + 1
        missing = n - len(np.unique(labels[labels >= 0]))
        if missing:
            raise NNLabError(f"{folder}: the labels run up to {n - 1} but {missing} of the classes 0..{n - 1} have "
                             "no training image; number the classes 0..k-1 without gaps")
        classes = tuple(str(i) for i in range(n))
    pixel_max = 255.0 if images.dtype == np.uint8 else None
    return make_dataset(
        name,
        images,
        arrays["train_labels"],
        arrays["test_images"],
        arrays["test_labels"],
        classes,
        image_shape=image_shape,
        pixel_max=pixel_max,
        source=str(folder),
    )


def read_csv(path: Path) -> Dataset:
    """A CSV with a header row: the `label` column (else the last) is the class, the rest numbers.

    Labels may be numbers or names; without a test split of its own, a fixed 20% of each class
    is held out for testing so that every run on the file tests on the same rows.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise NNLabError(f"{path}: not a text CSV file ({e.reason}); save it as UTF-8 CSV") from e
    except OSError as e:
        raise NNLabError(f"{path}: cannot read: {e.strerror}") from e
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise NNLabError(f"{path}: empty CSV; it needs a header row and one row per sample")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise NNLabError(f"{path}: the CSV has a header but no data rows")
    if len(header) < 2:
        raise NNLabError(f"{path}: the CSV needs at least one feature column and a label column")
    label_col = header.index("label") if "label" in header else len(header) - 1
    features = np.empty((len(body), len(header) - 1), dtype=np.float64)
    labels = []
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise NNLabError(f"{path}: line {i} has {len(row)} fields but the header has {len(header)}")
        labels.append(row[label_col].strip())
        values = row[:label_col] + row[label_col + 1 :]
        names = header[:label_col] + header[label_col + 1 :]
        for j, (cell, col) in enumerate(zip(values, names)):
            try:
                v = float(cell)
            except ValueError:
                raise NNLabError(
                    f"{path}: line {i}, column {col!r}: {cell.strip()!r} is not a number; features must be numeric"
                    + ("" if "label" in header else
                       f" (if {col!r} holds the classes, name its header `label`: without one, the last column is "
                       "taken as the class)")
                ) from None
            if not math.isfinite(v):
                raise NNLabError(
                    f"{path}: line {i}, column {col!r}: {cell.strip()!r} is not a finite number; "
                    "remove or fill missing values"
                )
            features[i - 2, j] = v
    classes, y = _encode_labels(labels)
    if "label" not in header and len(classes) > max(20, len(body) // 2):
        # (more classes than half the rows: a measurement, not a class; a label column first is a common layout)
        raise NNLabError(f"{path}: the last column {header[-1]!r}, taken as the class for want of a `label` "
                         f"header, has {len(classes)} different values in {len(body)} rows; name the class "
                         "column's header `label`")
    if len(classes) < 2:
        raise NNLabError(f"{path}: every row has label {classes[0]!r}; a classifier needs two or more classes")
    test = stratified_test_split(y)
    if not test.any():
        raise NNLabError(f"{path}: too few rows to hold any out for testing; give each class 2 rows or more")
    return make_dataset(
        path.stem, features[~test], y[~test], features[test], y[test], classes, source=str(path)
    )


def _encode_labels(labels: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """Sorted class names (numerically when all labels are integers) and int labels."""
    unique = set(labels)
    if "" in unique:
        raise NNLabError("a row has an empty label; every row needs its class")
    try:
        order = sorted(unique, key=lambda s: int(s))
    except ValueError:
        order = sorted(unique)
    index = {c: i for i, c in enumerate(order)}
    return tuple(order), np.array([index[c] for c in labels], dtype=np.int64)


def read_image_folder(folder: Path) -> Dataset:
    """One sub-folder per class of PNG/JPEG images, read as grayscale.

    Images of another size than the most common one are resized to it. With `train/` and `test/`
    sub-folders those are the splits; otherwise a fixed 20% of each class is the test split.
    """
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        train_paths, train_classes = _list_images(folder / "train")
        test_paths, test_classes = _list_images(folder / "test")
        unknown = set(test_classes) - set(train_classes)
        if unknown:
            raise NNLabError(f"{folder}/test has classes the training folder lacks: {sorted(unknown)}")
        classes = tuple(sorted(train_classes))
        images, y = _load_images(train_paths + test_paths, classes)
        n = len(train_paths)
        return _image_dataset(folder, images[:n], y[:n], images[n:], y[n:], classes)
    paths, found = _list_images(folder)
    classes = tuple(sorted(found))
    images, y = _load_images(paths, classes)
    test = stratified_test_split(y)
    return _image_dataset(folder, images[~test], y[~test], images[test], y[test], classes)


def _list_images(folder: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    paths = [
        (p, sub.name)
        for sub in subfolders
        for p in sorted(sub.iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    ]
    if not paths:
        raise NNLabError(
            f"{folder}: no images found; an image folder needs one sub-folder per class holding "
            "PNG or JPEG files"
        )
    classes = sorted({c for _, c in paths})
    if len(classes) < 2:
        raise NNLabError(f"{folder}: only the class {classes[0]!r} has images; add a folder per class")
    return paths, classes


# Far beyond any image a small network is trained on; a file that claims more is refused before decoding
# (a PNG of a few KB can claim gigapixels).
MAX_IMAGE_PIXELS = 4096 * 4096


def read_grayscale(path: Path, fix: str):
    """The image at `path` as an 8-bit grayscale PIL image, or one clear error ending with `fix`."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise NNLabError(f"{path}: {im.width}x{im.height} pixels is larger than nnlab reads "
                                 f"({MAX_IMAGE_PIXELS:,} pixels); {fix}")
            return im.convert("L")
    except NNLabError:
        raise
    except Exception as e:  # noqa: BLE001 (PIL's decoders raise OSError, ValueError, SyntaxError, ... on bad data)
        raise NNLabError(f"{path}: not a readable image ({type(e).__name__}: {e}); {fix}") from None


def _load_images(paths: list[tuple[Path, str]], classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    pictures = [read_grayscale(path, "remove or replace it") for path, _ in paths]
    size = Counter(p.size for p in pictures).most_common(1)[0][0]
    resized = sum(p.size != size for p in pictures)
    if resized:
        print(f"note: resized {resized} of {len(pictures)} images to the most common size {size[0]}x{size[1]}")
    images = np.stack([np.asarray(p if p.size == size else p.resize(size, Image.BILINEAR)) for p in pictures])
    index = {c: i for i, c in enumerate(classes)}
    return images, np.array([index[c] for _, c in paths], dtype=np.int64)


def _image_dataset(folder, X_train, y_train, X_test, y_test, classes) -> Dataset:
    h, w = X_train.shape[1:]
    return make_dataset(
        folder.name, X_train, y_train, X_test, y_test, classes,
        image_shape=(1, h, w), pixel_max=255.0, source=str(folder),
    )
