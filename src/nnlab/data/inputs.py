"""Single inputs for `nnlab predict`: image files and .npy arrays, made into model rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnlab.data.dataset import Scaler
from nnlab.data.readers import IMAGE_SUFFIXES
from nnlab.errors import NNLabError


def read_input(path: Path, n_features: int, image_shape: tuple[int, int, int] | None,
               scaler: Scaler) -> tuple[np.ndarray, str | None]:
    """One file as a scaled row of `n_features` values, plus a notice when it had to be resized.

    PNG/JPEG: converted to grayscale and resized to the training images' size. .npy: raw values
    (as in the training files, e.g. pixels 0..255) of the training sample's shape, or flat.
    """
    if not path.is_file():
        raise NNLabError(f"{path}: no such file")
    suffix = path.suffix.lower()
    notice = None
    if suffix in IMAGE_SUFFIXES:
        if image_shape is None:
            raise NNLabError(f"{path}: this run was trained on {n_features} features, not images; "
                             f"give a .npy array of {n_features} values")
        raw, notice = _read_image(path, image_shape)
    elif suffix == ".npy":
        try:
            raw = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise NNLabError(f"{path}: not a readable .npy array ({e})") from None
        if raw.size != n_features or not np.issubdtype(raw.dtype, np.number):
            shape = "x".join(map(str, image_shape)) if image_shape else str(n_features)
            raise NNLabError(f"{path}: array of shape {raw.shape} and dtype {raw.dtype}; this run expects "
                             f"{n_features} numbers (shape {shape})")
        if not np.isfinite(raw).all():
            raise NNLabError(f"{path}: the array contains NaN or infinite values")
    else:
        raise NNLabError(f"{path}: unsupported file type {suffix or '(none)'}; give PNG, JPEG or .npy files")
    return scaler.transform(raw.reshape(1, -1)), notice


def _read_image(path: Path, image_shape: tuple[int, int, int]) -> tuple[np.ndarray, str | None]:
    from PIL import Image, UnidentifiedImageError

    _, h, w = image_shape
    try:
        with Image.open(path) as im:
            gray = im.convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise NNLabError(f"{path}: not a readable image ({e})") from None
    notice = None
    if gray.size != (w, h):
        notice = f"note: {path} resized from {gray.size[0]}x{gray.size[1]} to {w}x{h}"
        gray = gray.resize((w, h), Image.BILINEAR)
    return np.asarray(gray, dtype=np.float32), notice
