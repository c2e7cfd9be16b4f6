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
    assert "<b>net</b>" not in page and "&lt;b&gt;net&lt;/b&gt;" in page
