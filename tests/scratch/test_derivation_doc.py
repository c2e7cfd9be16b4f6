"""docs/derivation.md quotes network.py line by line; each quote must still be on the line it cites."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"\[`([^`]+)`\]\(\.\./src/nnlab/scratch/network\.py#L(\d+)\)")


def citations() -> list[tuple[str, int]]:
    return [(code, int(line)) for code, line in CITATION.findall((ROOT / "docs/derivation.md").read_text())]


def test_every_cited_line_holds_the_quoted_code():
    lines = (ROOT / "src/nnlab/scratch/network.py").read_text().splitlines()
    wrong = [(line, code, lines[line - 1].strip() if line <= len(lines) else "(past the end)")
             for code, line in citations() if line > len(lines) or code not in lines[line - 1]]
    assert not wrong, "docs/derivation.md cites lines that moved or changed (line, quoted, found):\n" + \
        "\n".join(map(str, wrong))


def test_every_equation_of_forward_backward_l2_and_softmax_is_cited():
    quoted = " ".join(code for code, _ in citations())
    for code in ("product(A_prev, W, out=Z)", "np.maximum(Z, 0, out=Z)", "np.log1p", "dZ -= Y", "dZ *= 1.0 / m",
                 "product(A_prev.T, dZ", "np.sum(dZ, axis=0", "product(dZ, net.W[l].T", "np.greater",
                 "np.multiply(dA", "(alpha / m) * net.W[l]", "0.5 * alpha / m", "Z.max(axis=1",
                 "np.sqrt(2.0 / n_in)"):
        assert code in quoted, code
