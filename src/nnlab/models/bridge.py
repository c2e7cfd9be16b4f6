"""Move weights between the PyTorch MLP and the NumPy network: the two engines must agree.

Only an MLP without batch norm or dropout has a NumPy twin. Two classes: the MLP has two softmax
outputs, the NumPy network one sigmoid unit; softmax(z0, z1)[1] = sigmoid(z1 - z0), so the sigmoid
unit's weights are the difference of the two softmax rows, and the way back puts 0 beside them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nnlab.errors import NNLabError
from nnlab.models.nets import MLP
from nnlab.scratch.network import Network


def _linears(model: MLP) -> list[nn.Linear]:
    if any(isinstance(m, (nn.BatchNorm1d, nn.Dropout)) for m in model.modules()):
        raise NNLabError("only an MLP without batch norm or dropout has a NumPy twin; train it with "
                         "--dropout 0 and without --batch-norm")
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def to_scratch(model: MLP, dtype=np.float32) -> Network:
    """The NumPy network computing the same probabilities as `model`."""
    W = [lin.weight.detach().cpu().double().numpy().T for lin in _linears(model)]
    b = [lin.bias.detach().cpu().double().numpy() for lin in _linears(model)]
    if W[-1].shape[1] == 2:
        W[-1] = W[-1][:, 1:] - W[-1][:, :1]
        b[-1] = b[-1][1:] - b[-1][:1]
    return Network([w.astype(dtype) for w in W], [c.astype(dtype) for c in b])


def from_scratch(net: Network) -> MLP:
    """The PyTorch MLP computing the same probabilities as `net`."""
    sizes = net.sizes
    n_classes = 2 if net.binary else sizes[-1]
    model = MLP(sizes[0], sizes[1:-1], n_classes)
    with torch.no_grad():
        for lin, W, b in zip(_linears(model), net.W, net.b):
            if W.shape[1] == 1 and n_classes == 2:
                W = np.concatenate([np.zeros_like(W), W], axis=1)
                b = np.concatenate([np.zeros_like(b), b])
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T, dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
    return model
