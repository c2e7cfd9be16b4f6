"""Layers import only downhill: data -> scratch/models -> training -> viz -> cli."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["nnlab.training", "nnlab.training.job", "nnlab.training.engines",
                                    "nnlab.training.torch_engine", "nnlab.training.recorder",
                                    "nnlab.training.config", "nnlab.scratch", "nnlab.scratch.estimator",
                                    "nnlab.models", "nnlab.data"])
def test_training_and_below_import_nothing_from_viz_or_cli(module):
    code = (f"import sys, {module}\n"
            "up = sorted(m for m in sys.modules if m.startswith(('nnlab.viz', 'nnlab.cli', 'nnlab.api')))\n"
            "print(','.join(up))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"{module} imports {out}"


def test_a_training_run_imports_nothing_from_viz_unless_asked_for_a_report(tmp_path):
    code = ("import sys\n"
            "from nnlab.training import job\n"
            "from nnlab.training.config import TrainConfig\n"
            f"job.train(TrainConfig.create('scratch', 'moons', epochs=2), {str(tmp_path)!r}, 'r', quiet=True)\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith('nnlab.viz'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
    assert (tmp_path / "r" / "model.safetensors").is_file() and not (tmp_path / "r" / "report.html").exists()
