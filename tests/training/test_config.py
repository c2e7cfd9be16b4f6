"""The typed settings: written once (training/config.py), they make the CLI's options, check values given in
Python with the command line's words, and read back from a run directory as they were written."""

import json
from dataclasses import FrozenInstanceError, fields, replace

import pytest

import nnlab
from nnlab.cli import build_parser
from nnlab.errors import NNLabError
from nnlab.training.config import MODELS, CNNConfig, MLPConfig, ScratchConfig, TrainConfig, options
from tests.conftest import assert_clean_error

CLI_ONLY = {"--data", "--out", "--name", "--resume", "--quiet", "--report", "--debug"}


def train_parser():
    commands = next(a for a in build_parser()._actions if isinstance(a.choices, dict))
    return commands.choices["train"]


def test_every_setting_is_an_option_and_every_option_a_setting():
    flags = {a.option_strings[0] for a in train_parser()._actions if a.option_strings and a.option_strings[0] != "-h"}
    assert flags - CLI_ONLY == {"--" + name.replace("_", "-") for name in options()}
    every = {f.name for spec in MODELS.values() for f in fields(spec.config)} - {"data", "data_label"}
    assert set(options()) == every  # no field is left without its option


@pytest.mark.parametrize("name, bad, option_value, says", [
    ("lr", -1.0, "-1", "must be greater than 0"),
    ("batch_size", 0, "0", "must be at least 1"),
    ("dropout", 1.0, "1", "must be at least 0 and below 1"),
    ("hidden", [8, 0], "8,0", "sizes must be whole numbers of at least 1"),
    ("epochs", 2.5, "2.5", "whole number"),
])
def test_a_bad_value_is_refused_in_python_with_the_command_lines_words(cli, name, bad, option_value, says):
    model = "mlp" if name in ("dropout", "hidden") else "scratch"
    with pytest.raises(NNLabError, match=says):
        TrainConfig.create(model, "moons", **{name: bad})
    assert_clean_error(cli("train", model, "--data", "moons", "--" + name.replace("_", "-"), option_value), says[:12])


def test_a_name_outside_its_table_gets_a_guess_from_python_too():
    with pytest.raises(NNLabError, match=r"unknown optimizer 'adamm' \(did you mean 'adam'\?\); choose one of sgd"):
        TrainConfig.create("scratch", "moons", optimizer="adamm")
    with pytest.raises(NNLabError, match="must be True or False"):
        TrainConfig.create("cnn", "moons", augment="yes")
    with pytest.raises(NNLabError, match="is for mlp and cnn, not scratch"):
        TrainConfig.create("scratch", "moons", dropout=0.1)


@pytest.mark.parametrize("model, family", [("scratch", ScratchConfig), ("mlp", MLPConfig), ("cnn", CNNConfig)])
def test_each_model_has_its_family_and_the_settings_round_trip_through_json(model, family):
    cfg = TrainConfig.create(model, "moons", seed=3, classes=["0", "1"]).resolve(900)
    assert type(cfg) is family and cfg.model == model and cfg.classes == ("0", "1")
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(FrozenInstanceError):
        cfg.lr = 1.0  # settings passed down are never changed on the way: replace() makes a new one


def test_resolve_fills_only_what_was_not_given():
    assert ScratchConfig(data="x").resolve(900).weight_decay == pytest.approx(128 / 900)
    assert ScratchConfig(data="x", weight_decay=0.0).resolve(900).weight_decay == 0.0
    assert MLPConfig(data="x").resolve(900).weight_decay == 1e-2  # the PyTorch models' own default
    assert replace(MLPConfig(data="x"), epochs=7).resolve(10).epochs == 7


def test_the_python_api_takes_the_same_settings(tmp_path):
    with pytest.raises(NNLabError, match="lr .*must be greater than 0"):
        nnlab.train("scratch", "moons", out=tmp_path, lr=-1)
    assert list(tmp_path.iterdir()) == []  # refused before anything was written
