import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import assert_clean_error
from tests.training.test_job import BASE


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two finished runs, trained without their reports (compare reads the runs, not their reports; viz
    draws one below)."""
    from nnlab.training import job

    out = tmp_path_factory.mktemp("runs")
    small = job.train(replace(BASE, hidden=[4]), out, "small", quiet=True)
    wide = job.train(replace(BASE, hidden=[32, 32]), out, "wide", quiet=True)
    return small, wide


def test_compare_writes_one_page_with_every_run(cli, two_runs, tmp_path):
    small, wide = two_runs
    page = tmp_path / "pages" / "cmp.html"
    page.parent.mkdir()
    out = cli("compare", small, wide, "--out", page, check_rc=0).stdout
    assert out.strip() == f"page={page}"
    html = page.read_text()
    links = re.findall(r'<a href="([^"]+)">', html)
    assert [(page.parent / link).resolve() for link in links] == [(small / "report.html").resolve(),
                                                                  (wide / "report.html").resolve()]
    assert "data:image/png;base64," in html  # the curves travel inside the page
    assert html.count("<tr>") == 3
    # parameter counts: 2-4-1 = 17, 2-32-32-1 = 1185
    assert "<td>17</td>" in html and "<td>1,185</td>" in html


def test_compare_without_out_writes_beside_the_first_run_and_says_where(cli, two_runs, tmp_path):
    small, wide = two_runs
    before = set(small.parent.iterdir())
    first = cli("compare", small, wide, check_rc=0).stdout.strip()
    second = cli("compare", wide, small, check_rc=0).stdout.strip()
    pages = [Path(line.removeprefix("page=")) for line in (first, second)]
    assert first.startswith("page=") and pages[0] != pages[1]  # a second page never overwrites the first
    for page in pages:
        assert page.parent == small.parent and page.name.startswith("compare-") and page.suffix == ".html"
        assert page.is_file() and "<h1>nnlab: comparing 2 runs</h1>" in page.read_text()
    assert set(small.parent.iterdir()) - before == set(pages)
    assert list(tmp_path.iterdir()) == []  # the current folder (cli runs in tmp_path) is left alone
    for page in pages:
        page.unlink()


def test_compare_bad_input_is_one_clean_error_and_writes_nothing(cli, two_runs, tmp_path):
    small, wide = two_runs
    page = tmp_path / "cmp.html"
    assert_clean_error(cli("compare", small, "--out", page), "two runs or more")
    assert_clean_error(cli("compare", small, wide, "--out", tmp_path / "cmp.png"), "ending in .html")
    assert_clean_error(cli("compare", small, tmp_path / "nope", "--out", page), "nope")
    unfinished = tmp_path / "unfinished"
    shutil.copytree(wide, unfinished)
    (unfinished / "summary.json").unlink()
    assert_clean_error(cli("compare", small, unfinished, "--out", page), "no test results yet")
    assert not page.exists() and not (tmp_path / "cmp.png").exists()


def test_viz_redraws_a_run(cli, two_runs):
    small, _ = two_runs
    assert not (small / "figures").exists()  # trained without its report: what is there below, viz drew
    out = cli("viz", small, check_rc=0).stdout
    assert out.strip() == f"report={small / 'report.html'}"
    assert (small / "figures" / "training_health.png").is_file()
