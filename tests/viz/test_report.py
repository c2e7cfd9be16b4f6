from dataclasses import replace

import pytest

from nnlab.training import job
from nnlab.training.config import ScratchConfig
from nnlab.viz.render import render_run
from tests.data.fixtures import write_image_folder
from tests.viz.browser import needs_chromium, open_page

HOSTILE = 'a<b>&"c"'


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny image-folder run whose class names would break unescaped HTML; train writes the report."""
    root = tmp_path_factory.mktemp("r")
    data = write_image_folder(root / "imgs", classes=("plain", HOSTILE), per_class=12, size=(6, 6))
    config = ScratchConfig(data=str(data), data_label="imgs", epochs=3, batch_size=8, lr=1e-2, hidden=(4,),
                           weight_decay=1 / 7, schedule="constant", val_fraction=0.2, seed=0)
    return job.train(config, root / "runs", "r", quiet=True, report=render_run)


def test_train_writes_figures_and_report(run):
    names = {p.name for p in (run / "figures").iterdir()}
    assert {"learning_curves.png", "first_layer_weights.png", "confusion_matrix.png", "saliency.png",
            "unit_cards.png", "weight_evolution.png", "training_health.png", "calibration.png"} <= names
    html = (run / "report.html").read_text()
    for section in ("metrics", "per-class", "health", "figures", "settings"):
        assert f'id="{section}"' in html
    for name in names:
        assert f'src="figures/{name}"' in html


def test_settings_show_floats_to_four_digits(run):
    html = (run / "report.html").read_text()
    assert "<td>weight_decay</td><td>0.1429</td>" in html and "<td>lr</td><td>0.01</td>" in html


def test_text_from_data_is_escaped(run):
    html = (run / "report.html").read_text()
    assert HOSTILE not in html
    assert "a&lt;b&gt;&amp;&quot;c&quot;" in html


@needs_chromium
def test_report_opens_in_headless_chromium_with_every_image_loaded(run, tmp_path):
    images, loaded, dom = open_page(run / "report.html", tmp_path / "profile")
    assert images >= 3 and loaded == images
    assert "Test metrics" in dom and "What it learned" in dom and "Training health" in dom


def test_a_cnn_run_gets_its_own_pictures(tmp_path):
    from tests.training.test_torch_engine import make

    run = job.train(make("cnn", epochs=1), tmp_path, "cnn", quiet=True, report=render_run)
    names = {p.name for p in (run / "figures").iterdir()}
    assert {"conv1_kernels.png", "feature_maps.png", "class_templates.png", "saliency.png", "unit_cards.png",
            "weight_evolution.png", "training_health.png"} <= names
    assert "first_layer_weights.png" not in names  # a conv layer's weights are kernels, shown as such
    html = (run / "report.html").read_text()
    assert "batch norm after the layer rescales each channel" in html  # nnlab's CNN has batch norm
    assert all(f'src="figures/{name}"' in html for name in names)


def test_an_mlp_report_shows_what_training_added_then_the_raw_weights(tmp_path):
    from tests.training.test_torch_engine import CONFIG

    run = job.train(replace(CONFIG, epochs=1), tmp_path, "mlp", quiet=True, report=render_run)
    assert (run / "start.safetensors").is_file()
    html = (run / "report.html").read_text()
    assert html.index('src="figures/first_layer_learned.png"') < html.index('src="figures/first_layer_weights.png"')
    (run / "start.safetensors").unlink()    # a run from before the start was kept: the raw weights alone, said so
    html = render_run(run).read_text()
    assert "first_layer_learned.png" not in html and "kept no record of its start" in html


def test_the_report_opens_with_a_table_of_contents_linking_every_figure(run):
    html = (run / "report.html").read_text()
    nav = html[html.index('<nav id="contents">'):html.index("</nav>")]
    for name in (p.stem for p in (run / "figures").iterdir()):
        assert f'href="#{name}"' in nav and f'id="{name}"' in html
