"""nnlab doctor RUN: the fixes a run's checks suggest are tried on forks of it, and what each changed is measured;
the right fix for a planted problem measurably helps and a wrong one does not; forks keep the run's bits."""

import json
from dataclasses import replace

import numpy as np
import pytest

import nnlab
from nnlab import runs
from nnlab.training import doctor, job
from nnlab.training.record import read_record
from tests.conftest import assert_clean_error
from tests.training.test_job import BASE

# A stalled learning rate, planted: Adam at 1e-4 moves the weights too little in 8 epochs of 15 steps.
STALLED = ("scratch", "--data", "moons", "--epochs", "8", "--hidden", "8", "--batch-size", "64", "--lr", "1e-4",
           "--seed", "3", "--quiet")


@pytest.fixture(scope="module")
def stalled(tmp_path_factory):
    from tests.conftest import nnlab_here

    out = tmp_path_factory.mktemp("doctor")
    proc = nnlab_here(["train", *STALLED, "--out", str(out), "--name", "stalled"], cwd=out, env={})
    assert proc.returncode == 0, proc.stderr
    return out / "stalled"


def rows(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.splitlines() if line.startswith("  ") and
            not line.startswith("  - ")}


def test_the_right_fix_helps_and_the_wrong_one_does_not(cli, stalled):
    proc = cli("doctor", stalled, check_rc=0)
    out = proc.stdout
    assert f"doctor: {stalled} (scratch on moons, 8 epochs): 1 check fired" in out
    assert "  - loss-flat: the training loss barely fell" in out
    result = json.loads((stalled / "doctor.json").read_text())
    assert [f["fix"] for f in result["forks"]] == ["higher-lr", "more-steps"]  # what loss-flat suggests
    assert result["budget_epochs"] == 8 and result["baseline"]["same_bits"] is True  # the run trained again
    assert "its settings trained again give its own weights, bit for bit" in out
    higher = result["forks"][0]
    base = result["baseline"]["val_loss"]
    assert higher["flags"] == "--lr 0.001" and higher["verdict"] == "helped" and higher["cleared"] == ["loss-flat"]
    assert higher["val_loss"] < 0.9 * base  # measured: 0.498 -> 0.416
    line = rows(out)["higher-lr"]
    assert f"{base:.4f} -> {higher['val_loss']:.4f}" in line and "helped (clears loss-flat)" in line
    assert f"best: higher-lr (--lr 0.001): val_loss {base:.4f} -> {higher['val_loss']:.4f}" in out
    # the run did not learn: can its model memorise one batch at its rate? (not in 200 steps at 1e-4)
    assert result["overfit"]["ok"] is False and "overfit one batch: FAILED" in out
    assert "(--lr 0.0001: try 0.001)" in result["overfit"]["line"]

    wrong = cli("doctor", stalled, "--fixes", "lower-lr", check_rc=0)
    lower = json.loads((stalled / "doctor.json").read_text())["forks"][0]
    assert lower["flags"] == "--lr 1e-05" and lower["verdict"] != "helped" and lower["val_loss"] > base
    assert lower["cleared"] == [] and "loss-flat" in lower["fired"]
    assert "no fix lowered the val loss by 2% or more" in wrong.stdout
    # each fork is a run of its own, beside the others (the second doctor's forks do not overwrite the first's)
    assert (stalled / "doctor" / "higher-lr" / "model.safetensors").is_file()
    assert lower["run"] == str(stalled / "doctor" / "lower-lr")


def test_the_page_shows_it_and_the_report_links_to_it(cli, stalled):
    cli("doctor", stalled, "--fixes", "higher-lr", check_rc=0)
    page = (stalled / "doctor.html").read_text()
    assert "What each fix changed" in page and "<code>--lr 0.001</code>" in page and "<svg" in page
    assert '<a href="report.html">the run\'s report</a>' in page
    assert "helped" in page and "polyline" in page and 'id="overfit"' in page and "bit for bit" in page
    assert '<a href="doctor.html">' in (stalled / "report.html").read_text()


