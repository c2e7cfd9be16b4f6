"""ScratchClassifier against scikit-learn's MLPClassifier from the same starting weights, in float64.

MLPClassifier is the independent reference: every solver, two and three classes, full and mini-batch,
with L2, trained until its stopping rule fires, must give the same weights (1e-10), `n_iter_`,
`loss_curve_` and `validation_scores_`.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from nnlab import ScratchClassifier


class GivenStartMLP(MLPClassifier):
    """MLPClassifier starting from the weights in `self.start`: its own first pass (`_initialize`) runs,
    with `_init_coef`, the hook that draws each layer's Glorot weights, handing out ours instead. It draws
    nothing from random_state, so the validation split and the shuffles get the RandomState untouched, as
    ScratchClassifier's do when it starts from given weights."""

    def _init_coef(self, fan_in, fan_out, dtype):
        l = len(self.coefs_)  # _initialize appends each layer after this call
        return self.start[0][l].astype(dtype), self.start[1][l].astype(dtype)


SOLVERS = {
    "sgd": dict(solver="sgd", momentum=0.0, learning_rate_init=0.2),
    "momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.02),
    "nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.02),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}
HIDDEN = (8, 6)


def noisy_classes(k: int, n: int = 200, d: int = 5):
    """Classes from a noisy linear rule: not separable, so no probability saturates."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    return X, np.argmax(X @ rng.normal(size=(d, k)) + 1.5 * rng.normal(size=(n, k)), axis=1)


def starting_weights(k: int, d: int = 5):
    rng = np.random.default_rng(1)
    sizes = [d, *HIDDEN, 1 if k == 2 else k]
    W = [rng.normal(size=(a, b)) * np.sqrt(2 / a) for a, b in zip(sizes[:-1], sizes[1:])]
    return W, [0.1 * rng.normal(size=b) for b in sizes[1:]]


def twins(params: dict, k: int):
    """(ours, theirs), unfitted, both about to start from `starting_weights(k)`."""
    W, b = starting_weights(k)
    theirs = GivenStartMLP(**params)
    theirs.start = (W, b)
    ours = ScratchClassifier(**params, dtype="float64")
    ours.set_params(warm_start=True)  # the documented way to start from given weights
    ours.coefs_, ours.intercepts_ = W, b
    return ours, theirs


def weight_gap(a, b) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))


def assert_same_training(ours, theirs):
    assert ours.n_iter_ == theirs.n_iter_
    assert weight_gap(ours, theirs) < 1e-10
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12, atol=0)
    assert ours.validation_scores_ == theirs.validation_scores_
    assert ours.best_validation_score_ == theirs.best_validation_score_
    assert ours.t_ == theirs.t_


@pytest.mark.parametrize("early_stopping", [False, True], ids=["loss-rule", "early-stopping"])
@pytest.mark.parametrize("batch_size", [48, "auto"], ids=["batch-48", "full-batch"])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_trains_as_mlpclassifier_does_until_it_stops(solver, k, batch_size, early_stopping):
    # 200 samples (160 after the validation split): batches of 48 leave a last batch of 8 (or 16).
    # With early stopping, n_iter_no_change=100 makes every run last more than 100 steps, full batch too.
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=batch_size, shuffle=False, max_iter=3000,
                  random_state=0, tol=1e-4, early_stopping=early_stopping, validation_fraction=0.2,
                  n_iter_no_change=100 if early_stopping else 10, **SOLVERS[solver])
    X, y = noisy_classes(k)
    ours, theirs = twins(params, k)
    theirs.fit(X, y)
    ours.fit(X, y)
    assert_same_training(ours, theirs)
    n_train = len(X) - 40 if early_stopping else len(X)
    steps = ours.n_iter_ * -(-n_train // (n_train if batch_size == "auto" else batch_size))
    assert steps >= 100 and ours.n_iter_ < params["max_iter"]  # long enough, and ended by the stopping rule
    if early_stopping:  # the weights compared are the restored best ones, not the last epoch's
        assert ours.validation_scores_[-1] < ours.best_validation_score_


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_shuffles_with_the_same_random_state_as_mlpclassifier(solver):
    X, y = noisy_classes(3)
    for early_stopping in (False, True):
        params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, shuffle=True, max_iter=3000,
                      random_state=3, early_stopping=early_stopping, **SOLVERS[solver])
        ours, theirs = twins(params, 3)
        theirs.fit(X, y)
        ours.fit(X, y)
        assert_same_training(ours, theirs)


def test_warm_start_and_partial_fit_keep_state_as_mlpclassifier_does():
    """A warm-started fit: a new optimiser and n_iter_ counted anew, loss_curve_ and t_ continued.
    partial_fit: one epoch per call, n_iter_ = 1, the optimiser's state kept between calls."""
    X, y = noisy_classes(3)
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, shuffle=True, max_iter=7,
                  random_state=3, **SOLVERS["adam"])
    ours, theirs = twins({**params, "warm_start": True}, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            theirs.fit(X, y)
            ours.fit(X, y)
    assert ours.n_iter_ == 7 and len(ours.loss_curve_) == 14
    assert_same_training(ours, theirs)

    ours, theirs = twins(params, 3)
    for _ in range(4):
        theirs.partial_fit(X, y, classes=[0, 1, 2])
        ours.partial_fit(X, y, classes=[0, 1, 2])
    assert ours.n_iter_ == 1 and len(ours.loss_curve_) == 4
    assert_same_training(ours, theirs)


def test_partial_fit_refuses_early_stopping_as_mlpclassifier_does():
    X, y = noisy_classes(2)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True") as theirs:
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True") as ours:
        ScratchClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    assert type(ours.value) is type(theirs.value)


def test_a_warm_restart_that_never_improves_keeps_the_best_weights():
    """A documented difference: MLPClassifier's saved best weights are, after a restore, its live weights,
    so a second warm fit that never beats the first's best validation score ends with its last weights.
    Ours restores the best weights seen: those the first fit ended with."""
    X, y = noisy_classes(3)
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, shuffle=False, max_iter=3000,
                  random_state=3, early_stopping=True, warm_start=True, **SOLVERS["sgd"])
    ours, theirs = twins(params, 3)
    theirs.fit(X, y)
    ours.fit(X, y)
    assert_same_training(ours, theirs)
    best, best_score = [p.copy() for p in ours.coefs_ + ours.intercepts_], ours.best_validation_score_
    theirs.fit(X, y)
    ours.fit(X, y)
    assert max(ours.validation_scores_[-ours.n_iter_:]) <= best_score  # the second fit found no better weights
    for p, q in zip(ours.coefs_ + ours.intercepts_, best):
        np.testing.assert_array_equal(p, q)
    assert weight_gap(theirs, ours) > 1e-3
