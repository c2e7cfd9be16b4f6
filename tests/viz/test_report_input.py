"""The report's one input: nnlab's engines and any model of one's own satisfy `ReportModel`, the report asks
them for nothing else, and a run's settings become the typed facts the captions name."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

import nnlab
from nnlab.data import load
from nnlab.training import job
from nnlab.training.config import ScratchConfig
from nnlab.training.engines import ScratchEngine
from nnlab.training.torch_engine import TorchEngine
from nnlab.viz import plan
from nnlab.viz.any_model import ModelView
from nnlab.viz.render import render
from nnlab.viz.report_input import ReportInput, ReportModel, RunFacts
from tests.training.test_torch_engine import CONFIG, SHARED, make

SCRATCH = ScratchConfig(**{**{k: v for k, v in SHARED.items() if k in ScratchConfig.__dataclass_fields__},
                           "epochs": 1, "hidden": (8,)})
MLP = replace(CONFIG, epochs=1, hidden=(8,))
CNN = make("cnn", epochs=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """{family: run directory} of one-epoch runs on 8x8 digits, trained without their report."""
    out = tmp_path_factory.mktemp("runs")
    return {name: job.train(config, out, name, quiet=True) for name, config in
            (("scratch", SCRATCH), ("mlp", MLP), ("cnn", CNN))}


class OnlyTheProtocol:
    """An engine seen through `ReportModel` alone: any other attribute the report reached for would fail."""

    def __init__(self, engine):
        self.kind = engine.kind
        self.layer_weights, self.torch_model, self.predict_proba = (
            engine.layer_weights, engine.torch_model, engine.predict_proba)


def assert_reports_as_a_model(model, ds: "nnlab.data.Dataset", input_shape) -> None:
    """`model` is a ReportModel, and each member gives what the report takes from it."""
    assert isinstance(model, ReportModel)
    assert isinstance(model.kind, str)
    layers = model.layer_weights()
    assert layers and all(isinstance(W, np.ndarray) for W in layers.values())
    assert all(name.startswith(("conv", "dense")) for name in layers)
    dense = [W for name, W in layers.items() if name.startswith("dense")]
    assert dense[-1].shape[1] in (1, ds.n_classes)                       # (inputs x outputs)
    module = model.torch_model()
    assert isinstance(module, nn.Module) and not module.training
    P = model.predict_proba(ds.X_test[:7])
    assert P.shape == (7, ds.n_classes)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-5)
    with torch.no_grad():  # the module is the same function, on the input shape the report derives
        logits = module(torch.from_numpy(ds.X_test[:7]).reshape(7, *input_shape))
    np.testing.assert_allclose(torch.softmax(logits.float(), 1).numpy(), P, atol=1e-5)


@pytest.mark.parametrize("family, engine_type", [("scratch", ScratchEngine), ("mlp", TorchEngine),
                                                 ("cnn", TorchEngine)])
def test_nnlabs_engines_are_report_models(trained, family, engine_type):
    _, engine = job.load_run(trained[family])
    assert type(engine) is engine_type
    ev = ReportInput.from_run(trained[family], engine)
    assert ev.input_shape == ((1, 8, 8) if family == "cnn" else (64,))
    assert_reports_as_a_model(engine, ev.data, ev.input_shape)
    assert (ev.numpy_net is engine.net) if family == "scratch" else ev.numpy_net is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_any_model_of_ones_own_is_a_report_model():
    ds = load("digits")
    clf = nnlab.ScratchClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(ds.X_train, ds.y_train)
    for model in (nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 10)),
                  nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10)), clf):
        view = ModelView(model, ds)
        assert_reports_as_a_model(view, ds, view.input_shape)
        assert not hasattr(view, "config")                     # no settings faked for a model nnlab did not train


def test_something_without_the_interface_is_no_report_model():
    class NoProbabilities:
        kind = "torch"

        def layer_weights(self):
            return {}

        def torch_model(self):
            return nn.Linear(2, 2)

    assert not isinstance(NoProbabilities(), ReportModel)


@pytest.mark.parametrize("family", ["scratch", "mlp", "cnn"])
def test_the_figures_ask_the_model_for_the_protocol_alone(trained, tmp_path, family):
    run = trained[family]
    _, engine = job.load_run(run)
    pictures = {}
    for name, model in (("engine", engine), ("protocol", OnlyTheProtocol(engine))):
        out = tmp_path / name
        out.mkdir()
        _, made = render(ReportInput.from_run(run, model), out)
        pictures[name] = {f.file: ((out / "figures" / f.file).read_bytes(), f.caption) for f in made}
    assert len(pictures["engine"]) >= 9 and pictures["protocol"] == pictures["engine"]


def test_a_runs_settings_become_the_facts_its_captions_name(trained):
    ev = ReportInput.from_run(trained["mlp"])
    # --augment asked for, and what it became: digits are not mirrored, and the MLP is never shifted
    assert ev.facts == RunFacts(family="mlp", batch_norm=False, dropout=True, augmentation="none",
                                label_smoothing=False, mse_loss=False, weight_decay=True, held_out_validation=True,
                                conv_batch_norm=False)
    assert ReportInput.from_run(trained["cnn"]).facts.conv_batch_norm               # nnlab's CNN normalises
    assert ev.summary["test_accuracy"] == pytest.approx(np.mean(ev.P_test.argmax(1) == ev.data.y_test), abs=1e-6)
    assert len(ev.data.y_train) == ev.n_train and len(ev.data.y_test) == ev.n_test  # trained on: no validation
    assert ev.n_val and ev.n_train + ev.n_val + ev.n_test == 1797                    # all of digits
    assert len(ev.history) == 1 and ev.snapshots and ev.start is not None and ev.start.shape == (64, 8)


def test_a_report_of_ones_own_model_holds_the_recorders_history_and_start():
    ds = load("moons")
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    recorder = nnlab.Recorder(model)
    recorder.epoch(loss=0.7)
    view = ModelView(model, ds)
    ev = ReportInput.from_model(view, ds, view.input_shape, "mine", recorder)
    assert ev.history == recorder.history and set(ev.snapshots) == {"epoch0", "epoch1"}
    np.testing.assert_array_equal(ev.start, recorder.start)
    assert ev.facts == RunFacts(None) and ev.model_name == "mine" and ev.summary["epochs"] == 1
    assert (ev.n_train, ev.n_val, ev.n_test) == (len(ds.y_train), None, len(ds.y_test))
    bare = ReportInput.from_model(view, ds, view.input_shape, "mine")
    assert bare.history == [] and bare.start is None and bare.snapshots == {} and bare.summary["epochs"] == "?"


def test_a_plan_entry_is_all_a_new_figure_needs(tmp_path):
    ds = load("moons")
    view = ModelView(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), ds)
    ev = ReportInput.from_model(view, ds, view.input_shape, "mine")
    import matplotlib.pyplot as plt

    def bars(v: plan.Views) -> plt.Figure:
        fig, ax = plt.subplots()
        ax.bar(range(v.ev.data.n_classes), v.ev.P_test.mean(axis=0))
        return fig

    entry = plan.Entry("mean_probability.png", "Mean probability", lambda v: v.ev.data.n_classes == 2, bars,
                       lambda v: f"The mean probability of each of the {v.ev.data.n_classes} classes.")
    skipped = plan.Entry("never.png", "Never", lambda v: False, bars, "not drawn")
    made = plan.draw(ev, tmp_path, (entry, skipped))
    assert [(f.file, f.title, f.caption) for f in made] == [
        ("mean_probability.png", "Mean probability", "The mean probability of each of the 2 classes.")]
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["mean_probability.png"]
