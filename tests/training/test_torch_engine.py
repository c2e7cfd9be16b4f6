import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnlab import runs, threads
from nnlab.training import job
from nnlab.training.config import MODELS
from nnlab.training.record import read_record
from nnlab.training.torch_engine import TorchEngine, shift

SHARED = dict(data="digits", data_label="digits", epochs=3, batch_size=64, lr=3e-3, weight_decay=1e-2,
              schedule="onecycle", dropout=0.1, augment=True, label_smoothing=0.0, precision="fp32", seed=1,
              device="cpu")


def make(model: str = "mlp", **changes):
    """A small config of `model` (mlp: one hidden layer of 32 without batch norm; cnn: widths 8, 16)."""
    own = {"hidden": (32,), "batch_norm": False} if model == "mlp" else {"widths": (8, 16)}
    return MODELS[model].config(**{**SHARED, **own, **changes})


CONFIG = make()


def test_shift_moves_each_image_with_zero_fill():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    gen = torch.Generator().manual_seed(0)
    moved = shift(x.repeat(200, 1, 1, 1), 2, gen)
    assert moved.shape == (200, 1, 5, 5)
    assert torch.all(moved.sum((1, 2, 3)) == 1)  # the dot stays inside: nothing lost, nothing invented
    positions = {tuple(torch.nonzero(m[0])[0].tolist()) for m in moved}
    assert len(positions) == 25  # every shift of -2..2 in each direction happens


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_a_tiny_dataset_is_learned_to_100_percent(model):
    rng = np.random.default_rng(0)
    y = np.arange(40) % 4
    X = np.zeros((40, 1, 6, 6), np.float32)
    for i, k in enumerate(y):  # class k: a bright bar in row k
        X[i, 0, k] = 1.0
    X += rng.normal(0, 0.05, X.shape).astype(np.float32)
    config = make(model=model, augment=False, dropout=0.0, batch_size=8, lr=1e-2)
    engine = TorchEngine(config, 36, 4, (1, 6, 6))
    engine.prepare(X.reshape(40, -1), y, flip_ok=False)
    for epoch in range(30):
        engine.train_epoch(epoch, 30)
    assert (engine.predict_proba(X.reshape(40, -1)).argmax(1) == y).mean() == 1.0


@pytest.mark.parametrize("model, batch_norm", [("mlp", False), ("mlp", True), ("cnn", False)])
def test_same_seed_same_weights_and_resume_equals_straight(tmp_path, model, batch_norm):
    config = make(model, **({"batch_norm": batch_norm} if model == "mlp" else {}))  # (the CNN has it regardless)
    a = job.train(config, tmp_path, "a", quiet=True)
    b = job.train(config, tmp_path, "b", quiet=True)
    # b was planned for 3 epochs; rewind it to its epoch-1 checkpoint by retraining one epoch elsewhere
    engine = job.engine_for(config, job.load_splits(config))
    with job.thread_policy(config, engine):  # the run's own thread count, as in a run: other counts, other bits
        loss, acc = engine.train_epoch(0, 3)
    history = [{"epoch": 1, "loss": loss, "accuracy": acc, "val_loss": loss, "val_accuracy": acc}]
    job.save_checkpoint(b, engine, 1, history, 0.0)
    job.resume(b, 3, quiet=True)
    wa, _ = runs.load_tensors(a / runs.MODEL)
    wb, _ = runs.load_tensors(b / runs.MODEL)
    assert set(wa) == set(wb)
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)


def test_weights_round_trip_through_safetensors(tmp_path):
    run = job.train(make(model="cnn", epochs=1), tmp_path, "r", quiet=True)
    record, engine = job.load_run(run)
    splits = job.load_splits(record.settings)
    summary = json.loads((run / "summary.json").read_text())
    again = job.evaluate(engine, splits.data)
    assert again["test_accuracy"] == summary["test_accuracy"]
    tensors, meta = runs.load_tensors(run / runs.CHECKPOINT)
    assert "rng.data" in tensors and any(k.startswith("optimizer.") for k in tensors)
    assert meta["epoch"] == 1


