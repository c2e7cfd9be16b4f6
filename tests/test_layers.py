"""Layers import only downhill: data -> scratch/models -> training -> viz -> cli."""

import json
import subprocess
import sys

import pytest

MODULES = ["nnlab.training", "nnlab.training.job", "nnlab.training.engines", "nnlab.training.torch_engine",
           "nnlab.training.recorder", "nnlab.training.config", "nnlab.training.doctor", "nnlab.training.overfit",
           "nnlab.scratch", "nnlab.scratch.estimator",
           "nnlab.models", "nnlab.data"]

# One fresh interpreter answers for every module (each started its own, at 2 s apiece for PyTorch): before each
# import it forgets every nnlab module, so each module's own imports run again from nothing; PyTorch, NumPy and
# the rest stay loaded, and they import nothing of nnlab.
IMPORTS = """
import json, sys
def forget():
    for name in [m for m in sys.modules if m == 'nnlab' or m.startswith('nnlab.')]:
        del sys.modules[name]
def up(prefixes):
    return sorted(m for m in sys.modules if m.startswith(prefixes))
found = {}
for module in MODULES:
    forget()
    __import__(module)
    found[module] = up(('nnlab.viz', 'nnlab.cli', 'nnlab.api'))
forget()
from nnlab.training import job
from nnlab.training.config import TrainConfig
job.train(TrainConfig.create('scratch', 'moons', epochs=2), OUT, 'r', quiet=True)
found['a training run'] = up('nnlab.viz')
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """{module: the nnlab.viz, nnlab.cli and nnlab.api modules loaded by importing it}, and for 'a training run'
    (job.train without a report, written to OUT/r) the nnlab.viz modules it loaded; with OUT."""
    out = tmp_path_factory.mktemp("runs")
    code = f"MODULES = {MODULES!r}\nOUT = {str(out)!r}\n{IMPORTS}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), out


@pytest.mark.parametrize("module", MODULES)
def test_training_and_below_import_nothing_from_viz_or_cli(imported, module):
    found, _ = imported
    out = ",".join(found[module])
    assert out == "", f"{module} imports {out}"


def test_a_training_run_imports_nothing_from_viz_unless_asked_for_a_report(imported):
    found, out = imported
    assert ",".join(found["a training run"]) == ""
    assert (out / "r" / "model.safetensors").is_file() and not (out / "r" / "report.html").exists()
