"""Classification metrics from labels and probabilities: plain NumPy, no model in sight."""

from __future__ import annotations

import numpy as np


def sum_of_squares(x: np.ndarray) -> float:
    """Σ x², in float64 by NumPy's pairwise sum (np.vdot and np.linalg.norm call BLAS, whose threads split
    long sums differently: other bits on another thread count)."""
    return float(np.sum(np.square(x, dtype=np.float64)))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """C[i, j] = number of samples of class i predicted as j."""
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(n_classes, n_classes)


def per_class(confusion: np.ndarray, classes: tuple[str, ...]) -> list[dict]:
    """Precision, recall, F1 and support of each class (0 where undefined)."""
    tp = np.diag(confusion).astype(float)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return [
        {"class": name, "precision": round(float(p), 6), "recall": round(float(r), 6),
         "f1": round(float(f), 6), "support": int(s)}
        for name, p, r, f, s in zip(classes, precision, recall, f1, actual)
    ]


def log_loss(P: np.ndarray, y: np.ndarray) -> float:
    """Mean -log P[y], with probabilities floored at the dtype's smallest normal number."""
    p = P[np.arange(len(y)), y].astype(np.float64)
    return float(-np.mean(np.log(np.maximum(p, np.finfo(np.float64).tiny))))


def summarize(P: np.ndarray, y: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Test metrics of the run summary: accuracy, loss, confusion matrix, per-class figures."""
    pred = P.argmax(axis=1)
    confusion = confusion_matrix(y, pred, len(classes))
    return {
        "test_accuracy": round(float(np.mean(pred == y)), 6),
        "test_loss": round(log_loss(P, y), 6),
        "confusion_matrix": confusion.tolist(),
        "per_class": per_class(confusion, classes),
    }


def calibration(P: np.ndarray, y: np.ndarray, bins: int = 10) -> dict:
    """Reliability of the top-class confidence: per confidence bin, the mean confidence, the accuracy
    and the count; and the expected calibration error, sum over bins of (count/n)·|accuracy − confidence|."""
    confidence, correct = P.max(axis=1), P.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_conf = np.bincount(which, confidence, bins) / count
        accuracy = np.bincount(which, correct, bins) / count
    ece = float(np.nansum(count / len(y) * np.abs(accuracy - mean_conf)))
    return {"edges": edges, "confidence": mean_conf, "accuracy": accuracy, "count": count, "ece": ece}
