"""What a report is drawn from: one typed input, built from a run directory or from a model of one's own.

    ReportInput.from_run(run)                    nnlab viz RUN, and the end of every training run
    ReportInput.from_model(view, data, ...)      nnlab.report(model, data, recorder=...)

`from_run` is the one place the report reads a run directory (config.json, summary.json, metrics.jsonl,
start.safetensors, snapshots.safetensors); `from_model` takes the same things from a `Recorder` in memory.
The figures, captions and page read the input's fields, never a settings dict, and ask the model only for
what `ReportModel` lists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch import nn

from nnlab import runs
from nnlab.data import Dataset
from nnlab.errors import NNLabError
from nnlab.metrics import summarize
from nnlab.scratch.network import Network
from nnlab.training import health
from nnlab.training.config import MLPConfig, ScratchConfig, TorchConfig, TrainConfig
from nnlab.training.record import RunRecord, read_record


@runtime_checkable
class ReportModel(Protocol):
    """What the report asks of a trained classifier: nnlab's engines (`ScratchEngine`, `TorchEngine`) and
    `any_model.ModelView` (any classifier of one's own) have it.

    `kind`: "scratch" when `layer_weights()` are the dense layers the model computes with as they are (nnlab's
    NumPy network, or its twin from a fitted estimator); otherwise ("mlp", "cnn", "torch") the class pictures
    fold batch norm into the dense layers of `torch_model()`. The shape a sample takes in the model is not
    asked: `ReportInput.input_shape` derives it from the data (engines do not expose it)."""

    kind: str

    def layer_weights(self) -> dict[str, np.ndarray]:
        """Every weight matrix in module order, named conv1, conv2, ..., dense1, dense2, ...: dense ones as
        (inputs x outputs), conv ones as (out x in x kh x kw)."""
        ...

    def torch_model(self) -> nn.Module:
        """The model as a PyTorch module in evaluation mode, for hooks and autograd (saliency, feature maps)."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(samples x classes) probabilities for rows of model inputs, as the data layer scaled them."""
        ...


@dataclass(frozen=True)
class RunFacts:
    """The few facts of how the model was trained that the captions name. A model trained elsewhere has
    `family` None and every flag off: the report cannot know them."""

    family: str | None                  # "scratch", "mlp" or "cnn" for nnlab's runs
    batch_norm: bool = False            # the MLP's --batch-norm (the curves' training side ran on batch statistics)
    dropout: bool = False
    augmentation: str = "none"          # what --augment became for this run and data, in words
    label_smoothing: bool = False
    mse_loss: bool = False              # trained on the squared error (--loss mse)
    weight_decay: bool = False
    held_out_validation: bool | None = None  # whether the run held out a validation split; None: not known
    conv_batch_norm: bool = False       # batch norm after conv layers (it rescales each channel)


@dataclass(frozen=True)
class ReportInput:
    """Everything one report shows. `data.X_train` holds the samples the weights were trained on (a run's
    validation split left out: a pixel that varies only in validation images never moved a weight)."""

    model: ReportModel
    data: Dataset
    P_test: np.ndarray                   # (test samples x classes) probabilities
    summary: dict[str, Any]              # test metrics: test_accuracy, test_loss, confusion_matrix, per_class, ...
    history: list[dict[str, Any]]        # one record per epoch (empty: none recorded)
    start: np.ndarray | None             # the first layer as initialised, where it was kept
    snapshots: dict[str, np.ndarray]     # epochN -> the first layer's first units after epoch N (weight evolution)
    health: list[tuple[bool, str]]       # the training-health notes, (fine?, text)
    facts: RunFacts
    input_shape: tuple[int, ...]         # one sample as the model takes it: (channels, h, w) or (features,)
    model_name: str                      # the page's title: "mlp", or a model's class name
    data_name: str
    n_train: int | None                  # sample counts the page names (None: not known)
    n_val: int | None
    n_test: int | None
    settings: dict[str, Any]             # shown in the page's settings table, named as config.json names them
    run_settings: TrainConfig | None = None  # a run's typed settings (its explain page needs the seed and loss)
    numpy_net: Network | None = None     # nnlab's NumPy network itself: the pages that show its own arithmetic

    @classmethod
    def from_run(cls, run: Path, engine: ReportModel | None = None, splits=None,
                 P_test: np.ndarray | None = None) -> ReportInput:
        """The input of `run`'s report. A training job passes the engine, the data and the test
        probabilities it already holds, so nothing is loaded or predicted twice."""
        from nnlab.training import job
        from nnlab.training.engines import ScratchEngine

        # config.json is read here and nowhere else in the report: what the pictures need of it becomes
        # RunFacts below.
        record = read_record(run)
        summary = runs.read_json(run / runs.SUMMARY, what="run summary")
        if engine is None:
            _, engine = job.load_run(run)
        if splits is None:
            splits = job.load_splits(record.settings)
        if P_test is None:
            P_test = engine.predict_proba(splits.data.X_test)
        history = runs.read_metrics(run)
        trained_on = replace(splits.data, X_train=splits.X_train, y_train=splits.y_train)
        first = next(iter(engine.layer_weights().items()))
        conv = first[0].startswith("conv")
        # The start and the snapshots feed pictures of grey images only (the start: of a dense first
        # layer); a damaged file is then worth its note, elsewhere it is not read at all.
        pictured = grey_images(trained_on)
        data = record.dataset
        return cls(
            model=engine, data=trained_on, P_test=P_test, summary=summary, history=history,
            start=load_start(run) if pictured and not conv else None,
            snapshots=runs.load_snapshots(run) if pictured else {},
            health=health.hints(history), facts=_facts_of(record, engine.torch_model()),
            input_shape=tuple(trained_on.image_shape) if conv else (trained_on.n_features,),
            model_name=record.settings.model, data_name=str(data.get("name", record.settings.data)),
            n_train=_count(data.get("n_train")), n_val=_count(data.get("n_val")),
            n_test=_count(data.get("n_test")), settings=record.table(), run_settings=record.settings,
            numpy_net=engine.net if isinstance(engine, ScratchEngine) else None)

    @classmethod
    def from_model(cls, model: ReportModel, data: Dataset, input_shape: tuple[int, ...], name: str,
                   recorder=None) -> ReportInput:
        """The input of `nnlab.report`: a model trained elsewhere on `data`, and the `nnlab.Recorder` its
        loop fed (history, first layer at the start and after each epoch), if any."""
        history = list(recorder.history) if recorder is not None else []
        P = model.predict_proba(data.X_test)
        # a dataset given as test arrays alone trains on them too: the count of training samples is unknown
        n_train = len(data.y_train) if data.X_train is not data.X_test else None
        return cls(
            model=model, data=data, P_test=P, summary={**summarize(P, data.y_test, data.classes),
                                                       "epochs": len(history) or "?"},
            history=history, start=recorder.start if recorder is not None else None,
            snapshots=dict(recorder.snapshots) if recorder is not None else {},
            health=health.hints(history), facts=RunFacts(None, conv_batch_norm=_conv_batch_norm(model.torch_model())),
            input_shape=tuple(input_shape), model_name=name, data_name=data.name, n_train=n_train, n_val=None,
            n_test=len(data.y_test), settings={"model": name, "data": data.name})


def grey_images(ds: Dataset) -> bool:
    """Whether the samples are one-channel images: the only inputs the weight and image pictures draw."""
    return ds.image_shape is not None and ds.image_shape[0] == 1


def load_start(run: Path) -> np.ndarray | None:
    """The first layer as initialised (kept by training in RUN/start.safetensors; runs from older versions
    have none)."""
    path = run / runs.START
    if not path.exists():
        return None
    try:
        tensors, _ = runs.load_tensors(path)
    except NNLabError as e:  # it only feeds pictures: a damaged file costs them their learned view, not the run
        print(f"note: {e}; the first-layer pictures show the raw weights only")
        return None
    return tensors.get("first_layer")


def _facts_of(record: RunRecord, model: nn.Module) -> RunFacts:
    """A run's settings and facts as the captions need them, each family's own settings from its type."""
    cfg = record.settings
    torch_model = isinstance(cfg, TorchConfig)
    augmented = "augmented images" if torch_model and cfg.augment else "none"
    return RunFacts(
        family=cfg.model, batch_norm=isinstance(cfg, MLPConfig) and cfg.batch_norm,
        dropout=torch_model and cfg.dropout > 0,
        augmentation=record.facts.get("augment_used", augmented),  # (what --augment became on that data)
        label_smoothing=torch_model and cfg.label_smoothing > 0,
        mse_loss=isinstance(cfg, ScratchConfig) and cfg.loss == "mse",
        weight_decay=bool(cfg.weight_decay), held_out_validation=cfg.val_fraction > 0,
        conv_batch_norm=_conv_batch_norm(model))


def _conv_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def _count(value) -> int | None:
    return value if isinstance(value, int) else None  # "?" or absent in hand-made or older records
