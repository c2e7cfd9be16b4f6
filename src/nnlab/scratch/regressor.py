"""`ScratchRegressor`: the NumPy network as a scikit-learn regressor, `MLPRegressor`'s twin.

The same network and training loop as `ScratchClassifier` (`_ScratchMLP`), with an identity output and the
squared loss: one output unit per target column, so one output or many.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from nnlab.errors import pick
from nnlab.scratch.estimator import _ScratchMLP
from nnlab.scratch.network import Network, outputs

REGRESSION_LOSSES = {"squared_error": "squared", "poisson": "poisson"}  # MLPRegressor's names -> network.LOSSES


class ScratchRegressor(RegressorMixin, _ScratchMLP):
    """Multi-layer perceptron regressor trained by nnlab's hand-written backprop: hidden layers of
    `activation`, an identity output, the loss (1/2)·mean (y - ŷ)² (plus the L2 term) as in `loss_curve_`;
    or with loss='poisson' an exp output and half the Poisson deviance, for counts.

    Parameters, defaults and behaviour are MLPRegressor's (the stopping rule, early stopping scored by R²,
    warm start, partial_fit, the learning-rate schedules), as ScratchClassifier's are MLPClassifier's; the
    deliberate differences are ScratchClassifier's (its docstring lists them). Predictions come in X's dtype.
    """

    @property
    def _loss(self) -> str:  # what backward differentiates (network.LOSSES)
        return pick(REGRESSION_LOSSES, self.loss, "loss")
    _y_checks = dict(multi_output=True, y_numeric=True)

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate="constant", learning_rate_init=1e-3, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dtype="float32"):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
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
        self.max_fun = max_fun
        self.dtype = dtype

    @available_if(lambda self: self.solver != "lbfgs")  # as MLPRegressor: L-BFGS has no one-pass update
    def partial_fit(self, X, y, sample_weight=None):
        """One pass over (X, y), weighted by `sample_weight`, keeping the weights and the optimiser's state."""
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        return self._fit(X, y, classes=None, incremental=True, sample_weight=sample_weight)

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=(np.float64, np.float32))
        # Computed in float64 (as ScratchClassifier's probabilities: no dependence on the batch's other rows),
        # returned in X's dtype, float32 or float64, as MLPRegressor's.
        Y = outputs(Network(self.coefs_, self.intercepts_, np.float64, self.activation, self.out_activation_), X)
        Y = Y.astype(X.dtype, copy=False)
        return Y.ravel() if Y.shape[1] == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one output unit per column of y, as MLPRegressor
        return tags

    def _targets(self, y, classes, first_pass: bool):
        """y as a column per output; the output units are the identity (loss 'poisson': e^z, and y >= 0)."""
        Y = np.asarray(y, dtype=self._np_dtype())
        if self._loss == "poisson" and (Y < 0).any():
            raise ValueError("loss='poisson' requires non-negative y (counts or rates).")
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if not first_pass and Y.shape[1] != len(self.intercepts_[-1]):
            raise ValueError(f"y has {Y.shape[1]} outputs; the network was fitted for {len(self.intercepts_[-1])}.")
        return Y, Y.shape[1], "exp" if self._loss == "poisson" else "identity"

    def _stratify(self, Y):
        return None

    def _validation_score(self, net: Network, X_val, Y_val, w_val=None) -> float:
        """R², as MLPRegressor's `score`; NaN when the predictions are not finite, as there."""
        Y = outputs(net, X_val)
        if not np.isfinite(Y).all():
            return float("nan")
        return float(r2_score(Y_val, Y, sample_weight=w_val))
