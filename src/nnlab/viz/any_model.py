"""`nnlab.report(model, data)`: the report of any classifier, yours or nnlab's, trained anywhere.

The model may be a `torch.nn.Module` that returns one logit per class (or a single logit for two
classes), a fitted `nnlab.ScratchClassifier`, or scikit-learn's MLPClassifier with ReLU units. The data
may be an nnlab dataset name, an nnlab `Dataset`, arrays `(X, y)` (NumPy or torch, shaped as the model
takes them), a torch `Dataset` such as `TensorDataset`, or a `DataLoader`. Every figure that applies is
drawn, through hooks and autograd; a `Recorder` that your loop fed adds the learning curves, the weight
evolution and the training health.
"""

from __future__ import annotations

import base64
import math
from html import escape
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nnlab import runs
from nnlab.data import Dataset, Scaler, load
from nnlab.errors import NNLabError
from nnlab.files import write_json_atomic
from nnlab.models.inspect import layer_weights

MAX_SAMPLES = 10_000  # test samples read from a torch Dataset or DataLoader: enough for every figure


class Report:
    """A written report: its path, and in Jupyter its key pictures and metrics inline."""

    def __init__(self, path: Path, summary: dict, figures: list):
        self.path, self.summary, self.figures = path, summary, figures

    def __repr__(self) -> str:
        return f"Report({str(self.path)!r}, test_accuracy={self.summary['test_accuracy']:.4f})"

    def _repr_html_(self) -> str:
        return summary_html(self.path.parent, self.summary, self.figures, link=self.path)


KEY_FIGURES = ("learning_curves.png", "first_layer_learned.png", "conv1_kernels.png", "conv2_patches.png",
               "saliency.png", "decision_boundary.png", "confusion_matrix.png")


def summary_html(run: Path, summary: dict, figures: list, link: Path | None = None, limit: int = 4) -> str:
    """A notebook-sized view of a report: the test metrics and up to `limit` key pictures, embedded."""
    files = [f for f in KEY_FIGURES if any(fig.file == f for fig in figures)][:limit]
    images = "".join(
        f'<figure style="margin:0.5em 0"><img style="max-width:100%" alt="{escape(f)}" '
        f'src="data:image/png;base64,{base64.b64encode((run / "figures" / f).read_bytes()).decode("ascii")}">'
        f"</figure>" for f in files)
    where = f'<p>The whole report: <a href="{escape(link.as_posix())}">{escape(str(link))}</a></p>' if link else ""
    return (f"<div><b>test accuracy {summary['test_accuracy']:.2%}</b> · test log loss {summary['test_loss']:.4f}"
            f"{images}{where}</div>")


def report(model, data, out: str | Path = "nnlab-report", recorder=None, classes=None,
           name: str | None = None, transform=None) -> Report:
    """Write OUT/report.html (and OUT/figures/) for `model` on the test split of `data`; returns the Report.
    `recorder`: the `nnlab.Recorder` your loop fed; `classes`: class names for arrays; `name`: the title;
    `transform`: what turns the data's samples into the model's inputs, on torch tensors (the scaling it was
    trained with, e.g. `lambda x: (x - 0.5) / 0.5`). Without it, image data in [0, 1] is also scored rescaled to
    [-1, 1] and standardised, and the report says so where the model fits one of those better."""
    from nnlab.viz.render import render
    from nnlab.viz.report_input import ReportInput

    ds = as_dataset(data, classes)
    if transform is not None:
        if not isinstance(model, nn.Module):
            raise NNLabError("transform= goes with a torch.nn.Module (a fitted ScratchClassifier takes the data as "
                             "it was fitted on)")
        model = Transformed(model, transform)
    view = ModelView(model, ds)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ev = ReportInput.from_model(view, ds, view.input_shape, name or view.name, recorder)
    ev.summary["sanity"] = [scaling(view, ds, transform is not None).to_json()]
    path, made = render(ev, out)
    write_linked_files(out, ev, view.parameters)
    return Report(path, ev.summary, made)


