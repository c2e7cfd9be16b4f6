"""The sanity checks before and after training: each said with its numbers and the fix, each made to happen on
purpose (a 1-step run, an oversized last-layer start, shuffled labels, a stalled learning rate, raw pixels)."""

import json
from dataclasses import replace

import numpy as np
import pytest

from nnlab.training import job, sanity
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


# -- the checks before and after training, each made to happen on purpose -------------------------------------

def sanity_of(run) -> dict[str, dict]:
    return {n["check"]: n for n in json.loads((run / "summary.json").read_text())["sanity"]}


def test_start_loss_is_judged_against_ln_c():
    assert sanity.chance_loss(2) == pytest.approx(0.6931, abs=1e-4)
    assert sanity.start_loss(1.0, 2, 900, "he").ok  # He's start on moons (2-256-128-1): 1.01
    assert sanity.start_loss(2.30, 10, 4096).ok  # the CNN on ten digits: 2.28-2.30
    wrong = sanity.start_loss(86.7, 2, 900, "confident-wrong")
    assert not wrong.ok and "86.7 on 900 training samples, 125 times ln 2 = 0.693" in wrong.text
    assert "use --start he" in wrong.text
    own = sanity.start_loss(3.5, 10, 512)  # ln 10 + 1.2: a PyTorch model's last layer started too large
    assert not own.ok and "1.52 times ln 10 = 2.303" in own.text and "zero its bias" in own.text


def test_chance_takes_the_largest_class_and_the_sampling_noise():
    y = np.array([0] * 700 + [1] * 300)
    assert sanity.chance_accuracy(y, 2) == (0.7, 0)
    margin = sanity.chance_margin(0.7, 1000)  # 3 * sqrt(0.21 / 1000) = 0.0435
    assert margin == pytest.approx(0.0435, abs=1e-4)
    assert sanity.at_chance(0.74, 0.7, 1000) and not sanity.at_chance(0.75, 0.7, 1000)


def test_unscaled_inputs_are_named_with_their_range():
    raw = np.random.default_rng(0).integers(0, 256, (20, 784)).astype(np.float32)
    (note,) = sanity.input_scale(raw)
    assert not note.ok and "whole numbers from 0 to 255: raw pixel values" in note.text
    assert "divide them by 255" in note.text
    (ok,) = sanity.input_scale(raw / 255, "pixels")
    assert ok.ok and "pixels scaled to 0-1" in ok.text
    spiky = np.zeros((10, 3), np.float32)
    spiky[4, 2] = 45.0  # a count column among standardised features
    (far,) = sanity.input_scale(spiky, "standardize")
    assert not far.ok and "input feature 2 reaches 45 standard deviations" in far.text


def test_a_one_step_run_says_so(tmp_path, capsys):
    run = job.train(replace(BASE, epochs=1, batch_size=2000, hidden=(8,)), tmp_path, "one")
    assert capsys.readouterr().out.startswith("note: 1 epoch of 900 samples at batch 2000 is 1 optimiser step: "
                                              "too few")
    assert not sanity_of(run)["few-steps"]["ok"]


def test_an_oversized_last_layer_start_is_seen_before_training(tmp_path, capsys):
    run = job.train(replace(BASE, epochs=8, hidden=(8,), start="confident-wrong"), tmp_path, "wrong")
    out = capsys.readouterr().out
    first = [line for line in out.splitlines() if "before the first update" in line]
    assert len(first) == 1 and "times ln 2 = 0.693" in first[0] and "--start confident-wrong" in first[0]
    loss = float(first[0].split("update is ")[1].split()[0])
    config = json.loads((run / "config.json").read_text())
    assert loss == pytest.approx(config["facts"]["start_loss"], rel=1e-2) and loss > 5  # every logit >= 10: half
    assert out.index(first[0]) < out.index("epoch   1/")  # said before the first epoch      # the samples wrong
    # the same run from He's start, wider: no note
    assert sanity_of(job.train(replace(BASE, epochs=8, hidden=(64,)), tmp_path, "he", quiet=True))["start-loss"]["ok"]


