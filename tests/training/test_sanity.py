"""The checks before training: too few optimiser steps is said, with its numbers and the fix."""

from dataclasses import replace

from nnlab.training import job
from nnlab.training.config import TrainConfig
from nnlab.training.sanity import FEW_STEPS, before_training, steps
from tests.training.test_job import BASE


def test_steps_count_the_last_smaller_batch():
    cfg = TrainConfig.create("cnn", "mnist-5k", epochs=1, batch_size=256)
    assert steps(cfg, 3600) == 15  # the 1-epoch CNN: 3,600 images at batch 256


def test_too_few_steps_is_said_with_its_numbers_and_the_fix():
    cfg = TrainConfig.create("cnn", "mnist-5k", epochs=1, batch_size=256)
    (note,) = before_training(cfg, 3600)
    assert note.startswith("note: 1 epoch of 3,600 samples at batch 256 is 15 optimiser steps: too few")
    assert "give --epochs 7 or more" in note  # 7 × 15 = 105 >= 100
    assert before_training(replace(cfg, epochs=7), 3600) == []
    assert steps(replace(cfg, epochs=7), 3600) >= FEW_STEPS


def test_training_prints_it_first_and_quiet_does_not(tmp_path, capsys):
    job.train(replace(BASE, epochs=1, batch_size=256), tmp_path, "few", quiet=False)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("note: 1 epoch of ") and "optimiser steps: too few" in out[0]
    job.train(replace(BASE, epochs=1, batch_size=256), tmp_path, "quiet", quiet=True)
    assert "note:" not in capsys.readouterr().out