def write_linked_files(out: Path, ev, parameters: int) -> None:
    """The two files report.html links to: what is known of the model and the data (config.json; not a
    run's config, so `nnlab viz` does not take the folder for a run) and the history (metrics.jsonl)."""
    ds = ev.data
    write_json_atomic(out / runs.CONFIG, {
        "model": ev.model_name, "data": ev.data_name, "parameters": parameters,
        "dataset": {"name": ds.name, "classes": list(ds.classes), "n_train": "?" if ev.n_train is None else ev.n_train,
                    "n_val": "?", "n_test": ev.n_test,
                    "image_shape": list(ds.image_shape) if ds.image_shape else None}})
    runs.write_metrics(out, ev.history)


class ModelView:
    """Any classifier as the report's `ReportModel` (the interface nnlab's engines have), with the shape one
    sample takes in it and its size."""

    def __init__(self, model, ds: Dataset):
        if hasattr(model, "coefs_") and getattr(model, "activation", "relu") == "relu":
            # A fitted ScratchClassifier (or a ReLU MLPClassifier, the same function): its PyTorch twin.
            from nnlab.models.bridge import from_scratch
            from nnlab.scratch.network import Network

            net = Network([np.asarray(W) for W in model.coefs_], [np.asarray(b) for b in model.intercepts_],
                          np.float32)
            self.kind, self.name = "scratch", type(model).__name__
            self._weights = {f"dense{l + 1}": W for l, W in enumerate(net.W)}
            model = from_scratch(net)
        elif isinstance(model, nn.Module):
            self.kind, self.name, self._weights = "torch", type(model).__name__, None
            model = model.cpu()
        else:
            raise NNLabError(f"nnlab.report takes a torch.nn.Module or a fitted ScratchClassifier, not a "
                             f"{type(model).__name__}")
        self.model = model.eval()
        self.input_shape = _input_shape(self.model, ds)
        with torch.no_grad():
            width = self.model(torch.zeros(2, *self.input_shape)).shape[-1]
        if width == 1 and ds.n_classes == 2:  # one logit for class 1: its twin scores class 0 as 0
            self.model = TwoLogits(self.model).eval()
        elif width != ds.n_classes:
            raise NNLabError(f"the model returns {width} scores per sample but the data has {ds.n_classes} "
                             "classes; give the classes the model was trained on (classes=...)")
        self.parameters = sum(p.numel() for p in self.model.parameters())

    def layer_weights(self) -> dict[str, np.ndarray]:
        return dict(self._weights) if self._weights is not None else layer_weights(self.model)

    def torch_model(self) -> nn.Module:
        return self.model.eval()

    @torch.no_grad()
    def predict_proba(self, X: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        out = [torch.softmax(self.model(torch.from_numpy(np.ascontiguousarray(X[i:i + batch_size], np.float32))
                                        .reshape(-1, *self.input_shape)).float(), dim=1).numpy()
               for i in range(0, len(X), batch_size)]
        return np.concatenate(out)


class Transformed(nn.Module):
    """A model behind the transform that turns the data's samples into its inputs (`nnlab.report(transform=)`):
    every figure then sees the data as it is, and the model its inputs as it was trained on."""

    def __init__(self, model: nn.Module, transform):
        super().__init__()
        self.inner, self.transform = model, transform

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(self.transform(x))


# How many test samples the scaling check scores each way (three passes of the model over them)
SCALING_SAMPLES = 2000


def scaling(view: ModelView, ds: Dataset, declared: bool):
    """The sanity note on the data's scale: the model's accuracy on the data as given, and for image data in
    [0, 1] (nnlab's own sets) also rescaled to [-1, 1] and standardised (training split's mean and deviation),
    the two scalings course code most often trains with."""
    from nnlab.training.sanity import Note, scaling_guess

    X, y = ds.X_test[:SCALING_SAMPLES], ds.y_test[:SCALING_SAMPLES]
    given = "through the transform given" if declared else "as given"
    scores = {given: float(np.mean(view.predict_proba(X).argmax(axis=1) == y))}
    if declared or ds.image_shape is None or X.min() < 0 or X.max() > 1:
        return scaling_guess(scores) if not declared else Note(
            "input-scale", True, f"The data reach the model through the transform given ({scores[given]:.2%} on "
                                 f"{len(y):,} test samples).")
    mean, std = float(ds.X_train.mean()), float(ds.X_train.std()) or 1.0
    scores["rescaled to [-1, 1]"] = float(np.mean(view.predict_proba(X * 2 - 1).argmax(axis=1) == y))
    scores[f"standardised (mean {mean:.3g}, deviation {std:.3g})"] = float(
        np.mean(view.predict_proba((X - mean) / std).argmax(axis=1) == y))
    return scaling_guess(scores)


class TwoLogits(nn.Module):
    """(0, z) from a model's single logit z: softmax of it is (1 - sigmoid(z), sigmoid(z))."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.inner = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.inner(x).reshape(len(x), 1)
        return torch.cat([torch.zeros_like(z), z], dim=1)


def _input_shape(model: nn.Module, ds: Dataset) -> tuple[int, ...]:
    """The shape one sample takes in the model: the image's (channels, h, w) if it accepts that, else a row."""
    tried = ([tuple(ds.image_shape)] if ds.image_shape else []) + [(ds.n_features,)]
    errors = []
    for shape in tried:
        try:
            with torch.no_grad():
                model(torch.zeros(2, *shape))
            return shape
        except Exception as e:  # noqa: BLE001 (any error means: not this shape)
            errors.append(f"{shape}: {str(e).splitlines()[0]}")
    raise NNLabError("the model takes neither shape of the data's samples (" + "; ".join(errors) + ")")


def as_dataset(data, classes=None) -> Dataset:
    """An nnlab Dataset from a name, a Dataset, arrays (X, y) or (X_train, y_train, X_test, y_test), a torch
    Dataset or a DataLoader. Samples keep the values the model was trained on; the pictures show them
    rescaled from their range to [0, 1] (so for normalised MNIST, black is its smallest value)."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str):
        return load(data)
    if isinstance(data, (tuple, list)) and len(data) in (2, 4):
        arrays = [_array(a) for a in data]
        X_train, y_train, X_test, y_test = arrays if len(arrays) == 4 else arrays * 2
        return _from_arrays(X_train, y_train, X_test, y_test, classes, train_given=len(arrays) == 4)
    if isinstance(data, torch.utils.data.DataLoader):
        X, y = _gather(x for batch in data for x in zip(*batch[:2]))
        return _from_arrays(X, y, X, y, classes, train_given=False)
    if isinstance(data, torch.utils.data.Dataset):
        X, y = _gather(data[i][:2] for i in range(min(len(data), MAX_SAMPLES)))
        return _from_arrays(X, y, X, y, classes, train_given=False)
    raise NNLabError(f"data must be a dataset name, an nnlab Dataset, arrays (X, y), a torch Dataset or a "
                     f"DataLoader, not a {type(data).__name__}")


def _array(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _gather(pairs) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for x, label in pairs:
        X.append(_array(x))
        y.append(int(_array(label)))
        if len(X) == MAX_SAMPLES:
            break
    if not X:
        raise NNLabError("the data holds no samples")
    return np.stack(X), np.array(y)


def _from_arrays(X_train, y_train, X_test, y_test, classes, train_given: bool) -> Dataset:
    shape = X_test.shape[1:]
    if len(shape) == 3:
        image_shape = tuple(int(v) for v in shape)
    elif len(shape) == 2:
        image_shape = (1, *map(int, shape))
    elif len(shape) == 1 and shape[0] >= 64 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])  # flattened square images, as MNIST rows are
        image_shape = (1, side, side)
    else:
        image_shape = None
    X_train, X_test = (np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float32) for X in (X_train, X_test))
    y_train, y_test = (np.asarray(y).astype(np.int64).ravel() for y in (y_train, y_test))
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    names = tuple(str(c) for c in (classes if classes is not None else range(n_classes)))
    if len(names) < n_classes or y_test.min() < 0:
        raise NNLabError(f"labels run from {y_test.min()} to {n_classes - 1} but {len(names)} class names were given")
    lo, hi = float(X_test.min()), float(X_test.max())
    span = (hi - lo) or 1.0
    n = X_test.shape[1]
    # Display scaling only: inverse(x) = (x - lo) / span maps the model's values to [0, 1]; black is lo.
    scaler = Scaler("standardize", mean=np.full(n, -lo / span, np.float32), std=np.full(n, 1 / span, np.float32))
    return Dataset(name="your data", X_train=X_train if train_given else X_test,
                   y_train=y_train if train_given else y_test, X_test=X_test, y_test=y_test, classes=names,
                   image_shape=image_shape, scaler=scaler)
