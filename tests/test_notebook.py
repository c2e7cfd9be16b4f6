"""The example notebook runs top to bottom in a real Jupyter kernel and shows the report inline."""

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extras (nbclient, ipykernel) are not installed")
nbclient = pytest.importorskip("nbclient", reason="the dev extras (nbclient, ipykernel) are not installed")

NOTEBOOK = Path(__file__).parents[1] / "examples" / "your_own_cnn.ipynb"


@pytest.mark.slow
def test_the_example_notebook_runs_and_shows_the_report_inline(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in code[2].outputs if o.output_type == "stream")
    assert printed.count("validation accuracy") == 3
    shown = code[-1].outputs[0]["data"]
    assert "test accuracy" in shown["text/html"] and shown["text/html"].count("data:image/png;base64,") >= 3
    assert (tmp_path / "runs" / "small-cnn" / "report.html").is_file()
    assert (tmp_path / "runs" / "small-cnn" / "figures" / "conv1_kernels.png").is_file()
