"""Engines: one model family behind the small interface the training job drives.

An engine trains one epoch, predicts probabilities, and turns its whole state (weights, optimiser,
RNG) into tensors + JSON and back. The job around it owns the run directory and the printing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnlab.errors import NNLabError, pick
from nnlab.metrics import sum_of_squares
from nnlab.scratch.network import Network, Workspace, backward, forward, predict_proba
from nnlab.scratch.optim import make_optimizer
from nnlab.scratch.train import EpochRunner
from nnlab.training.config import ScratchConfig, TrainConfig, model_spec
from nnlab.training.schedules import learning_rate
from nnlab.training.starts import STARTS


class ScratchEngine:
    """The NumPy network of docs/derivation.md: sigmoid + log loss for two classes (or the squared error,
    with loss "mse"), softmax for more, from the start cfg.start names.

    Its Adam follows PyTorch's convention (eps after the bias-corrected square root), like TorchEngine's."""

    kind = "scratch"

    def __init__(self, cfg: ScratchConfig, n_features: int, n_classes: int):
        self.cfg = cfg
        sizes = [n_features, *cfg.hidden, 1 if n_classes == 2 else n_classes]
        self.rng = np.random.default_rng(cfg.seed)
        self.net = Network.create(sizes, self.rng, np.float32, cfg.activation)
        # The optimiser starts at the peak rate; the schedule sets each epoch's own in train_epoch.
        self.optimizer = make_optimizer(cfg.optimizer, [self.net.theta], cfg.lr, momentum=cfg.momentum,
                                        nesterov=cfg.nesterov,
                                        convention="torch")  # PyTorch's Adam, as the PyTorch trainers use
        self.loss = cfg.loss
        self.runner = EpochRunner(self.net, self.optimizer, cfg.batch_size, cfg.weight_decay,
                                  track_penalty=False, loss=self.loss)  # the curves show the data loss alone

    # network.py sums its products in fixed blocks: the same bits on any BLAS thread count (nnlab.threads)
    thread_invariant = True

    def describe(self) -> dict[str, str]:
        return {"device_used": "cpu", "precision_used": str(self.net.dtype)}

    def prepare(self, X: np.ndarray, y: np.ndarray, flip_ok: bool = False) -> None:
        """Hold the training data, and move the weights to the start cfg.start names (training/starts.py): it
        needs the data, and a resumed run's checkpoint replaces the weights after this anyway."""
        self.X, self.y = X, y
        pick(STARTS, self.cfg.start, "start")(self.net, X, y)

    def epoch_lr(self, epoch: int, epochs: int) -> float:
        # one rate per epoch: the NumPy loop keeps its optimiser step free of Python bookkeeping
        return learning_rate(self.cfg.schedule, self.cfg.lr, epoch / epochs)

    def train_epoch(self, epoch: int, epochs: int, on_batch=None):
        self.optimizer.lr = self.epoch_lr(epoch, epochs)
        # Overflow shows up as a non-finite loss, which the job reports in one line: no warnings on the way.
        with np.errstate(over="ignore", invalid="ignore"):
            loss, _penalty, accuracy = self.runner.run(self.X, self.y, self.rng, on_batch)
        return loss, accuracy  # the data loss alone: the validation loss has no L2 term either

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return predict_proba(self.net, X)

    def train_batch(self, X: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One optimiser step on the batch (X, y), at most a batch size long, at rate `lr` (the learning-rate
        finder's step), as train_epoch takes each; returns the batch's log loss before the step."""
        if len(X) > self.runner.batch_size:
            raise ValueError(f"a batch of {len(X)} is more than the batch size {self.runner.batch_size}")
        self.optimizer.lr = lr
        with np.errstate(over="ignore", invalid="ignore"):
            loss, _penalty, _accuracy = self.runner.run(X, y, None)  # in order: one batch, one step
        return loss

    def layer_weights(self) -> dict[str, np.ndarray]:
        """A copy of every weight matrix (inputs x outputs), named dense1, dense2, ..."""
        return {f"dense{l + 1}": W.copy() for l, W in enumerate(self.net.W)}

    def probe(self, X: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float | None]]:
        """Per layer, on the batch (X, y): the norm of the loss gradient dW, and for hidden layers the
        fraction of dead units (A = 0 for every sample). Touches neither the weights nor the RNG."""
        ws = Workspace.create(self.net, len(X))
        forward(self.net, X, ws)
        # dead: a ReLU that outputs 0 for every sample (other activations have no flat side that stops it)
        relu = self.net.activation == "relu"
        dead = [float(np.mean(~(A > 0).any(axis=0))) if relu else None for A in ws.A[:-1]]
        backward(self.net, X, y, ws, self.cfg.weight_decay, self.loss)
        return {f"dense{l + 1}": {"grad_norm": math.sqrt(sum_of_squares(dW)),
                                  "dead": dead[l] if l < len(dead) else None}
                for l, dW in enumerate(ws.dW)}

    def torch_model(self):
        """The same function as a PyTorch module (for autograd-based pictures such as saliency)."""
        from nnlab.models.bridge import from_scratch

        return from_scratch(self.net).eval()

    def weights(self) -> dict[str, np.ndarray]:
        """W1, b1, W2, ... numbered from 1 as in docs/derivation.md."""
        return {f"{kind}{l + 1}": p for l, (W, b) in enumerate(zip(self.net.W, self.net.b))
                for kind, p in (("W", W), ("b", b))}

    def load_weights(self, tensors: dict[str, np.ndarray]) -> None:
        for name, p in self.weights().items():
            if name not in tensors or tensors[name].shape != p.shape:
                got = tensors[name].shape if name in tensors else "nothing"
                raise NNLabError(f"weights file does not fit the network: {name} should be {p.shape}, "
                                 f"found {got}")
            p[...] = tensors[name]

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = {**self.weights(), **{f"optimizer.{k}": v for k, v in self.optimizer.state().items()}}
        return tensors, {"optimizer_steps": self.optimizer.steps, "rng": self.rng.bit_generator.state}

    def load_state(self, tensors: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        self.load_weights(tensors)
        prefix = "optimizer."
        self.optimizer.load_state({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)},
                                  state["optimizer_steps"])
        self.rng.bit_generator.state = state["rng"]


def make_engine(cfg: TrainConfig, n_features: int, n_classes: int, image_shape=None,
                facts: dict[str, Any] | None = None):
    """The engine of cfg.model's spec: the NumPy network's, or PyTorch's (imported only then). `facts`: what a
    stored run recorded of its training (RunRecord.facts), which a reloaded model predicts by."""
    if model_spec(cfg.model).engine == "numpy":
        return ScratchEngine(cfg, n_features, n_classes)
    from nnlab.training.torch_engine import TorchEngine

    return TorchEngine(cfg, n_features, n_classes, image_shape, facts or {})
