"""Single inputs for `nnlab predict`: image files and .npy arrays, made into model rows."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from nnlab.data.dataset import Scaler
from nnlab.data.readers import IMAGE_SUFFIXES, read_grayscale
from nnlab.errors import NNLabError


def read_input(path: Path, n_features: int, image_shape: tuple[int, int, int] | None,
               scaler: Scaler, background: float | None = None) -> tuple[np.ndarray, str | None]:
    """One file as a scaled row of `n_features` values, plus a notice when it had to be resized or inverted.

    PNG/JPEG: converted to grayscale and resized to the training images' size, and inverted where its border
    is light and the training images' `background` (their border's brightness, 0 to 1) dark, or the other way
    round. .npy: raw values (as in the training files, e.g. pixels 0..255) of the training sample's shape, or flat.
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
        if background is not None:
            raw, inverted = _same_polarity(raw, background, scaler.pixel_max if scaler.kind == "pixels" else 255.0)
            if inverted:
                notice = "\n".join(filter(None, [notice, f"note: {path} is drawn {inverted}: inverted, to match "
                                                 "the training images"]))
    elif suffix == ".npy":
        raw = _read_npy(path, n_features, image_shape)
        if not np.isfinite(raw).all():
            raise NNLabError(f"{path}: the array contains NaN or infinite values")
    else:
        raise NNLabError(f"{path}: unsupported file type {suffix or '(none)'}; give PNG, JPEG or .npy files")
    return scaler.transform(raw.reshape(1, -1)), notice


def _read_npy(path: Path, n_features: int, image_shape) -> np.ndarray:
    """A numeric .npy array of n_features values. The header is checked before the data are read:
    a header may claim any shape, and object arrays would need pickle."""
    expected = "x".join(map(str, image_shape)) if image_shape else str(n_features)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise NNLabError(f"{path}: .npy format version {version} is not supported; save it with numpy.save")
            with warnings.catch_warnings():  # a mangled header can make numpy's parser warn
                warnings.simplefilter("ignore")
                shape, _, dtype = read_header(f)
            if math.prod(shape) != n_features or not np.issubdtype(dtype, np.number) or dtype.hasobject:
                raise NNLabError(f"{path}: array of shape {shape} and dtype {dtype}; this run expects "
                                 f"{n_features} numbers (shape {expected})")
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except NNLabError:
        raise
    except Exception as e:  # noqa: BLE001 (numpy raises ValueError, OSError, EOFError, SyntaxError, ...)
        raise NNLabError(f"{path}: not a readable .npy array ({type(e).__name__}: {e})") from None


def _same_polarity(raw: np.ndarray, background: float, pixel_max: float) -> tuple[np.ndarray, str | None]:
    """The image, inverted if its border's brightness is on the other side of mid-grey from the training images'
    (a dark digit on white paper against MNIST's white on black), and what it was drawn as, if inverted."""
    ring = np.concatenate([raw[0], raw[-1], raw[:, 0], raw[:, -1]]) / pixel_max
    if (ring.mean() > 0.5) == (background > 0.5):
        return raw, None
    return pixel_max - raw, "dark on light" if ring.mean() > 0.5 else "light on dark"


def _read_image(path: Path, image_shape: tuple[int, int, int]) -> tuple[np.ndarray, str | None]:
    from PIL import Image

    _, h, w = image_shape
    gray = read_grayscale(path, "give a PNG or JPEG image")
    notice = None
    if gray.size != (w, h):
        notice = f"note: {path} resized from {gray.size[0]}x{gray.size[1]} to {w}x{h}"
        gray = gray.resize((w, h), Image.BILINEAR)
    return np.asarray(gray, dtype=np.float32), notice
