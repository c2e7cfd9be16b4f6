"""The 2-D playground sets, generated from a seed and a noise level like TensorFlow Playground's.

Each returns points X (n x 2) and labels y in {0, 1} (spiral and gauss included), float64.
"""

from __future__ import annotations

import numpy as np


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    t = rng.uniform(0, np.pi, n)
    upper = np.c_[np.cos(t[:half]), np.sin(t[:half])]
    lower = np.c_[1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])]
    X = np.r_[upper, lower] + rng.normal(0, noise, (n, 2))
    return X, np.r_[np.zeros(half), np.ones(n - half)].astype(np.int64)


def circles(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    radius = np.r_[rng.uniform(0, 0.5, half), rng.uniform(0.7, 1.0, n - half)]
    angle = rng.uniform(0, 2 * np.pi, n)
    X = radius[:, None] * np.c_[np.cos(angle), np.sin(angle)] + rng.normal(0, noise, (n, 2))
    return X, np.r_[np.zeros(half), np.ones(n - half)].astype(np.int64)


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1, 1, (n, 2))
    X += np.sign(X) * 0.05  # a small gap around the axes, as in the playground
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return X + rng.normal(0, noise, (n, 2)), y


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    y = np.r_[np.zeros(half), np.ones(n - half)].astype(np.int64)
    r = np.r_[np.linspace(0.05, 1, half), np.linspace(0.05, 1, n - half)]
    angle = 1.75 * 2 * np.pi * r + np.pi * y
    X = r[:, None] * np.c_[np.sin(angle), np.cos(angle)] + rng.normal(0, noise, (n, 2))
    return X, y


def gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    spread = 0.15 + noise
    X = np.r_[rng.normal(0.5, spread, (half, 2)), rng.normal(-0.5, spread, (n - half, 2))]
    return X, np.r_[np.zeros(half), np.ones(n - half)].astype(np.int64)


GENERATORS = {"moons": moons, "circles": circles, "xor": xor, "spiral": spiral, "gauss": gauss}
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.1, "xor": 0.05, "spiral": 0.05, "gauss": 0.1}
