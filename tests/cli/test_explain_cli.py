"""`nnlab explain RUN_DIR`: writes the page, or one `error:` line and nothing at all."""

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import assert_clean_error
from tests.training.test_job import BASE


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from nnlab.training import job

    return job.train(replace(BASE, hidden=[4, 3]), tmp_path_factory.mktemp("runs"), "moons", quiet=True)


def test_explain_writes_the_page_into_the_run_and_says_where(cli, run):
    out = cli("explain", run, "--samples", "6", check_rc=0).stdout.strip()
    assert out == f"page={run / 'explain.html'}"
    html = (run / "explain.html").read_text()
    assert "a batch of\n6" in html and "finite-difference checks pass" in html


def test_explain_out_and_start_weights(cli, run, tmp_path):
    cli("explain", run, "--weights", "start", "--lr", "0.5", "--out", tmp_path / "s.html", check_rc=0)
    html = (tmp_path / "s.html").read_text()
    assert "the weights the run started from" in html and "lr = 0.5" in html


@pytest.mark.parametrize("args, fragment", [
    (("--samples", "0"), "must be at least 1"),
    (("--samples", "65"), "between 1 and 64"),
    (("--lr", "0"), "must be greater than 0"),
    (("--weights", "best"), "invalid choice: 'best'"),
    (("--out", "page.txt"), "ending in .html"),
    (("--out", "no/such/folder/p.html"), "does not exist"),
])
def test_bad_options_are_one_clean_error_and_write_nothing(cli, run, tmp_path, args, fragment):
    before = sorted(p.name for p in run.iterdir())
    assert_clean_error(cli("explain", run, *args), fragment)
    assert sorted(p.name for p in run.iterdir()) == before and list(tmp_path.iterdir()) == []


def test_a_missing_or_foreign_run_is_refused(cli, tmp_path):
    assert_clean_error(cli("explain", tmp_path / "nope"), "does not exist")
    fake = tmp_path / "cnn-run"
    fake.mkdir()
    from nnlab.training.config import TrainConfig

    (fake / "config.json").write_text(json.dumps({"format": "nnlab-run/2",
                                                  "settings": TrainConfig.create("cnn", "digits").to_dict()}))
    assert_clean_error(cli("explain", fake), "give a scratch run")
    assert [p.name for p in fake.iterdir()] == ["config.json"]


def test_a_run_in_the_columns_notation_with_json_and_answers(cli, run, tmp_path):
    """The course's notation for a run's step: the same numbers, transposed, with the 1/m moved out of dZ."""
    cli("explain", run, "--json", tmp_path / "rows.json", "--out", tmp_path / "rows.html", check_rc=0)
    cli("explain", run, "--convention", "columns", "--json", tmp_path / "cols.json", "--out", tmp_path / "c.html",
        check_rc=0)
    rows, cols = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("rows", "cols"))
    assert cols["convention"] == "columns" and rows["loss"] == cols["loss"]
    L = rows["layers"]
    dZ_rows, dZ_cols = np.array(rows["values"][f"dZ{L}"]), np.array(cols["values"][f"dZ{L}"])
    np.testing.assert_allclose(dZ_cols, len(dZ_rows) * dZ_rows.T, rtol=1e-12)
    np.testing.assert_allclose(np.array(cols["gradients"]["W1"]), np.array(rows["gradients"]["W1"]).T, rtol=1e-12)
    assert "This page writes <b>columns</b>" in (tmp_path / "c.html").read_text()
    # a hand calculation of the run's step, checked: the first wrong number is found
    mine = tmp_path / "mine.json"
    wrong_dZ = (np.array(cols["values"][f"dZ{L}"]) * 2).tolist()
    mine.write_text(json.dumps({"A1": cols["values"]["A1"], f"dZ{L}": wrong_dZ}))
    out = cli("explain", run, "--convention", "columns", "--answers", mine, "--out", tmp_path / "m.html",
              check_rc=0).stdout
    assert f"1 of 2 answers are right. The first wrong step is dZ{L}" in out
