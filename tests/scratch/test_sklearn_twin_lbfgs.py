"""solver='lbfgs' against MLPClassifier / MLPRegressor from the same starting weights in float64, step for
step: scipy's L-BFGS-B asks both for the loss and gradient at the same points, evaluation after evaluation,
and they end with the same `n_iter_`, `loss_` and weights.

The two differ only by rounding (the order of the products' sums), which L-BFGS's curvature pairs amplify a
little every iteration (measured: 1e-15 at the start, 1e-12 after 30 iterations, 1e-7 after 60), hence 25
iterations and a tolerance of 1e-9. X is halved for the classifiers so that no line-search trial saturates a
probability: there MLPClassifier's loss, from probabilities clipped at machine eps, differs from ours, taken
from the logits (a listed deliberate difference), and the two searches part.
"""

import numpy as np
import pytest
import scipy.optimize
from sklearn.neural_network import MLPClassifier, MLPRegressor

from nnlab import ScratchClassifier, ScratchRegressor
from tests.scratch.test_sklearn_twin import HIDDEN, noisy_classes, starting_weights, weight_gap
from tests.scratch.test_sklearn_twin_more import fit_both, regression_data, regression_weights, twins


@pytest.fixture
def evaluations(monkeypatch):
    """The losses each call of scipy.optimize.minimize evaluated, one list per call, in order."""
    calls, minimize = [], scipy.optimize.minimize

    def recording(fun, x0, **kwargs):
        losses = []
        calls.append(losses)

        def recorded(theta, *args):
            loss, grad = fun(theta, *args)
            losses.append(float(loss))
            return loss, grad

        return minimize(recorded, x0, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", recording)
    return calls


def assert_same_steps(calls):
    theirs, ours = calls  # fit_both fits theirs first
    assert len(ours) == len(theirs) > 25
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)


def assert_same_lbfgs(ours, theirs):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    assert weight_gap(ours, theirs) < 1e-8
    assert not hasattr(ours, "loss_curve_") and not hasattr(theirs, "loss_curve_")  # L-BFGS keeps no curve


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("k", [2, 3])
def test_lbfgs_trains_as_mlpclassifier(activation, k, evaluations):
    X, y = noisy_classes(k)
    X = X / 2
    params = dict(solver="lbfgs", hidden_layer_sizes=HIDDEN, activation=activation, alpha=1e-2, max_iter=25,
                  tol=1e-6, random_state=0)
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(k))
    fit_both(ours, theirs, X, y)
    assert_same_steps(evaluations)
    assert_same_lbfgs(ours, theirs)
    assert ours.n_iter_ == 25
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu"])
@pytest.mark.parametrize("outputs", [1, 3])
def test_lbfgs_trains_as_mlpregressor(outputs, activation, evaluations):
    X, y = regression_data(outputs)
    params = dict(solver="lbfgs", hidden_layer_sizes=HIDDEN, activation=activation, alpha=1e-2, max_iter=25,
                  tol=1e-6, random_state=0)
    ours, theirs = twins(ScratchRegressor, MLPRegressor, params, *regression_weights(outputs))
    fit_both(ours, theirs, X, y)
    assert_same_steps(evaluations)
    assert_same_lbfgs(ours, theirs)
    assert ours.n_iter_ == 25
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("limit", ["max_iter", "max_fun"])
def test_lbfgs_stops_at_max_iter_and_max_fun_with_a_warning_as_mlpclassifier(limit):
    from sklearn.exceptions import ConvergenceWarning

    X, y = noisy_classes(3)
    params = dict(solver="lbfgs", hidden_layer_sizes=HIDDEN, alpha=1e-2, tol=0.0, random_state=0,
                  **({"max_iter": 7} if limit == "max_iter" else {"max_fun": 9}))
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *starting_weights(3))
    X = X / 2
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        theirs.fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        ours.fit(X, y)
    assert_same_lbfgs(ours, theirs)
    assert ours.n_iter_ == 7 if limit == "max_iter" else ours.n_iter_ < 9


def test_lbfgs_has_no_partial_fit_as_mlpclassifier():
    assert not hasattr(ScratchClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(ScratchRegressor(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="max_fun"):
        ScratchClassifier(solver="lbfgs", max_fun=0).fit([[0.0], [1.0]], [0, 1])
