"""ScratchClassifier with every activation and learning-rate schedule, and ScratchRegressor, against
scikit-learn's MLPClassifier / MLPRegressor from the same starting weights in float64: the same weights
(1e-10), `n_iter_` and `loss_curve_` once each estimator's own stopping rule has ended training."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from nnlab import ScratchClassifier, ScratchRegressor
from tests.scratch.test_sklearn_twin import (
    HIDDEN,
    SOLVERS,
    assert_same_training,
    noisy_classes,
    starting_weights,
    weight_gap,
)


def given_start(cls):
    """`cls` (MLPClassifier or MLPRegressor) starting from `self.start`, as GivenStartMLP in test_sklearn_twin."""

    class GivenStart(cls):
        def _init_coef(self, fan_in, fan_out, dtype):
            l = len(self.coefs_)
            return self.start[0][l].astype(dtype), self.start[1][l].astype(dtype)

    return GivenStart


def twins(ours_cls, theirs_cls, params: dict, W, b):
    theirs = given_start(theirs_cls)(**params)
    theirs.start = (W, b)
    ours = ours_cls(**params, dtype="float64").set_params(warm_start=True)
    ours.coefs_, ours.intercepts_ = W, b
    return ours, theirs


def fit_both(ours, theirs, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)


def regression_data(outputs: int, n: int = 200, d: int = 5):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, d))
    Y = np.tanh(X @ rng.normal(size=(d, outputs))) + 0.3 * rng.normal(size=(n, outputs))
    return X, Y[:, 0] if outputs == 1 else Y


def regression_weights(outputs: int, d: int = 5):
    W, b = starting_weights(2, d)
    rng = np.random.default_rng(3)
    W[-1] = rng.normal(size=(HIDDEN[-1], outputs)) * 0.3
    b[-1] = rng.normal(size=outputs) * 0.1
    return W, b


def assert_same_regression_training(ours, theirs):
    """assert_same_training, with R² validation scores equal to rounding (1e-12) rather than in every bit:
    unlike an accuracy, R² carries the last bits of the predictions, which the products' order decides."""
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    assert weight_gap(ours, theirs) < 1e-10
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12, atol=0)
    if theirs.validation_scores_ is None:
        assert ours.validation_scores_ is None
    else:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12, atol=0)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["nesterov", "adam"])
@pytest.mark.parametrize("k", [2, 3])
def test_every_activation_trains_as_mlpclassifier(activation, solver, k):
    X, y = noisy_classes(k)
    params = dict(hidden_layer_sizes=HIDDEN, activation=activation, alpha=1e-2, batch_size=48, max_iter=400,
                  random_state=0, **SOLVERS[solver])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(k))
    fit_both(ours, theirs, X, y)
    assert_same_training(ours, theirs)
    assert ours.n_iter_ > 20


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
@pytest.mark.parametrize("solver", ["sgd", "momentum", "nesterov"])
def test_learning_rate_schedules_train_as_mlpclassifier(schedule, solver):
    X, y = noisy_classes(3)
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, max_iter=600, random_state=0,
                  learning_rate=schedule, power_t=0.25, n_iter_no_change=3, tol=1e-3,
                  **{**SOLVERS[solver], "learning_rate_init": 0.05})
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(3))
    fit_both(ours, theirs, X, y)
    assert_same_training(ours, theirs)
    assert ours._optimizer.lr == theirs._optimizer.learning_rate
    assert ours._optimizer.lr < 0.05 / 4  # the schedule did lower the rate


@pytest.mark.parametrize("early_stopping", [False, True], ids=["loss-rule", "early-stopping"])
@pytest.mark.parametrize("activation", ["identity", "tanh", "relu"])
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("outputs", [1, 3])
def test_regressor_trains_as_mlpregressor(outputs, solver, activation, early_stopping):
    X, y = regression_data(outputs)
    params = dict(hidden_layer_sizes=HIDDEN, activation=activation, alpha=1e-2, batch_size=48, max_iter=500,
                  random_state=0, early_stopping=early_stopping,
                  **{**SOLVERS[solver], "learning_rate_init": SOLVERS[solver]["learning_rate_init"] / 4})
    ours, theirs = twins(ScratchRegressor, MLPRegressor, params, *regression_weights(outputs))
    fit_both(ours, theirs, X, y)
    assert_same_regression_training(ours, theirs)
    assert ours.n_iter_ > 10
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9, atol=1e-12)
    assert ours.predict(X).shape == theirs.predict(X).shape


def test_regressor_partial_fit_keeps_state_as_mlpregressor():
    X, y = regression_data(2)
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, random_state=3, **SOLVERS["adam"])
    ours, theirs = twins(ScratchRegressor, MLPRegressor, params, *regression_weights(2))
    for _ in range(5):
        theirs.partial_fit(X, y)
        ours.partial_fit(X, y)
    assert len(ours.loss_curve_) == 5
    assert_same_regression_training(ours, theirs)


def test_a_diverging_fit_with_early_stopping_trains_on_and_keeps_its_best_weights_as_mlpregressor():
    """Learning rate 1 on iris: the loss overflows to inf then NaN within 5 epochs. As MLPRegressor, training goes
    on (the validation scores NaN), early stopping restores the best weights, and fit does not raise."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(1)
    W, b = [rng.normal(size=(4, 100)) * 0.3, rng.normal(size=(100, 1)) * 0.3], [np.zeros(100), np.zeros(1)]
    params = dict(hidden_layer_sizes=100, activation="identity", solver="sgd", learning_rate_init=1, max_iter=20,
                  early_stopping=True, random_state=0)
    ours, theirs = twins(ScratchRegressor, MLPRegressor, params, W, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow, as in MLPRegressor
        fit_both(ours, theirs, X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 20
    assert np.isnan(ours.validation_scores_[-1]) and np.isnan(ours.loss_curve_[-1])
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)  # NaN where NaN
    assert weight_gap(ours, theirs) < 1e-10 and np.isfinite(ours.predict(X)).all()
