"""Sparse X (scipy.sparse CSR or CSC, matrix or array) in fit, partial_fit and predict: the first layer's
products X·W1 and Xᵀ·dZ1 are taken on the sparse matrix, never a dense copy; the results are the dense
input's to rounding, and the same bits on one thread or many, whatever the load."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from nnlab import ScratchClassifier, ScratchRegressor
from nnlab.scratch import network
from tests.test_same_bits import BUSY, QUIET, machine  # noqa: F401  (machine is a fixture)


def sparse_problem(n: int = 300, d: int = 400, density: float = 0.05, seed: int = 0):
    """Mostly-zero features (as word counts are), labels and a target from a noisy linear rule."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, data_rvs=rng.standard_normal)
    score = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    return X, (score > np.median(score)).astype(int), score


def fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def gap(a, b) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix], ids=lambda c: c.__name__)
@pytest.mark.parametrize("solver, early_stopping", [("sgd", False), ("adam", True), ("lbfgs", False)])
@pytest.mark.parametrize("Estimator", [ScratchClassifier, ScratchRegressor])
def test_sparse_trains_as_dense_to_rounding(Estimator, solver, early_stopping, container):
    X, labels, score = sparse_problem()
    y = labels if Estimator is ScratchClassifier else score
    params = dict(hidden_layer_sizes=(16,), solver=solver, early_stopping=early_stopping, max_iter=30,
                  batch_size=64, random_state=0, dtype="float64", activation="tanh")
    dense = fit(Estimator(**params), X.toarray(), y, sample_weight=np.linspace(0.5, 2, X.shape[0]))
    sparse = fit(Estimator(**params), container(X), y, sample_weight=np.linspace(0.5, 2, X.shape[0]))
    assert sparse.n_iter_ == dense.n_iter_
    assert gap(sparse, dense) < (1e-9 if solver == "lbfgs" else 1e-12)  # L-BFGS amplifies rounding a little
    predict = sparse.predict_proba if Estimator is ScratchClassifier else sparse.predict
    np.testing.assert_allclose(predict(container(X)), predict(X.toarray()), rtol=0, atol=1e-13)


def test_partial_fit_takes_sparse_batches():
    X, y, _ = sparse_problem()
    dense, sparse = (ScratchClassifier(hidden_layer_sizes=(16,), solver="sgd", random_state=0, dtype="float64")
                     for _ in range(2))
    for start in range(0, 300, 100):
        dense.partial_fit(X[start:start + 100].toarray(), y[start:start + 100], classes=[0, 1])
        sparse.partial_fit(X[start:start + 100], y[start:start + 100], classes=[0, 1])
    assert gap(sparse, dense) < 1e-13
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X.toarray()))


def test_a_wide_sparse_x_is_never_made_dense():
    """200 x 100,000 features: dense, X (or one batch of it) is 160 MB in float64; sparse, 2,000 nonzeros."""
    X, y, _ = sparse_problem(n=200, d=100_000, density=1e-4)
    est = ScratchClassifier(hidden_layer_sizes=(4,), max_iter=3, batch_size=50, random_state=0, dtype="float64")
    tracemalloc.start()
    try:
        fit(est, X, y)
        est.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # θ is 3.2 MB; with its gradient, Adam's two moments and the update buffer, about 20 MB
    assert peak < 40e6, peak


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_sparse_products_have_the_same_bits_on_one_and_two_threads(dtype):
    X, _, _ = sparse_problem(n=256, d=3072, density=0.2)
    X = X.astype(dtype)
    rng = np.random.default_rng(1)
    W, dZ = rng.standard_normal((3072, 128)).astype(dtype), rng.standard_normal((256, 128)).astype(dtype)
    results = []
    for n in (1, 2):
        with threadpool_limits(n, user_api="blas"):
            results.append((network.product(X, W, out=np.empty((256, 128), dtype)),
                            network.product(X.T, dZ, out=np.empty((3072, 128), dtype))))
    for one, two in zip(*results):
        assert np.array_equal(one, two)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(results[0][0], X.toarray() @ W, rtol=0, atol=3072 * eps * np.sqrt(3072))


def test_a_sparse_fit_has_the_same_bits_on_a_quiet_and_a_busy_machine(machine):  # noqa: F811
    X, y, _ = sparse_problem(n=600, d=1000, density=0.1)
    fits = []
    for readings in (QUIET, BUSY):
        counts = machine(readings)
        fits.append(fit(ScratchClassifier(hidden_layer_sizes=(64,), max_iter=3, batch_size=64, random_state=0),
                        X, y))
        assert (len(counts) > 3) is (readings is BUSY), counts
    a, b = fits
    assert a.loss_curve_ == b.loss_curve_ and gap(a, b) == 0.0
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
