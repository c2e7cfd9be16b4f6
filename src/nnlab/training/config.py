"""Typed settings of a training run: one frozen dataclass per model family, whose field defaults are the
defaults, read as `cfg.lr` all the way down to the arithmetic.

    TrainConfig            the settings every model takes (data, epochs, lr, optimizer, seed, ...)
    ├── ScratchConfig      the NumPy network: hidden, loss, start
    └── TorchConfig        the PyTorch models: recipe, dropout, batch_norm, augment, label_smoothing, precision
        ├── MLPConfig      hidden
        └── CNNConfig      widths

Each field's metadata holds its help text and the rule (nnlab.checks) or name table its value must satisfy:
the CLI builds its options from them (cli/train.py) and `__post_init__` checks values given in Python with the
same words, so a new setting is written once, here. A recipe (RECIPES) is a named set of the PyTorch models'
regularisers: `create` lays it under the settings given, so `--recipe plain --dropout 0.2` is the plain model with
dropout, and `departures` names what a run changed of its recipe. Defaults that depend on the data (epochs on small
data, the scratch L2 strength) are filled by `resolve` when the data is known. The run directory stores `to_dict()`
beside, not among, the facts of the run (device used, thread count, versions: training/job.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from nnlab import checks
from nnlab.data.synthetic import DEFAULT_NOISE
from nnlab.errors import NNLabError, did_you_mean, pick
from nnlab.scratch.network import ACTIVATIONS, LOSSES
from nnlab.scratch.optim import OPTIMIZERS
from nnlab.training.schedules import SCHEDULES
from nnlab.training.starts import STARTS

PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")

# Small datasets get more epochs than the model's default, so that training takes at least MIN_STEPS
# steps: 20 epochs of moons are only 160.
MIN_STEPS = 1000


def setting(default: Any, help: str, rule: Any = None, choices: Any = None, cli: bool = True,
            aliases: tuple[str, ...] = (), none: str = "") -> Any:
    """A field of a config: its default, its --help text (the CLI adds each model's default), the rule of
    nnlab.checks or the table of names (choices) its value must satisfy, whether it is a CLI option, and what a
    default of None means."""
    return field(default=default, metadata={"help": help, "rule": rule, "choices": choices, "cli": cli,
                                            "aliases": aliases, "none": none})


@dataclass(frozen=True)
class TrainConfig:
    """Every setting a model of any family takes. Build one with `TrainConfig.create(model, data, **settings)`,
    which picks the model's family (ScratchConfig, MLPConfig, CNNConfig) and refuses what it does not take."""

    model: ClassVar[str]
    data: str = setting("", "dataset name or path (see `nnlab data list`); required", cli=False)
    data_label: str = setting("", "the data's short name, for run names and titles", cli=False)
    epochs: int | None = setting(None, "epochs in total (with --resume: to continue to)", checks.positive_int)
    batch_size: int = setting(128, "samples per step", checks.positive_int)
    lr: float = setting(1e-3, "learning rate (the peak, with onecycle)", checks.positive_float,
                        aliases=("--learning-rate",))
    optimizer: str = setting("adam", "optimiser", choices=OPTIMIZERS)
    momentum: float = setting(0.9, "for --optimizer momentum", checks.fraction)
    nesterov: bool = setting(False, "Nesterov momentum", checks.switch)
    weight_decay: float | None = setting(
        None, "scratch: L2 alpha, the loss term (alpha/2m)||W||^2 per batch of m; mlp/cnn: PyTorch's weight_decay "
        "(decoupled, AdamW, with adam)", checks.nonnegative_float,
        none="batch size / training samples, a unit Gaussian prior on the weights")
    schedule: str = setting("cosine", "learning-rate schedule", choices=SCHEDULES)
    classes: tuple[str, ...] | None = setting(None, "keep only these classes, e.g. 0,6 or Shirt,Coat (two: binary)",
                                              checks.names, none="all")
    noise: float | None = setting(None, "noise of the 2-D sets", checks.nonnegative_float,
                                  none=", ".join(f"{v:g} ({k})" for k, v in DEFAULT_NOISE.items()))
    val_fraction: float = setting(
        0.1, "validation share of the training data; 0 trains on all of it, without validation curves (small "
        "data: breast-cancer has 456 training samples)", checks.fraction_or_zero)
    seed: int = setting(0, "seeds the weights, split and shuffling", checks.nonnegative_int)
    device: str = setting("auto", "mlp/cnn; auto: CUDA, then MPS, then CPU (scratch always runs on the CPU)",
                          choices=DEVICES)
    threads: int | None = setting(
        None, "CPU threads for the math", checks.positive_int,
        none="scratch, one per core that other processes leave free (its results do not depend on it); mlp/cnn, one "
        "per core this process may use, for the whole run (OMP_NUM_THREADS, if set, fixes it too)")

    def __post_init__(self) -> None:
        for f in fields(self):
            value, rule, choices = getattr(self, f.name), f.metadata.get("rule"), f.metadata.get("choices")
            if value is None:
                continue
            if rule is not None:
                try:
                    object.__setattr__(self, f.name, rule.check(value))  # (a list given becomes a tuple)
                except ValueError as e:
                    raise NNLabError(f"{f.name} (--{f.name.replace('_', '-')}) {e}") from None
            if choices is not None:
                pick(dict.fromkeys(choices), value, f.name)  # (the tables hold names in order: keys of a dict)

    @classmethod
    def create(cls, model: str, data: str, **settings: Any) -> TrainConfig:
        """The config for `model` on `data`: the given settings over the model's defaults. A setting that is
        None counts as not given; an unknown one, or one the model does not take, is an error."""
        family = model_spec(model).config
        known = {f.name for f in fields(family)}
        every = set().union(*({f.name for f in fields(spec.config)} for spec in MODELS.values())) - {"data_label"}
        unknown = sorted(k for k in settings if k not in every or k == "data")
        if unknown:
            key = unknown[0]
            raise NNLabError(f"unknown setting {key!r}{did_you_mean(key, every)} (settings: "
                             f"{', '.join(sorted(every - {'data'}))})")
        given = {k: v for k, v in settings.items() if v is not None}
        foreign = sorted(k for k in given if k not in known)
        if foreign:
            takers = {k: [m for m, s in MODELS.items() if k in {f.name for f in fields(s.config)}] for k in foreign}
            raise NNLabError("; ".join(f"{k} (--{k.replace('_', '-')}) is for {' and '.join(takers[k])}, not {model}"
                                       for k in foreign)
                             + ("; the CNN takes --widths" if "hidden" in foreign else
                                "; the MLP takes --hidden" if "widths" in foreign else
                                "; the PyTorch models always train with the log loss: drop --loss"
                                if "loss" in foreign else ""))
        if "recipe" in known:  # the recipe's values under the settings given: those win
            recipe = pick(RECIPES, given.get("recipe", default(model, "recipe")), "recipe")
            given = {**{k: v for k, v in recipe.settings.items() if k in known}, **given}
        path = Path(data)
        # A path is kept absolute, so that eval, viz and --resume find the data from any folder.
        where = ({"data": str(path.resolve()), "data_label": path.name} if path.exists()
                 else {"data": data, "data_label": data})
        return family(**where, **given)

    def resolve(self, n_train: int) -> TrainConfig:
        """The defaults that depend on the data, filled in for `n_train` training samples: epochs (more on small
        data, so that training takes at least MIN_STEPS steps) and, for the scratch network, its L2 strength."""
        steps_per_epoch = math.ceil(n_train / self.batch_size)
        epochs = self.epochs or max(MODELS[self.model].epochs, math.ceil(MIN_STEPS / steps_per_epoch))
        return replace(self, epochs=epochs)

    def to_dict(self) -> dict[str, Any]:
        """The settings as the run directory stores them (lists for tuples: JSON has no tuple)."""
        return {"model": self.model, **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> TrainConfig:
        """The settings of a stored run (config.json's `settings`, or a whole config.json written before they were
        kept apart: its facts of the run are left out). Every setting must be there but those added since runs
        were first written (LATER), which take their defaults: a run is never resumed with a setting guessed."""
        family = model_spec(str(stored.get("model"))).config
        missing = [f.name for f in fields(family) if f.name not in stored and f.name not in LATER]
        if missing:
            raise NNLabError(f"lacks the setting {missing[0]!r}")
        return family(**{f.name: stored[f.name] for f in fields(family) if f.name in stored})


# Settings younger than the run directory's format: a run written before one existed trained as its default does
# (the fast recipe, with batch norm in the CNN, the He start, ReLU hidden layers).
LATER = frozenset({"loss", "threads", "recipe", "batch_norm", "start", "activation"})


@dataclass(frozen=True)
class Recipe:
    """A named set of the regularisers the PyTorch models train with: `settings` holds each one's value, by
    setting name, for every model that takes it; a model's defaults are the "fast" recipe's."""

    summary: str
    settings: dict[str, Any]


# --recipe NAME. "fast" is the models' own defaults (time to accuracy, docs/benchmarks.md); "plain" is the textbook
# model that a homework's "an MLP and a CNN with softmax and the log loss" means: none of the four. Optimiser, schedule
# and weight decay are the same in both.
RECIPES = {
    "fast": Recipe("the models' defaults, chosen for time to accuracy: mlp dropout 0.3 and batch norm; cnn batch "
                   "norm, augmented images and label smoothing 0.1", {}),
    "plain": Recipe("the textbook model: no label smoothing, augmentation, batch norm or dropout",
                    {"label_smoothing": 0.0, "augment": False, "batch_norm": False, "dropout": 0.0}),
}


@dataclass(frozen=True)
class ScratchConfig(TrainConfig):
    """The NumPy network with hand-written backprop (docs/derivation.md)."""

    model: ClassVar[str] = "scratch"
    # (weight_decay None: batch size / training samples, a unit Gaussian prior on the weights; see `resolve`)
    device: str = setting("cpu", TrainConfig.__dataclass_fields__["device"].metadata["help"], choices=DEVICES)
    hidden: tuple[int, ...] = setting((256, 128), "hidden layer sizes", checks.sizes)
    activation: str = setting("relu", "scratch: the hidden layers' activation (relu; tanh and logistic, the "
                              "sigmoid, saturate: their gradients fade layer by layer, the vanishing-gradient "
                              "lesson; identity makes the network linear)", choices=tuple(ACTIVATIONS))
    loss: str = setting("log", "scratch: log loss, or mse, the squared error of the sigmoid output (two classes; "
                        "the derivation's counter-example, see `nnlab explain`)", choices=tuple(LOSSES))
    start: str = setting("he", "scratch: the weights training starts from: he (He's random start), or "
                         "confident-wrong (two classes: He's start with the output's bias raised until every "
                         "training sample's logit is at least 10, so the first class is wrong at sigma >= 0.99995: "
                         "the start from which --loss mse stalls and the log loss recovers, docs/derivation.md)",
                         choices=STARTS)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.device not in ("cpu", "auto"):
            raise NNLabError("the scratch network runs in NumPy on the CPU; drop --device or use --device cpu")
        object.__setattr__(self, "device", "cpu")

    def resolve(self, n_train: int) -> ScratchConfig:
        """As TrainConfig's, and the L2 strength: a unit Gaussian prior on every weight (MAP training).

        The prior adds ||W||^2 / 2 to the summed loss, so ||W||^2 / 2n to the mean loss over n samples; the
        per-batch term (alpha / 2m) ||W||^2 (m = batch size, scikit-learn's convention) matches it with
        alpha = m / n. The prior's pull is fixed while the data's grows with n: small data is regularised more
        (breast-cancer, 5-fold CV on the training split: 97.5% with alpha = 1e-4, 98.5% with this; README)."""
        resolved = super().resolve(n_train)
        if self.weight_decay is None:
            resolved = replace(resolved, weight_decay=self.batch_size / n_train)
        return resolved


@dataclass(frozen=True)
class TorchConfig(TrainConfig):
    """What both PyTorch models take beside the shared settings (the NumPy network has none of these)."""

    weight_decay: float | None = setting(1e-2, TrainConfig.__dataclass_fields__["weight_decay"].metadata["help"],
                                         checks.nonnegative_float)
    schedule: str = setting("onecycle", "learning-rate schedule", choices=SCHEDULES)
    recipe: str = setting("fast", "mlp/cnn: " + "; ".join(f"{k}, {r.summary}" for k, r in RECIPES.items())
                          + ". Options given with it override it (--recipe plain --dropout 0.2: plain with dropout); "
                          "the other defaults shown are fast's", choices=RECIPES)
    dropout: float = setting(0.3, "dropout rate", checks.fraction_or_zero)
    batch_norm: bool = setting(True, "batch norm: mlp, after each hidden dense layer; cnn, in each conv block and "
                                     "the head", checks.switch)
    augment: bool = setting(False, "on images: cnn random shifts and flips, mlp flips only (flips only where they "
                                   "keep the class)", checks.switch)
    label_smoothing: float = setting(0.0, "label smoothing of the loss", checks.fraction_or_zero)
    precision: str = setting("auto", "bf16 autocast or plain fp32, auto: bf16 where the CPU or GPU has it",
                             choices=PRECISIONS)


@dataclass(frozen=True)
class MLPConfig(TorchConfig):
    """A PyTorch multilayer perceptron."""

    model: ClassVar[str] = "mlp"
    hidden: tuple[int, ...] = setting((1024, 512), "hidden layer sizes", checks.sizes)


@dataclass(frozen=True)
class CNNConfig(TorchConfig):
    """A PyTorch convolutional network. Its recipe was chosen for time to accuracy on a 2-core CPU
    (docs/benchmarks.md): narrow convs that pool before batch norm and ReLU, batch 256 at a peak rate of 0.01,
    no dropout; 30 epochs cost less time than 20 of the earlier, wider recipe and reach higher."""

    model: ClassVar[str] = "cnn"
    batch_size: int = setting(256, "samples per step", checks.positive_int)
    lr: float = setting(1e-2, "learning rate (the peak, with onecycle)", checks.positive_float,
                        aliases=("--learning-rate",))
    dropout: float = setting(0.0, "dropout rate", checks.fraction_or_zero)
    augment: bool = setting(True, TorchConfig.__dataclass_fields__["augment"].metadata["help"], checks.switch)
    label_smoothing: float = setting(0.1, "label smoothing of the loss", checks.fraction_or_zero)
    widths: tuple[int, ...] = setting((16, 32, 64), "channels of the conv blocks", checks.sizes)


@dataclass(frozen=True)
class ModelSpec:
    """What a model is beyond its settings. Defaults were chosen on Fashion-MNIST's validation split
    (docs/benchmarks.md)."""

    summary: str
    engine: str                # "numpy" or "torch"
    config: type[TrainConfig]  # its settings, with their defaults
    needs_images: bool         # takes images (channels x h x w), not rows: the CNN convolves
    epochs: int                # the default; small data get more (TrainConfig.resolve)
    # With --augment: random shifts need translation invariance (measured on Fashion-MNIST, shifts cost the
    # MLP 2.5 points); mirror images suit both, where the data's classes survive a mirror.
    shifts: bool = False


MODELS: dict[str, ModelSpec] = {
    "scratch": ModelSpec("the NumPy network with hand-written backprop (two classes: the derived network, sigmoid "
                         "+ log loss)", "numpy", ScratchConfig, needs_images=False, epochs=20),
    "mlp": ModelSpec("a PyTorch multilayer perceptron (softmax + log loss)", "torch", MLPConfig,
                     needs_images=False, epochs=30),
    "cnn": ModelSpec("a PyTorch convolutional network (softmax + log loss)", "torch", CNNConfig,
                     needs_images=True, epochs=30, shifts=True),
}
DEFAULT_EPOCHS = {name: spec.epochs for name, spec in MODELS.items()}


def model_spec(name: str) -> ModelSpec:
    return pick(MODELS, name, "model")


def departures(cfg: TrainConfig) -> dict[str, Any]:
    """The settings of `cfg` that differ from what its recipe sets (the fast recipe: from the model's defaults),
    by name: {} for a run that is its recipe as named. A model without recipes (scratch) has none."""
    if not isinstance(cfg, TorchConfig):
        return {}
    recipe = RECIPES[cfg.recipe].settings
    return {k: getattr(cfg, k) for k in REGULARISERS if getattr(cfg, k) != recipe.get(k, default(cfg.model, k))}


def recipe_in_words(cfg: TrainConfig) -> str:
    """What the run trained with, for a report and `nnlab compare`: `plain: no label smoothing, augmentation, batch
    norm or dropout`, or `plain: dropout 0.2; no label smoothing, augmentation or batch norm (dropout 0.2 given
    beside the recipe)`. '' for the NumPy network, which has no recipes."""
    if not isinstance(cfg, TorchConfig):
        return ""
    on = [in_words(k, getattr(cfg, k)) for k in REGULARISERS if getattr(cfg, k)]
    off = [in_words(k, True) for k in REGULARISERS if not getattr(cfg, k)]  # (named, then said with one "no")
    text = f"{cfg.recipe}: " + "; ".join(
        ([", ".join(on)] if on else []) + ([f"no {', '.join(off[:-1])}{' or ' if len(off) > 1 else ''}{off[-1]}"]
                                           if off else []))
    changed = departures(cfg)
    if changed:
        text += f" ({', '.join(in_words(k, v) for k, v in changed.items())} given beside the recipe)"
    return text


# The settings a recipe decides, in the order the words name them
REGULARISERS = ("label_smoothing", "augment", "batch_norm", "dropout")


def in_words(name: str, value: Any) -> str:
    """A regulariser's value in words: label_smoothing 0.1 -> `label smoothing 0.1`, augment True ->
    `augmentation`, batch_norm False or dropout 0.0 -> `no batch norm`, `no dropout`."""
    words = {"augment": "augmentation"}.get(name, name.replace("_", " "))
    if not value:
        return f"no {words}"
    return f"{words} {value:g}" if isinstance(value, float) else words  # (a switch's True is no float)


def options() -> dict[str, Any]:
    """Every setting that is a CLI option, in the order --help lists them: name -> its field (the first
    family's that has it: help, rule, choices; the defaults differ per family, see `model_defaults`)."""
    out: dict[str, Any] = {}
    for spec in MODELS.values():
        for f in fields(spec.config):
            if f.metadata.get("cli") and f.name not in out:
                out[f.name] = f
    return out


def default(model: str, name: str) -> Any:
    """The default of setting `name` for `model` (lists as lists, as JSON and --help show them)."""
    value = MODELS[model].config.__dataclass_fields__[name].default
    return list(value) if isinstance(value, tuple) else value


def model_defaults(model: str) -> dict[str, Any]:
    """The defaults that differ by model, as `nnlab train MODEL --help` and docs/options.md's columns show them:
    the options whose default is not every model's, or that only some models take (epochs None: DEFAULT_EPOCHS,
    raised on small data)."""
    takers = {name: [m for m, s in MODELS.items() if name in s.config.__dataclass_fields__] for name in options()}
    varying = {name for name, models in takers.items()
               if len(models) < len(MODELS) or len({repr(default(m, name)) for m in models}) > 1}
    return {name: None if name == "epochs" else default(model, name)
            for name in options() if name in takers and model in takers[name] and (name in varying or name == "epochs")}
