"""`nnlab explain RUN_DIR` and `nnlab.explain(run)`: one SGD step of a scratch run's network, shown.

Reads the run, takes a tiny batch of its training samples, walks the step (`scratch.walk`), trains the log
loss against the squared error from the run's start (two classes), and writes one self-contained page.

Which weights: by default the trained ones (RUN/model.safetensors), the network the run's report is about —
what a learner debugging their own network asks about. `weights="start"` walks the step from the run's
initial weights instead, where the gradients are largest and the step changes the loss most (the view for a
first lecture); they are rebuilt from the run's seed exactly as training drew them, and checked against the
first layer kept in RUN/start.safetensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path

import numpy as np

from nnlab import runs
from nnlab.data import Dataset
from nnlab.errors import NNLabError
from nnlab.files import write_bytes_atomic
from nnlab.scratch.network import Network, predict_proba
from nnlab.scratch.walk import LossRace, Walk, compare_losses, pick_batch, walk
from nnlab.threads import ThreadPolicy
from nnlab.viz.explain_page import framed, page

WEIGHTS = ("trained", "start")
MAX_SAMPLES = 64
RACE_SAMPLES, RACE_EPOCHS, RACE_LR = 512, 20, 0.1


@dataclass
class Explanation:
    """The walk, the log-vs-squared-error race (two classes only) and the page; shows itself in Jupyter."""

    walk: Walk
    race: LossRace | None
    html: str

    def _repr_html_(self) -> str:
        return framed(self.html)

    def write(self, path: str | Path) -> Path:
        """Write the page (atomically) to `path`, a file name ending in .html."""
        path = Path(path)
        check_out(path)
        write_bytes_atomic(path, self.html.encode("utf-8"))
        return path


def check_out(path: Path) -> None:
    if path.suffix.lower() not in (".html", ".htm"):
        raise NNLabError(f"--out {path}: the explanation is a web page; give a file name ending in .html")
    if path.is_dir():
        raise NNLabError(f"--out {path} is a folder; give a file name ending in .html")
    if not path.parent.is_dir():
        raise NNLabError(f"--out {path}: the folder {path.parent} does not exist; create it or choose another")


def check_settings(samples: int, weights: str, lr: float) -> None:
    if not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise NNLabError(f"--samples must be between 1 and {MAX_SAMPLES} (a batch small enough to read), "
                         f"got {samples}")
    if weights not in WEIGHTS:
        raise NNLabError(f"unknown weights {weights!r}; choose one of {', '.join(WEIGHTS)}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise NNLabError(f"--lr must be a number greater than 0, got {lr}")


def explain(run: str | Path, samples: int = 4, weights: str = "trained", lr: float = 0.1,
            compare: bool = True) -> Explanation:
    """One SGD step of the scratch run `run` (a directory or an `nnlab.Run`) on `samples` of its training
    samples, from its `weights` ("trained" or "start"), with step size `lr`. `compare` adds the log loss
    against the squared error, trained from the run's start (two classes only; a few seconds)."""
    from nnlab.training import job
    from nnlab.training.record import read_record

    check_settings(samples, weights, lr)
    path = Path(getattr(run, "path", run))
    cfg = read_record(path).settings
    if cfg.model != "scratch":
        raise NNLabError(f"{path} is a {cfg.model!r} run; explain walks the NumPy network's "
                         "hand-written backprop: give a scratch run (nnlab train scratch ...)")
    _, engine = job.load_run(path)
    splits = job.load_splits(cfg)
    trained_on = replace(splits.data, X_train=splits.X_train, y_train=splits.y_train)
    # Tiny products on threads that fight another job were measured 500x slower; network.py's products have
    # the same bits on any thread count, so the count may follow the load.
    with ThreadPolicy(follow_load=True):
        return explanation(path, cfg, engine.net, trained_on, samples, weights, lr, compare)


