import json
from pathlib import Path

from nnlab.cli.demo import JOBS, write_index


def test_demo_covers_the_derived_network_and_every_model():
    models = [model for _, model, _ in JOBS]
    assert models.count("scratch") == 3 and "mlp" in models and "cnn" in models
    assert any(settings.get("classes") and len(settings["classes"]) == 2 for _, _, settings in JOBS)


def test_index_links_reports_and_escapes_titles(tmp_path):
    run = tmp_path / "run-1"
    page = write_index(tmp_path / "index.html", [("<b>net</b>", 0.9512, 3.25, Path(run))]).read_text()
    assert 'href="run-1/report.html"' in page and "95.12%" in page and "3.2 s" in page
    assert "<img" not in page  # a run without figures gets no thumbnail, not a broken image
    assert "<b>net</b>" not in page and "&lt;b&gt;net&lt;/b&gt;" in page


def test_index_shows_each_runs_key_picture(tmp_path):
    runs = []
    for name, files in (("moons", ["learning_curves.png", "decision_boundary.png"]),
                        ("mlp", ["first_layer_weights.png", "first_layer_learned.png"]),
                        ("cnn", ["conv1_kernels.png", "conv2_patches.png"])):
        (tmp_path / name / "figures").mkdir(parents=True)
        for file in files:
            (tmp_path / name / "figures" / file).write_bytes(b"png")
        runs.append((name, 0.9, 1.0, tmp_path / name))
    page = write_index(tmp_path / "index.html", runs).read_text()
    for shown in ("moons/figures/decision_boundary.png", "mlp/figures/first_layer_learned.png",
                  "cnn/figures/conv2_patches.png"):
        assert f'src="{shown}"' in page


def test_demo_prints_a_line_per_run_the_table_and_where_to_look(tmp_path, monkeypatch, capsys):
    import argparse

    from nnlab.cli import demo

    monkeypatch.setattr(demo, "JOBS", [("derived network on moons", "scratch", {"data": "moons"}),
                                       ("derived network on xor", "scratch", {"data": "xor"})])
    from dataclasses import replace

    from nnlab.training import config

    monkeypatch.setitem(config.MODELS, "scratch", replace(config.MODELS["scratch"], epochs=2))
    monkeypatch.setattr(config, "MIN_STEPS", 1)
    demo.run(argparse.Namespace(out=str(tmp_path / "runs"), quiet=False))
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("epoch ") for line in lines)  # no per-epoch lines
    assert lines[1].startswith("[1/2] derived network on moons: 2 epochs in ")
    assert lines[2].startswith("[2/2] derived network on xor: 2 epochs in ")
    index = next(tmp_path.glob("runs/demo-*.html"))
    rows = [line for line in lines if line.endswith(("derived network on moons", "derived network on xor"))]
    assert len(rows) == 2 and "%" in rows[0]
    header = lines[lines.index(rows[0]) - 1].split()
    assert header == ["test", "acc", "training", "wall", "run"]
    for row in rows:  # test accuracy, training seconds, wall seconds: the wall time holds the training time
        acc, train, _, wall, _ = row.split(maxsplit=4)
        assert float(train) <= float(wall)
    summary = json.loads(next(tmp_path.glob("runs/demo-*-scratch-moons/summary.json")).read_text())
    assert f"{summary['wall_seconds']:.1f} s" in rows[0]
    where = next(line for line in lines if line.startswith("(training: the epochs alone"))
    assert where.endswith(str(tmp_path / "runs" / "demo-") + index.name[5:-5] + "-*")
    assert all(len(line) <= 80 for line in lines[lines.index(rows[0]) - 1:lines.index(rows[-1]) + 1])
    assert any(f"open {index} in a browser" in line for line in lines)
    assert "Run nnlab yourself" in "\n".join(lines[-2:]) and "nnlab --help" in lines[-2]
    assert len(lines) <= 2 * 2 + 8  # five runs: 18 lines, one screen


def test_the_demo_says_how_to_run_nnlab_from_its_venv(tmp_path, monkeypatch):
    import sys

    from nnlab.cli.demo import how_to_run_nnlab

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "executable", str(tmp_path / ".venv" / "bin" / "python"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / ".venv"))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    said = how_to_run_nnlab()
    assert ". .venv/bin/activate  then  nnlab --help" in said and ".venv/bin/nnlab train" in said
    monkeypatch.setattr(sys, "prefix", "/usr")  # no venv: nnlab is on PATH
    assert "nnlab --help" in how_to_run_nnlab() and "activate" not in how_to_run_nnlab()


def test_on_a_terminal_each_run_is_a_bar_over_its_epochs_then_its_line(monkeypatch, capsys):
    import io
    import sys

    from nnlab.cli.demo import RunProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with RunProgress("[1/5] a run", quiet=False) as progress:
        for done in range(1, 4):
            progress.epoch(done, 3)
    progress.report_done(0.5)  # its line comes once its report is drawn, beside the next run's training
    assert "[1/5] a run" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert capsys.readouterr().out.startswith("[1/5] a run: 3 epochs in ")