def test_shuffled_labels_end_at_chance(tmp_path, capsys):
    from nnlab.data import load

    ds = load("moons", seed=0)
    labels = np.random.default_rng(1).permutation(np.concatenate([ds.y_train, ds.y_test]))
    X = np.concatenate([ds.X_train, ds.X_test])
    csv = tmp_path / "shuffled.csv"
    np.savetxt(csv, np.column_stack([X, labels]), delimiter=",", header="x1,x2,label", comments="", fmt="%.6g")
    run = job.train(TrainConfig.create("scratch", str(csv), epochs=8, hidden=(8,)), tmp_path, "shuffled")
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "no better than chance" in line]
    acc = float(line.split("training accuracy ")[1].split()[0])
    history = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert acc == pytest.approx(history["accuracy"], abs=5e-4) and acc < 0.56
    assert "labels that do not belong to their inputs" in line and "nnlab doctor" in line
    assert not sanity_of(run)["chance"]["ok"]


def test_a_stalled_learning_rate_leaves_the_loss_flat(cli, tmp_path):
    proc = cli("train", "scratch", "--data", "moons", "--epochs", "8", "--lr", "1e-7", "--hidden", "8",
               "--out", tmp_path, "--name", "stalled", check_rc=0)
    (flat,) = [line for line in proc.stdout.splitlines() if "barely fell" in line]
    assert "raise --lr (now 1e-07)" in flat and "(0.0%)" in flat
    notes = sanity_of(tmp_path / "stalled")
    assert not notes["loss-flat"]["ok"] and notes["input-scale"]["ok"]
    report = (tmp_path / "stalled" / "report.html").read_text()
    assert "Sanity checks" in report and "⚠ The training loss barely fell" in report and "nnlab doctor RUN" in report


def test_memorising_and_a_test_at_chance_are_told_apart():
    cfg = replace(BASE, lr=0.01)
    y = np.repeat(np.arange(10), 30)  # ten balanced classes: chance 0.1
    history = [{"epoch": 1, "loss": 0.2, "accuracy": 0.95, "val_accuracy": 0.12}]
    notes = {n.check: n for n in sanity.after_training(history, y, y, [str(k) for k in range(10)], 2.3, cfg)}
    assert notes["chance"].ok and not notes["val-chance"].ok
    assert "validation accuracy 0.120 is at chance (0.100) while training accuracy is 0.950" in notes["val-chance"].text
    history[0]["val_accuracy"] = 0.9
    assert "val-chance" not in {n.check for n in sanity.after_training(history, y, y, list("0123456789"), 2.3, cfg)}
    # the one-epoch CNN before its fix: 10.2% on the test set, 78% on the epoch's batches
    (note,) = sanity.test_chance(0.102, [{"accuracy": 0.78}], np.repeat(np.arange(10), 100), list("0123456789"))
    assert "test accuracy 0.102 is at chance (0.100" in note.text and "batch norm's running statistics" in note.text
    assert sanity.test_chance(0.95, [{"accuracy": 0.97}], np.repeat(np.arange(10), 100), list("0123456789")) == []


def test_the_report_lists_them_and_links_the_doctor():
    from nnlab.viz.report import sanity_html

    notes = [{"check": "few-steps", "ok": False, "text": "1 epoch <of> 15 steps"}, {"check": "chance", "ok": True,
                                                                                    "text": "above chance"}]
    html = sanity_html(notes, doctor=False)
    assert "⚠ 1 epoch &lt;of&gt; 15 steps" in html and "✓ Above chance" in html and "nnlab doctor RUN" in html
    assert '<a href="doctor.html">' in sanity_html(notes, doctor=True)
    assert sanity_html([], doctor=False) == ""


def test_a_run_from_python_holds_its_notes(tmp_path):
    import nnlab

    run = nnlab.load_run(job.train(replace(BASE, epochs=1, batch_size=2000, hidden=(4,)), tmp_path, "r", quiet=True))
    (few,) = [n for n in run.sanity if n.check == "few-steps"]
    assert not few.ok and "1 optimiser step" in few.text
    assert "⚠ 1 epoch of 900 samples" in run._repr_html_() and "nnlab.doctor(run)" in run._repr_html_()
