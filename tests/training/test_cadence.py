"""Checkpoints by the clock (training.cadence): fewer writes, the same kill-and-resume guarantee.

The cadence is set to its extremes here (every epoch, or the first and last alone), so the tests do not
depend on how fast the machine is.
"""

import shutil
from dataclasses import replace

import numpy as np
import pytest

from nnlab import runs
from nnlab.errors import Interrupted, NNLabError
from nnlab.training import cadence, job
from tests.training.test_job import BASE

RUN = replace(BASE, epochs=6, hidden=[4])


def on_disk(run) -> int:
    return runs.load_tensors(run / runs.CHECKPOINT)[1]["epoch"]


def train_watching(tmp_path, name: str, config=RUN, at=None):
    """Train, noting after each epoch which epoch the checkpoint on disk holds; `at(done, run)` is called
    there too (to copy the directory as a kill would leave it, or to press Ctrl-C)."""
    seen = []
    run = tmp_path / name

    def watch(done, epochs):
        seen.append(on_disk(run))
        if at is not None:
            at(done, run)

    job.train(config, tmp_path, name, quiet=True, on_epoch=watch)
    return run, seen


def assert_same_run(a, b):
    wa, _ = runs.load_tensors(a / runs.MODEL)
    wb, _ = runs.load_tensors(b / runs.MODEL)
    assert sorted(wa) == sorted(wb)
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name])
    sa, _ = runs.load_tensors(a / runs.SNAPSHOTS)
    sb, _ = runs.load_tensors(b / runs.SNAPSHOTS)
    assert sorted(sa) == sorted(sb)
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name])
    drop = ("seconds", "threads")  # the clock and the thread count are the machine's, not the run's
    assert ([{k: v for k, v in h.items() if k not in drop} for h in runs.read_metrics(a)]
            == [{k: v for k, v in h.items() if k not in drop} for h in runs.read_metrics(b)])


@pytest.mark.parametrize("seconds, expected", [(0.0, [1, 2, 3, 4, 5, 6]), (1e9, [1, 1, 1, 1, 1, 6])])
def test_the_checkpoint_is_written_by_the_clock_first_and_last_epoch_always(tmp_path, monkeypatch, seconds,
                                                                            expected):
    monkeypatch.setattr(cadence, "CHECKPOINT_SECONDS", seconds)
    monkeypatch.setattr(cadence, "CHECKPOINT_SHARE", float("inf"))  # (no wait for a slow save's sake)
    run, seen = train_watching(tmp_path, "r")
    assert seen == expected
    # what the report reads still covers every epoch
    assert [h["epoch"] for h in runs.read_metrics(run)] == [1, 2, 3, 4, 5, 6]
    snapshots, _ = runs.load_tensors(run / runs.SNAPSHOTS)
    assert sorted(snapshots) == [f"epoch{e}" for e in range(7)]
    summary = runs.read_json(run / runs.SUMMARY, what="summary")
    assert summary["wall_seconds"] >= summary["train_seconds"] > 0


def test_a_kill_between_checkpoints_resumes_from_the_last_one_and_ends_as_the_straight_run(tmp_path, monkeypatch):
    monkeypatch.setattr(cadence, "CHECKPOINT_SECONDS", 1e9)
    straight, _ = train_watching(tmp_path, "straight")

    def kill_after_epoch_4(done, run):  # the directory as SIGKILL would leave it after epoch 4
        if done == 4:
            shutil.copytree(run, tmp_path / "killed")

    train_watching(tmp_path, "source", at=kill_after_epoch_4)
    killed = tmp_path / "killed"
    assert on_disk(killed) == 1 and [h["epoch"] for h in runs.read_metrics(killed)] == [1]
    job.resume(killed, 6, quiet=True)
    assert_same_run(straight, killed)


def test_ctrl_c_writes_the_last_finished_epoch_whatever_the_cadence_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr(cadence, "CHECKPOINT_SECONDS", 1e9)
    straight, _ = train_watching(tmp_path, "straight")

    def ctrl_c(done, run):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="the last finished epoch is saved"):
        train_watching(tmp_path, "stopped", at=ctrl_c)
    stopped = tmp_path / "stopped"
    assert on_disk(stopped) == 3 and [h["epoch"] for h in runs.read_metrics(stopped)] == [1, 2, 3]
    snapshots, _ = runs.load_tensors(stopped / runs.SNAPSHOTS)
    assert sorted(snapshots) == [f"epoch{e}" for e in range(4)]
    job.resume(stopped, 6, quiet=True)
    assert_same_run(straight, stopped)


def test_a_diverging_loss_keeps_the_last_good_epoch_though_the_cadence_had_not_written_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cadence, "CHECKPOINT_SECONDS", 1e9)
    # as in test_faults: SGD at 10 with a one-cycle schedule blows up in epoch 3 (seed 0)
    from nnlab.cli import build_parser
    from nnlab.cli.train import make_config

    boom = make_config(build_parser().parse_args(["train", "scratch", "--data", "moons", "--optimizer", "sgd",
                                                  "--schedule", "onecycle", "--lr", "10", "--epochs", "10"]))
    with pytest.raises(NNLabError, match=r"became nan in epoch (\d+).*last good checkpoint \(epoch") as caught:
        job.train(boom, tmp_path, "boom", quiet=True)
    bad = int(str(caught.value).split("epoch ")[1].split(";")[0])
    assert on_disk(tmp_path / "boom") == bad - 1 > 1  # more than the first epoch, which the cadence wrote
    weights, _ = runs.load_tensors(tmp_path / "boom" / runs.MODEL)
    assert all(np.isfinite(w).all() for w in weights.values())


def test_hundreds_of_epochs_print_a_few_lines_and_the_last(tmp_path, capsys):
    job.train(replace(RUN, epochs=300, schedule="constant"), tmp_path, "long")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    # every 12th epoch (300 / PRINTED_LINES), and a line a PRINT_SECONDS if the machine is very slow
    assert cadence.PRINTED_LINES <= len(lines) <= cadence.PRINTED_LINES + 3
    assert lines[-1].startswith("epoch 300/300") and lines[0].startswith("epoch  12/300")


def test_a_slow_save_waits_longer_so_that_saving_stays_a_small_share(tmp_path):
    import time

    checkpoints = cadence.Checkpoints(tmp_path, main=True, saved=1)
    checkpoints.write_cost = 1.0  # a second a save: at most one each 1 / CHECKPOINT_SHARE = 20 s
    checkpoints.last_write = time.perf_counter() - 10
    assert not checkpoints.due(5, 100)
    assert checkpoints.due(100, 100)  # the last epoch, always
    checkpoints.last_write = time.perf_counter() - 1.0 / cadence.CHECKPOINT_SHARE - 0.1
    assert checkpoints.due(5, 100)
    checkpoints.write_cost = 0.001  # a cheap save: CHECKPOINT_SECONDS apart
    checkpoints.last_write = time.perf_counter() - cadence.CHECKPOINT_SECONDS + 1
    assert not checkpoints.due(5, 100)
