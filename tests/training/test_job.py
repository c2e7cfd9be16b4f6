import json
from dataclasses import replace

import numpy as np
import pytest

from nnlab import runs
from nnlab.errors import NNLabError
from nnlab.training import job
from nnlab.training.config import MLPConfig, ScratchConfig
from nnlab.training.record import read_record
from nnlab.viz.render import render_run

BASE = ScratchConfig(data="moons", data_label="moons", epochs=4, batch_size=64, lr=0.01, hidden=(8, 8),
                     weight_decay=1e-4, schedule="cosine", seed=3)


def test_run_directory_holds_what_the_spec_promises(tmp_path):
    run = job.train(BASE, tmp_path, "r", quiet=True)
    assert {p.name for p in run.iterdir()} >= {"config.json", "model.safetensors", "checkpoint.safetensors",
                                                "metrics.jsonl", "summary.json"}
    config = runs.read_config(run)
    assert config["dataset"]["classes"] == ["0", "1"] and config["versions"]["numpy"] == np.__version__
    history = runs.read_metrics(run)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    summary = json.loads((run / "summary.json").read_text())
    for key in ("test_accuracy", "test_loss", "train_seconds", "confusion_matrix", "per_class"):
        assert key in summary
    assert np.sum(summary["confusion_matrix"]) == 500
    assert not list(run.glob("*.tmp"))


def test_scratch_weight_decay_defaults_to_a_unit_gaussian_prior(tmp_path):
    """Unset, alpha = batch size / training samples (moons: 900 after the validation split); set, kept."""
    default = read_record(job.train(replace(BASE, weight_decay=None), tmp_path, "default", quiet=True))
    assert default.dataset["n_train"] == 900
    assert default.settings.weight_decay == pytest.approx(64 / 900)
    given = read_record(job.train(BASE, tmp_path, "given", quiet=True))
    assert given.settings.weight_decay == 1e-4


def test_val_fraction_zero_trains_on_every_training_sample(tmp_path, capsys):
    run = job.train(replace(BASE, val_fraction=0.0, epochs=2), tmp_path, "all", quiet=False, report=render_run)
    record = runs.read_config(run)["dataset"]
    assert (record["n_train"], record["n_val"]) == (1000, 0)
    history = runs.read_metrics(run)
    assert [(h["val_loss"], h["val_accuracy"]) for h in history] == [(None, None)] * 2
    assert all(h["health"]["dense1"]["grad_norm"] > 0 for h in history)  # probed on training samples
    epoch_lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and not any("val_" in line for line in epoch_lines)
    assert (run / "figures" / "learning_curves.png").exists()
    assert "held out no validation split" in (run / "report.html").read_text()


def test_resume_gives_the_same_weights_as_a_straight_run(tmp_path):
    const = replace(BASE, schedule="constant")
    straight = job.train(const, tmp_path, "straight", quiet=True)
    resumed = job.train(replace(const, epochs=2), tmp_path, "resumed", quiet=True)
    job.resume(resumed, 4, quiet=True)
    ws, _ = runs.load_tensors(straight / runs.MODEL)
    wr, _ = runs.load_tensors(resumed / runs.MODEL)
    for name in ws:
        np.testing.assert_array_equal(ws[name], wr[name])
    assert [h["epoch"] for h in runs.read_metrics(resumed)] == [1, 2, 3, 4]
    assert read_record(resumed).settings.epochs == 4
    # the first-layer snapshots of both sessions together are the straight run's
    ss, _ = runs.load_tensors(straight / runs.SNAPSHOTS)
    sr, _ = runs.load_tensors(resumed / runs.SNAPSHOTS)
    assert sorted(ss) == sorted(sr) == [f"epoch{e}" for e in range(5)]
    for name in ss:
        np.testing.assert_array_equal(ss[name], sr[name])
    np.testing.assert_array_equal(ss["epoch4"], ws["W1"][:, :runs.SNAPSHOT_UNITS])
    assert all(set(h["health"]) == {"dense1", "dense2", "dense3"} for h in runs.read_metrics(resumed))