def test_a_fork_that_changes_nothing_has_the_run_s_bits(tmp_path):
    run = job.train(replace(BASE, hidden=(8,), epochs=3), tmp_path, "r", quiet=True)
    entry = doctor._fork("as-is", {}, read_record(run).settings, run / doctor.FORKS, quiet=True)
    mine, its = runs.load_tensors(run / runs.MODEL)[0], runs.load_tensors(run / "doctor" / "as-is" / runs.MODEL)[0]
    assert sorted(mine) == sorted(its) and all(np.array_equal(mine[k], its[k]) for k in mine)
    assert entry["val_loss"] == runs.read_metrics(run)[-1]["val_loss"]


def test_a_shorter_budget_trains_a_yardstick_and_is_reproducible(tmp_path):
    run = job.train(replace(BASE, hidden=(8,), epochs=8, lr=1e-4, optimizer="sgd"), tmp_path, "r", quiet=True)
    first = nnlab.doctor(run, budget_epochs=3, fixes=["higher-lr"])
    again = nnlab.doctor(run, budget_epochs=3, fixes=["higher-lr"])
    assert first.result["baseline"]["epochs"] == 3 and "same_bits" not in first.result["baseline"]
    keep = ("val_loss", "val_accuracy", "loss", "accuracy", "test_accuracy", "dead", "verdict")
    assert [{k: f[k] for k in keep} for f in first.forks] == [{k: f[k] for k in keep} for f in again.forks]
    assert "higher-lr" in str(first) and first.page.name == "doctor.html"
    assert first._repr_html_().startswith("<iframe srcdoc=") and "What each fix changed" in first._repr_html_()


def test_a_pytorch_fork_turns_batch_norm_off(cli, tmp_path):
    run = job.train(nnlab.TrainConfig.create("mlp", "moons", epochs=2, hidden=(8,)), tmp_path, "m", quiet=True)
    proc = cli("doctor", run, "--fixes", "no-batch-norm,he-start", check_rc=0)
    result = json.loads((run / "doctor.json").read_text())
    (fork,) = result["forks"]
    assert fork["flags"] == "--no-batch-norm" and result["skipped"] == ["he-start"]
    assert read_record(fork["run"]).settings.batch_norm is False
    assert "(not for this model: he-start)" in proc.stdout


def test_a_fix_that_diverges_is_a_result(tmp_path):
    run = job.train(replace(BASE, hidden=(8,), epochs=2, lr=50.0, optimizer="sgd"), tmp_path, "r", quiet=True)
    result = doctor.diagnose(run, fixes=["higher-lr"])  # SGD at 500: NaN in the first epoch (at 50 it trains)
    (fork,) = result["forks"]
    assert fork["verdict"] == "worse" and "the training loss became nan in epoch 1" in fork["error"]
    assert fork["run"] is None and not (run / "doctor" / "higher-lr").exists()  # no epoch finished: nothing kept
    assert any("worse (training diverged)" in line for line in doctor.lines(result))
    from nnlab.viz.doctor_page import write_doctor_page

    page = write_doctor_page(run, result).read_text()  # a run trained without its report: no link to nothing
    assert 'href="report.html"' not in page and f"nnlab viz {run}</code> draws it" in page


def test_nothing_fired_nothing_tried(tmp_path):
    run = job.train(replace(BASE, hidden=(16,), epochs=30, lr=0.01), tmp_path, "fine", quiet=True)
    result = doctor.diagnose(run)
    assert result["fired"] == [] and result["forks"] == []
    assert "nothing to try: no check fired; --fixes" in "\n".join(doctor.lines(result))


def test_bad_requests_are_one_clean_line(cli, stalled, tmp_path):
    assert_clean_error(cli("doctor", tmp_path / "nope"), "does not exist")
    assert_clean_error(cli("doctor", stalled, "--lr", "0.1"), "--lr is for --overfit-batch")
    assert_clean_error(cli("doctor", stalled, "--fixes", "lower-rl"),
                       "unknown fix 'lower-rl' (did you mean 'lower-lr'?)")
    assert_clean_error(cli("doctor", "mlp"), "'mlp' is a model, not a run directory")
    unfinished = job.train(replace(BASE, hidden=(4,), epochs=1), tmp_path, "u", quiet=True)
    (unfinished / runs.SUMMARY).unlink()
    assert_clean_error(cli("doctor", unfinished), "has not finished training")


