"""--recipe fast|plain for the PyTorch models: plain is the textbook model (no label smoothing, augmentation,
batch norm or dropout), options given beside a recipe win and are named as such, the record and the report say
which recipe a run used, and runs from before recipes read as the fast one they were."""

import json
import re
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from nnlab import runs
from nnlab.models import build_model
from nnlab.training import job
from nnlab.training.config import RECIPES, TrainConfig, departures, recipe_in_words
from nnlab.training.record import read_record
from nnlab.viz import captions
from tests.conftest import assert_clean_error
from tests.training.test_old_runs import OLD

FOUR = ("label_smoothing", "augment", "batch_norm", "dropout")


def modules(cfg) -> set[type]:
    model = build_model(cfg, 64, (1, 8, 8), 10)
    return {type(m) for m in model.modules()}


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_plain_is_the_textbook_model_and_fast_the_models_defaults(model):
    plain, fast = TrainConfig.create(model, "digits", recipe="plain"), TrainConfig.create(model, "digits")
    assert {k: getattr(plain, k) for k in FOUR} == {"label_smoothing": 0.0, "augment": False, "batch_norm": False,
                                                    "dropout": 0.0}
    assert fast.recipe == "fast" and fast == TrainConfig.create(model, "digits", recipe="fast")
    assert not {nn.BatchNorm1d, nn.BatchNorm2d} & modules(plain)
    assert nn.BatchNorm1d in modules(fast)  # the fast MLP and CNN normalise
    # only the four differ: optimiser, schedule, rate and weight decay are the model's in both
    same = {k: v for k, v in plain.to_dict().items() if k not in (*FOUR, "recipe")}
    assert same == {k: v for k, v in fast.to_dict().items() if k not in (*FOUR, "recipe")}
    assert departures(plain) == departures(fast) == {}


def test_an_option_given_beside_a_recipe_wins_and_is_named():
    cfg = TrainConfig.create("cnn", "digits", recipe="plain", dropout=0.2)
    assert cfg.dropout == 0.2 and not cfg.batch_norm and not cfg.augment and cfg.label_smoothing == 0
    assert departures(cfg) == {"dropout": 0.2}
    assert recipe_in_words(cfg) == ("plain: dropout 0.2; no label smoothing, augmentation or batch norm "
                                    "(dropout 0.2 given beside the recipe)")
    fast = TrainConfig.create("cnn", "digits", augment=False)
    assert departures(fast) == {"augment": False} and "(no augmentation given beside the recipe)" in \
        recipe_in_words(fast)
    assert recipe_in_words(TrainConfig.create("mlp", "digits")) == \
        "fast: batch norm, dropout 0.3; no label smoothing or augmentation"


def test_the_plain_cnn_trains_without_batch_norm_and_its_bias_takes_the_place_of_batch_norms_shift():
    cfg = TrainConfig.create("cnn", "digits", recipe="plain")
    model = build_model(cfg, 64, (1, 8, 8), 10)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.bias is not None for c in convs)
    assert all(c.bias is None for c in build_model(TrainConfig.create("cnn", "digits"), 64, (1, 8, 8), 10).modules()
               if isinstance(c, nn.Conv2d))
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_the_record_and_the_report_say_which_recipe(tmp_path):
    from nnlab.viz.report import write_report
    from nnlab.viz.report_input import ReportInput

    cfg = TrainConfig.create("cnn", "digits", recipe="plain", dropout=0.2, epochs=1, widths=[4])
    run = job.train(cfg, tmp_path, "plain", quiet=True)  # (the report's figures are not what is checked here)
    stored = json.loads((run / runs.CONFIG).read_text())
    assert stored["settings"]["recipe"] == "plain" and stored["settings"]["dropout"] == 0.2
    assert stored["facts"]["recipe_used"].endswith("(dropout 0.2 given beside the recipe)")
    html = write_report(run, ReportInput.from_run(run), []).read_text()
    assert "<td>recipe</td><td>plain</td>" in html and "dropout 0.2 given beside the recipe" in html
    said = re.search(r'<p id="trained-with">(.*?)</p>', html).group(1)  # under the title, not only in the table
    assert said.startswith("Recipe plain: dropout 0.2; no label smoothing") and "--recipe fast" in said


def test_a_recipe_is_for_the_pytorch_models_and_an_unknown_one_gets_a_guess(cli, tmp_path):
    assert_clean_error(cli("train", "scratch", "--data", "moons", "--recipe", "plain", "--out", tmp_path / "r"),
                       "recipe (--recipe) is for mlp and cnn, not scratch")
    with pytest.raises(Exception, match="plain"):
        TrainConfig.create("mlp", "digits", recipe="plane")
    assert not (tmp_path / "r").exists() and set(RECIPES) == {"fast", "plain"}


def test_runs_from_before_recipes_read_as_the_fast_recipe_they_trained_with():
    for name in ("mlp-digits", "cnn-digits"):
        stored = json.loads((OLD / name / runs.CONFIG).read_text())
        assert "recipe" not in stored and "batch_norm" not in stored or name == "mlp-digits"
        cfg = read_record(OLD / name).settings
        assert cfg.recipe == "fast" and cfg.batch_norm is stored.get("batch_norm", True)
    _, engine = job.load_run(OLD / "cnn-digits")  # its batch norm layers are there to load the weights into
    assert any(isinstance(m, nn.BatchNorm2d) for m in engine.model.modules())


def views(model: str, **settings):
    cfg = TrainConfig.create(model, "digits", **settings)
    return SimpleNamespace(ev=SimpleNamespace(run_settings=cfg, data=SimpleNamespace(classes=tuple("0123456789"))))


def test_the_calibration_caption_says_why_label_smoothing_makes_the_fast_cnn_under_confident():
    fast = captions.calibration(views("cnn"))
    assert "label smoothing 0.1 (the fast recipe)" in fast and "under-confident" in fast
    assert "0.91 on the true class" in fast  # 1 - 0.1 + 0.1/10
    assert "ECE 0.105" in fast and "--recipe plain" in fast  # measured: docs/benchmarks.md
    assert captions.calibration(views("cnn", recipe="plain")) == captions.CALIBRATION
    assert captions.calibration(views("mlp")) == captions.CALIBRATION  # the fast MLP does not smooth
    assert captions.calibration(SimpleNamespace(ev=SimpleNamespace(run_settings=None))) == captions.CALIBRATION


def test_the_fast_recipes_summary_says_the_models_defaults():
    """The words of --help (RECIPES["fast"].summary) are written by hand: they must name each model's defaults."""
    summary = RECIPES["fast"].summary
    mlp_words, cnn_words = summary.split("mlp ")[1].split("; cnn ")
    for model, said in (("mlp", mlp_words), ("cnn", cnn_words)):
        on = recipe_in_words(TrainConfig.create(model, "digits")).split(": ")[1].split("; no ")[0].split(", ")
        for word in on:
            assert word.replace("augmentation", "augmented images") in said, (model, word, said)
