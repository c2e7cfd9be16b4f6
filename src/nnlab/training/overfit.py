"""Overfit one batch (Karpathy's "A Recipe for Training Neural Networks"): train on a few samples alone until
the training loss is near zero. A network, loss and optimiser that cannot do even that have a bug (or a rate that
cannot move them), and no amount of data or epochs will help; one that can is ready for the real run.

    overfit_config(cfg)           for a model nnlab trains, with `nnlab train`'s settings
    overfit_module(model, X, y)   for a torch.nn.Module of your own (nnlab.overfit_batch)

Both switch off what keeps a network from memorising (weight decay, dropout, label smoothing, augmentation) and
train at a constant rate; the verdict and its words are sanity.overfit_verdict's.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np

from nnlab.data.dataset import each_class_in_turn
from nnlab.errors import NNLabError
from nnlab.metrics import log_loss
from nnlab.training import sanity
from nnlab.training.config import TorchConfig, TrainConfig

SAMPLES = 32   # Karpathy overfits "as little as two examples"; 32 holds several of every class of ten
STEPS = 200


@dataclass(frozen=True)
class Overfit:
    """What one batch's training did: the loss on the batch before each update (`losses`), the loss and
    accuracy on it after the last one, the verdict (`ok`) and its line, and notes on the inputs."""

    samples: int
    steps: int
    losses: list[float]
    final_loss: float
    accuracy: float
    ok: bool
    line: str
    notes: list[sanity.Note] = field(default_factory=list)

    def __repr__(self) -> str:
        return self.line

    def to_json(self) -> dict:
        return {"samples": self.samples, "steps": self.steps, "start_loss": self.losses[0] if self.losses else None,
                "final_loss": self.final_loss, "accuracy": self.accuracy, "ok": self.ok, "line": self.line,
                "losses": [round(v, 6) for v in self.losses], "notes": [n.to_json() for n in self.notes]}


# The batch to overfit: `samples` samples taken from each class in turn, every class in it, as in training
one_batch = each_class_in_turn


def memorising(cfg: TrainConfig, samples: int, steps: int) -> TrainConfig:
    """`cfg` made to memorise one batch: one step per epoch on it, a constant rate, no regulariser."""
    off = {"weight_decay": 0.0, "schedule": "constant", "epochs": steps, "batch_size": samples}
    if isinstance(cfg, TorchConfig):
        off |= {"dropout": 0.0, "label_smoothing": 0.0, "augment": False}
    return replace(cfg, **off)


def overfit_config(cfg: TrainConfig, samples: int = SAMPLES, steps: int = STEPS) -> Overfit:
    """Overfit `samples` training samples of cfg's data with cfg's model, optimiser and rate for `steps` steps."""
    from nnlab.training import job
    from nnlab.training.engines import make_engine

    splits = job.load_splits(cfg)
    pick = one_batch(splits.y_train, samples)
    X, y = splits.X_train[pick], splits.y_train[pick]
    mem = memorising(cfg, len(y), steps)
    ds = splits.data
    engine = make_engine(mem, ds.n_features, ds.n_classes, ds.image_shape)
    engine.prepare(X, y, False)
    losses = []
    with job.thread_policy(mem, engine):
        for step in range(steps):
            loss, _ = engine.train_epoch(step, steps)
            losses.append(loss)
            if not math.isfinite(loss):
                break
        P = engine.predict_proba(X)
    final = log_loss(P, y) if math.isfinite(losses[-1]) else math.inf
    accuracy = float(np.mean(P.argmax(axis=1) == y))
    ok, line = sanity.overfit_verdict(losses, final, accuracy, len(y), ds.n_classes, mem.lr)
    return Overfit(len(y), len(losses), losses, final, accuracy, ok, line,
                   sanity.input_scale(X, ds.scaler.kind))


def overfit_module(model, X, y, steps: int = STEPS, lr: float = 1e-3, optimizer: str = "adam",
                   samples: int = SAMPLES, seed: int = 0) -> Overfit:
    """Overfit `samples` of (X, y) with a copy of `model` (yours stays as it is) for `steps` steps of Adam (or
    "sgd") at `lr`, on the cross-entropy of its scores (one score per sample: the binary log loss of it). X as
    the model takes it (arrays or tensors); y class indices."""
    import torch
    import torch.nn.functional as F

    if not isinstance(model, torch.nn.Module):
        raise NNLabError(f"overfit_batch takes a torch.nn.Module, not a {type(model).__name__}")
    X = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X, dtype=np.float32)
    y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y).astype(np.int64).ravel()
    if len(X) != len(y) or len(y) == 0:
        raise NNLabError(f"overfit_batch: {len(X)} samples but {len(y)} labels; give one label per sample")
    if not 0 < lr < math.inf or steps < 1 or samples < 1:
        raise NNLabError("overfit_batch: lr, steps and samples must be positive")
    pick = one_batch(y, samples)
    xb_np, yb_np = X[pick], y[pick]
    n_classes = int(y.max()) + 1
    with torch.random.fork_rng(devices=[]):  # dropout's draws: seeded, and the caller's generator untouched
        torch.manual_seed(seed)
        net = copy.deepcopy(model)
        params = [p for p in net.parameters() if p.requires_grad]
        if not params:
            raise NNLabError("overfit_batch: the model has no trainable parameters")
        device = params[0].device
        xb, yb = torch.from_numpy(xb_np).to(device), torch.from_numpy(yb_np).to(device)
        if optimizer not in ("adam", "sgd"):
            raise NNLabError(f"overfit_batch: optimizer {optimizer!r}; choose adam or sgd")
        opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr)

        def loss_of(scores):
            scores = scores.float()
            if scores.shape[-1] == 1 or scores.dim() == 1:  # one logit per sample: the binary log loss
                return F.binary_cross_entropy_with_logits(scores.reshape(-1), yb.float())
            return F.cross_entropy(scores, yb)

        net.train()
        losses = []
        for _ in range(steps):
            loss = loss_of(net(xb))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                break
        net.eval()
        with torch.no_grad():
            scores = net(xb).float()
            final = float(loss_of(scores))
            if scores.shape[-1] == 1 or scores.dim() == 1:
                predicted = (scores.reshape(-1) > 0).long()
            else:
                predicted = scores.argmax(dim=1)
            accuracy = float((predicted == yb).float().mean())
    ok, line = sanity.overfit_verdict(losses, final, accuracy, len(yb_np), max(n_classes, 2), lr)
    return Overfit(len(yb_np), len(losses), losses, final, accuracy, ok, line, sanity.input_scale(X[:4096]))
