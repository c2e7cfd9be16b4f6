"""`Recorder`: what a training loop of your own hands to nnlab's report, one call per epoch.

    recorder = nnlab.Recorder(model, probe=(X_val[:512], y_val[:512]))
    for epoch in range(epochs):
        ...                                   # your own loop
        recorder.epoch(loss=train_loss, accuracy=train_acc, val_loss=..., val_accuracy=...)
    nnlab.report(model, data, recorder=recorder)

It keeps exactly what nnlab's own trainer keeps: the history (learning curves), the first layer as
initialised and after every epoch (what training added, weight evolution), and each layer's health
(update-to-weight ratio, and with a probe batch the gradient norm and dead units).
"""

from __future__ import annotations

import numpy as np
import torch

from nnlab.models.inspect import layer_weights, probe
from nnlab.runs import first_layer
from nnlab.training import health


class _Probe:
    """The one method health.measure asks of an engine, for any model."""

    def __init__(self, model: torch.nn.Module, input_shape: tuple[int, ...]):
        self.model, self.input_shape = model, input_shape

    def probe(self, X, y) -> dict:
        device = next(self.model.parameters()).device
        x = torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape(len(X), *self.input_shape).to(device)
        return probe(self.model, x, torch.as_tensor(np.asarray(y), dtype=torch.long, device=device))


class Recorder:
    """Call `epoch(...)` once after each epoch of your own loop; pass the recorder to `nnlab.report`.

    `probe`: an optional fixed batch (X, y), arrays or tensors shaped as the model takes them, on which
    each epoch's gradient norm and dead-unit share are measured (training health); without it only the
    update ratios are kept."""

    def __init__(self, model: torch.nn.Module, probe: tuple | None = None):
        self.model = model
        self.history: list[dict] = []
        self._before = layer_weights(model)
        if not self._before:
            raise ValueError("Recorder: the model has no nn.Linear or nn.Conv2d layer to follow")
        self.start = next(iter(self._before.values())).copy()        # the whole first layer, as initialised
        self.snapshots = {"epoch0": first_layer(self._before)}
        self._probe = None
        if probe is not None:
            X, y = (np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v) for v in probe)
            self._probe = (X.reshape(len(X), -1), y, X.shape[1:])

    def epoch(self, loss: float, accuracy: float | None = None, val_loss: float | None = None,
              val_accuracy: float | None = None, lr: float | None = None) -> dict:
        """Record the epoch that just ended (its mean training loss, and whatever else you measured);
        returns the record."""
        after = layer_weights(self.model)
        number = len(self.history) + 1
        record = {"epoch": number, "loss": float(loss), "accuracy": _maybe(accuracy), "val_loss": _maybe(val_loss),
                  "val_accuracy": _maybe(val_accuracy), "lr": _maybe(lr)}
        if self._probe is not None:
            X, y, shape = self._probe
            was_training = self.model.training
            try:
                record["health"] = health.measure(_Probe(self.model, shape), self._before, after, X, y)
            finally:
                self.model.train(was_training)
        self._before = after
        self.snapshots[f"epoch{number}"] = first_layer(after)
        self.history.append(record)
        return record


def _maybe(value) -> float | None:
    return None if value is None else float(value)
