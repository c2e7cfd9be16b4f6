"""`nnlab explain --net SPEC.json`: the page, --json, --markdown, --answers; bad input is one `error:` line and
writes nothing."""

import json

import pytest

import nnlab
from tests.conftest import assert_clean_error
from tests.scratch.test_handnet import MAZUR


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "mazur.json"
    path.write_text(json.dumps(MAZUR))
    return path


def test_net_writes_the_page_beside_the_spec_and_the_json_and_markdown(cli, spec, tmp_path):
    out = cli("explain", "--net", spec, "--json", tmp_path / "o.json", "--markdown", tmp_path / "o.md",
              "--steps", "3", check_rc=0).stdout.split()
    assert out == [f"html={spec.with_suffix('.html')}", f"json={tmp_path / 'o.json'}", f"md={tmp_path / 'o.md'}"]
    html = spec.with_suffix(".html").read_text()
    assert "One step of backprop" in html and "finite differences agree with" in html and "3 steps" in html
    data = json.loads((tmp_path / "o.json").read_text())
    assert abs(data["loss"] - 0.298371109) < 1e-9 and len(data["losses"]) == 4
    assert abs(data["updated"]["W2"][0][0] - 0.35891648) < 1e-8 and set(data["gradients"]) == {"W1", "b1", "W2", "b2"}
    assert {"Z1", "A1", "Z2", "A2", "dA2", "dZ2", "dA1", "dZ1"} == set(data["values"])
    md = (tmp_path / "o.md").read_text()
    assert r"$$ Z_{1} = X \, W_{1} + b_{1} $$" in md and r"\begin{bmatrix} 0.3775 & 0.3925 \end{bmatrix}" in md


def test_answers_mark_the_first_wrong_step_on_the_page_and_the_console(cli, spec, tmp_path):
    answers = tmp_path / "mine.json"
    answers.write_text('{"A1": [0.5933, 0.5969], "dA1": [0.03635, 0.04137], "dZ1": [0.03635, 0.04137]}')
    out = cli("explain", "--net", spec, "--answers", answers, "--out", tmp_path / "p.html", check_rc=0).stdout
    assert "The first wrong step is dZ1: likely the activation's slope g′ was left out" in out
    html = (tmp_path / "p.html").read_text()
    assert "✗ The first wrong step is dZ1" in html and 'class="chip wrong" href="#step-dZ1"' in html
    # the teacher's copy: the marks in the JSON, and the summary as the last line of the output
    proc = cli("explain", "--net", spec, "--answers", answers, "--json", tmp_path / "m.json", check_rc=0)
    marks = json.loads((tmp_path / "m.json").read_text())["marking"]
    assert marks["first_wrong"] == "dZ1" and marks["marks"]["dZ1"]["mistake"] == "slope left out"
    assert marks["marks"]["A1"]["status"] == "right"
    assert proc.stdout.strip().splitlines()[-1].startswith("2 of 3 answers are right.")


def test_python_api_takes_a_dict_and_answers(tmp_path):
    e = nnlab.explain(net=MAZUR, answers={"L": 0.2984})
    assert e.marking.marks[0].ok and e.walk.losses[0] == pytest.approx(0.298371109, abs=1e-9)
    assert e.write(tmp_path / "s.md").read_text().startswith("# One step of backprop")
    with pytest.raises(nnlab.NNLabError, match="one of the two"):
        nnlab.explain()


@pytest.mark.parametrize("spec_text, fragment", [
    ('{"layers": [}', "is not valid JSON"),
    (json.dumps({**MAZUR, "X": [[0.05, 0.10], [1]]}), "X is ragged"),
    (json.dumps({**MAZUR, "loss": "log", "Y": [[2, 0]]}), "needs targets between 0 and 1"),
    (json.dumps({**MAZUR, "layers": [{**MAZUR["layers"][0], "activation": "Relu"}, MAZUR["layers"][1]]}),
     "unknown activation in layers[0] 'Relu' (did you mean 'relu'?)"),
])
def test_bad_specs_are_one_error_line_and_write_nothing(cli, tmp_path, spec_text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(spec_text)
    proc = cli("explain", "--net", path, "--json", tmp_path / "o.json")
    assert_clean_error(proc, "bad.json", fragment)
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["bad.json"]


@pytest.mark.parametrize("args, fragment", [
    (("--samples", "3"), "--samples is for a run directory"),
    (("--json", "o.txt"), "ending in .json"),
    (("--markdown", "o.html"), "ending in .md"),
    (("--out", "no/such/p.html"), "does not exist"),
    (("--answers", "missing.json"), "--answers missing.json: no such file"),
])
def test_bad_options_with_net(cli, spec, args, fragment):
    proc = cli("explain", "--net", spec, *args)
    assert_clean_error(proc, fragment)
    assert not spec.with_suffix(".html").exists()


def test_run_or_net_one_of_the_two(cli, spec, tmp_path):
    assert_clean_error(cli("explain"), "give a scratch run directory or --net")
    assert_clean_error(cli("explain", tmp_path, "--net", spec), "one of the two")
    assert_clean_error(cli("explain", "--net", spec, "--convention", "columns"), '"convention": "columns"')