def test_two_processes_train_one_model(tmp_path):
    """torchrun with two CPU ranks (gloo): both end with the same weights, batch norm's running statistics
    included (the MLP's default); only rank 0 writes (no report: what is tested is the training). Trained again
    with the thread count left to nnlab (the ranks share the cores: one each here), the same world size gives
    the same bits."""
    def torchrun(name, env):
        return subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", "--master-port=29517",
             "-m", "nnlab", "train", "mlp", "--data", "digits", "--epochs", "10", "--hidden", "32", "--lr", "1e-2",
             "--no-augment", "--out", str(tmp_path), "--name", name, "--quiet", "--no-report"],
            capture_output=True, text=True, timeout=300, env=env)

    threads_env = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    proc = torchrun("ddp", {**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert summary["max_weight_gap_between_ranks"] == 0.0
    assert summary["test_accuracy"] > 0.8
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]
    assert proc.stdout.count("test_accuracy=") == 1  # rank 0 alone reports
    if threads.usable_cores() == 2:  # then nnlab gives each of the two ranks one thread, as above
        again = torchrun("again", {k: v for k, v in os.environ.items() if k not in threads_env})
        assert again.returncode == 0, again.stderr[-3000:]
        a, _ = runs.load_tensors(tmp_path / "ddp" / runs.MODEL)
        b, _ = runs.load_tensors(tmp_path / "again" / runs.MODEL)
        assert all(np.array_equal(a[k], b[k]) for k in a)
        assert read_record(tmp_path / "again").arithmetic["threads"] == 1


def test_mirror_averaging_only_for_models_trained_on_mirrors():
    rng = np.random.default_rng(0)
    X = rng.random((20, 36)).astype(np.float32)
    y = np.arange(20) % 2
    config = make(model="cnn", epochs=1)
    engine = TorchEngine(config, 36, 2, (1, 6, 6))
    engine.prepare(X, y, flip_ok=True)
    assert engine.describe()["test_time_flip"] is True
    averaged = engine.predict_proba(X)
    engine.mirror_average = False
    mirrored = X.reshape(20, 6, 6)[:, :, ::-1].reshape(20, 36).copy()
    np.testing.assert_allclose(averaged, (engine.predict_proba(X) + engine.predict_proba(mirrored)) / 2, atol=1e-6)
    digits = TorchEngine(config, 36, 2, (1, 6, 6))
    digits.prepare(X, y, flip_ok=False)
    assert digits.describe()["test_time_flip"] is False


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_a_last_batch_of_one_sample_joins_the_batch_before(model, monkeypatch):
    """Batch norm cannot train on a batch of one (no batch statistics): 17 samples in batches of 8 are
    trained as 8 + 9, not 8 + 8 + 1."""
    rng = np.random.default_rng(0)
    X, y = rng.random((17, 36), dtype=np.float32), np.arange(17) % 3
    config = make(model, batch_size=8, augment=False, **({"batch_norm": True} if model == "mlp" else {}))
    engine = TorchEngine(config, 36, 3, (1, 6, 6))
    engine.prepare(X, y, flip_ok=False)
    monkeypatch.setattr(engine, "measure_batch_norm", lambda: None)  # (its pass over the data is no training batch)
    sizes = []
    engine.model.register_forward_hook(lambda module, inputs, output: sizes.append(len(inputs[0])))
    loss, acc = engine.train_epoch(0, 1)
    assert sizes == [8, 9] and np.isfinite(loss)


def test_with_label_smoothing_the_training_curve_reports_the_plain_log_loss():
    """Training minimises the smoothed loss, but the curve beside the validation loss must be the same quantity."""
    from nnlab.metrics import log_loss

    rng = np.random.default_rng(0)
    X = rng.random((96, 64), dtype=np.float32)
    y = X[:, :3].argmax(axis=1)                    # learnable, so that the predictions grow confident
    config = make(lr=3e-2, schedule="constant", dropout=0.0, augment=False,
              label_smoothing=0.3, batch_size=32)
    engine = TorchEngine(config, 64, 3, (1, 8, 8))
    engine.prepare(X, y, flip_ok=False)
    for epoch in range(30):
        engine.train_epoch(epoch, 31)
    engine.cfg = replace(config, lr=1e-12)         # then an epoch that does not move the weights
    loss, _ = engine.train_epoch(30, 31)
    P = engine.predict_proba(X)
    assert loss == pytest.approx(log_loss(P, y), rel=1e-4)
    smoothed = float(torch.nn.functional.cross_entropy(torch.log(torch.from_numpy(P)), torch.from_numpy(y),
                                                       label_smoothing=0.3))
    assert smoothed - loss > 0.1, (smoothed, loss)  # what the curve reported before


def test_the_cnn_shifts_images_only_in_runs_long_enough_to_need_it():
    from nnlab.training.torch_engine import SHIFTS_FROM_EPOCHS

    X = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    y = np.arange(16) % 10
    used = {}
    for epochs in (SHIFTS_FROM_EPOCHS - 1, SHIFTS_FROM_EPOCHS):
        engine = TorchEngine(make(model="cnn", epochs=epochs), 784, 10, (1, 28, 28))
        engine.prepare(X, y, flip_ok=True)
        used[epochs] = (engine.max_shift, engine.flip, engine.describe()["augment_used"])
    assert used[SHIFTS_FROM_EPOCHS - 1] == (0, True, "mirror images")
    assert used[SHIFTS_FROM_EPOCHS] == (2, True, "shifts of up to 2 px and mirror images")
    engine = TorchEngine(make(model="cnn", epochs=30), 784, 10, (1, 28, 28))
    engine.prepare(X, y, flip_ok=False)  # digits: a mirror image is another digit
    assert engine.describe()["augment_used"] == "shifts of up to 2 px"


def test_the_engine_flushes_subnormals_only_while_it_computes(monkeypatch):
    """Subnormal floats are flushed to zero inside the engine's arithmetic (fast on CPUs) and the caller's
    setting is back after each call: code that calls nnlab keeps IEEE subnormals (hypothesis refuses to draw
    floats where they are flushed)."""
    from nnlab.training import torch_engine

    seen = []
    real = torch_engine.TorchEngine._train_epoch

    def spy(self, *args):
        seen.append(torch_engine._flushing())
        return real(self, *args)

    monkeypatch.setattr(torch_engine.TorchEngine, "_train_epoch", spy)
    tiny = float.fromhex("0x1p-1060")
    assert tiny * 1.0 != 0.0  # the caller's IEEE arithmetic
    engine = TorchEngine(make(epochs=1), 64, 10)
    X = np.random.default_rng(0).random((32, 64), np.float32)
    engine.prepare(X, np.arange(32) % 10, flip_ok=False)
    engine.train_epoch(0, 1)
    engine.predict_proba(X)
    assert seen == [True] and tiny * 1.0 != 0.0
