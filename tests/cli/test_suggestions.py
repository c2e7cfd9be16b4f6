"""A mistyped dataset, model, command or option name gets a "did you mean" in its one error line."""

import pytest

from nnlab.cli import main


@pytest.mark.parametrize("argv, suggestion", [
    (["train", "scratch", "--data", "fashion-minst"], "did you mean 'fashion-mnist'?"),
    (["data", "info", "mnist5k"], "did you mean 'mnist-5k'?"),
    (["data", "fetch", "fashion-minst"], "did you mean 'fashion-mnist'?"),
    (["train", "scrach", "--data", "moons"], "did you mean 'scratch'?"),
    (["train", "mpl", "--data", "moons"], "did you mean 'mlp'?"),
    (["trian", "scratch", "--data", "moons"], "did you mean 'train'?"),
    (["data", "lsit"], "did you mean 'list'?"),
    (["train", "scratch", "--data", "moons", "--optimizer", "adm"], "did you mean 'adam'?"),
    (["train", "scratch", "--data", "moons", "--hiden", "8"], "did you mean '--hidden'?"),
    (["train", "scratch", "--data", "moons", "--batch_size=8"], "did you mean '--batch-size'?"),
    (["train", "scratch", "--data", "moons", "--lerning-rate", "0.1"], "did you mean '--learning-rate'?"),
    (["gradcheck", "--seeed", "1"], "did you mean '--seed'?"),
])
def test_a_near_miss_gets_a_suggestion(capsys, argv, suggestion):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
    assert suggestion in lines[0]


@pytest.mark.parametrize("argv", [
    ["train", "scratch", "--data", "nope"],
    ["train", "transformer", "--data", "moons"],
    ["train", "scratch", "--data", "moons", "--frobnicate"],
])
def test_a_far_miss_gets_the_list_but_no_guess(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "did you mean" not in err


def test_the_learning_rate_has_its_long_name_too():
    from nnlab.cli import build_parser

    args = build_parser().parse_args(["train", "scratch", "--data", "moons", "--learning-rate", "0.01"])
    assert args.lr == 0.01
