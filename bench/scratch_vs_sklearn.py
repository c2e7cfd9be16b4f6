"""ScratchClassifier and ScratchRegressor against scikit-learn's MLPClassifier and MLPRegressor, on identical
Fashion-MNIST work, quiet and beside a competing job, in float32 and float64, in one run.

Both get the same rows and the same settings (784-256-128-10, adam, lr 1e-3, batch 128, alpha 1e-4, shuffled,
a fixed number of epochs); the regressors fit the labels' one-hot rows (10 outputs), so every fit makes the
same matrix products. In each dtype both compute in it (nnlab with `dtype=` that dtype). The competing job is
one `python -c "while True: pass"` process. Conditions and trainers alternate (quiet, busy, quiet, ...; within
each, sklearn and nnlab take turns going first) so that both see the same machine.

Beside them, the floor: the same forward+backward matrix products alone (8 per step) on arrays of the right
shapes, as plain `np.matmul` (sklearn's calls) and as nnlab's `network.product` (its inner dimension cut in
fixed blocks, for the same bits on any thread count). `uptime` before and after, and the CPU's model and flags.

    .venv/bin/python bench/scratch_vs_sklearn.py [--rounds 2] [--epochs 2] [--samples 60000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_info, threadpool_limits

from nnlab import ScratchClassifier, ScratchRegressor
from nnlab.data import load
from nnlab.scratch.network import product

HIDDEN = (256, 128)
SIZES = [784, *HIDDEN, 10]
PAIRS = {"classifier": (MLPClassifier, ScratchClassifier), "regressor": (MLPRegressor, ScratchRegressor)}


def settings(epochs: int, seed: int) -> dict:
    return dict(hidden_layer_sizes=HIDDEN, solver="adam", learning_rate_init=1e-3, batch_size=128, alpha=1e-4,
                max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=10**6, random_state=seed)


def machine() -> str:
    info = dict(line.split(":", 1) for line in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if ":" in line)
    flags = set(info.get("Flags", "").split())
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "asimd", "sve") if f in flags]
    blas = ", ".join(f"{i['internal_api']} {i.get('version', '')} ({i['num_threads']} threads)"
                     for i in threadpool_info() if i["user_api"] == "blas")
    return (f"{info.get('Model name', '?').strip()}, {info.get('CPU(s)', '?').strip()} CPUs, flags "
            f"{' '.join(simd)}; numpy {np.__version__}, BLAS {blas}")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def products_seconds(n_samples: int, batch: int, epochs: int, dtype, matmul, reps: int = 30) -> float:
    """The training's matrix products alone, timed on random arrays of the right shapes: forward Z = A·W,
    backward dW = Aᵀ·dZ and dA = dZ·Wᵀ (not for the input layer), times the steps of the fits. On the faster
    of one BLAS thread and BLAS's default count: beside a competing job, threads that wait on each other make
    the default far slower, and nnlab's thread policy would not use them."""
    return min(_products_seconds(n_samples, batch, epochs, dtype, matmul, reps, threads) for threads in (1, None))


def _products_seconds(n_samples, batch, epochs, dtype, matmul, reps, threads) -> float:
    rng = np.random.default_rng(0)
    A = [rng.random((batch, n)).astype(dtype) for n in SIZES]      # A[0] is the input batch
    dZ = [rng.random(a.shape).astype(dtype) for a in A]
    W = [rng.random((a, b)).astype(dtype) for a, b in zip(SIZES[:-1], SIZES[1:])]
    dW = [np.empty_like(w) for w in W]

    def step():
        for l, w in enumerate(W):
            matmul(A[l], w, out=A[l + 1])                          # Z = A_prev·W
        for l in range(len(W) - 1, -1, -1):
            matmul(A[l].T, dZ[l + 1], out=dW[l])                   # dW = A_prevᵀ·dZ
            if l:
                matmul(dZ[l + 1], W[l].T, out=dZ[l])               # dA_prev = dZ·Wᵀ

    with threadpool_limits(threads, user_api="blas"):
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


def profile(X, y, epochs: int) -> None:
    """Where a float32 ScratchClassifier fit spends its time, by function (cumulative)."""
    model = ScratchClassifier(**settings(epochs, seed=0), dtype="float32")
    prof = cProfile.Profile()
    prof.runcall(timed_fit, model, X.astype(np.float32), y)
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; round r uses seed r")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=60000, help="the first N training rows")
    parser.add_argument("--profile", action="store_true", help="then profile a float32 ScratchClassifier fit")
    args = parser.parse_args()

    ds = load("fashion-mnist")
    X, y = ds.X_train[:args.samples], ds.y_train[:args.samples]
    Y = np.eye(10)[y]  # the regressors' targets: one-hot rows, 10 outputs as the classifiers have
    print(f"machine: {machine()}")
    print(f"uptime before: {uptime()}")
    print(f"work: Fashion-MNIST {X.shape[0]} x {X.shape[1]}, 784-256-128-10, adam, lr 1e-3, batch 128, "
          f"{args.epochs} epochs; {args.rounds} rounds of quiet and busy\n", flush=True)

    times: dict[tuple, list[float]] = {}
    for r in range(args.rounds):
        for condition in ("quiet", "busy"):
            rival = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if condition == "busy" else None
            try:
                time.sleep(0.5 if rival else 0.0)
                for kind, (theirs, ours) in PAIRS.items():
                    target = y if kind == "classifier" else Y
                    for dtype in (np.float32, np.float64):
                        Xd, name = X.astype(dtype), np.dtype(dtype).name
                        makers = [("sklearn", theirs(**settings(args.epochs, r))),
                                  ("nnlab", ours(**settings(args.epochs, r), dtype=name))]
                        for who, model in makers[::-1] if r % 2 else makers:
                            seconds = timed_fit(model, Xd, target)
                            times.setdefault((condition, kind, name, who), []).append(seconds)
                            print(f"round {r + 1} {condition:<5} {kind:<10} {name}  {who:<7} {seconds:6.2f} s",
                                  flush=True)
                for dtype in (np.float32, np.float64):
                    name = np.dtype(dtype).name
                    for floor, matmul in (("floor matmul", np.matmul), ("floor blocked", product)):
                        seconds = products_seconds(len(X), 128, args.epochs, dtype, matmul)
                        times.setdefault((condition, "products", name, floor), []).append(seconds)
            finally:
                if rival is not None:
                    rival.kill()
                    rival.wait()
    print(f"\nuptime after: {uptime()}\n")

    print("| condition | estimator | dtype | sklearn | nnlab | speed-up | products alone (matmul / nnlab's blocked) "
          "| nnlab above its floor |")
    print("|---|---|---|---|---|---|---|---|")
    for condition in ("quiet", "busy"):
        for kind in PAIRS:
            for name in ("float32", "float64"):
                theirs = float(np.median(times[(condition, kind, name, "sklearn")]))
                ours = float(np.median(times[(condition, kind, name, "nnlab")]))
                plain = float(np.median(times[(condition, "products", name, "floor matmul")]))
                blocked = float(np.median(times[(condition, "products", name, "floor blocked")]))
                print(f"| {condition} | {kind} | {name} | {theirs:.2f} s | {ours:.2f} s | x{theirs / ours:.2f} | "
                      f"{plain:.2f} / {blocked:.2f} s | {ours - blocked:.2f} s (floor {blocked / ours:.0%} of "
                      f"nnlab's time) |")
    if args.profile:
        print()
        profile(X, y, args.epochs)


if __name__ == "__main__":
    main()
