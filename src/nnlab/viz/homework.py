"""`nnlab explain --net SPEC.json` and `nnlab.explain(net=...)`: one step of backprop on a network written down by
hand, and the check of a student's hand calculation (`answers`).

Reads the spec and the answers (files or dicts), walks the step (scratch/handnet.py), marks the answers
(scratch/marking.py) and hands back the page, the machine-readable JSON and the Markdown handout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nnlab.errors import NNLabError
from nnlab.files import write_bytes_atomic
from nnlab.scratch.handnet import HandWalk, parse, walk
from nnlab.scratch.marking import Marking, answers, mark, read_answers
from nnlab.viz import handout, homework_page
from nnlab.viz.explain_page import framed


@dataclass
class HandExplanation:
    """The walk, the marking (None without answers) and the page; shows itself in Jupyter."""

    walk: HandWalk
    marking: Marking | None
    html: str

    def _repr_html_(self) -> str:
        return framed(self.html)

    def to_json(self) -> dict:
        """{"loss", "values", "gradients", "updated", "losses", ...} in the spec's notation, with the marks."""
        out = self.walk.to_json()
        if self.marking is not None:
            out["marking"] = self.marking.to_json()
        return out

    def markdown(self) -> str:
        return handout.markdown(self.walk, self.marking)

    def write(self, path: str | Path) -> Path:
        """Write the page (.html), the JSON (.json) or the handout (.md), by the file name's ending."""
        path = Path(path)
        kind = check_out(path, (".html", ".htm", ".json", ".md"))
        data = (self.html if kind in (".html", ".htm") else self.markdown() if kind == ".md" else
                json.dumps(self.to_json(), indent=1) + "\n")
        write_bytes_atomic(path, data.encode("utf-8"))
        return path


def check_out(path: Path, endings: tuple[str, ...]) -> str:
    kind = path.suffix.lower()
    if kind not in endings:
        raise NNLabError(f"{path}: give a file name ending in {' or '.join(endings)}")
    if path.is_dir():
        raise NNLabError(f"{path} is a folder; give a file name ending in {endings[0]}")
    if not path.parent.is_dir():
        raise NNLabError(f"{path}: the folder {path.parent} does not exist; create it or choose another")
    return kind


def _read_json(source, what: str, reader=json.loads) -> tuple[dict, str]:
    """A dict given as it is, or read from a JSON file; and where it came from, for the page."""
    if isinstance(source, dict):
        return source, ""
    path = Path(source)
    if not path.is_file():
        raise NNLabError(f"{what} {path}: no such file; give the path of a JSON file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise NNLabError(f"{what} {path}: cannot read it ({e})") from None
    try:
        return reader(text), path.name
    except json.JSONDecodeError as e:
        raise NNLabError(f"{what} {path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except NNLabError as e:
        raise NNLabError(f"{what} {path}: {e}") from None


def explain_net(net, steps: int = 1, answers_from=None, lr: float | None = None) -> HandExplanation:
    """One SGD step of the network `net` (a spec dict or the path of a JSON spec), then `steps` − 1 more; with
    `answers_from` (a dict or a JSON file of the student's numbers, in the spec's notation) each answer marked.
    `lr` overrides the spec's learning rate."""
    spec, source = _read_json(net, "--net")
    if lr is not None:
        spec = {**spec, "lr": lr}
    try:
        hand = parse(spec)
    except NNLabError as e:
        raise NNLabError(f"--net {source}: {e}" if source else str(e)) from None
    w = walk(hand, steps)
    marking = None
    if answers_from is not None:
        raw, _ = _read_json(answers_from, "--answers", read_answers)
        marking = mark(w, answers(raw, w))
    return HandExplanation(w, marking, homework_page.page(w, marking, source))
