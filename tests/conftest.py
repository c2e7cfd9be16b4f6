import os
import subprocess
import sys

import pytest

# nnlab picks its thread count from the load of the machine (nnlab.threads), and different counts add up
# sums in a different order: the last bits of the weights differ. The tests compare runs bit for bit (a resumed
# run against a straight one, two fits of one estimator), so they fix the count, as a user wanting bit-identical
# reruns does; tests/test_threads.py clears it to test the policy itself.
os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                             else os.cpu_count() or 1))


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `python -m nnlab ...` in a subprocess, as a user would; returns the CompletedProcess."""

    def run(*args, check_rc: int | None = None, env: dict | None = None):
        import os

        full_env = {**os.environ, "NNLAB_DATA": str(tmp_path / "no-data"), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "nnlab", *map(str, args)],
            capture_output=True, text=True, cwd=tmp_path, env=full_env, timeout=600,
        )
        if check_rc is not None:
            assert proc.returncode == check_rc, proc.stderr + proc.stdout
        return proc

    return run


def assert_clean_error(proc, *fragments: str) -> None:
    """The contract for bad input: exit 2, exactly one `error:` line on stderr, no traceback."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
