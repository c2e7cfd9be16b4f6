"""ScratchClassifier against scikit-learn's MLPClassifier on identical Fashion-MNIST work.

Both get the same arrays and the same settings (784-256-128-10, adam, lr 1e-3, batch 128, alpha 1e-4,
2 epochs, shuffled), alternating in one process so that both see the same machine. Two inputs:
float64 pixels (what `X / 255.0` gives a user; MLPClassifier then computes in float64, ScratchClassifier
in its default float32) and float32 pixels (both compute in float32: the same arithmetic).
Also prints the achieved GFLOP/s of the training against the measured sgemm rate, and the time of the
training's matrix products alone (the same BLAS calls in both): the floor under either trainer's time, which
bounds the speed-up that any amount of work on the rest of the step could give.

    .venv/bin/python bench/scratch_vs_sklearn.py [--rounds 3] [--epochs 2]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info

from nnlab import ScratchClassifier
from nnlab.data import load

HIDDEN = (256, 128)


def settings(epochs: int, seed: int) -> dict:
    return dict(hidden_layer_sizes=HIDDEN, solver="adam", learning_rate_init=1e-3, batch_size=128, alpha=1e-4,
                max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=10**6, random_state=seed)


def sgemm_gflops(m: int, k: int, n: int, seconds: float = 1.0) -> float:
    rng = np.random.default_rng(0)
    A, B = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    C = np.empty((m, n), np.float32)
    np.matmul(A, B, out=C)
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        np.matmul(A, B, out=C)
        reps += 1
    return 2 * m * k * n * reps / (time.perf_counter() - start) / 1e9


def training_flops(n_samples: int, sizes: list[int], epochs: int) -> float:
    """Forward Z = A·W, backward dW = Aᵀ·dZ and dA = dZ·Wᵀ (not for the input layer): 2mnk each."""
    layers = list(zip(sizes[:-1], sizes[1:]))
    per_sample = sum(2 * a * b for a, b in layers) * 2 + sum(2 * a * b for a, b in layers[1:])
    return per_sample * n_samples * epochs


def products_seconds(n_samples: int, sizes: list[int], batch: int, epochs: int, dtype, reps: int = 100) -> float:
    """The matrix products of the training alone, timed on random arrays of the right shapes: both
    trainers make exactly these BLAS calls, so this is a floor under either's time."""
    rng = np.random.default_rng(0)
    A = [rng.random((batch, n)).astype(dtype) for n in sizes]      # A[0] is the input batch
    dZ = [rng.random(a.shape).astype(dtype) for a in A]
    W = [rng.random((a, b)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    dW = [np.empty_like(w) for w in W]

    def step():
        for l, w in enumerate(W):
            np.matmul(A[l], w, out=A[l + 1])                       # Z = A_prev·W
        for l in range(len(W) - 1, -1, -1):
            np.matmul(A[l].T, dZ[l + 1], out=dW[l])                # dW = A_prevᵀ·dZ
            if l:
                np.matmul(dZ[l + 1], W[l].T, out=dZ[l])            # dA_prev = dZ·Wᵀ

    step()
    start = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - start) / reps * -(-n_samples // batch) * epochs


def timed_fit(model, X, y) -> float:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds; round r uses seed r")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    ds = load("fashion-mnist")
    X, y, Xt, yt = ds.X_train, ds.y_train, ds.X_test, ds.y_test
    blas = ", ".join(f"{i['internal_api']} {i.get('version', '')} ({i['num_threads']} threads)"
                     for i in threadpool_info() if i["user_api"] == "blas")
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, BLAS {blas}")
    print(f"work: Fashion-MNIST {X.shape[0]} x {X.shape[1]} float32, 784-256-128-10, adam, lr 1e-3, "
          f"batch 128, {args.epochs} epochs; {args.rounds} alternating rounds\n")

    flops = training_flops(len(X), [784, *HIDDEN, 10], args.epochs)
    for dtype in (np.float64, np.float32):
        Xd, Xtd = X.astype(dtype), Xt.astype(dtype)
        times = {"sklearn MLPClassifier": [], "nnlab ScratchClassifier": []}
        accs = {k: [] for k in times}
        floor = []
        print(f"--- {np.dtype(dtype).name} input")
        for r in range(args.rounds):
            for name, make in (("sklearn MLPClassifier", MLPClassifier),
                               ("nnlab ScratchClassifier", ScratchClassifier)):
                model = make(**settings(args.epochs, seed=r))  # round r: both get seed r
                times[name].append(timed_fit(model, Xd, y))
                accs[name].append(model.score(Xtd, yt))
                print(f"round {r + 1}  {name:<24} {times[name][-1]:6.2f} s  test accuracy {accs[name][-1]:.4f}",
                      flush=True)
            if dtype == np.float32:  # with float64 input the two make different products
                floor.append(products_seconds(len(X), [784, *HIDDEN, 10], 128, args.epochs, dtype))
                print(f"round {r + 1}  {'matrix products alone':<24} {floor[-1]:6.2f} s", flush=True)
        ours, theirs = np.median(times["nnlab ScratchClassifier"]), np.median(times["sklearn MLPClassifier"])
        print(f"{np.dtype(dtype).name} input: median time  nnlab {ours:.2f} s  sklearn {theirs:.2f} s  "
              f"speed-up x{theirs / ours:.2f};  accuracy  nnlab {np.mean(accs['nnlab ScratchClassifier']):.4f}  "
              f"sklearn {np.mean(accs['sklearn MLPClassifier']):.4f};  "
              f"GFLOP/s  nnlab {flops / ours / 1e9:.1f}  sklearn {flops / theirs / 1e9:.1f}")
        if not floor:
            print()
            continue
        least = np.median(floor)
        print(f"{np.dtype(dtype).name} matrix products alone {least:.2f} s (the same BLAS calls in both);  time above "
              f"them  nnlab {ours - least:.2f} s  sklearn {theirs - least:.2f} s;  x2 would leave nnlab "
              f"{max(theirs / 2 - least, 0):.2f} s above them\n")
    peak = sgemm_gflops(2048, 2048, 2048)
    shaped = sgemm_gflops(128, 784, 256)
    print(f"sgemm rate: {peak:.1f} GFLOP/s (2048^3), {shaped:.1f} GFLOP/s (128x784 by 784x256, the first layer)")


if __name__ == "__main__":
    main()
