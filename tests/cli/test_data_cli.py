from pathlib import Path

import pytest

from tests.conftest import assert_clean_error
from tests.data.fixtures import write_idx_folder

SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_data_list_names_every_dataset_and_how_to_get_missing_ones(cli):
    out = cli("data", "list", check_rc=0, env={"XDG_CACHE_HOME": "/nonexistent"}).stdout
    for name in ("fashion-mnist", "mnist", "mnist-5k", "digits", "breast-cancer", "moons", "spiral"):
        assert name in out
    assert "nnlab data fetch mnist" in out  # mnist is not on this machine


def test_data_info_of_an_idx_folder(cli, tmp_path):
    folder = write_idx_folder(tmp_path / "tiny")
    out = cli("data", "info", folder, check_rc=0).stdout
    assert "train 40, test 10" in out and "1x6x6 image" in out and "raw 0 .. 179" in out


@pytest.mark.skipif(not SYSTEM_FASHION.is_dir(), reason="needs the Debian package dataset-fashion-mnist")
def test_data_info_fashion_mnist_from_the_debian_package(cli):
    out = cli("data", "info", "fashion-mnist", check_rc=0).stdout
    assert "train 60000, test 10000" in out
    assert "Ankle boot" in out and "T-shirt/top" in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("data", "info", "nope"), "unknown dataset 'nope'"),
        (("data", "info", "moons", "--classes", "0,9"), "'9' is not a class"),
        (("data", "info", "moons", "--classes", "0,,1"), "cannot read the list"),
        (("data", "frobnicate",), "invalid choice"),
        (("data", "fetch", "moons"), "needs no download"),
        (("train-everything",), "invalid choice"),
    ],
)
def test_bad_input_is_one_clean_error_line(cli, args, fragment):
    assert_clean_error(cli(*args), fragment)


def test_debug_shows_the_traceback(cli):
    proc = cli("data", "info", "nope", "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_corrupt_idx_file_is_a_clean_error(cli, tmp_path):
    folder = write_idx_folder(tmp_path / "tiny")
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    assert_clean_error(cli("data", "info", folder), "train-images-idx3-ubyte.gz")


def test_output_into_a_pipe_that_closes_early_is_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "nnlab", "data", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "NNLAB_DATA": str(tmp_path)})
    proc.stdout.close()  # a reader gone before the output comes, as `| head -1` is after one line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and proc.returncode in (0, 1), err
