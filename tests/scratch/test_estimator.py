import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from nnlab import ScratchClassifier

# As scikit-learn runs this check on MLPClassifier (its PER_ESTIMATOR_CHECK_PARAMS): L-BFGS, whose fit
# converges, so that a weight of 2 equals a repeated sample to 1e-7; in float64, which that tolerance needs.
# The same for sparse data, which the check's dense and sparse variants share.
CHECK_PARAMS = {f"check_sample_weight_equivalence_on_{data}_data": dict(solver="lbfgs", dtype="float64")
                for data in ("dense", "sparse")}


@parametrize_with_checks([ScratchClassifier()])
def test_scikit_learn_estimator_contract(estimator, check):
    # A clone: parametrize_with_checks hands every check the same instance, and settings made for one check
    # would stay for the rest (L-BFGS in float64 for every check after the sample-weight ones: ×8 the time).
    estimator = clone(estimator).set_params(**CHECK_PARAMS.get(getattr(check, "func", check).__name__, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_moons_and_breast_cancer_with_defaults_as_good_as_mlpclassifier():
    from sklearn.neural_network import MLPClassifier

    X, y = make_moons(2000, noise=0.2, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    clf = ScratchClassifier(random_state=0).fit(Xtr, ytr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        peer = MLPClassifier(hidden_layer_sizes=(256, 128), random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= 0.95
    assert clf.score(Xte, yte) >= peer.score(Xte, yte) - 0.01
    assert clf.coefs_[-1].shape == (128, 1)  # two classes: one sigmoid unit, the derived network

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    pipe = make_pipeline(StandardScaler(), ScratchClassifier(random_state=0)).fit(Xtr, ytr)
    assert pipe.score(Xte, yte) >= 0.95


def test_fitted_attributes_and_string_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    y = np.array(["cat", "dog", "emu"])[np.argmax(X[:, :3], axis=1)]
    clf = ScratchClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=300,
                            random_state=0).fit(X, y)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    assert [W.shape for W in clf.coefs_] == [(4, 10), (10, 3)]
    assert [b.shape for b in clf.intercepts_] == [(10,), (3,)]
    assert clf.n_features_in_ == 4 and clf.n_iter_ == len(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.score(X, y) > 0.9
    assert clf.coefs_[0].dtype == np.float32                  # trained in float32 ...
    P = clf.predict_proba(X)
    assert P.dtype == np.float64                              # ... predicted in float64,
    order = np.random.default_rng(1).permutation(len(X))     # so a row's prediction ignores its neighbours
    np.testing.assert_array_equal(clf.predict_proba(X[order]), P[order])


def test_same_random_state_same_model():
    X, y = make_moons(200, noise=0.2, random_state=0)
    a = ScratchClassifier(max_iter=20, random_state=3).fit(X, y)
    b = ScratchClassifier(max_iter=20, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.loss_curve_ == b.loss_curve_


def test_partial_fit_runs_one_epoch_per_call():
    X, y = make_moons(200, noise=0.2, random_state=0)
    clf = ScratchClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 3 and clf.t_ == 600  # n_iter_: this call's, as sklearn


def test_warm_start_continues_training():
    X, y = make_moons(200, noise=0.2, random_state=0)
    clf = ScratchClassifier(max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        first = clf.coefs_[0].copy()
        clf.fit(X, y)
    # as MLPClassifier: n_iter_ counts this fit's epochs, loss_curve_ goes on
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 10 and not np.array_equal(first, clf.coefs_[0])


def test_early_stopping_stops_by_sklearns_rule_and_restores_the_best_weights():
    X, y = make_moons(600, noise=0.3, random_state=0)
    params = dict(early_stopping=True, n_iter_no_change=5, max_iter=500, random_state=0, dtype="float64")
    clf = ScratchClassifier(**params).fit(X, y)
    scores = clf.validation_scores_
    # MLPClassifier's rule, replayed: an epoch improves when it reaches the best score so far + tol, and
    # training stops once more than n_iter_no_change epochs in a row have not
    best, count, stop = -np.inf, 0, None
    for epoch, score in enumerate(scores, 1):
        count = count + 1 if score < best + clf.tol else 0
        best = max(best, score)
        if count > 5:
            stop = epoch
            break
    assert stop == clf.n_iter_ == len(scores) < 500
    epoch = int(np.argmax(scores)) + 1           # the first epoch with the best score: its weights are kept
    assert scores[-1] < scores[epoch - 1]        # so the last epoch's weights are not the best
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cut = ScratchClassifier(**{**params, "max_iter": epoch}).fit(X, y)  # the same run, ended at that epoch
    for p, q in zip(clf.coefs_ + clf.intercepts_, cut.coefs_ + cut.intercepts_):
        np.testing.assert_array_equal(p, q)


def test_training_starts_from_assigned_weights():
    X, y = make_moons(100, noise=0.2, random_state=0)
    rng = np.random.default_rng(0)
    W, b = [rng.normal(size=(2, 4)), rng.normal(size=(4, 1))], [np.zeros(4), np.zeros(1)]
    W0 = [w.copy() for w in W]
    clf = ScratchClassifier(hidden_layer_sizes=(4,), warm_start=True, max_iter=1, solver="sgd", momentum=0,
                            batch_size=100, learning_rate_init=0.1, alpha=0)
    clf.coefs_, clf.intercepts_ = W, b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    for w, w0 in zip(W, W0):
        np.testing.assert_array_equal(w, w0)     # the given arrays are copied, not trained in place
    # one full-batch step from the given weights, by hand: the binary log loss gradient
    Z1 = X @ W[0]
    A1 = np.maximum(Z1, 0)
    dZ2 = (1 / (1 + np.exp(-(A1 @ W[1])[:, 0])) - y)[:, None] / len(X)
    dZ1 = (dZ2 @ W[1].T) * (Z1 > 0)
    np.testing.assert_allclose(clf.coefs_[0], W[0] - 0.1 * X.T @ dZ1, rtol=1e-6)
    np.testing.assert_allclose(clf.coefs_[1], W[1] - 0.1 * A1.T @ dZ2, rtol=1e-6)
    assert clf.coefs_[0].dtype == np.float32
    clf.coefs_ = [np.zeros((3, 4)), W[1]]
    with pytest.raises(ValueError, match="coefs_ and intercepts_ must have the shapes"):
        clf.fit(X, y)


def test_grid_search():
    X, y = make_moons(300, noise=0.2, random_state=0)
    grid = GridSearchCV(ScratchClassifier(max_iter=50, learning_rate_init=0.01, random_state=0),
                        {"hidden_layer_sizes": [(4,), (16, 16)], "solver": ["sgd", "adam"]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_score_ > 0.85
    assert set(grid.best_params_) == {"hidden_layer_sizes", "solver"}


def test_float64_dtype():
    X, y = make_moons(100, noise=0.2, random_state=0)
    clf = ScratchClassifier(dtype="float64", max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.coefs_[0].dtype == np.float64


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"solver": "newton"}, "solver"), ({"max_fun": 0}, "max_fun"),
        ({"learning_rate_init": 0}, "learning_rate_init"),
        ({"dtype": "int8"}, "dtype"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_parameters_raise_value_error(params, message):
    X, y = make_moons(50, random_state=0)
    with pytest.raises(ValueError, match=message):
        ScratchClassifier(**params).fit(X, y)
