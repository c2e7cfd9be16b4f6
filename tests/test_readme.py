"""The README's command blocks marked `<!-- readme-test -->` run as written, in a fresh shell, in a folder that
holds only `.venv` (as after `make demo`), so that they cannot drift from what nnlab does."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKED = re.compile(r"<!-- readme-test -->\n```(sh|python)\n(.*?)```", re.S)


def marked_blocks() -> list[tuple[str, str]]:
    return MARKED.findall((ROOT / "README.md").read_text())


def run_block(kind: str, code: str, folder: Path) -> subprocess.CompletedProcess:
    """Run a block with a clean environment: PATH without the venv, no profile, `set -e`; `.venv` is a link to
    the environment running the tests. PYTHONPATH is kept, so a checkout's source is what runs."""
    venv = folder / ".venv"
    if not venv.exists():
        venv.symlink_to(sys.prefix, target_is_directory=True)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", str(folder)), "LANG": "C.UTF-8",
           **{k: os.environ[k] for k in ("PYTHONPATH", "TMPDIR") if k in os.environ}}
    if kind == "python":
        code = f".venv/bin/python - <<'README_PYTHON'\n{code}README_PYTHON\n"
    return subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", code], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600)


pytestmark = pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs a virtual environment (.venv)")


def test_the_readme_marks_its_first_steps():
    blocks = marked_blocks()
    assert len(blocks) >= 3 and {kind for kind, _ in blocks} == {"sh", "python"}
    code = "".join(c for _, c in blocks)
    assert ". .venv/bin/activate" in code and ".venv/bin/nnlab" in code and "nnlab train" in code


@pytest.mark.parametrize("index", range(len(marked_blocks())))
def test_a_marked_readme_block_runs_as_written(tmp_path, index):
    kind, code = marked_blocks()[index]
    proc = run_block(kind, code, tmp_path)
    assert proc.returncode == 0, f"README block {index + 1} failed:\n{code}\n--- stdout\n{proc.stdout}\n" \
                                 f"--- stderr\n{proc.stderr}"
    assert "Traceback" not in proc.stderr


def test_the_harness_fails_a_broken_command_and_a_missing_activate(tmp_path):
    assert run_block("sh", ". .venv/bin/activate\nnnlab train scratch --data moon --epochs 1\necho reached\n",
                     tmp_path).returncode == 2
    proc = run_block("sh", "nnlab --help\n", tmp_path)  # without activating: as the issue found, not found
    assert proc.returncode == 127 and "not found" in proc.stderr
