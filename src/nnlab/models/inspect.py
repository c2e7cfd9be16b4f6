"""Inspection of any PyTorch classifier, ours or one a user wrote: its weighted layers by name, their
weights as arrays, and a probe of their gradients and dead units on one batch. The trainer's health checks,
the Recorder and the report of a user's own model all read a model through these."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def weighted_layers(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """Every conv and dense layer in module order, named conv1, conv2, ..., dense1, dense2, ..."""
    named, counts = {}, {"conv": 0, "dense": 0}
    for module in model.modules():
        kind = "conv" if isinstance(module, torch.nn.Conv2d) else "dense" if isinstance(
            module, torch.nn.Linear) else None
        if kind:
            counts[kind] += 1
            named[f"{kind}{counts[kind]}"] = module
    return named


def layer_weights(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """A copy of every weight: dense (inputs x outputs) as in the NumPy network, conv (out x in x kh x kw)."""
    out = {}
    for name, layer in weighted_layers(model).items():
        W = layer.weight.detach().float().cpu().numpy()
        out[name] = W.T.copy() if name.startswith("dense") else W.copy()
    return out


def probe(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
          label_smoothing: float = 0.0) -> dict[str, dict[str, float | None]]:
    """Per layer, on the batch (x, y) in evaluation mode: the norm of the loss gradient of its weight,
    and for layers followed by a ReLU module the fraction of dead units (channels for conv layers) that
    output 0 for every sample. Uses autograd.grad, so the training gradients, weights and RNGs are untouched;
    the model is left in evaluation mode."""
    layers = weighted_layers(model)
    name_of = {module: name for name, module in layers.items()}
    owner, active, hooks, last = {}, {}, [], None
    for module in model.modules():  # each ReLU belongs to the weighted layer before it
        if module in name_of:
            last = name_of[module]
        elif isinstance(module, torch.nn.ReLU) and last is not None:
            owner[module] = last

            def record(module, inputs, output):  # a unit is active if it fires anywhere, for any sample
                active[owner[module]] = output.detach().gt(0).transpose(0, 1).flatten(1).any(dim=1)
            hooks.append(module.register_forward_hook(record))
    model.eval()
    try:
        logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
        grads = torch.autograd.grad(loss, [m.weight for m in layers.values()])
    finally:
        for h in hooks:
            h.remove()
    return {name: {"grad_norm": float(g.norm()),
                   "dead": float(1 - active[name].float().mean()) if name in active else None}
            for (name, _), g in zip(layers.items(), grads)}
