import json

import numpy as np
import pytest

from tests.conftest import assert_clean_error, nnlab_here


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny binary digits run (two mnist-5k digits), trained through the CLI (in this process: a fresh
    `nnlab train` is the README's, test_ctrl_c's and tests/training/test_faults.py's)."""
    out = tmp_path_factory.mktemp("runs")
    proc = nnlab_here(["train", "scratch", "--data", "mnist-5k", "--classes", "3,8", "--epochs", "3", "--hidden",
                       "32,16", "--out", str(out), "--name", "digits"], cwd=out, env={})
    assert proc.returncode == 0, proc.stderr
    return out / "digits", proc


def test_train_prints_epochs_and_the_result_line(trained):
    run, proc = trained
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("test_accuracy=") and lines[-1].endswith(f"run={run}")
    assert float(lines[-1].split()[0].split("=")[1]) > 0.9
    assert sum(line.startswith("epoch ") for line in lines) == 3


def test_eval_reproduces_the_summary(cli, trained):
    run, _ = trained
    out = cli("eval", run, check_rc=0).stdout.strip().splitlines()
    summary = json.loads((run / "summary.json").read_text())
    assert out[-1] == f"test_accuracy={summary['test_accuracy']:.4f}"


def test_predict_png_and_npy(cli, trained, tmp_path):
    from PIL import Image

    from nnlab.data import load

    run, _ = trained
    ds = load("mnist-5k", classes=["3", "8"])
    three = (ds.X_test[ds.y_test == 0][0] * 255).reshape(28, 28).astype(np.uint8)
    eight = (ds.X_test[ds.y_test == 1][0] * 255).reshape(28, 28).astype(np.uint8)
    Image.fromarray(three).save(tmp_path / "three.png")
    Image.fromarray(eight).resize((56, 56)).save(tmp_path / "eight_big.png")
    np.save(tmp_path / "three.npy", three.astype(np.float32))
    proc = cli("predict", run, tmp_path / "three.png", tmp_path / "eight_big.png", tmp_path / "three.npy",
               check_rc=0)
    rows = [line.split("\t") for line in proc.stdout.strip().splitlines()]
    assert [r[1] for r in rows] == ["3", "8", "3"]
    assert all(0.5 <= float(r[2]) <= 1 for r in rows)
    assert "resized from 56x56 to 28x28" in proc.stderr


def test_predict_prints_every_good_file_and_reports_each_bad_one(cli, trained, tmp_path):
    from nnlab.data import load

    run, _ = trained
    ds = load("mnist-5k", classes=["3", "8"])
    np.save(tmp_path / "three.npy", (ds.X_test[ds.y_test == 0][0] * 255).astype(np.float32))
    np.save(tmp_path / "eight.npy", (ds.X_test[ds.y_test == 1][0] * 255).astype(np.float32))
    (tmp_path / "notes.txt").write_text("not an image")
    proc = cli("predict", run, tmp_path / "three.npy", tmp_path / "missing.png", tmp_path / "eight.npy",
               tmp_path / "notes.txt")
    assert proc.returncode == 2
    rows = [line.split("\t") for line in proc.stdout.strip().splitlines()]
    assert [(r[0], r[1]) for r in rows] == [(str(tmp_path / "three.npy"), "3"), (str(tmp_path / "eight.npy"), "8")]
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("error: ") for e in errors), proc.stderr
    assert "missing.png" in errors[0] and "notes.txt" in errors[1] and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("train", "scratch", "--data", "moons", "--lr", "-1"), "must be greater than 0"),
        (("train", "scratch", "--data", "moons", "--epochs", "0"), "must be at least 1"),
        (("train", "scratch", "--data", "moons", "--hidden", "8,x"), "not a comma-separated list"),
        (("train", "scratch", "--data", "moons", "--val-fraction", "1"), "at least 0 and below 1"),
        (("train", "scratch", "--data", "nope"), "unknown dataset 'nope'"),
        (("train", "scratch", "--data", "mnist-5k", "--classes", "3,11"), "'11' is not a class"),
        (("train", "scratch", "--data", "moons", "--name", "../escape"), "must be a plain folder name"),
        (("train", "scratch", "--data", "moons", "--device", "cuda"), "runs in NumPy on the CPU"),
        (("train", "scratch", "--data", "moons", "--dropout", "0.2"), "--dropout) is for mlp and cnn"),
        (("train", "cnn", "--data", "moons"), "the CNN needs image data"),
        (("train", "cnn", "--data", "mnist-5k", "--hidden", "8"), "the CNN takes --widths"),
        (("train", "scratch", "--data", "digits", "--loss", "mse"), "drop --loss mse, or use two classes"),
        (("train", "mlp", "--data", "moons", "--loss", "mse"), "always train with the log loss: drop --loss"),
        (("train", "scratch", "--data", "moons", "--loss", "l1"), "invalid choice: 'l1'; choose from log, mse"),
        (("gradcheck", "--classes", "3", "--loss", "mse"), "drop --loss mse, or use two classes"),
        (("train", "transformer", "--data", "moons"), "invalid choice"),
        (("train", "scratch"), "say what to train"),
        (("eval", "no-such-run"), "does not exist"),
        (("train", "--resume", "no-such-run", "--epochs", "3"), "does not exist"),
    ],
)
def test_bad_train_input_is_one_clean_error_and_writes_nothing(cli, tmp_path, args, fragment):
    # One case in a fresh interpreter, one that gets as far as loading PyTorch: nothing printed while it
    # loads may add a line to the one `error:` line. The others run in this process (seconds saved each).
    assert_clean_error(cli(*args, fresh=fragment == "the CNN needs image data"), fragment)
    assert not (tmp_path / "runs").exists()


