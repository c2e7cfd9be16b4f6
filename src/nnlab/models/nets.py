"""MLP and CNN for any input shape and class count. Both return logits; `predict_proba` is softmax."""

from __future__ import annotations

import torch
from torch import nn

from nnlab.errors import NNLabError, pick

# The hidden activations of scratch/network.py's ACTIVATIONS, as PyTorch modules (the bridge's way across).
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": nn.Identity}


class MLP(nn.Module):
    """Dense layers with ReLU or another activation (optionally batch norm before it, dropout after it), then a
    linear head."""

    def __init__(self, n_features: int, hidden: list[int], n_classes: int, dropout: float = 0.0,
                 batch_norm: bool = False, activation: str = "relu"):
        super().__init__()
        self.activation = activation
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.ReLU(inplace=True) if activation == "relu" else pick(ACTIVATIONS, activation,
                                                                                    "activation")())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Linear):  # He initialisation suits ReLU, as in the NumPy network
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CNN(nn.Module):
    """Conv blocks (3x3 conv, 2x2 max-pool while the maps are at least 4 pixels wide, batch norm, ReLU) of
    the given widths, then a small classifier head on the flattened maps (3x3x64 for 28x28 input and the
    default widths): dense, batch norm, ReLU, dropout, dense. Without batch norm (the plain recipe) the convs
    and the head's first dense layer have biases instead."""

    def __init__(self, image_shape: tuple[int, int, int], widths: list[int], n_classes: int,
                 dropout: float = 0.0, head: int = 128, batch_norm: bool = True):
        super().__init__()
        channels, height, width = image_shape
        blocks: list[nn.Module] = []
        for w in widths:
            # (a bias before batch norm is undone by its mean: only the plain CNN has one)
            blocks.append(nn.Conv2d(channels, w, 3, padding=1, bias=not batch_norm))
            # Pool first, then batch norm and ReLU on a quarter of the pixels: on a CPU these passes over the
            # maps cost as much as the convolutions themselves (measured: 46% of a step in the other order).
            if min(height, width) >= 4:  # pool while the maps are big enough to halve
                blocks.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            blocks += [nn.BatchNorm2d(w)] if batch_norm else []
            blocks.append(nn.ReLU(inplace=True))
            channels = w
        self.features = nn.Sequential(*blocks)
        # Batch norm in the head too: without it a quarter of its units died (the flattened maps are all
        # >= 0 after ReLU and pooling); with it none do, and validation accuracy rose (README).
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * height * width, head, bias=not batch_norm),
            *([nn.BatchNorm1d(head)] if batch_norm else []), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(head, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def conv_layers(self) -> list[nn.Conv2d]:
        return [m for m in self.features if isinstance(m, nn.Conv2d)]


def _cnn(cfg, n_features: int, image_shape, n_classes: int) -> nn.Module:
    if image_shape is None:
        raise NNLabError(f"the CNN needs image data; {cfg.data} has {n_features} plain features "
                         "(train `mlp` or `scratch` on it)")
    return CNN(tuple(image_shape), cfg.widths, n_classes, cfg.dropout, batch_norm=cfg.batch_norm)


def _mlp(cfg, n_features: int, image_shape, n_classes: int) -> nn.Module:
    return MLP(n_features, cfg.hidden, n_classes, cfg.dropout, cfg.batch_norm)


BUILDERS = {"mlp": _mlp, "cnn": _cnn}  # the PyTorch models by name (the NumPy network is nnlab.scratch)


def build_model(cfg, n_features: int, image_shape, n_classes: int) -> nn.Module:
    """The PyTorch model cfg.model names (an MLPConfig or CNNConfig of nnlab.training.config: models/ sits below
    training/, so it takes the settings it reads, not their type), for n_features (or image_shape) and n_classes."""
    if cfg.model not in BUILDERS:
        raise NNLabError(f"{cfg.model!r} is not a PyTorch model; choose one of {', '.join(BUILDERS)}")
    return BUILDERS[cfg.model](cfg, n_features, image_shape, n_classes)
