"""Bad input, one clean error each: every case exits 2 with one `error:` line naming the problem, shows
no traceback, writes nothing, and leaves an existing run directory byte for byte as it was.

The table runs the CLI in-process (`nnlab.cli.main`), so a hundred cases cost seconds; the CLI tests
elsewhere run it as a subprocess, as a user would.
"""

from __future__ import annotations

import gzip
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from nnlab.cli import main
from tests.data.fixtures import write_idx_folder, write_image_folder


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes: the before/after picture of 'nothing written'."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def idx(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A finished run to protect, damaged copies of it, and a folder of malformed data files."""
    root = tmp_path_factory.mktemp("world")
    out = root / "runs"
    assert main(["train", "scratch", "--data", "moons", "--epochs", "2", "--hidden", "4", "--out", str(out),
                 "--name", "good", "--quiet"]) == 0
    good = out / "good"

    def damaged(name: str, damage) -> None:
        copy = root / "damaged" / name
        shutil.copytree(good, copy)
        damage(copy)

    def truncate(path: Path) -> None:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])

    def flip_header(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[12] ^= 0xFF  # inside the JSON header of the safetensors file
        path.write_bytes(bytes(raw))

    def other_kind(run: Path) -> None:  # the settings of a CNN beside a scratch network's weights
        from nnlab.training.config import TrainConfig

        config = json.loads((run / "config.json").read_text())
        config["settings"] = TrainConfig.create("cnn", config["settings"]["data"], epochs=2).to_dict()
        (run / "config.json").write_text(json.dumps(config))

    def drop_setting(name: str):
        def do(run: Path) -> None:
            config = json.loads((run / "config.json").read_text())
            del config["settings"][name]
            (run / "config.json").write_text(json.dumps(config))
        return do

    def wrong_shape(run: Path) -> None:
        from safetensors.numpy import load_file, save_file

        tensors = load_file(run / "model.safetensors")
        tensors["W1"] = np.zeros((2, 5), np.float32)
        raw = (run / "model.safetensors").read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        metadata = json.loads(raw[8:8 + n])["__metadata__"]
        save_file(tensors, run / "model.safetensors", metadata=metadata)

    damaged("no-config", lambda r: (r / "config.json").unlink())
    damaged("broken-config", lambda r: (r / "config.json").write_text('{"format": "nnlab-run/1", "mod'))
    damaged("foreign-config", lambda r: (r / "config.json").write_text('{"hello": 1}'))
    damaged("config-list", lambda r: (r / "config.json").write_text("[1, 2]"))
    damaged("other-kind", other_kind)
    damaged("setting-missing", drop_setting("hidden"))
    damaged("no-model", lambda r: (r / "model.safetensors").unlink())
    damaged("truncated-model", lambda r: truncate(r / "model.safetensors"))
    damaged("edited-model", lambda r: flip_header(r / "model.safetensors"))
    damaged("wrong-shape-model", wrong_shape)
    damaged("no-checkpoint", lambda r: (r / "checkpoint.safetensors").unlink())
    damaged("truncated-checkpoint", lambda r: truncate(r / "checkpoint.safetensors"))
    damaged("edited-checkpoint", lambda r: flip_header(r / "checkpoint.safetensors"))
    damaged("broken-metrics", lambda r: (r / "metrics.jsonl").write_text('{"epoch": 1,\n'))
    damaged("broken-snapshots", lambda r: truncate(r / "snapshots.safetensors"))
    damaged("broken-summary", lambda r: (r / "summary.json").write_text("{"))

    bad = root / "bad"
    bad.mkdir()
    # IDX folders whose training images are malformed in one way each
    for name, content in {
        "magic": b"\x01\x02\x08\x01" + bytes(8),
        "dtype": idx(0x07, (2,), bytes(2)),
        "truncated": idx(0x08, (10, 4), bytes(7)),
        "lying": idx(0x08, (4_000_000_000, 4_000_000_000), b""),
        "trailing": idx(0x08, (2,), bytes(5)),
        "corrupt-gz": gzip.compress(idx(0x08, (3,), bytes(3)))[:-6] + b"garbage",
        "bomb-gz": idx(0x08, (4,), bytes(50_000_000)),  # decompresses far past shape (4,)
    }.items():
        folder = write_idx_folder(bad / f"idx-{name}", gz=name.endswith("gz"))
        target = "train-images-idx3-ubyte" + (".gz" if name.endswith("gz") else "")
        (folder / target).write_bytes(gzip.compress(content) if name == "bomb-gz" else content)
    files = {
        "nan.csv": b"a,b,label\n1,nan,x\n2,3,y\n",
        "text.csv": b"a,b,label\n1,hello,x\n2,3,y\n",
        "ragged.csv": b"a,b,label\n1,2,x\n2,3\n",
        "oneclass.csv": b"a,b,label\n1,2,x\n2,3,x\n",
        "norows.csv": b"a,b,label\n",
        "empty.csv": b"",
        "magic.idx": bytes(16),
        "binary.csv": bytes(range(256)) * 4,
        "x.txt": b"hello",
        "bad.png": b"\x89PNG\r\n\x1a\nnot really",
        "wrong.npy": b"",
    }
    for name, content in files.items():
        (bad / name).write_bytes(content)
    np.save(bad / "wrong.npy", np.zeros(7, np.float32))
    np.save(bad / "object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (bad / "empty-folder").mkdir()
    one = write_image_folder(bad / "one-class-images", classes=("cat",), per_class=4)
    assert one.is_dir()
    broken = write_image_folder(bad / "broken-images", classes=("cat", "dog"), per_class=3)
    (broken / "cat" / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    mismatch = write_idx_folder(bad / "count-mismatch", gz=False)
    (mismatch / "train-labels-idx1-ubyte").write_bytes(idx(0x08, (3,), bytes(3)))
    out_of_range = write_idx_folder(bad / "labels-out-of-range", gz=False)
    (out_of_range / "train-labels-idx1-ubyte").write_bytes(idx(0x08, (40,), bytes([0, 1, 2, 250]) * 10))
    return root


def case(*argv: str, expect: str):
    return pytest.param(list(argv), expect, id=" ".join(argv)[:70])


GOOD, DAMAGED, BAD = "{runs}/good", "{root}/damaged", "{root}/bad"
TRAIN = ("train", "scratch", "--out", "{root}/new-runs", "--quiet")

CASES = [
    # --- data the readers refuse (through `data info` and through `train`) ---
    case("data", "info", f"{BAD}/idx-magic", expect="bad magic"),
    case("data", "info", f"{BAD}/idx-dtype", expect="unknown IDX dtype code 0x07"),
    case("data", "info", f"{BAD}/idx-truncated", expect="can hold at most"),
    case(*TRAIN, "--data", f"{BAD}/idx-lying", expect="truncated or not IDX"),
    case(*TRAIN, "--data", f"{BAD}/idx-trailing", expect="more data than the header declares"),
    case("data", "info", f"{BAD}/idx-corrupt-gz", expect="corrupt gzip"),
    case("data", "info", f"{BAD}/idx-bomb-gz", expect="more data than the header declares"),
    case("data", "info", f"{BAD}/magic.idx", expect="unknown data file"),
    case(*TRAIN, "--data", f"{BAD}/count-mismatch", expect="40 train images but 3 train labels"),
    case(*TRAIN, "--data", f"{BAD}/labels-out-of-range", expect="labels run up to 250"),
    case(*TRAIN, "--data", f"{BAD}/nan.csv", expect="not a finite number"),
    case(*TRAIN, "--data", f"{BAD}/text.csv", expect="'hello' is not a number"),
    case(*TRAIN, "--data", f"{BAD}/ragged.csv", expect="line 3 has 2 fields"),
    case(*TRAIN, "--data", f"{BAD}/oneclass.csv", expect="every row has label 'x'"),
    case(*TRAIN, "--data", f"{BAD}/norows.csv", expect="no data rows"),
    case(*TRAIN, "--data", f"{BAD}/empty.csv", expect="empty CSV"),
    case(*TRAIN, "--data", f"{BAD}/binary.csv", expect="binary.csv"),
    case(*TRAIN, "--data", f"{BAD}/x.txt", expect="x.txt"),
    case(*TRAIN, "--data", f"{BAD}/empty-folder", expect="empty-folder"),
    case(*TRAIN, "--data", f"{BAD}/one-class-images", expect="class"),
    case(*TRAIN, "--data", f"{BAD}/broken-images", expect="zz.png"),
    case(*TRAIN, "--data", "{root}/does-not-exist", expect="does-not-exist"),
    case(*TRAIN, "--data", "no-such-set", expect="no-such-set"),
    case("train", "transformer", "--data", "moons", expect="invalid choice"),
    case("data", "fetch", "no-such-set", expect="no-such-set"),
    # --- shapes that do not fit the model, classes that do not exist ---
    case("train", "cnn", "--data", "moons", "--out", "{root}/new-runs", expect="the CNN needs image data"),
    case(*TRAIN, "--data", "mnist-5k", "--classes", "3,x", expect="x"),
    case(*TRAIN, "--data", "mnist-5k", "--classes", "3", expect="two or more different classes"),
    case(*TRAIN, "--data", "moons", "--classes", "0,0", expect="0"),
    case("predict", GOOD, f"{BAD}/wrong.npy", expect="expects 2 numbers"),
    case("predict", GOOD, f"{BAD}/object.npy", expect="object.npy"),
    case("predict", GOOD, f"{BAD}/bad.png", expect="trained on 2 features, not images"),
    case("predict", GOOD, f"{BAD}/x.txt", expect="unsupported file type .txt"),
    case("predict", GOOD, "{root}/missing.npy", expect="missing.npy"),
    # --- every numeric option out of range ---
    *[case(*TRAIN, "--data", "moons", option, value, expect=option)
      for option, values in {
          "--epochs": ("0", "-3", "2.5", "many"), "--batch-size": ("0", "-1"),
          "--lr": ("0", "-0.1", "nan", "inf"), "--hidden": ("0", "8,-1", "a"),
          "--weight-decay": ("-1", "nan"), "--momentum": ("-0.5", "1", "nan"),
          "--val-fraction": ("1", "-0.1", "nan"), "--noise": ("-1", "inf"), "--seed": ("-1", "x"),
      }.items() for value in values],
    *[case("train", "mlp", "--data", "moons", "--out", "{root}/new-runs", option, value, expect=option)
      for option, value in (("--dropout", "1"), ("--dropout", "-0.1"), ("--label-smoothing", "1"))],
    case("train", "cnn", "--data", "mnist-5k", "--out", "{root}/new-runs", "--widths", "0", expect="--widths"),
    *[case("gradcheck", option, value, expect=option)
      for option, value in (("--classes", "1"), ("--classes", "x"), ("--hidden", "0"), ("--seed", "-1"))],
    case("train", "--resume", GOOD, "--epochs", "0", expect="--epochs"),
    case("train", "--resume", GOOD, "--epochs", "1", expect="already trained 2 epochs"),
    # --- run directories: missing, incomplete, of another kind, tampered ---
    *[case(command, *([f"{DAMAGED}/{name}"] if command != "resume" else []), *extra, expect=fragment)
      for name, fragment in {
          "no-config": "config.json is missing", "broken-config": "config.json", "foreign-config": "not an nnlab run",
          "config-list": "not an nnlab run", "other-kind": "tampered", "no-model": "model.safetensors is missing",
          "truncated-model": "damaged", "edited-model": "damaged", "wrong-shape-model": "does not fit",
          "setting-missing": "lacks the setting 'hidden'",
      }.items()
      for command, extra in (("eval", ()), ("viz", ()))],
    *[case("train", "--resume", f"{DAMAGED}/{name}", "--epochs", "3", expect=fragment)
      for name, fragment in {
          "no-checkpoint": "checkpoint.safetensors is missing", "truncated-checkpoint": "damaged",
          "edited-checkpoint": "damaged", "broken-config": "config.json", "other-kind": "tampered",
          "setting-missing": "lacks the setting 'hidden'",
      }.items()],
    case("viz", f"{DAMAGED}/broken-metrics", expect="damaged metrics"),
    case("viz", f"{DAMAGED}/broken-summary", expect="summary"),
    case("eval", "{root}/no-such-run", expect="does not exist"),
    case("eval", f"{BAD}", expect="config.json is missing"),
    case("predict", f"{DAMAGED}/truncated-model", f"{BAD}/wrong.npy", expect="damaged"),
    case("compare", GOOD, f"{DAMAGED}/broken-summary", "--out", "{root}/c.html", expect="summary"),
    # --- where runs are written ---
    case(*TRAIN, "--data", "moons", "--name", "../escape", expect="--name"),
    case(*TRAIN, "--data", "moons", "--name", "/etc/x", expect="--name"),
    case(*TRAIN, "--data", "moons", "--name", ".hidden", expect="--name"),
    case("train", "scratch", "--data", "moons", "--out", "{runs}", "--name", "good", "--quiet", expect="exists"),
    case("train", "scratch", "--data", "moons", "--out", f"{BAD}/x.txt", "--quiet", expect="x.txt"),
]


@pytest.mark.parametrize("argv, expect", CASES)
def test_bad_input_is_one_clean_error_and_changes_nothing(world, argv, expect, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "no-data"))
    monkeypatch.chdir(tmp_path)
    fill = {"root": str(world), "runs": str(world / "runs")}
    argv = [a.format(**fill) for a in argv]
    expect = expect.format(**fill)
    before = tree(world)
    capsys.readouterr()
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expect in lines[0], lines[0]
    assert tree(world) == before          # nothing written, nothing changed, nothing lost
    assert list(tmp_path.iterdir()) == []  # not even in the working folder


def test_damaged_snapshots_cost_only_their_picture(world, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(world / "damaged" / "broken-snapshots", run)
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 0
    from nnlab import runs

    tensors, _ = runs.load_tensors(run / runs.SNAPSHOTS)   # written afresh from the resumed epoch on
    assert sorted(tensors) == ["epoch3"]