def by_hand(run: str | Path, samples: int = 4, weights: str = "trained", lr: float = 0.1, convention: str = "rows",
            steps: int = 1, answers=None):
    """The step of a scratch run, as `nnlab explain --net` walks a network written by hand: in either notation
    (`convention="columns"`: the course's W·A + b), with `answers` marked, `steps` steps, JSON and Markdown."""
    from nnlab.training import job
    from nnlab.training.record import read_record
    from nnlab.viz.homework import explain_net

    check_settings(samples, weights, lr)
    path = Path(getattr(run, "path", run))
    cfg = read_record(path).settings
    if cfg.model != "scratch":
        raise NNLabError(f"{path} is a {cfg.model!r} run; explain walks the NumPy network: give a scratch run")
    _, engine = job.load_run(path)
    splits = job.load_splits(cfg)
    ds = replace(splits.data, X_train=splits.X_train, y_train=splits.y_train)
    net = start_network(path, cfg, ds) if weights == "start" else engine.net
    idx = pick_batch(ds.y_train, samples)
    spec = as_spec(net, ds.X_train[idx], ds.y_train[idx], cfg.loss, lr, convention,
                   f"scratch on {cfg.data_label or cfg.data} ({path.name}), {weights} weights")
    return explain_net(spec, steps, answers)


def as_spec(net: Network, X: np.ndarray, y: np.ndarray, loss: str, lr: float, convention: str = "rows",
            title: str = "") -> dict:
    """A scratch network and a batch as a spec of scratch/handnet.py (float64), in `convention`."""
    cols = convention == "columns"
    L = len(net.W)
    layers = [{"W": (W.T if cols else W).astype(np.float64).tolist(), "b": b.astype(np.float64).tolist(),
               "activation": net.activation if l < L - 1 else net.output} for l, (W, b) in enumerate(zip(net.W, net.b))]
    Y = y.astype(np.float64)[:, None] if net.binary else y.astype(int)
    hand_loss = "mse" if loss == "mse" else "log" if net.binary else "cross-entropy"
    X = np.asarray(X, dtype=np.float64)
    return {"layers": layers, "X": (X.T if cols else X).tolist(), "Y": (Y.T if cols and net.binary else Y).tolist(),
            "loss": hand_loss, "lr": lr, "convention": convention, "title": title}


def explanation(path: Path, cfg, trained: Network, ds: Dataset, samples: int = 4, weights: str = "trained",
                lr: float = 0.1, compare: bool = True) -> Explanation:
    """`explain` for a run already loaded (render_run has the network in hand): `trained` is its network,
    `ds` its data with the training samples it was trained on (the validation split left out)."""
    check_settings(samples, weights, lr)
    start = start_network(path, cfg, ds) if weights == "start" or (compare and trained.binary) else None
    net = start if weights == "start" else trained
    idx = pick_batch(ds.y_train, samples)
    steps = walk(net, ds.X_train[idx], ds.y_train[idx], cfg.loss, lr)
    race, wrong, source = None, None, ""
    if compare and trained.binary:
        rng = np.random.default_rng(cfg.seed)
        sub = rng.permutation(len(ds.y_train))[:RACE_SAMPLES]
        X, y = ds.X_train[sub], ds.y_train[sub]
        race = compare_losses(start, X, y, RACE_EPOCHS, RACE_LR, seed=cfg.seed)
        wrong, source = confident_mistake({"the trained network": trained, "the starting network": start}, X, y)
    images = None
    if ds.image_shape and ds.image_shape[0] == 1:
        images = ds.scaler.inverse(ds.X_train[idx]).reshape(-1, *ds.image_shape[1:]) / ds.scaler.pixel_max
    which = ("the trained weights (RUN/model.safetensors)" if weights == "trained" else
             "the weights the run started from (rebuilt from its seed)")
    counts = np.bincount(ds.y_train[idx].astype(int), minlength=len(ds.classes))
    held = " and ".join(f"the first {n} of class {ds.classes[k]}" for k, n in enumerate(counts) if n)
    context = (f"Run {path.name}: {which}; the batch holds {held} among the training samples, in their order; "
               f"one plain SGD step with lr = {lr:g} and no weight decay, on the run's "
               f"{'squared error' if cfg.loss == 'mse' else 'log loss'}.")
    title = f"scratch on {cfg.data_label or cfg.data} ({path.name})"
    html = page(steps, title, context, list(ds.classes), images, race, wrong, source)
    return Explanation(steps, race, html)


