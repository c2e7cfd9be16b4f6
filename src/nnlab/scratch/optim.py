"""Optimisers: each turns gradients into in-place parameter updates, and holds its own state.

The formulas are torch.optim's (SGD with momentum and dampening 0, Nesterov optional; Adam with
bias correction and eps added after the square root), so one step matches PyTorch's exactly.
"""

from __future__ import annotations

import numpy as np


class SGD:
    """v = mu·v + g;  p -= lr·v   (Nesterov: p -= lr·(g + mu·v)). mu = 0 is plain SGD."""

    def __init__(self, params: list[np.ndarray], lr: float, momentum: float = 0.0, nesterov: bool = False):
        self.params, self.lr, self.momentum, self.nesterov = params, lr, momentum, nesterov
        self.velocity = [np.zeros_like(p) for p in params] if momentum else []
        self.steps = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.steps += 1
        lr, mu = self.lr, self.momentum
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if not mu:
                p -= lr * g
                continue
            v = self.velocity[i]
            if self.steps == 1:
                v[...] = g                 # torch starts the buffer at the first gradient
            else:
                v *= mu
                v += g
            if self.nesterov:
                p -= lr * (g + mu * v)
            else:
                p -= lr * v

    def state(self) -> dict[str, np.ndarray]:
        return {f"velocity.{i}": v for i, v in enumerate(self.velocity)}

    def load_state(self, tensors: dict[str, np.ndarray], steps: int) -> None:
        for i, v in enumerate(self.velocity):
            v[...] = tensors[f"velocity.{i}"]
        self.steps = steps


class Adam:
    """m = b1·m + (1-b1)·g;  v = b2·v + (1-b2)·g²;  p -= lr/(1-b1^t) · m / (sqrt(v/(1-b2^t)) + eps)."""

    def __init__(self, params: list[np.ndarray], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]  # scratch, so a step allocates nothing
        self.steps = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.steps += 1
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr / (1 - b1**self.steps)
        root_bias = float(np.sqrt(1 - b2**self.steps))
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)
            m += tmp                                   # m = b1·m + (1-b1)·g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp                                   # v = b2·v + (1-b2)·g²
            np.sqrt(v, out=tmp)
            tmp *= 1.0 / root_bias
            tmp += self.eps                            # sqrt(v̂) + eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp                                   # p -= lr·m̂/(sqrt(v̂) + eps)

    def state(self) -> dict[str, np.ndarray]:
        return {**{f"m.{i}": m for i, m in enumerate(self.m)}, **{f"v.{i}": v for i, v in enumerate(self.v)}}

    def load_state(self, tensors: dict[str, np.ndarray], steps: int) -> None:
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            m[...] = tensors[f"m.{i}"]
            v[...] = tensors[f"v.{i}"]
        self.steps = steps


def make_optimizer(name: str, params: list[np.ndarray], lr: float, momentum: float = 0.9,
                   nesterov: bool = False, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
    """`sgd` (plain), `momentum` (SGD with momentum), `adam`."""
    if name == "adam":
        return Adam(params, lr, beta1, beta2, eps)
    if name == "momentum":
        return SGD(params, lr, momentum, nesterov)
    return SGD(params, lr)

