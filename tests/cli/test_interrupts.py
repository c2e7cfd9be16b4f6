"""Ctrl-C after training, while the report is drawn: the run is kept, and the message says how to draw it."""

from nnlab import runs
from nnlab.cli import main


def test_ctrl_c_during_the_report_says_the_run_is_saved_and_how_to_draw_it(tmp_path, monkeypatch, capsys):
    import nnlab.viz.render

    def pressed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(nnlab.viz.render, "render_run", pressed)
    code = main(["train", "scratch", "--data", "moons", "--epochs", "1", "--hidden", "4", "--quiet",
                 "--out", str(tmp_path), "--name", "r"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130 and len(err) == 1, err
    assert err[0].startswith("error: interrupted while drawing the report") and f"nnlab viz {tmp_path / 'r'}" in err[0]
    assert runs.read_json(tmp_path / "r" / runs.SUMMARY, what="summary")["test_accuracy"] > 0  # trained and kept