def test_predict_bad_files(cli, trained, tmp_path):
    run, _ = trained
    (tmp_path / "x.txt").write_text("hi")
    assert_clean_error(cli("predict", run, tmp_path / "x.txt"), "unsupported file type .txt")
    np.save(tmp_path / "wrong.npy", np.zeros(10))
    assert_clean_error(cli("predict", run, tmp_path / "wrong.npy"), "expects 784 numbers")
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert_clean_error(cli("predict", run, tmp_path / "bad.png"), "not a readable image")


def test_existing_name_is_refused_and_left_untouched(cli, trained):
    run, _ = trained
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert_clean_error(cli("train", "scratch", "--data", "moons", "--out", run.parent, "--name", "digits"),
                       "exists")
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_gradcheck_command(cli):
    proc = cli("gradcheck", "--hidden", "4,3", "--classes", "3", check_rc=0)
    assert "all gradients agree" in proc.stdout
    assert len([line for line in proc.stdout.splitlines() if line.endswith(" ok")]) == 6


def test_gradcheck_checks_the_squared_error_too(cli):
    proc = cli("gradcheck", "--loss", "mse", check_rc=0)
    assert "(sigmoid + squared error)" in proc.stdout and "all gradients agree" in proc.stdout
    assert len([line for line in proc.stdout.splitlines() if line.endswith(" ok")]) == 6


@pytest.mark.parametrize("activation", ["tanh", "logistic", "identity"])
def test_gradcheck_checks_every_activation(cli, activation):
    proc = cli("gradcheck", "--activation", activation, "--hidden", "5,4", check_rc=0)
    assert f"{activation} hidden layers" in proc.stdout and "all gradients agree" in proc.stdout


def test_the_scratch_network_trains_with_another_activation_and_only_it_takes_one(cli, tmp_path):
    cli("train", "scratch", "--data", "moons", "--activation", "tanh", "--epochs", "3", "--hidden", "8",
        "--no-report", "--quiet", "--name", "t", check_rc=0)
    run = tmp_path / "runs" / "t"
    assert json.loads((run / "config.json").read_text())["settings"]["activation"] == "tanh"
    from nnlab.training import job

    _, engine = job.load_run(run)
    assert engine.net.activation == "tanh" and cli("eval", run).returncode == 0
    assert_clean_error(cli("train", "mlp", "--data", "moons", "--activation", "tanh"), "activation",
                       "scratch")


