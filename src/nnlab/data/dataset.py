"""One shape for every data source: `Dataset`, plus the steps every source shares.

Features are float32 rows (m x d); `image_shape` (channels, height, width) says how to fold a row
back into a picture. Labels are int64 in 0..k-1 and `classes[k]` names class k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from nnlab.errors import NNLabError, did_you_mean


@dataclass(frozen=True)
class Scaler:
    """How raw features become model inputs, fitted on the training split only.

    kind "pixels": divide by `pixel_max` (images keep their look, values in [0, 1]);
    kind "standardize": subtract `mean`, divide by `std` per feature.
    """

    kind: str
    pixel_max: float = 1.0
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @classmethod
    def fit(cls, X_raw: np.ndarray, is_image: bool, pixel_max: float | None = None) -> Scaler:
        if is_image:
            return cls("pixels", pixel_max=float(pixel_max or max(float(X_raw.max(initial=0)), 1.0)))
        X = X_raw.astype(np.float64)
        std = X.std(axis=0)
        std[std == 0] = 1.0  # a constant feature stays 0 instead of becoming NaN
        return cls("standardize", mean=X.mean(axis=0).astype(np.float32), std=std.astype(np.float32))

    def transform(self, X_raw: np.ndarray) -> np.ndarray:
        X = np.asarray(X_raw, dtype=np.float32)
        if self.kind == "pixels":
            return X * np.float32(1.0 / self.pixel_max)
        return (X - self.mean) / self.std

    def inverse(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "pixels":
            return X * np.float32(self.pixel_max)
        return X * self.std + self.mean

    def to_json(self) -> dict:
        if self.kind == "pixels":
            return {"kind": "pixels", "pixel_max": self.pixel_max}
        return {"kind": "standardize", "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> Scaler:
        if d.get("kind") == "pixels":
            return cls("pixels", pixel_max=float(d["pixel_max"]))
        return cls("standardize", mean=np.asarray(d["mean"], np.float32), std=np.asarray(d["std"], np.float32))


@dataclass(frozen=True)
class Dataset:
    """Train and test splits, ready for a model: scaled float32 features, int64 labels."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    image_shape: tuple[int, int, int] | None = None
    scaler: Scaler = field(default_factory=lambda: Scaler("pixels"))
    source: str = ""
    mirror_invariant: bool = False  # a left-right flipped image keeps its class (clothes yes, digits no)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def make_dataset(
    name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    classes: tuple[str, ...],
    image_shape: tuple[int, int, int] | None = None,
    pixel_max: float | None = None,
    source: str = "",
) -> Dataset:
    """Validate raw arrays, flatten them to rows and scale them (fitted on the training split)."""
    X_train, X_test = _rows(X_train, "training"), _rows(X_test, "test")
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    for split, X, y in (("training", X_train, y_train), ("test", X_test, y_test)):
        if len(X) == 0:
            raise NNLabError(f"{name}: the {split} split has no samples")
        if len(X) != len(y):
            raise NNLabError(f"{name}: {len(X)} {split} samples but {len(y)} labels; they must match")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(classes):
            bad = y[(y < 0) | (y >= len(classes))][:1] if np.issubdtype(y.dtype, np.number) else y[:1]
            raise NNLabError(
                f"{name}: {split} label {bad[0] if len(bad) else '?'} is outside the {len(classes)} "
                f"classes 0..{len(classes) - 1}; fix the labels or the class list"
            )
        if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
            raise NNLabError(f"{name}: the {split} split contains NaN or infinite values; clean the data")
    if X_train.shape[1] != X_test.shape[1]:
        raise NNLabError(
            f"{name}: training samples have {X_train.shape[1]} features, test samples {X_test.shape[1]}"
        )
    if image_shape is not None and int(np.prod(image_shape)) != X_train.shape[1]:
        raise NNLabError(f"{name}: image shape {image_shape} does not match {X_train.shape[1]} features")
    if len(np.unique(y_train)) < 2:
        raise NNLabError(f"{name}: the training split holds a single class; a classifier needs two or more")
    scaler = Scaler.fit(X_train, image_shape is not None, pixel_max)
    return Dataset(
        name=name,
        X_train=scaler.transform(X_train),
        y_train=y_train.astype(np.int64),
        X_test=scaler.transform(X_test),
        y_test=y_test.astype(np.int64),
        classes=tuple(str(c) for c in classes),
        image_shape=image_shape,
        scaler=scaler,
        source=source,
    )


def _rows(X: np.ndarray, split: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 1:
        raise NNLabError(f"the {split} features are one-dimensional; expected one row per sample")
    return X.reshape(len(X), math.prod(X.shape[1:]))  # (not -1: that fails for zero rows)


def select_classes(ds: Dataset, wanted: list[str]) -> Dataset:
    """Keep only the classes in `wanted` (indices or names), relabelled 0..k-1 in the given order.

    Two classes make a binary task: labels 0 and 1, names kept.
    """
    index = []
    for token in wanted:
        token = token.strip()
        if token in ds.classes:
            index.append(ds.classes.index(token))
        elif token.lstrip("-").isdigit() and 0 <= int(token) < ds.n_classes:
            index.append(int(token))
        else:
            known = ", ".join(f"{i}={c}" for i, c in enumerate(ds.classes))
            raise NNLabError(f"--classes: {token!r} is not a class of {ds.name}{did_you_mean(token, ds.classes)}; "
                             f"choose from {known}")
    if len(set(index)) != len(index) or len(index) < 2:
        raise NNLabError("--classes needs two or more different classes, e.g. --classes 0,6")
    lookup = np.full(ds.n_classes, -1, dtype=np.int64)
    lookup[index] = np.arange(len(index))

    def keep(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = lookup[y] >= 0
        return X[mask], lookup[y[mask]]

    X_train, y_train = keep(ds.X_train, ds.y_train)
    X_test, y_test = keep(ds.X_test, ds.y_test)
    return replace(
        ds,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        classes=tuple(ds.classes[i] for i in index),
        name=f"{ds.name}[{','.join(ds.classes[i] for i in index)}]",
    )


def validation_split(
    X: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out `fraction` of each class (seeded, so the same seed gives the same split); 0 holds out none."""
    if fraction == 0:
        return X, y, X[:0], y[:0]
    if not 0.0 < fraction < 1.0:
        raise NNLabError(f"--val-fraction must be at least 0 and below 1, got {fraction}")
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), dtype=bool)
    for k in np.unique(y):
        members = np.flatnonzero(y == k)
        n_val = int(round(fraction * len(members)))
        val[rng.choice(members, size=n_val, replace=False)] = True
    if not val.any() or val.all():
        raise NNLabError(f"--val-fraction {fraction} leaves an empty training or validation split")
    return X[~val], y[~val], X[val], y[val]


def stratified_test_split(y: np.ndarray, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """Boolean test mask for sources without their own test split: fixed seed, so every run agrees."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for k in np.unique(y):
        members = np.flatnonzero(y == k)
        n_test = max(1, int(round(test_fraction * len(members)))) if len(members) > 1 else 0
        test[rng.choice(members, size=n_test, replace=False)] = True
    return test


def each_class_in_turn(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of up to n samples, the first of each class in turn (in the data's order: 0, 1, 0, 1, ...), so that
    every class is in a small batch: the explain page's batch and the doctor's one batch to overfit."""
    queues = [list(np.flatnonzero(np.asarray(y) == k)) for k in np.unique(y)]
    picked: list[int] = []
    while len(picked) < min(n, len(y)):
        for q in queues:
            if q and len(picked) < n:
                picked.append(int(q.pop(0)))
    return np.array(picked, dtype=np.int64)
