"""Faults during training: a loss that blows up, a process killed with SIGKILL at any moment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from nnlab import runs
from tests.conftest import assert_clean_error


def test_a_loss_that_becomes_nan_stops_with_advice_and_keeps_the_last_good_epoch(cli, tmp_path):
    # SGD at 10 with a one-cycle schedule: fine in epochs 1-2, the rising rate blows up epoch 3 (seed 0).
    proc = cli("train", "scratch", "--data", "moons", "--optimizer", "sgd", "--schedule", "onecycle",
               "--lr", "10", "--epochs", "10", "--out", tmp_path, "--name", "boom", "--quiet")
    assert_clean_error(proc, "the training loss became nan in epoch 3", "lower --lr",
                       "last good checkpoint (epoch 2)")
    _, state = runs.load_tensors(tmp_path / "boom" / runs.CHECKPOINT)
    assert state["epoch"] == 2
    assert [h["epoch"] for h in runs.read_metrics(tmp_path / "boom")] == [1, 2]
    weights, _ = runs.load_tensors(tmp_path / "boom" / runs.MODEL)
    assert all(np.isfinite(w).all() for w in weights.values())
    assert cli("eval", tmp_path / "boom").returncode == 0   # the kept epoch still works


@pytest.mark.parametrize("model", [["scratch"], ["mlp", "--no-batch-norm"]])  # batch norm survives even lr 100
def test_a_loss_that_blows_up_in_the_first_epoch_leaves_nothing_behind(cli, tmp_path, model):
    proc = cli("train", *model, "--data", "moons", "--optimizer", "sgd", "--lr", "100", "--epochs", "3",
               "--out", tmp_path, "--name", "boom", "--quiet")
    assert_clean_error(proc, "the training loss became nan in epoch 1", "nothing was saved")
    assert not (tmp_path / "boom").exists()


def test_sigkill_at_any_moment_leaves_the_last_epoch_loadable_and_resumable(tmp_path, monkeypatch):
    """Kill real training processes at random moments (some kills land while the first checkpoint's files are
    being written); each time the run must load, resume, and end exactly where a straight run ends. The killed
    runs are real processes (SIGKILL); the straight run and the resumes train in this process, the same code
    as `nnlab train` without its report (the report is tested elsewhere; here it only cost time)."""
    args = ["train", "scratch", "--data", "mnist-5k", "--hidden", "384,384", "--epochs", "8", "--quiet"]
    env = {**os.environ, "NNLAB_DATA": str(tmp_path / "no-data")}
    from nnlab.cli import build_parser
    from nnlab.cli.train import make_config
    from nnlab.training import job

    monkeypatch.setenv("NNLAB_DATA", env["NNLAB_DATA"])  # the same data as the killed processes
    straight = job.train(make_config(build_parser().parse_args(args)), tmp_path, "straight", quiet=True)
    expected, _ = runs.load_tensors(straight / runs.MODEL)

    chance = random.Random(0)
    resumed_from = []
    for k in range(4):
        run = tmp_path / f"killed{k}"
        proc = subprocess.Popen([sys.executable, "-m", "nnlab", *args, "--out", str(tmp_path), "--name",
                                 run.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 120
        while not (run / runs.CHECKPOINT).exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # (polls for the first checkpoint: no fixed wait)
        time.sleep(chance.uniform(0.0, 0.6))  # somewhere in a later epoch, or in the middle of a save
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _, state = runs.load_tensors(run / runs.CHECKPOINT)     # never a half-written checkpoint
        assert 1 <= state["epoch"] <= 8 and len(state["history"]) == state["epoch"]
        resumed_from.append(state["epoch"])
        job.resume(run, 8, quiet=True)
        got, _ = runs.load_tensors(run / runs.MODEL)
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name])
        assert [h["epoch"] for h in runs.read_metrics(run)] == list(range(1, 9))
        assert not list(run.glob(".*.tmp")), "the resumed run cleans up what the kill left"
    assert len(set(resumed_from)) > 1 or resumed_from[0] < 8  # the kills really landed mid-training
