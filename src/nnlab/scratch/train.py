"""The training loops every scratch front end (estimator, CLI) shares: one pass of mini-batch training
(`EpochRunner`), and L-BFGS on the whole batch (`fit_lbfgs`)."""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.sparse

from nnlab.scratch.network import (
    LOSSES,
    Network,
    Workspace,
    backward,
    check_loss,
    forward,
    l2_penalty,
    log_loss,
)

REGRESSION = ("squared", "poisson")  # the losses of ScratchRegressor


class EpochRunner:
    """Trains `net` with `optimizer` one epoch at a time, reusing its batch buffers across epochs.

    The optimiser must have been made for `[net.theta]`, the flat vector of all parameters."""

    def __init__(self, net: Network, optimizer, batch_size: int, alpha: float = 0.0, track_penalty: bool = True,
                 loss: str = "log"):
        # track_penalty False: the L2 term is reported as 0 and not computed (a pass over every weight per
        # batch) — for callers that report the data loss alone, as the CLI's curves do.
        self.net, self.optimizer, self.batch_size, self.alpha = net, optimizer, batch_size, alpha
        self.track_penalty = track_penalty
        check_loss(loss, net.binary or loss in REGRESSION)
        self.loss = loss  # what backward differentiates; the loss reported is the log loss either way
        self.regression = loss in REGRESSION  # except for regression: its own loss, and no accuracy
        self.reported = LOSSES[loss].value if self.regression else log_loss
        self.ws = Workspace.create(net, batch_size)
        self.X_batch = None  # the gathered batch of a dense X, made on first use (a sparse X gathers its own)

    def run(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator | None,
            on_batch=None, sample_weight: np.ndarray | None = None) -> tuple[float, float, float]:
        """One pass over (X, y), shuffled with `rng` (None: in order). Returns (data loss, L2 term,
        accuracy), each a mean over the samples measured on the batches as they were trained.

        The data loss is the log loss alone, the quantity a validation loss measures (also when training
        minimises the squared error: so that runs of either loss compare on one scale). The L2 term is
        scikit-learn's: each batch adds (alpha / 2m_b) * ||W||^2 from the weights it starts with, weighted
        by its size m_b, so data loss + L2 term is MLPClassifier's `loss_curve_` entry.
        `on_batch(n, loss, accuracy)` hears of every batch, with the running means so far. `sample_weight`
        weighs each batch's loss and gradient as scikit-learn does (the batch's weighted mean, its L2 term over
        the sum of its weights), while the epoch's mean still weighs each batch by its size, as there."""
        m, bs, net = X.shape[0], self.batch_size, self.net
        sparse = scipy.sparse.issparse(X)
        order = rng.permutation(m) if rng is not None else None
        loss_sum, penalty_sum, correct = 0.0, 0.0, 0
        for start in range(0, m, bs):
            n = min(bs, m - start)
            wb = None
            if order is None:
                xb, yb = X[start:start + n], y[start:start + n]
                if sample_weight is not None:
                    wb = sample_weight[start:start + n]
            else:
                idx = order[start:start + n]
                # Gather into a reused buffer. mode="clip" because with the default ("raise") and `out`,
                # NumPy gathers into a temporary first: 4x slower (the indices are a permutation, all valid).
                if sparse:
                    xb = X[idx]  # a CSR matrix of the batch's rows: still sparse
                else:
                    if self.X_batch is None:
                        self.X_batch = np.empty((self.batch_size, net.sizes[0]), dtype=net.dtype)
                    xb = np.take(X, idx, axis=0, out=self.X_batch[:n], mode="clip")
                yb = y[idx]
                if sample_weight is not None:
                    wb = sample_weight[idx]
            ws = self.ws.view(n)
            Z_out = forward(net, xb, ws)
            loss_sum += self.reported(Z_out, yb, net.output == "logistic", wb) * n
            if self.track_penalty:  # before the step, as in scikit-learn
                penalty_sum += l2_penalty(net, self.alpha, n if wb is None else float(wb.sum())) * n
            if not self.regression:
                correct += correct_count(Z_out, yb, net.binary)
            backward(net, xb, yb, ws, self.alpha, self.loss, wb)
            self.optimizer.step([ws.grad])  # the optimiser holds [net.theta]: one flat update
            if on_batch is not None:
                seen = start + n
                on_batch(n, loss_sum / seen, correct / seen)
        return loss_sum / m, penalty_sum / m, correct / m


def predicted_labels(Z_out: np.ndarray, binary: bool) -> np.ndarray:
    return (Z_out[:, 0] > 0).astype(np.int64) if binary else Z_out.argmax(axis=1)


def correct_count(Z_out: np.ndarray, y: np.ndarray, binary: bool) -> int:
    """How many samples the logits classify right: y class indices, or (multilabel) a 0/1 indicator matrix,
    where a sample is right when every label is (a sigmoid unit per label: on where its logit is > 0)."""
    if y.ndim == 2:
        return int(np.count_nonzero(((Z_out > 0) == (y > 0.5)).all(axis=1)))
    return int(np.count_nonzero(predicted_labels(Z_out, binary) == y))



def fit_lbfgs(net: Network, X: np.ndarray, y: np.ndarray, alpha: float, loss: str, max_iter: int,
              max_fun: int, tol: float, on_evaluation=None,
              sample_weight: np.ndarray | None = None) -> scipy.optimize.OptimizeResult:
    """Minimise the mean loss + L2 term over all of (X, y) by scipy's L-BFGS-B on `net.theta`, with
    MLPClassifier's options (maxiter, maxfun, gtol = tol); `net` ends at the result's x.

    The loss is the one `loss` names (the log loss or regression's squared loss), as `loss_` reports it;
    `on_evaluation()` hears of every evaluation of loss and gradient; `sample_weight` weighs the mean (and
    the L2 term is over the sum of the weights), as in scikit-learn."""
    check_loss(loss, net.binary or loss in REGRESSION)
    value_of = LOSSES[loss].value if loss in REGRESSION else log_loss
    ws = Workspace.create(net, X.shape[0])
    m = X.shape[0] if sample_weight is None else float(sample_weight.sum())

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        net.theta[...] = theta
        Z_out = forward(net, X, ws)
        value = value_of(Z_out, y, net.output == "logistic", sample_weight) + l2_penalty(net, alpha, m)
        backward(net, X, y, ws, alpha, loss, sample_weight)
        if on_evaluation is not None:
            on_evaluation()
        return value, ws.grad.astype(np.float64)  # a copy: scipy keeps the gradients it is handed

    result = scipy.optimize.minimize(loss_and_gradient, net.theta.astype(np.float64), method="L-BFGS-B",
                                     jac=True, options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol})
    net.theta[...] = result.x  # the last evaluation may have been a line-search trial, not the answer
    return result
