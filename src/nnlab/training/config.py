"""One typed config for a training run: every setting, its default for each model, and which models take it.

The CLI maps its options onto `TrainConfig.create`, and so do `nnlab.train`, the demo and the benches; the
run directory stores `to_dict()`, so a run reads back as it was written.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nnlab.errors import NNLabError


@dataclass(frozen=True)
class ModelSpec:
    """What differs between the models: what each is, the defaults that are its own, the settings only it
    takes. Defaults were chosen on Fashion-MNIST's validation split (docs/benchmarks.md)."""

    summary: str
    engine: str                # "numpy" or "torch"
    needs_images: bool         # takes images (channels x h x w), not rows: the CNN convolves
    epochs: int                # the default; small data get more (job.default_epochs)
    defaults: dict[str, Any]   # overrides of TrainConfig's field defaults
    own: frozenset[str] = field(default_factory=frozenset)  # settings of this model alone, besides the shared
    # With --augment: random shifts need translation invariance (measured on Fashion-MNIST, shifts cost the
    # MLP 2.5 points); mirror images suit both, where the data's classes survive a mirror.
    shifts: bool = False


# Settings of the PyTorch models (the NumPy network has none of these).
TORCH = frozenset({"dropout", "augment", "label_smoothing", "precision"})

MODELS: dict[str, ModelSpec] = {
    "scratch": ModelSpec(
        "the NumPy network with hand-written backprop (two classes: the derived network, sigmoid + log loss)",
        "numpy", False, 20,
        # weight_decay None: batch size / training samples, a unit Gaussian prior (job.default_weight_decay)
        {"hidden": [256, 128], "weight_decay": None, "schedule": "cosine", "device": "cpu", "loss": "log"},
        frozenset({"hidden", "loss"})),
    "mlp": ModelSpec(
        "a PyTorch multilayer perceptron (softmax + log loss)", "torch", False, 30,
        {"hidden": [1024, 512], "weight_decay": 1e-2, "schedule": "onecycle", "dropout": 0.3,
         "batch_norm": True, "augment": False, "label_smoothing": 0.0, "precision": "auto"},
        TORCH | {"hidden", "batch_norm"}),
    # The CNN's recipe was chosen for time to accuracy on a 2-core CPU (docs/benchmarks.md): narrow convs that
    # pool before batch norm and ReLU, batch 256 at a peak rate of 0.01, no dropout; 30 epochs cost less time
    # than 20 of the earlier, wider recipe and reach higher.
    "cnn": ModelSpec(
        "a PyTorch convolutional network (softmax + log loss)", "torch", True, 30,
        {"widths": [16, 32, 64], "batch_size": 256, "weight_decay": 1e-2, "schedule": "onecycle", "lr": 1e-2,
         "dropout": 0.0, "augment": True, "label_smoothing": 0.1, "precision": "auto"},
        TORCH | {"widths"}, shifts=True),
}
OWN = frozenset().union(*(spec.own for spec in MODELS.values()))  # settings not every model takes
OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("log", "mse")  # the scratch network's: the log loss, or the squared error (one sigmoid unit)
SCHEDULES = ("cosine", "onecycle", "constant")
PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. Build one with `TrainConfig.create(model, data, **settings)`, which
    fills each model's own defaults and refuses settings the model does not take."""

    model: str
    data: str
    data_label: str = ""
    epochs: int | None = None       # None: the model's default, more on small data (job.default_epochs)
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9           # for optimizer "momentum"
    nesterov: bool = False
    weight_decay: float | None = None
    schedule: str = "cosine"
    hidden: list[int] | None = None
    loss: str | None = None         # scratch: "log" or "mse" (the squared error, two classes only)
    widths: list[int] | None = None
    dropout: float | None = None
    batch_norm: bool | None = None
    augment: bool | None = None
    label_smoothing: float | None = None
    precision: str | None = None
    classes: list[str] | None = None
    noise: float | None = None      # the 2-D sets' noise
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    threads: int | None = None      # None: one per free core, measured while training (nnlab.threads)

    @classmethod
    def create(cls, model: str, data: str, **settings: Any) -> TrainConfig:
        """The config for `model` on `data`: the given settings over the model's defaults. A setting that is
        None counts as not given; an unknown one, or one the model does not take, is an error."""
        spec = model_spec(model)
        known = {f.name for f in fields(cls)} - {"model", "data", "data_label"}
        for key in settings:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                raise NNLabError(f"unknown setting {key!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                 + f" (settings: {', '.join(sorted(known))})")
        given = {k: v for k, v in settings.items() if v is not None}
        foreign = sorted(k for k in given if k in OWN and k not in spec.own)
        if foreign:
            takers = {k: [m for m, s in MODELS.items() if k in s.own] for k in foreign}
            raise NNLabError("; ".join(f"{k} (--{k.replace('_', '-')}) is for {' and '.join(takers[k])}, not {model}"
                                       for k in foreign)
                             + ("; the CNN takes --widths" if "hidden" in foreign else
                                "; the MLP takes --hidden" if "widths" in foreign else
                                "; the PyTorch models always train with the log loss: drop --loss"
                                if "loss" in foreign else ""))
        if spec.engine == "numpy" and given.get("device", "cpu") not in ("cpu", "auto"):
            raise NNLabError("the scratch network runs in NumPy on the CPU; drop --device or use --device cpu")
        for key, allowed in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES), ("precision", PRECISIONS),
                             ("device", DEVICES), ("loss", LOSSES)):
            if key in given and given[key] not in allowed:
                raise NNLabError(f"unknown {key} {given[key]!r}; choose one of {', '.join(allowed)}")
        path = Path(data)
        # A path is kept absolute, so that eval, viz and --resume find the data from any folder.
        where = {"data": str(path.resolve()) if path.exists() else data,
                 "data_label": path.name if path.exists() else data}
        if spec.engine == "numpy":
            given["device"] = "cpu"
        return cls(model=model, **where, **{**spec.defaults, **given})

    def to_dict(self) -> dict[str, Any]:
        """The settings as the run directory stores them: the model's own and the shared ones."""
        spec = MODELS[self.model]
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in OWN or f.name in spec.own}


def model_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        close = difflib.get_close_matches(name, MODELS, n=1)
        raise NNLabError(f"unknown model {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                         + f" (models: {', '.join(MODELS)})")
    return MODELS[name]


DEFAULT_EPOCHS = {name: spec.epochs for name, spec in MODELS.items()}
SHARED = ("epochs", "batch_size", "lr", "optimizer", "schedule", "weight_decay")


def model_defaults(model: str) -> dict[str, Any]:
    """The defaults `nnlab train MODEL --help` and docs/options.md show: the shared settings whose default
    may differ by model, and the model's own (epochs None: DEFAULT_EPOCHS, raised on small data)."""
    spec, base = MODELS[model], {f.name: f.default for f in fields(TrainConfig)}
    return {key: None if key == "epochs" else spec.defaults.get(key, base[key])
            for key in (*SHARED, *sorted(spec.own))}
