"""Data layer: every source becomes a `Dataset` of scaled float32 rows and int64 labels."""

from __future__ import annotations

from pathlib import Path

from nnlab.data.catalog import CATALOG
from nnlab.data.dataset import Dataset, Scaler, select_classes, validation_split
from nnlab.data.idx import read_idx, write_idx
from nnlab.errors import NNLabError, did_you_mean

__all__ = ["Dataset", "Scaler", "load", "read_idx", "write_idx", "select_classes", "validation_split"]


def load(
    name_or_path: str, classes: list[str] | None = None, seed: int = 0, noise: float | None = None
) -> Dataset:
    """Load a named dataset (see `nnlab data list`) or a path: IDX folder, CSV file or image folder.

    `classes` keeps only those classes (indices or names); `seed` and `noise` shape the 2-D sets.
    """
    from nnlab.data.readers import find_idx_files, read_csv, read_idx_folder, read_image_folder

    if name_or_path in CATALOG:
        from nnlab.data.catalog import load_named

        ds = load_named(name_or_path, seed=seed, noise=noise)
    else:
        path = Path(name_or_path)
        if path.is_dir():
            ds = read_idx_folder(path, path.name) if find_idx_files(path) else read_image_folder(path)
        elif path.is_file() and path.suffix.lower() == ".csv":
            ds = read_csv(path)
        elif path.is_file():
            raise NNLabError(f"{path}: unknown data file; give a .csv file, an IDX folder or an image folder")
        else:
            names = ", ".join(CATALOG)
            hint = did_you_mean(name_or_path, CATALOG)
            raise NNLabError(f"unknown dataset {name_or_path!r}{hint}: not a name ({names}) nor an existing path")
    return select_classes(ds, classes) if classes else ds
