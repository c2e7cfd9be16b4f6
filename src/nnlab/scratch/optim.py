"""Optimisers: each turns gradients into in-place parameter updates, and holds its own state.

SGD follows torch.optim (momentum with dampening 0, Nesterov optional); with a constant learning rate it
takes the same steps as scikit-learn's SGDOptimizer. Adam comes in two conventions that differ only in
where eps sits, and the caller names one: "torch" (the CLI's NumPy network, like the PyTorch trainers)
or "sklearn" (`ScratchClassifier`, like MLPClassifier).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnlab.errors import pick


class SGD:
    """torch:   v = mu·v + g;       p -= lr·v   (Nesterov: p -= lr·(g + mu·v)).
    sklearn: v = mu·v - lr·g;    p += v      (Nesterov: p += mu·v - lr·g).
    mu = 0 is plain SGD. At a constant lr the two take the same steps; once a schedule changes lr they
    differ (sklearn's velocity keeps the old rates' steps), so `ScratchClassifier` takes sklearn's."""

    def __init__(self, params: list[np.ndarray], lr: float, momentum: float = 0.0, nesterov: bool = False,
                 convention: str = "torch"):
        self.params, self.lr, self.momentum, self.nesterov = params, lr, momentum, nesterov
        self.convention = convention
        self.velocity = [np.zeros_like(p) for p in params] if momentum else []
        # sklearn's form needs lr·g (and for Nesterov mu·v) apart: buffers, so a step allocates nothing
        self.tmp = [(np.empty_like(p), np.empty_like(p)) for p in params] if momentum and convention == "sklearn" \
            else []
        self.steps = 0

    @property
    def learning_rate(self) -> float:
        """scikit-learn's name for the current rate (code written for MLPClassifier's optimiser reads it)."""
        return self.lr

    def step(self, grads: list[np.ndarray]) -> None:
        self.steps += 1
        lr, mu = self.lr, self.momentum
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if not mu:
                p -= lr * g
                continue
            if self.convention == "sklearn":
                v, (lr_g, step) = self.velocity[i], self.tmp[i]
                v *= mu
                np.multiply(g, lr, out=lr_g)
                v -= lr_g                  # v = mu·v - lr·g
                if self.nesterov:
                    np.multiply(v, mu, out=step)
                    step -= lr_g
                    p += step              # p += mu·v - lr·g
                else:
                    p += v
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


ADAM_CONVENTIONS = ("torch", "sklearn")


class Adam:
    """m = b1·m + (1-b1)·g;  v = b2·v + (1-b2)·g²;  then, by `convention`,

    torch:   p -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps)
    sklearn: p -= lr·sqrt(1-b2^t)/(1-b1^t) · m / (sqrt(v) + eps)

    The second is the first with eps/sqrt(1-b2^t) in place of eps, ~32x larger at the first step (b2 =
    0.999): the steps differ by ~30·eps/|g| relative (3e-4 for |g| = 1e-3), and the paths drift apart.
    """

    def __init__(self, params: list[np.ndarray], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, *, convention: str):
        if convention not in ADAM_CONVENTIONS:
            raise ValueError(f"Adam's convention must be one of {ADAM_CONVENTIONS}, got {convention!r}.")
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.convention = convention
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]  # scratch, so a step allocates nothing
        # sklearn's order of operations ((lr_t·m) / (sqrt(v) + eps)) needs a second buffer: the same
        # rounding as MLPClassifier keeps the two within 1e-10 over thousands of steps
        self.tmp2 = [np.empty_like(p) for p in params] if convention == "sklearn" else []
        self.steps = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.steps += 1
        b1, b2, t = self.beta1, self.beta2, self.steps
        for i, (p, g, m, v, tmp) in enumerate(zip(self.params, grads, self.m, self.v, self.tmp)):
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)
            m += tmp                                   # m = b1·m + (1-b1)·g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp                                   # v = b2·v + (1-b2)·g²
            np.sqrt(v, out=tmp)
            if self.convention == "torch":
                tmp *= 1.0 / float(np.sqrt(1 - b2**t))
                tmp += self.eps                        # sqrt(v̂) + eps
                np.divide(m, tmp, out=tmp)
                tmp *= self.lr / (1 - b1**t)
            else:
                tmp += self.eps                        # sqrt(v) + eps
                lr_t = float(self.lr * np.sqrt(1 - b2**t) / (1 - b1**t))
                np.multiply(m, lr_t, out=self.tmp2[i])
                np.divide(self.tmp2[i], tmp, out=tmp)
            p -= tmp                                   # p -= step · m / (sqrt(v) + eps)

    def state(self) -> dict[str, np.ndarray]:
        return {**{f"m.{i}": m for i, m in enumerate(self.m)}, **{f"v.{i}": v for i, v in enumerate(self.v)}}

    def load_state(self, tensors: dict[str, np.ndarray], steps: int) -> None:
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            m[...] = tensors[f"m.{i}"]
            v[...] = tensors[f"v.{i}"]
        self.steps = steps


# optimizer name -> how to build it from make_optimizer's settings (each takes the ones it needs)
OPTIMIZERS: dict[str, Callable[..., SGD | Adam]] = {
    "sgd": lambda params, lr, **_: SGD(params, lr),
    "momentum": lambda params, lr, momentum, nesterov, convention, **_: SGD(
        params, lr, momentum, nesterov, "sklearn" if convention == "sklearn" else "torch"),
    "adam": lambda params, lr, beta1, beta2, eps, convention, **_: Adam(params, lr, beta1, beta2, eps,
                                                                        convention=convention),
}


def make_optimizer(name: str, params: list[np.ndarray], lr: float, momentum: float | None = None,
                   nesterov: bool = False, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                   convention: str | None = None) -> SGD | Adam:
    """`sgd` (plain), `momentum` (SGD with `momentum`, which the caller's settings give: the default lives there),
    `adam` (which needs `convention`: see `Adam`). An unknown name is an `UnknownName` error (a ValueError too)."""
    build = pick(OPTIMIZERS, name, "optimizer")
    if name == "momentum" and momentum is None:
        raise ValueError("the momentum optimizer needs its momentum (e.g. momentum=0.9)")
    return build(params, lr, momentum=momentum, nesterov=nesterov, beta1=beta1, beta2=beta2, eps=eps,
                 convention=convention)
