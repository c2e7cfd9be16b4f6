"""Which attribution method the report draws, chosen on evidence: three methods on trained runs.

For the first N test images of each run, with the predicted class as target:
- object share: the share of |attribution| on the object's pixels (ink above 0.1 in [0, 1] pixels);
- deletion: the share of the class score (logit minus the mean logit, against a black image) lost when the
  10% of pixels with the largest positive attribution are set to black; a faithful method removes the
  evidence the model used, so more is lost than for 10% random ink pixels (also printed);
- smoothness: correlation of neighbouring pixels' attributions (speckle is near 0).

Methods: the previous report's SmoothGrad of |gradient| (16 noisy copies, noise 0.15), integrated gradients
from a black image (48 steps, the report's choice), and integrated gradients averaged over 8 noisy copies.

    .venv/bin/python bench/saliency_methods.py RUN_DIR [RUN_DIR ...] [--images 100]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from nnlab.training import job
from nnlab.viz import probes


def smoothgrad_abs(model, X, target, shape, black, samples=16, noise=0.15, seed=0):
    x = torch.from_numpy(X).reshape(len(X), *shape)
    gen, total = torch.Generator().manual_seed(seed), torch.zeros_like(x)
    for _ in range(samples):
        noisy = (x + noise * torch.randn(x.shape, generator=gen)).requires_grad_(True)
        logits = model(noisy)
        score = (logits.gather(1, torch.as_tensor(target)[:, None])[:, 0] - logits.mean(1)).sum()
        total += torch.autograd.grad(score, noisy)[0]
    return (total / samples).abs().reshape(len(X), -1).numpy()


def integrated(model, X, target, shape, black):
    return probes.integrated_gradients(model, X, target, black, shape).reshape(len(X), -1)


def integrated_noisy(model, X, target, shape, black, samples=8, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    total = np.zeros((len(X), X.shape[1]))
    for _ in range(samples):
        noisy = (X + noise * rng.standard_normal(X.shape)).astype(np.float32)
        total += probes.integrated_gradients(model, noisy, target, black, shape).reshape(len(X), -1)
    return total / samples


METHODS = {"SmoothGrad |grad| (before)": smoothgrad_abs, "integrated gradients (report)": integrated,
           "integrated gradients, 8 noisy copies": integrated_noisy}


def neighbour_correlation(maps: np.ndarray, side: int) -> float:
    out = []
    for m in maps.reshape(-1, side, side):
        a = np.concatenate([m[:, :-1].ravel(), m[:-1].ravel()])
        b = np.concatenate([m[:, 1:].ravel(), m[1:].ravel()])
        if a.std() > 0 and b.std() > 0:
            out.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(out))


def deletion(model, X, target, shape, black, scores, order, frac=0.1):
    """Share of the score above black lost when the first `frac` of each image's pixels in `order` go black."""
    X_del = X.copy()
    k = int(frac * X.shape[1])
    for i, o in enumerate(order):
        X_del[i, o[:k]] = black[o[:k]]
    after = probes.class_scores(model, X_del, target, shape)
    base = probes.class_scores(model, np.repeat(black[None], len(X), 0), target, shape)
    return float(np.mean((scores - after) / np.maximum(scores - base, 1e-6)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'run':<28} {'method':<38} {'object share':>12} {'deletion 10%':>13} {'smoothness':>10}")
    for run in args.runs:
        record, engine = job.load_run(run)
        ds = job.load_splits(record.settings).data
        model = engine.torch_model()
        shape = tuple(ds.image_shape) if engine.kind == "cnn" else (ds.n_features,)
        X = ds.X_test[:args.images]
        target = engine.predict_proba(X).argmax(axis=1)
        black = ds.scaler.transform(np.zeros((1, ds.n_features)))[0]
        ink = ds.scaler.inverse(X) / ds.scaler.pixel_max > 0.1
        scores = probes.class_scores(model, X, target, shape)
        side = ds.image_shape[1]
        label = record.settings.model + " " + record.settings.data_label
        random_order = [rng.permutation(np.flatnonzero(row)) for row in ink]
        print(f"{label:<28} {'(10% random ink pixels)':<38} {'':>12} "
              f"{deletion(model, X, target, shape, black, scores, random_order):>13.3f}")
        for name, method in METHODS.items():
            A = method(model, X, target, shape, black)
            share = float(np.mean([np.abs(a)[m].sum() / np.abs(a).sum() for a, m in zip(A, ink)]))
            order = np.argsort(-A, axis=1, kind="stable")
            print(f"{label:<28} {name:<38} {share:>12.3f} "
                  f"{deletion(model, X, target, shape, black, scores, order):>13.3f} "
                  f"{neighbour_correlation(A, side):>10.3f}")


if __name__ == "__main__":
    main()