def report_section(run: Path, cfg, net: Network, ds: Dataset) -> tuple[str, str, str]:
    """Write RUN/explain.html (the trained network `net`, 4 samples of `ds`'s training samples) and return
    the report's section about it: (anchor, title, HTML)."""
    e = explanation(run, cfg, net, ds)
    e.write(run / "explain.html")
    w = e.walk
    L = len(w.sizes) - 1
    checks = [c for s in w.steps for c in s.checks]
    failed = sum(c.failed for c in checks)
    kinks = sum(c.kink and not c.passed for c in checks)
    dZ = w.step(f"dZ{L}").value[:, 0] * len(w.X) if w.binary and w.loss == "log" else None
    pushes = ("" if dZ is None else f" Where it starts: m·dZ{L} = A{L} − Y = " + ", ".join(f"{v:+.3f}" for v in dZ)
              + f" for the {len(w.X)} samples, how far each prediction is from its label.")
    race = ""
    if e.race is not None:
        c = e.race.curves
        race = (f"<p>The same page sets the log loss beside the squared error: trained from this run's start on "
                f"{e.race.samples} of its samples, training with the log loss reached a log loss of "
                f"{c['log']['log_loss'][-1]:.4f}, training with the squared error {c['mse']['log_loss'][-1]:.4f}, "
                f"in {len(c['log']['log_loss']) - 1} epochs.</p>")
    html = (f"<p>One SGD step of this network on {len(w.X)} training samples, equation by equation: "
            f"Z1 = X·W1 + b1 … dZ{L} … dW1, each with its shapes, its numbers, the line of network.py that computes "
            f"it and a finite-difference check.{escape(pushes)} Loss {w.loss_before:.4f} before the step and "
            f"{w.loss_after:.4f} after it (lr = {w.lr:g}); "
            + (f'<span class="ok">all {len(checks)} finite-difference checks pass</span>.' if not failed and not kinks
               else f'<span class="ok">{len(checks) - kinks} of {len(checks)} finite-difference checks pass; '
               f"{kinks} straddle a ReLU kink, where there is no derivative to check</span>." if not failed else
               f'<span class="warn">{failed} of {len(checks)} finite-difference checks fail</span>.')
            + f'</p>{race}<p><a href="explain.html"><b>Open the walk: one step of backprop, shown</b></a> '
            f"(or <code>nnlab explain {escape(str(run))} --weights start</code> for the step from the start).</p>")
    return "explain", "One step of backprop", html


def start_network(path: Path, cfg, ds) -> Network:
    """The network as training initialised it: the same constructor and seed, moved to the run's --start on its
    training data as training moved it, checked against the first layer the run kept (RUN/start.safetensors)."""
    from nnlab.training.engines import make_engine

    engine = make_engine(cfg, ds.n_features, ds.n_classes)
    engine.prepare(ds.X_train, ds.y_train)  # --start confident-wrong raises the output bias from these samples
    net = engine.net
    kept = path / runs.START
    if kept.is_file():
        first = runs.load_tensors(kept)[0].get("first_layer")
        if first is not None and not np.array_equal(first, net.W[0]):
            raise NNLabError(f"{kept} does not match the start rebuilt from the run's seed (another nnlab version "
                             "trained it?); use --weights trained")
    return net


def confident_mistake(nets: dict[str, Network], X: np.ndarray, y: np.ndarray) -> tuple[tuple[float, int], str]:
    """The most confident mistake any of `nets` makes on (X, y), as (A, y); a made-up one if none errs."""
    best = None
    for name, net in nets.items():
        p1 = predict_proba(net, X)[:, 1].astype(np.float64)
        wrong = np.flatnonzero((p1 > 0.5) != (y == 1))
        if len(wrong):
            i = wrong[np.argmax(np.abs(p1[wrong] - 0.5))]
            if best is None or abs(p1[i] - 0.5) > abs(best[0] - 0.5):
                best = (float(p1[i]), int(y[i]), f"the most confident mistake of {name} on these samples")
    if best is None:
        return (0.02, 1), "a confident mistake (made up: no network here gets any of these samples wrong)"
    return best[:2], best[2]
