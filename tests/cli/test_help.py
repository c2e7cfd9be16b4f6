"""--help shows every option's default, per model where they differ; docs/options.md agrees with the code."""

import re
from pathlib import Path

import pytest

from nnlab.cli import build_parser
from nnlab.cli.train import DEFAULTS, MODELS, shown
from nnlab.training.config import DEFAULT_EPOCHS

ROOT = Path(__file__).resolve().parents[2]


def subparsers(parser):
    """Every (command path, parser) below `parser`, e.g. ('data info', <parser>)."""
    for action in parser._actions:
        if action.choices and isinstance(action.choices, dict):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, deeper in subparsers(sub):
                    yield f"{name} {inner}", deeper


def test_every_option_of_every_command_says_its_default():
    missing = [f"nnlab {command} {action.option_strings[0]}"
               for command, parser in subparsers(build_parser()) for action in parser._actions
               if action.option_strings and action.option_strings[0] != "-h"
               and not re.search(r"default: |required", action.help or "")]
    assert not missing, missing


def train_options() -> dict:
    train = dict(subparsers(build_parser()))["train"]
    return {a.option_strings[0]: a for a in train._actions if a.option_strings and a.option_strings[0] != "-h"}


@pytest.mark.parametrize("option, expected", [
    ("--lr", "default: 0.001 (scratch, mlp), 0.01 (cnn)"),
    ("--batch-size", "default: 128 (scratch, mlp), 256 (cnn)"),
    ("--dropout", "default: 0.3 (mlp), 0 (cnn)"),
    ("--epochs", "default: 20 (scratch), 30 (mlp, cnn)"),
    ("--hidden", "default: 256,128 (scratch), 1024,512 (mlp)"),
    ("--weight-decay", "(scratch), 0.01 (mlp, cnn)"),
    ("--schedule", "default: cosine (scratch), onecycle (mlp, cnn)"),
    ("--augment", "default: off (mlp), on (cnn)"),
    ("--val-fraction", "default: 0.1"),
])
def test_train_help_shows_the_defaults_per_model(option, expected):
    assert expected in train_options()[option].help


def test_the_printed_help_carries_them(cli):
    text = " ".join(cli("train", "--help", check_rc=0).stdout.split())  # argparse wraps lines anywhere
    assert "default: 0.001 (scratch, mlp), 0.01 (cnn)" in text and "dropout rate; default: 0.3 (mlp), 0 (cnn)" in text


def options_table() -> dict[str, dict[str, str]]:
    """docs/options.md's rows: {'--lr': {'scratch': '0.001', 'mlp': ..., 'cnn': ...}}."""
    rows = {}
    for line in (ROOT / "docs/options.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`--"):
            option = cells[0].split("`")[1].split()[0]
            rows[option] = dict(zip(MODELS, cells[1:4]))
    return rows


def test_options_doc_lists_every_train_option_with_the_codes_defaults():
    table = options_table()
    options = set(train_options())
    assert options == set(table), options ^ set(table)
    for model in MODELS:
        assert table["--epochs"][model] == str(DEFAULT_EPOCHS[model])
        for key in {key for d in DEFAULTS.values() for key in d} - {"epochs"}:
            option = "--" + key.replace("_", "-")
            value = DEFAULTS[model].get(key, "—")
            expected = "batch size / training samples" if value is None else shown(value) if value != "—" else "—"
            assert table[option][model] == expected, (option, model)
    for option, default in (("--momentum", "0.9"), ("--val-fraction", "0.1"), ("--seed", "0"), ("--out", "runs")):
        assert set(table[option].values()) == {default}, option


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["data", "list"],
                                  ["train", "scratch", "--data", "mnist-5k", "--epochs", "1", "--no-report"]])
def test_help_data_list_and_a_numpy_run_import_neither_torch_nor_matplotlib(argv, tmp_path):
    """`nnlab --help` took 3.5-4.9 s when the parser imported torch and scikit-learn (issue 22); a NumPy run on
    files (mnist-5k is a CSV) needs none of them either: 0.5 s where PyTorch's import alone takes 2."""
    import subprocess
    import sys

    argv = [*argv, "--out", str(tmp_path)] if argv[0] == "train" and "--help" not in argv else argv
    code = ("import sys\nfrom nnlab.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'matplotlib', 'sklearn'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "HEAVY []", proc.stdout[-500:]
