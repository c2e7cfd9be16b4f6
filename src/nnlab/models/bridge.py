"""Move weights between the PyTorch MLP and the NumPy network: the two engines must agree.

At prediction time every MLP is a plain dense ReLU network: dropout is the identity, and batch norm
is an affine map per unit, gamma * (z - mu) / sqrt(var + eps) + beta with its running statistics,
which folds into the linear layer before it (W' = W * s, b' = (b - mu) * s + beta, s = gamma /
sqrt(var + eps)). Two classes: the MLP has two softmax outputs, the NumPy network one sigmoid unit;
softmax(z0, z1)[1] = sigmoid(z1 - z0), so the sigmoid unit's weights are the difference of the two
softmax rows, and the way back puts 0 beside them. The way back makes an MLP without batch norm or
dropout (the NumPy network has neither).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nnlab.models.nets import MLP
from nnlab.scratch.network import Network


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy().copy()


def dense_layers(model: MLP) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The MLP's weights (inputs x outputs) and biases as its evaluation mode computes them, in
    float64, with each batch norm folded into the linear layer before it."""
    W: list[np.ndarray] = []
    b: list[np.ndarray] = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            W.append(_array(m.weight).T)
            b.append(_array(m.bias))
        elif isinstance(m, nn.BatchNorm1d):
            s = _array(m.weight) / np.sqrt(_array(m.running_var) + m.eps)
            W[-1] = W[-1] * s                                  # W' = W * s, one scale per unit
            b[-1] = (b[-1] - _array(m.running_mean)) * s + _array(m.bias)  # b' = (b - mu) * s + beta
    return W, b


def to_scratch(model: MLP, dtype=np.float32) -> Network:
    """The NumPy network computing the same probabilities as `model` in evaluation mode."""
    W, b = dense_layers(model)
    if W[-1].shape[1] == 2:
        W[-1] = W[-1][:, 1:] - W[-1][:, :1]
        b[-1] = b[-1][1:] - b[-1][:1]
    return Network(W, b, dtype, getattr(model, "activation", "relu"))


def from_scratch(net: Network) -> MLP:
    """The PyTorch MLP computing the same probabilities as `net`."""
    sizes = net.sizes
    n_classes = 2 if net.binary else sizes[-1]
    model = MLP(sizes[0], sizes[1:-1], n_classes, activation=net.activation)
    with torch.no_grad():
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        for lin, W, b in zip(linears, net.W, net.b):
            if W.shape[1] == 1 and n_classes == 2:
                W = np.concatenate([np.zeros_like(W), W], axis=1)
                b = np.concatenate([np.zeros_like(b), b])
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T, dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
    return model
