"""docs/homework.md says what nnlab does: its spec is examples/homework.json, its answers example is marked as
it says, its table lists every known mistake, and every example spec walks with all checks passing."""

import json
import re
from pathlib import Path

import pytest

from nnlab.scratch.handnet import parse, walk
from nnlab.scratch.marking import MISTAKES, answers, mark, read_answers

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "homework.md").read_text()
JSON_BLOCKS = re.findall(r"```json\n(.*?)```", DOC, re.S)


def test_the_docs_spec_is_the_example_file():
    assert json.loads(JSON_BLOCKS[0]) | {"title": ""} == json.loads((ROOT / "examples/homework.json").read_text()) | {
        "title": ""}


def test_the_docs_answers_are_marked_as_the_docs_say():
    w = walk(parse(json.loads((ROOT / "examples/mazur.json").read_text())))
    marking = mark(w, answers(read_answers(JSON_BLOCKS[1]), w))
    assert marking.first_wrong.key == "dZ1" and marking.first_wrong.mistake == "slope left out"
    assert [m.key for m in marking.marks if not m.ok] == ["dZ1"]


def test_the_docs_table_lists_every_mistake_with_its_words():
    for name, m in MISTAKES.items():
        assert f"| {name} | {m.says} | {m.fix} |" in DOC, name


@pytest.mark.parametrize("name", ["homework.json", "mazur.json"])
def test_example_specs_walk_with_every_check_passing(name):
    w = walk(parse(json.loads((ROOT / "examples" / name).read_text())), steps=20)
    assert all(c.passed for c in w.checks) and w.losses[-1] < w.losses[0]
