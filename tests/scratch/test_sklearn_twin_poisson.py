"""ScratchRegressor(loss='poisson') against MLPRegressor(loss='poisson') from the same starting weights in
float64: an exp output, half the Poisson deviance (weighted), dZ_out = e^z - y; so the same weights (1e-10),
`n_iter_`, `loss_curve_` and R² validation scores for SGD, Adam with early stopping, and L-BFGS."""

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor

from nnlab import ScratchRegressor
from tests.scratch.test_sklearn_twin import HIDDEN, weight_gap
from tests.scratch.test_sklearn_twin_more import (
    assert_same_regression_training,
    fit_both,
    regression_weights,
    twins,
)


def counts(outputs: int = 2, n: int = 200, d: int = 5):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, d))
    return X, rng.poisson(np.exp(0.5 * np.tanh(X @ rng.normal(size=(d, outputs)))))


@pytest.mark.parametrize("outputs", [1, 2])
@pytest.mark.parametrize("solver, early_stopping", [("sgd", False), ("adam", True), ("lbfgs", False)])
def test_poisson_trains_as_mlpregressor(solver, early_stopping, outputs):
    X, Y = counts(outputs)
    Y = Y[:, 0] if outputs == 1 else Y
    params = dict(loss="poisson", hidden_layer_sizes=HIDDEN, activation="tanh", alpha=1e-2, batch_size=48,
                  max_iter=25 if solver == "lbfgs" else 300, random_state=0, solver=solver, learning_rate_init=0.01,
                  early_stopping=early_stopping)
    ours, theirs = twins(ScratchRegressor, MLPRegressor, params, *regression_weights(outputs))
    w = np.random.default_rng(5).uniform(0.5, 2, size=len(X))
    fit_both(ours, theirs, X, Y) if outputs == 1 else (theirs.fit(X, Y, sample_weight=w),
                                                        ours.fit(X, Y, sample_weight=w))
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    if solver == "lbfgs":
        assert ours.n_iter_ == theirs.n_iter_ and abs(ours.loss_ - theirs.loss_) < 1e-9
        assert weight_gap(ours, theirs) < 1e-9
    else:
        assert_same_regression_training(ours, theirs)
        assert ours.n_iter_ > 10
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)
    assert (ours.predict(X) > 0).all()


def test_poisson_refuses_negative_counts_and_an_unknown_loss():
    X, Y = counts(1)
    with pytest.raises(ValueError, match="non-negative y"):
        ScratchRegressor(loss="poisson").fit(X, -Y[:, 0])
    with pytest.raises(ValueError, match="huber"):
        ScratchRegressor(loss="huber").fit(X, Y[:, 0])