def test_resume_after_a_kill_matches_with_the_cosine_schedule(tmp_path):
    """A run planned for 4 epochs, stopped after 2 (its checkpoint rewound), resumed to 4."""
    straight = job.train(BASE, tmp_path, "straight", quiet=True)
    killed = job.train(BASE, tmp_path, "killed", quiet=True)
    # Rewind its checkpoint to the end of epoch 2 of the same 4-epoch schedule.
    cfg = read_record(killed).settings
    engine = job.engine_for(cfg, job.load_splits(cfg))
    history = []
    for epoch in range(2):
        loss, acc = engine.train_epoch(epoch, 4)
        history.append({"epoch": epoch + 1, "loss": loss, "accuracy": acc, "val_loss": loss, "val_accuracy": acc})
    job.save_checkpoint(killed, engine, 2, history, 0.0)
    job.resume(killed, 4, quiet=True)
    ws, _ = runs.load_tensors(straight / runs.MODEL)
    wk, _ = runs.load_tensors(killed / runs.MODEL)
    for name in ws:
        np.testing.assert_array_equal(ws[name], wk[name])


def test_same_seed_same_result_and_binary_network_has_one_output(tmp_path):
    a = job.train(BASE, tmp_path, "a", quiet=True)
    b = job.train(BASE, tmp_path, "b", quiet=True)
    wa, _ = runs.load_tensors(a / runs.MODEL)
    wb, _ = runs.load_tensors(b / runs.MODEL)
    assert wa["W3"].shape == (8, 1)
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name])


def test_default_epochs_give_small_data_enough_steps():
    assert ScratchConfig(data="x").resolve(54000).epochs == 20
    assert MLPConfig(data="x").resolve(54000).epochs == 30
    assert ScratchConfig(data="x").resolve(900).epochs == 125  # 8 batches an epoch, 1000 steps
    assert ScratchConfig(data="x", epochs=3).resolve(900).epochs == 3  # given, kept


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete"])
def test_damaged_weights_are_a_clear_error(tmp_path, damage):
    run = job.train(BASE, tmp_path, "r", quiet=True)
    path = run / runs.MODEL
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    else:
        path.unlink()
    with pytest.raises(NNLabError, match="model.safetensors"):
        job.load_run(run)


def test_foreign_directory_is_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"hello": 1}')
    with pytest.raises(NNLabError, match="not an nnlab run directory"):
        job.load_run(tmp_path)
    with pytest.raises(NNLabError, match="does not exist"):
        job.load_run(tmp_path / "nope")


def test_the_run_records_its_thread_count_and_a_resume_may_change_it(tmp_path):
    import torch

    torch.set_num_threads(2)
    run = job.train(replace(BASE, epochs=2, threads=1), tmp_path, "one", quiet=True)
    assert read_record(run).settings.threads == 1
    assert [h["threads"] for h in runs.read_metrics(run)] == [1, 1]
    assert torch.get_num_threads() == 2  # the caller's count is back
    job.resume(run, 3, quiet=True, threads=2)
    assert [h["threads"] for h in runs.read_metrics(run)] == [1, 1, 2]
    assert read_record(run).settings.threads == 2


def test_a_mistyped_run_directory_gets_a_guess_among_the_runs_beside_it(tmp_path):
    (tmp_path / "mlp-digits-20261202").mkdir()
    (tmp_path / "mlp-digits-20261202" / "config.json").write_text("{}")
    (tmp_path / "notes").mkdir()  # not a run: never offered
    with pytest.raises(NNLabError, match=r"does not exist \(did you mean 'mlp-digits-20261202'\?\)"):
        runs.read_config(tmp_path / "mlp-digit-20261202")
    with pytest.raises(NNLabError, match=r"nope does not exist; give"):
        runs.read_config(tmp_path / "nope")
