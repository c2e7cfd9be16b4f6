"""`nnlab data list|info|fetch`."""

from __future__ import annotations

import numpy as np

from nnlab.cli.options import name_list


def register(commands, common) -> None:
    p = commands.add_parser("data", help="list, describe and fetch datasets", parents=[common])
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(p))
    sub.required = True
    listing = sub.add_parser("list", help="the named datasets and whether they are here", parents=[common])
    listing.set_defaults(run=run_list)
    info = sub.add_parser("info", help="counts, shape and value range of a dataset", parents=[common])
    info.add_argument("data", metavar="NAME|PATH")
    info.add_argument("--classes", type=name_list, help="keep only these classes, e.g. 0,6; default: all")
    info.set_defaults(run=run_info)
    fetch = sub.add_parser("fetch", help="download a dataset into the cache", parents=[common])
    fetch.add_argument("name")
    fetch.set_defaults(run=run_fetch)


def run_list(args) -> None:
    from nnlab.data.catalog import CATALOG, is_available

    print(f"{'name':<14} {'source':<13} {'train/test':<12} {'here':<5} description")
    for e in CATALOG.values():
        here = is_available(e.name)
        print(f"{e.name:<14} {e.source:<13} {e.sizes:<12} {'yes' if here else 'no':<5} {e.description}")
        if not here:
            print(f"{'':<14} to get it: {e.how_to_get}")
    print("A path works too: a folder of IDX files, a CSV file (label column) or a folder of class folders.")


def run_info(args) -> None:
    from nnlab.data import load

    ds = load(args.data, classes=args.classes)
    print(f"dataset   {ds.name}")
    print(f"source    {ds.source}")
    print(f"samples   train {len(ds.y_train)}, test {len(ds.y_test)}")
    shape = "x".join(map(str, ds.image_shape)) + " image" if ds.image_shape else f"{ds.n_features} features"
    print(f"shape     {shape}")
    raw = ds.scaler.inverse(ds.X_train[:2000])
    print(f"values    raw {raw.min():g} .. {raw.max():g}, scaled by {ds.scaler.kind}")
    print(f"classes   {ds.n_classes}")
    train_counts = np.bincount(ds.y_train, minlength=ds.n_classes)
    test_counts = np.bincount(ds.y_test, minlength=ds.n_classes)
    for k, name in enumerate(ds.classes):
        print(f"  {k:>3}  {name:<20} train {train_counts[k]:>6}  test {test_counts[k]:>6}")


def run_fetch(args) -> None:
    from nnlab.data.fetch import fetch

    print(f"fetched into {fetch(args.name)}")

