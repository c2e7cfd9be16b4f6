"""`ScratchClassifier`: the NumPy network as a scikit-learn classifier.

Parameter names follow `sklearn.neural_network.MLPClassifier` where they mean the same, so code
written for one runs with the other; `dtype` is ours (float32 by default, float64 for exactness).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nnlab.scratch.network import Network, predict_proba
from nnlab.scratch.optim import make_optimizer
from nnlab.scratch.train import EpochRunner


class ScratchClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron with ReLU hidden layers, trained by the hand-written backprop of nnlab.

    Two classes: one sigmoid output unit and the log loss (the derived network). More: softmax +
    cross-entropy. Solvers: 'adam', or 'sgd' with `momentum` (0 for plain SGD) and Nesterov.
    """

    def __init__(self, hidden_layer_sizes=(256, 128), solver="adam", alpha=1e-4, batch_size="auto",
                 learning_rate_init=1e-3, max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dtype="float32"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X, y):
        """Train up to `max_iter` epochs (fresh weights unless `warm_start`)."""
        return self._fit(X, y, classes=None, epochs=self.max_iter, incremental=False)

    def partial_fit(self, X, y, classes=None):
        """One pass over (X, y). `classes` is required on the first call."""
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, classes=classes, epochs=1, incremental=True)

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        # Predictions in float64 from the trained weights, whatever dtype trained them: a float32 matrix
        # product can differ in its last bit with a row's position in the batch (BLAS kernels block rows),
        # and a prediction must not depend on which other rows came with it.
        net = self.network_
        if net.dtype != np.float64:
            net = Network(net.W, net.b, np.float64)
        return predict_proba(net, X)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):  # a probability of exactly 0 is log 0 = -inf, as in sklearn
            return np.log(self.predict_proba(X))

    def predict(self, X):
        P = self.predict_proba(X)
        return self.classes_[np.argmax(P, axis=1)]

    @property
    def coefs_(self) -> list[np.ndarray]:
        check_is_fitted(self)
        return self.network_.W

    @property
    def intercepts_(self) -> list[np.ndarray]:
        check_is_fitted(self)
        return self.network_.b

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags

    # -- training ---------------------------------------------------------------------------
    def _np_dtype(self):
        return np.dtype(self.dtype)

    def _validate_params(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        if not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes}.")
        if self.solver not in ("sgd", "adam"):
            raise ValueError(f"solver must be 'sgd' or 'adam', got {self.solver!r}.")
        if self.learning_rate_init <= 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init}.")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}.")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}.")
        if not (self.batch_size == "auto" or (isinstance(self.batch_size, (int, np.integer))
                                              and self.batch_size >= 1)):
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}.")
        if not 0 <= self.momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {self.momentum}.")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}.")
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}.")
        return [int(s) for s in sizes]

    def _fit(self, X, y, classes, epochs: int, incremental: bool):
        hidden = self._validate_params()
        first_call = not (incremental or self.warm_start) or not hasattr(self, "network_")
        X, y = validate_data(self, X, y, reset=first_call, dtype=self._np_dtype(), y_numeric=False)
        check_classification_targets(y)
        if first_call:
            self.classes_ = np.unique(y if classes is None else classes)
            self._rng = np.random.default_rng(self.random_state)
            if len(self.classes_) < 2:
                raise ValueError(f"ScratchClassifier needs samples of at least 2 classes; got one class: "
                                 f"{self.classes_[0]!r}.")
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"y holds labels not in classes_: {unknown[:5]!r}.")
        y_index = np.searchsorted(self.classes_, y).astype(np.int64)
        k = len(self.classes_)
        if first_call:
            sizes = [X.shape[1], *hidden, 1 if k == 2 else k]
            self.network_ = Network.create(sizes, self._rng, self._np_dtype())
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self.best_loss_, self._no_improvement = np.inf, 0
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
            self._optimizer = None
        batch = min(200, len(X)) if self.batch_size == "auto" else min(self.batch_size, len(X))
        if self._optimizer is None or getattr(self, "_batch", None) != batch:
            if self._optimizer is None:
                self._optimizer = make_optimizer(
                    "adam" if self.solver == "adam" else ("momentum" if self.momentum else "sgd"),
                    [self.network_.theta], self.learning_rate_init, momentum=self.momentum,
                    nesterov=self.nesterovs_momentum, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)
            self._runner = EpochRunner(self.network_, self._optimizer, batch, self.alpha)
            self._batch = batch

        X_val = y_val = None
        if self.early_stopping and not incremental:
            stratify = y_index if np.bincount(y_index).min() >= 2 else None
            X, X_val, y_index, y_val = train_test_split(
                X, y_index, test_size=self.validation_fraction, random_state=self._rng.integers(2**31),
                stratify=stratify)
        for _ in range(epochs):
            data_loss, penalty, _acc = self._runner.run(X, y_index, self._rng if self.shuffle else None)
            loss = data_loss + penalty  # MLPClassifier's loss_curve_: the L2 term included
            if not np.isfinite(loss):
                raise ValueError("training diverged (the loss is not finite); lower learning_rate_init.")
            self.n_iter_ += 1
            self.t_ += len(X)
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            if incremental:
                continue
            if self._should_stop(loss, X_val, y_val):
                break
        else:
            if not incremental and self.max_iter > 1:
                warnings.warn(f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached and the "
                              "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        return self

    def _should_stop(self, loss: float, X_val, y_val) -> bool:
        """sklearn's rule: stop after `n_iter_no_change` epochs without improving by more than `tol`
        (the validation accuracy with early stopping, keeping the best weights; else the loss)."""
        if X_val is not None:
            score = float(np.mean(predict_proba(self.network_, X_val).argmax(axis=1) == y_val))
            self.validation_scores_.append(score)
            if score > self.best_validation_score_:
                self._best_weights = [p.copy() for p in self.network_.params()]
            improved = score > self.best_validation_score_ + self.tol
            self.best_validation_score_ = max(self.best_validation_score_, score)
        else:
            improved = loss < self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
        self._no_improvement = 0 if improved else self._no_improvement + 1
        if self._no_improvement < self.n_iter_no_change:
            return False
        if X_val is not None:
            for p, best in zip(self.network_.params(), self._best_weights):
                p[...] = best
        return True