def test_a_squared_error_run_records_its_loss_and_says_so(cli, tmp_path):
    cli("train", "scratch", "--data", "moons", "--loss", "mse", "--epochs", "2", "--hidden", "8", "--quiet",
        "--name", "m", check_rc=0)
    run = tmp_path / "runs" / "m"
    assert json.loads((run / "config.json").read_text())["settings"]["loss"] == "mse"
    assert "Training minimised the squared error" in (run / "report.html").read_text()


def test_no_report_trains_and_saves_and_viz_draws_the_report_later(cli, tmp_path):
    proc = cli("train", "scratch", "--data", "moons", "--epochs", "2", "--hidden", "8", "--no-report", "--name", "n",
               check_rc=0)
    run = tmp_path / "runs" / "n"
    *_, said, last = proc.stdout.strip().splitlines()
    assert said == "no report drawn (--no-report); nnlab viz runs/n draws it" and last.startswith("test_accuracy=")
    assert (run / "model.safetensors").is_file() and (run / "summary.json").is_file()
    assert not (run / "report.html").exists() and not (run / "figures").exists()
    cli("viz", run, check_rc=0)
    assert "Contents" in (run / "report.html").read_text()
    quiet = cli("train", "scratch", "--data", "moons", "--epochs", "1", "--hidden", "4", "--no-report", "--quiet",
                check_rc=0)
    assert quiet.stdout.count("\n") == 1 and quiet.stdout.startswith("test_accuracy=")


def test_cnn_trains_and_predicts_real_png_files(cli, tmp_path):
    from PIL import Image

    from nnlab.data import load

    # The run's report is not looked at here (a CNN's report is: tests/viz/test_report.py, test_teaching.py);
    # drawing it cost a third of the test. batch 64: 2 epochs of the CNN's default batch (256) on 4,500 images
    # are only 36 steps.
    proc = cli("train", "cnn", "--data", "mnist-5k", "--epochs", "2", "--batch-size", "64", "--widths", "8,16",
               "--out", tmp_path, "--name", "c", "--quiet", "--no-report", check_rc=0)
    acc = float(proc.stdout.strip().splitlines()[-1].split()[0].split("=")[1])
    assert acc > 0.8
    ds = load("mnist-5k")
    files = []
    for k in (0, 7):
        pixels = (ds.X_test[ds.y_test == k][0] * 255).reshape(28, 28).astype(np.uint8)
        Image.fromarray(pixels).convert("RGB").save(tmp_path / f"digit{k}.jpg", quality=95)
        files.append(tmp_path / f"digit{k}.jpg")
    rows = [line.split("\t") for line in cli("predict", tmp_path / "c", *files, check_rc=0).stdout.splitlines()]
    assert [r[1] for r in rows] == ["0", "7"]


def test_ctrl_c_stops_cleanly_and_the_run_resumes(cli, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from nnlab import runs

    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab", "train", "scratch", "--data", "mnist-5k", "--epochs", "500",
         "--hidden", "64", "--out", tmp_path, "--name", "k"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NNLAB_DATA": str(tmp_path)},
        # as in a terminal: a shell without job control starts background jobs with Ctrl-C ignored, and a CI
        # runner may too; the child would inherit that and never hear the SIGINT
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in proc.stdout:  # wait until a first epoch has finished (and been saved)
        seen.append(line)
        if line.startswith("epoch "):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (seen, out[-1500:], err[-1500:])
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted") and "--resume" in lines[0]
    assert "Traceback" not in err
    _, state = runs.load_tensors(tmp_path / "k" / runs.CHECKPOINT)
    done = state["epoch"]
    assert done >= 1 and not list((tmp_path / "k").glob(".*.tmp"))
    # The interrupted process was real (a signal); resuming the run it left is an ordinary command.
    resumed = cli("train", "--resume", tmp_path / "k", "--epochs", str(done + 1), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert len(runs.read_metrics(tmp_path / "k")) == done + 1
