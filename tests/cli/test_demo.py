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
