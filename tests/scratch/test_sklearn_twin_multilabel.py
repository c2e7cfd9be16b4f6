"""Multilabel targets (a 0/1 label-indicator y) against MLPClassifier from the same starting weights in
float64: a sigmoid output unit per label, the binary log loss summed over labels and averaged over samples,
not stratified, scored by whole-label-set accuracy; so the same weights (1e-10), `n_iter_`, `loss_curve_` and
validation scores for every solver, with and without early stopping, in partial_fit and L-BFGS."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from nnlab import ScratchClassifier
from tests.scratch.test_sklearn_twin import HIDDEN, SOLVERS, assert_same_training, starting_weights, weight_gap
from tests.scratch.test_sklearn_twin_more import fit_both, twins


def label_sets(labels: int = 3, n: int = 200, d: int = 5):
    """Labels from noisy linear rules: a sample may have none, some or all of them."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, d))
    return X, (X @ rng.normal(size=(d, labels)) + rng.normal(size=(n, labels)) > 0).astype(np.int64)


def label_weights(labels: int = 3):
    W, b = starting_weights(3)  # a last layer of 3 units
    return W[:-1] + [W[-1][:, :labels]], b[:-1] + [b[-1][:labels]]


@pytest.mark.parametrize("early_stopping", [False, True], ids=["loss-rule", "early-stopping"])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_multilabel_trains_as_mlpclassifier(solver, early_stopping):
    X, Y = label_sets()
    params = dict(hidden_layer_sizes=HIDDEN, activation="tanh", alpha=1e-2, batch_size=48, max_iter=300,
                  random_state=0, early_stopping=early_stopping, **SOLVERS[solver])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *label_weights())
    fit_both(ours, theirs, X, Y)
    assert theirs.out_activation_ == ours.out_activation_ == "logistic"
    assert_same_training(ours, theirs)
    assert ours.n_iter_ > 10
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.predict(X).shape == Y.shape and ours.predict(X).dtype == theirs.predict(X).dtype
    assert ours.score(X, Y) == theirs.score(X, Y)


def test_a_far_off_label_has_a_small_probability_not_zero():
    """check_estimator asks every label's probability to be in (0, 1): at a logit near -60, 1e-26 as
    MLPClassifier's; near +60, the float below 1."""
    X, Y = label_sets()
    params = dict(hidden_layer_sizes=HIDDEN, max_iter=5, random_state=0, **SOLVERS["adam"])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *label_weights())
    fit_both(ours, theirs, X, Y)
    for est in (ours, theirs):
        est.intercepts_[-1][:] = -60.0
    P = ours.predict_proba(X)
    assert (P > 0).all() and P.max() < 1e-20
    np.testing.assert_allclose(P, theirs.predict_proba(X), rtol=1e-9)
    ours.intercepts_[-1][:] = 60.0
    assert (ours.predict_proba(X) < 1).all() and (ours.predict_proba(X) > 1 - 1e-15).all()


def test_two_labels_are_not_two_classes():
    """Two labels split off the validation set unstratified, as MLPClassifier (two classes stratify)."""
    X, Y = label_sets(2)
    params = dict(hidden_layer_sizes=HIDDEN, alpha=1e-2, batch_size=48, max_iter=300, random_state=0,
                  early_stopping=True, **SOLVERS["adam"])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *label_weights(2))
    fit_both(ours, theirs, X, Y)
    assert ours.n_outputs_ == 2
    assert_same_training(ours, theirs)


def test_multilabel_partial_fit_and_lbfgs_as_mlpclassifier():
    X, Y = label_sets()
    params = dict(hidden_layer_sizes=HIDDEN, activation="logistic", alpha=1e-2, batch_size=48, random_state=3,
                  **SOLVERS["nesterov"])
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *label_weights())
    for _ in range(5):
        theirs.partial_fit(X, Y, classes=[0, 1, 2])
        ours.partial_fit(X, Y, classes=[0, 1, 2])
    assert_same_training(ours, theirs)

    params = dict(hidden_layer_sizes=HIDDEN, activation="relu", alpha=1e-2, solver="lbfgs", max_iter=25,
                  random_state=0)
    ours, theirs = twins(ScratchClassifier, MLPClassifier, params, *label_weights())
    fit_both(ours, theirs, X / 2, Y)
    assert ours.n_iter_ == theirs.n_iter_ == 25
    assert abs(ours.loss_ - theirs.loss_) < 1e-9 and weight_gap(ours, theirs) < 1e-9


def test_multilabel_loss_is_the_log_loss_summed_over_labels():
    """The first loss_curve_ entry, full batch, alpha 0, from the starting weights: computed here by hand."""
    X, Y = label_sets()
    W, b = label_weights()
    A = X
    for l in range(len(W)):
        Z = A @ W[l] + b[l]
        A = np.maximum(Z, 0) if l < len(W) - 1 else 1 / (1 + np.exp(-Z))
    by_hand = -np.mean(np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1))
    ours = ScratchClassifier(hidden_layer_sizes=HIDDEN, alpha=0.0, batch_size=len(X), max_iter=1,
                             dtype="float64", warm_start=True)
    ours.coefs_, ours.intercepts_ = W, b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, Y)
    assert ours.loss_curve_[0] == pytest.approx(by_hand, rel=1e-12)


def test_a_one_column_indicator_is_two_classes_and_a_later_call_must_keep_the_labels():
    X, Y = label_sets()
    with pytest.warns(Warning, match="column-vector y"):  # as MLPClassifier: ravelled, with a warning
        one = ScratchClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, Y[:, :1])
    assert one.predict_proba(X).shape == (len(X), 2)
    ours = ScratchClassifier(solver="sgd", hidden_layer_sizes=(4,)).partial_fit(X, Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="fitted for 3"):
        ours.partial_fit(X, Y[:, :2])