def test_the_verdict_needs_two_percent_either_way():
    def judged(before, after, key="val_loss"):
        return doctor.verdict({key: before, "val_loss": before if key == "val_loss" else None}, {key: after})

    assert [judged(1.0, v) for v in (0.97, 0.99, 1.01, 1.03, None, float("nan"))] == [
        "helped", "no better", "no better", "worse", "worse", "worse"]
    assert judged(0.5, 0.45, key="loss") == "helped"  # no validation split: the training loss decides


def test_each_check_suggests_fixes_that_apply():
    fired = [{"check": "chance", "text": ""}, {"check": "dead", "text": ""}, {"check": "start-loss", "text": ""}]
    he = replace(BASE, start="he")
    assert doctor.suggested(fired, he) == ["higher-lr", "lower-lr", "more-steps", "less-weight-decay"]
    assert doctor.suggested(fired, replace(he, start="confident-wrong"))[-1] == "he-start"
    assert doctor.default_budget(30, 8) == 13 and doctor.default_budget(8, 15) == 8  # 100 steps; the run itself
    assert doctor.default_budget(30, 469) == 2 and doctor.default_budget(1, 15) == 1
    assert doctor.flags({"lr": 1e-4, "batch_norm": False, "start": "he"}) == "--lr 0.0001 --no-batch-norm --start he"
    memorising = [{"check": "val-chance", "text": ""}]  # memorising calls for more regularisation, not less
    assert doctor.suggested(memorising, he) == ["more-weight-decay"]
    assert doctor.FIXES["more-weight-decay"].change(replace(he, weight_decay=0.0), 8, 15) == {"weight_decay": 1e-3}


def test_ctrl_c_stops_the_doctor(stalled, monkeypatch):
    from nnlab.errors import Interrupted

    def interrupted(*args, **kwargs):
        raise Interrupted("interrupted; no epoch finished")

    monkeypatch.setattr(job, "train", interrupted)
    with pytest.raises(Interrupted):  # not recorded as a fork that failed
        doctor.diagnose(stalled, fixes=["higher-lr"])


def test_doctor_checks_the_suggestion_with_forks(cli, stalled):
    proc = cli("doctor", stalled, "--lr-find", "--fixes", "more-steps", check_rc=0)
    result = json.loads((stalled / "doctor.json").read_text())
    found = result["lr_find"]
    rates = [f["change"]["lr"] for f in found["forks"]]
    suggestion = found["suggestion"]
    assert rates == [float(f"{suggestion / 3:.2g}"), suggestion, float(f"{suggestion * 3:.2g}")]
    base = result["baseline"]["val_loss"]
    suggested = found["forks"][1]
    assert suggested["verdict"] == "helped" and suggested["val_loss"] < 0.5 * base  # the run's 1e-4 was stalled
    assert f"suggestion {found['suggestion']:g}, a tenth of the lowest's rate (the run's --lr 0.0001)" in proc.stdout
    page = (stalled / "doctor.html").read_text()
    assert 'id="lr-find"' in page and f"suggestion {found['suggestion']:.2g}" in page


def test_a_confidently_wrong_start_is_mended_by_another_start(tmp_path):
    run = job.train(replace(BASE, hidden=(8,), epochs=8, batch_size=128, lr=0.01, start="confident-wrong"),
                    tmp_path, "wrong", quiet=True)
    result = doctor.diagnose(run)
    assert {c["check"] for c in result["fired"]} >= {"start-loss", "chance"}
    forks = {f["fix"]: f for f in result["forks"]}
    base = result["baseline"]["val_loss"]
    assert forks["he-start"]["flags"] == "--start he" and "start-loss" in forks["he-start"]["cleared"]
    assert forks["he-start"]["val_loss"] < 0.2 * base  # measured: 3.73 -> 0.30, the best of the fixes
    assert min(forks.values(), key=lambda f: f["val_loss"])["fix"] == "he-start"
    assert forks["lower-lr"]["verdict"] == "worse" and forks["lower-lr"]["val_loss"] > base  # 3.73 -> 5.53
