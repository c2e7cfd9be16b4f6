"""`sample_weight` against MLPClassifier / MLPRegressor from the same starting weights in float64: each
batch's loss a weighted mean with its L2 term over the batch's weight sum, the validation score weighted,
the weights split off with the validation set; so the same `n_iter_`, `loss_curve_`, validation scores and
weights (1e-10), for every solver, with early stopping and without, and in partial_fit and L-BFGS."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from nnlab import ScratchClassifier, ScratchRegressor
from tests.scratch.test_sklearn_twin import HIDDEN, SOLVERS, assert_same_training, noisy_classes, starting_weights
from tests.scratch.test_sklearn_twin_lbfgs import assert_same_lbfgs
from tests.scratch.test_sklearn_twin_more import (
    assert_same_regression_training,
    regression_data,
    regression_weights,
    twins,
)


def weights(n: int) -> np.ndarray:
    """Uneven weights, from 0 (a sample left out) to 3."""
    w = np.random.default_rng(5).uniform(0, 3, size=n)
    w[::17] = 0.0
    return w


def fit_both(ours, theirs, X, y, w):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y, sample_weight=w)
        ours.fit(X, y, sample_weight=w)


@pytest.mark.parametrize("early_stopping", [False, True], ids=["loss-rule", "early-stopping"])
@pytest.mark.parametrize("solver", ["sgd", "nesterov", "adam"])
@pytest.mark.parametrize("k", [2, 3])
def test_sample_weight_trains_as_mlpclassifier(k, solver, early_stopping):
    X, y = noisy_classes(k)
    params = dict(hidden_layer_sizes=HIDDEN, activation="tanh", alpha=1e-2, batch_size=48, max_iter=300,
                  random_state=0, early_stopping=early_stopping, **SOLVERS[solver])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(k))
    fit_both(ours, theirs, X, y, weights(len(X)))
    assert_same_training(ours, theirs)
    assert ours.n_iter_ > 10
    unweighted, _ = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(k))
    unweighted.fit(X, y)
    assert unweighted.loss_curve_[:3] != ours.loss_curve_[:3]  # the weights did change training


@pytest.mark.parametrize("early_stopping", [False, True], ids=["loss-rule", "early-stopping"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("outputs", [1, 3])
def test_sample_weight_trains_as_mlpregressor(outputs, solver, early_stopping):
    X, y = regression_data(outputs)
    params = dict(hidden_layer_sizes=HIDDEN, activation="relu", alpha=1e-2, batch_size=48, max_iter=300,
                  random_state=0, early_stopping=early_stopping,
                  **{**SOLVERS[solver], "learning_rate_init": SOLVERS[solver]["learning_rate_init"] / 4})
    ours, theirs = twins(ScratchRegressor, MLPRegressor, params, *regression_weights(outputs))
    fit_both(ours, theirs, X, y, weights(len(X)))
    assert_same_regression_training(ours, theirs)
    assert ours.n_iter_ > 10


@pytest.mark.parametrize("estimators", ["classifier", "regressor"])
def test_sample_weight_in_lbfgs_as_mlp(estimators):
    if estimators == "classifier":
        (X, y), start, pair = noisy_classes(3), starting_weights(3), (ScratchClassifier, MLPClassifier)
        X = X / 2
    else:
        (X, y), start, pair = regression_data(2), regression_weights(2), (ScratchRegressor, MLPRegressor)
    params = dict(solver="lbfgs", hidden_layer_sizes=HIDDEN, alpha=1e-2, max_iter=25, tol=1e-6, random_state=0)
    ours, theirs = twins(*pair, params, *start)
    fit_both(ours, theirs, X, y, weights(len(X)))
    assert_same_lbfgs(ours, theirs)


def test_sample_weight_in_partial_fit_as_mlpclassifier():
    X, y = noisy_classes(3)
    w = weights(len(X))
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, random_state=3, **SOLVERS["adam"])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(3))
    for _ in range(5):
        theirs.partial_fit(X, y, sample_weight=w, classes=[0, 1, 2])
        ours.partial_fit(X, y, sample_weight=w, classes=[0, 1, 2])
    assert len(ours.loss_curve_) == 5
    assert_same_training(ours, theirs)
