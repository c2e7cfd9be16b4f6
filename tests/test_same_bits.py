"""Same command, data and seed: the same bits, whatever else the machine is doing (issue #21).

The load is simulated the way the thread policy measures it (a meter of other processes' busy cores, read at
every batch here), so that the thread count it would pick changes between the runs and during them. The NumPy
network follows the load, and its products give the same bits on any count; the PyTorch models keep one count
for the whole run, whatever the load.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from nnlab import runs, threads
from nnlab.errors import Interrupted
from nnlab.scratch import network
from nnlab.scratch.estimator import ScratchClassifier
from nnlab.training import job
from nnlab.training.config import TrainConfig

QUIET = [0.0]
BUSY = [0.0, 1.6, 0.9, 2.0, 0.2]  # others' busy cores at each reading: 2, 1, 1, 1, 2, ... threads on 2 cores


class Load:
    """Stands for threads.METER: reports other processes' load, one reading after another."""

    def __init__(self, loads):
        self.loads, self.last = itertools.cycle(loads), None

    def others(self):
        return next(self.loads)


@pytest.fixture
def machine(monkeypatch):
    """Two usable cores, the load read at every batch; returns `load(readings)`, which makes the meter report
    them, and the list of every thread count set, in order."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "CHECK_EVERY", 0.0)
    counts: list[int] = []
    set_threads = threads.set_threads
    monkeypatch.setattr(threads, "set_threads", lambda n: (counts.append(n), set_threads(n)))

    def load(readings):
        monkeypatch.setattr(threads, "METER", Load(readings))
        counts.clear()
        return counts

    return load


def outcome(run):
    """Everything a run computed: its weights, its test results and its metrics, less the clock."""
    weights, _ = runs.load_tensors(run / runs.MODEL)
    summary = json.loads((run / runs.SUMMARY).read_text())
    clock = {"train_seconds", "wall_seconds"}
    metrics = [{k: v for k, v in h.items() if k not in ("seconds", "threads")} for h in runs.read_metrics(run)]
    return weights, {k: v for k, v in summary.items() if k not in clock}, metrics


def assert_same_bits(a, b):
    (wa, sa, ma), (wb, sb, mb) = a, b
    assert wa.keys() == wb.keys()
    for name in wa:
        assert wa[name].dtype == wb[name].dtype and np.array_equal(wa[name], wb[name]), name
    assert sa == sb and ma == mb


SETTINGS = {  # small, but the first layer's 784 inputs are past the length where BLAS threads change the sums
    "scratch": {"epochs": 2},
    "mlp": {"epochs": 2, "hidden": [64, 32]},
    "cnn": {"epochs": 2, "widths": [4, 8, 8]},
}


def train(model, tmp_path, name, **extra):
    config = TrainConfig.create(model=model, data="mnist-5k", classes=["3", "8"], seed=0,
                                **{**SETTINGS[model], **extra})
    return job.train(config, str(tmp_path), name, quiet=True)


@pytest.mark.parametrize("model", ["scratch", "mlp", "cnn"])
def test_a_seed_trains_the_same_bits_on_a_quiet_and_on_a_busy_machine(model, machine, tmp_path):
    quiet_counts = machine(QUIET)
    quiet = train(model, tmp_path, "quiet")
    quiet_counts = list(quiet_counts)
    busy_counts = machine(BUSY)
    busy = train(model, tmp_path, "busy")
    if model == "scratch":  # it followed the load: other counts between the runs and during the busy one
        assert quiet_counts == [2] and {1, 2} <= set(busy_counts) and len(busy_counts) > 3, busy_counts
    else:  # one count for the run, from the cores it may use, whatever the load
        assert quiet_counts == busy_counts == [2]
    assert_same_bits(outcome(quiet), outcome(busy))
    assert runs.read_config(busy)["arithmetic"]["bits_depend_on_threads"] is (model != "scratch")


@pytest.mark.parametrize("model", ["scratch", "cnn"])
def test_a_run_killed_and_resumed_on_a_busy_machine_equals_the_straight_run(model, machine, tmp_path):
    machine(QUIET)
    straight = train(model, tmp_path, "straight", epochs=3)

    def kill_after_two(done, epochs):
        if done == 2:
            raise KeyboardInterrupt

    machine(BUSY)
    config = TrainConfig.create(model=model, data="mnist-5k", classes=["3", "8"], seed=0,
                                **{**SETTINGS[model], "epochs": 3})
    with pytest.raises(Interrupted):
        job.train(config, str(tmp_path), "killed", quiet=True, on_epoch=kill_after_two)
    killed = tmp_path / "killed"
    job.resume(killed, 3, quiet=True)
    assert_same_bits(outcome(straight), outcome(killed))


def test_a_resumed_pytorch_run_goes_on_with_its_own_thread_count(machine, tmp_path, capsys):
    machine(QUIET)
    run = train("mlp", tmp_path, "one", threads=1)
    counts = machine(QUIET)
    job.resume(run, 3, quiet=True)  # this machine offers 2 cores; the run's bits were made on 1
    assert counts == [1] and runs.read_config(run)["arithmetic"]["threads"] == 1
    job.resume(run, 4, threads=2)  # asked for: allowed, with a word on what it costs
    assert "not be bit-identical to a straight run" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 3 epochs: enough to compare
def test_scratch_classifier_fits_the_same_model_on_a_quiet_and_a_busy_machine(machine):
    from nnlab.data import load

    ds = load("mnist-5k", classes=["3", "8"])
    X, y = ds.X_train[:1500], ds.y_train[:1500]
    fits = []
    for readings in (QUIET, BUSY):
        counts = machine(readings)
        fits.append(ScratchClassifier(hidden_layer_sizes=(64,), max_iter=3, batch_size=64, random_state=0).fit(X, y))
        assert (len(counts) > 3) is (readings is BUSY), counts
    a, b = fits
    assert a.n_iter_ == b.n_iter_ and a.loss_curve_ == b.loss_curve_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(p, q)
    assert np.array_equal(a.predict_proba(ds.X_test), b.predict_proba(ds.X_test))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_product_of_the_network_has_the_same_bits_on_one_and_two_threads(dtype):
    rng = np.random.default_rng(0)
    for K in (64, 256, 300, 464, 784, 1000, 3072):
        for M, N in ((128, 256), (256, 128), (4096, 256), (64, 10)):
            A, B = rng.standard_normal((M, K)).astype(dtype), rng.standard_normal((K, N)).astype(dtype)
            results = []
            for n in (1, 2):
                with threadpool_limits(n, user_api="blas"):
                    results.append(network.product(A, B, out=np.empty((M, N), dtype)))
            assert np.array_equal(*results), (M, K, N)
            eps = np.finfo(dtype).eps  # a blocked sum is as accurate as BLAS's own: within K roundings
            np.testing.assert_allclose(results[0], A @ B, rtol=0, atol=K * eps * np.sqrt(K))


def test_sums_of_squares_have_the_same_bits_on_one_and_two_threads():
    x = np.random.default_rng(1).standard_normal(1_000_000)
    results = []
    for n in (1, 2):
        with threadpool_limits(n, user_api="blas"):
            results.append(network.sum_of_squares(x))
    assert results[0] == results[1] and results[0] == pytest.approx(float(x @ x), rel=1e-12)


def test_the_command_makes_waiting_threads_sleep_unless_the_user_chose(tmp_path):
    code = ("import os, sys; from nnlab.cli import main; main(['data', 'list']); "
            "print('policy', os.environ.get('OMP_WAIT_POLICY'), os.environ.get('CUBLAS_WORKSPACE_CONFIG'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "CUBLAS_WORKSPACE_CONFIG")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "policy PASSIVE :4096:8" in out
    out = subprocess.run([sys.executable, "-c", code], env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
                         capture_output=True, text=True, check=True).stdout
    assert "policy ACTIVE" in out


def test_the_run_records_what_decides_its_bits(machine, tmp_path):
    machine(QUIET)
    run = train("scratch", tmp_path, "r", epochs=1)
    record = runs.read_config(run)["arithmetic"]
    assert record["threads"] == "follows the load" and record["bits_depend_on_threads"] is False
    assert record["blas"]  # e.g. "openblas 0.3.31 SkylakeX"
    assert record["cpu"] and isinstance(record["cpu_flags"], list)
    assert "torch_cpu_capability" not in record  # NumPy's arithmetic: PyTorch's kernels play no part
    torch_run = runs.read_config(train("mlp", tmp_path, "t", epochs=1))["arithmetic"]
    assert torch_run["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert torch_run["bits_depend_on_threads"] is True and torch_run["threads"] == 2
