"""`nnlab demo`: the main job on embedded data."""

from __future__ import annotations


def register(commands, common) -> None:
    p = commands.add_parser("demo", help="the main job on embedded data", parents=[common])
    p.add_argument("--out", default="runs", help="where runs are written (default: runs/)")
    p.set_defaults(run=run)


def run(args) -> None:
    from nnlab.data import load
    from nnlab.data.catalog import CATALOG, is_available

    for name in CATALOG:
        if name in ("fashion-mnist", "mnist") or not is_available(name):
            continue
        ds = load(name)
        print(f"{name:<14} train {len(ds.y_train):>5}  test {len(ds.y_test):>5}  "
              f"features {ds.n_features:>4}  classes {ds.n_classes}")
