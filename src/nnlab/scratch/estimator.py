"""`ScratchClassifier`: the NumPy network as a scikit-learn classifier.

Parameter and attribute names follow `sklearn.neural_network.MLPClassifier`, and where a name is shared
so is the meaning, down to the stopping rule; `dtype` is ours (float32 by default, float64 for exactness).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from nnlab.errors import pick
from nnlab.scratch.network import ACTIVATIONS, Network, outputs, predict_proba
from nnlab.scratch.optim import make_optimizer
from nnlab.scratch.train import EpochRunner, fit_lbfgs
from nnlab.threads import ThreadPolicy

LEARNING_RATES = ("constant", "invscaling", "adaptive")  # sklearn's schedules; they change sgd's rate only
SOLVERS = ("lbfgs", "sgd", "adam")


class _ScratchMLP(BaseEstimator):
    """What ScratchClassifier and ScratchRegressor share: the checks of their parameters and the training
    loop. A subclass turns y into what backward trains on (`_targets`), scores a validation set
    (`_validation_score`) and says how to split one off (`_stratify`)."""

    _loss = "log"  # what backward differentiates (network.LOSSES)

    def fit(self, X, y, sample_weight=None):
        """Train up to `max_iter` epochs (fresh weights unless `warm_start` and `coefs_` exist); `sample_weight`
        weighs each sample's loss (and the validation score), as MLPClassifier's."""
        return self._fit(X, y, classes=None, incremental=False, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR or CSC X, multiplied as it is (network.product)
        return tags

    # -- training ---------------------------------------------------------------------------
    def _np_dtype(self):
        return np.dtype(self.dtype)

    def _validate_params(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        if not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes}.")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {self.solver!r}.")
        if self.max_fun < 1:
            raise ValueError(f"max_fun must be >= 1, got {self.max_fun}.")
        pick(ACTIVATIONS, self.activation, "activation")  # an UnknownName, a ValueError too
        if self.learning_rate not in LEARNING_RATES:
            raise ValueError(f"learning_rate must be one of {', '.join(LEARNING_RATES)}; got {self.learning_rate!r}.")
        if self.power_t < 0:
            raise ValueError(f"power_t must be >= 0, got {self.power_t}.")
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

    def _fit(self, X, y, classes, incremental: bool, sample_weight=None):
        hidden = self._validate_params()
        # As MLPClassifier: keep the weights (fitted or assigned) under warm_start and in partial_fit.
        first_pass = not hasattr(self, "coefs_") or not (self.warm_start or incremental)
        # A sparse X stays sparse (CSR: batches are rows): the first layer's products take it as it is.
        X, y = validate_data(self, X, y, reset=first_pass or not hasattr(self, "n_features_in_"),
                             accept_sparse="csr", dtype=(np.float64, np.float32), **self._y_checks)
        X = _in_dtype(X, self._np_dtype())
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)  # in X's dtype, as sklearn's
        y_train, n_outputs, output = self._targets(y, classes, first_pass)
        sizes = [X.shape[1], *hidden, n_outputs]
        rs = check_random_state(self.random_state)  # anew each call, as MLPClassifier does

        net = Network.create(sizes, rs, self._np_dtype(), self.activation, output) if first_pass \
            else self._given_network(sizes, output)
        self.coefs_, self.intercepts_ = net.W, net.b  # views into the vector training updates
        self.n_layers_, self.n_outputs_ = len(sizes), sizes[-1]
        self.out_activation_ = output
        if self.solver == "lbfgs":
            return self._fit_lbfgs(net, X, y_train, sample_weight)
        if first_pass or not hasattr(self, "loss_curve_"):
            self._start_history(net)
        if not incremental or getattr(self, "_optimizer", None) is None:
            self._optimizer = make_optimizer(
                "adam" if self.solver == "adam" else ("momentum" if self.momentum else "sgd"),
                [net.theta], self.learning_rate_init, momentum=self.momentum, nesterov=self.nesterovs_momentum,
                beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon, convention="sklearn")
        else:
            self._optimizer.params = [net.theta]  # partial_fit keeps the optimiser's state, as sklearn's

        X_val = y_val = w_val = None
        if self.early_stopping:
            X, X_val, y_train, y_val, sample_weight, w_val = self._validation_split(X, y_train, sample_weight, rs)
        n = X.shape[0]
        if self.batch_size != "auto" and self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                          stacklevel=3)
        runner = EpochRunner(net, self._optimizer, min(200 if self.batch_size == "auto" else self.batch_size, n),
                             self.alpha, loss=self._loss)
        order = _SklearnOrder(rs, n) if self.shuffle else None

        # One thread per core that other processes leave free, measured as the epochs go (nnlab.threads): the
        # products of network.py have the same bits on any count.
        with ThreadPolicy(follow_load=True) as threads:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                data_loss, penalty, _acc = runner.run(X, y_train, order, lambda *_: threads.check(), sample_weight)
                self.loss_ = data_loss + penalty  # MLPClassifier's loss_curve_: the L2 term included
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(net, X_val, y_val, w_val)
                if self.solver == "sgd" and self.learning_rate == "invscaling":  # sklearn's iteration_ends
                    self._optimizer.lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if self.early_stopping else "Training loss"
                    msg = f"{what} did not improve more than tol={self.tol:f} for {self.n_iter_no_change} " \
                          "consecutive epochs."
                    # 'adaptive' (sgd only): divide the rate by 5 and go on, until it is at most 1e-6
                    if self.solver == "sgd" and self.learning_rate == "adaptive" and self._optimizer.lr > 1e-6:
                        self._optimizer.lr /= 5.0
                        self._no_improvement_count = 0
                        if self.verbose:
                            print(f"{msg} Setting learning rate to {self._optimizer.lr:f}")
                    else:
                        if self.verbose:
                            small = " Learning rate too small." if self.learning_rate == "adaptive" \
                                and self.solver == "sgd" else ""
                            print(f"{msg}{small} Stopping.")
                        break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                                  "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        if self.early_stopping:
            for p, best in zip(net.params(), self._best_params):
                p[...] = best
        _check_finite(net)  # at the end, as MLPClassifier: early stopping may have restored finite weights
        return self

    def _fit_lbfgs(self, net: Network, X, y_train, sample_weight):
        """MLPClassifier's L-BFGS: the whole training set at once, no early stopping, no loss_curve_;
        `n_iter_` is scipy's iteration count (at most max_iter), `loss_` its final loss."""
        with ThreadPolicy(follow_load=True) as threads:
            result = fit_lbfgs(net, X, y_train, self.alpha, self._loss, self.max_iter, self.max_fun, self.tol,
                               threads.check, sample_weight)
        self.n_iter_, self.loss_ = min(result.nit, self.max_iter), float(result.fun)
        if result.status != 0:
            more = f"\nIncrease the number of iterations to improve the convergence (max_iter={self.max_iter})." \
                if self.n_iter_ == self.max_iter else ""
            warnings.warn(f"lbfgs failed to converge after {self.n_iter_} iteration(s) (status={result.status}):\n"
                          f"{result.message}\n{more}\nYou might also want to scale the data.", ConvergenceWarning,
                          stacklevel=4)
        _check_finite(net)
        return self

    def _given_network(self, sizes: list[int], output: str) -> Network:
        """A training network holding a copy of `coefs_` and `intercepts_`, which must fit `sizes`."""
        want_W = list(zip(sizes[:-1], sizes[1:]))
        got_W = [np.shape(W) for W in self.coefs_]
        got_b = [np.shape(b) for b in self.intercepts_]
        if got_W != want_W or got_b != [(n,) for n in sizes[1:]]:
            raise ValueError(f"coefs_ and intercepts_ must have the shapes {want_W} and "
                             f"{[(n,) for n in sizes[1:]]} (features, hidden_layer_sizes, outputs); "
                             f"got {got_W} and {got_b}.")
        return Network([np.asarray(W) for W in self.coefs_], [np.asarray(b) for b in self.intercepts_],
                       self._np_dtype(), self.activation, output)

    def _start_history(self, net: Network) -> None:
        """What MLPClassifier resets on its first pass and carries through warm starts."""
        self.loss_curve_, self.t_, self._no_improvement_count = [], 0, 0
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._best_params = [p.copy() for p in net.params()]

    def _validation_split(self, X, y_train, sample_weight, rs):
        """scikit-learn's split, with the same strata (`_stratify`), so one random_state picks the same samples
        (the weights, if any, split alike): X, X_val, y, y_val, weights, validation weights."""
        arrays = (X, y_train) if sample_weight is None else (X, y_train, sample_weight)
        parts = train_test_split(*arrays, random_state=rs, test_size=self.validation_fraction,
                                 stratify=self._stratify(y_train))
        if parts[1].shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                             "your dataset.")
        return (*parts, None, None) if sample_weight is None else tuple(parts)

    def _update_no_improvement_count(self, net: Network, X_val, y_val, w_val) -> None:
        """sklearn's `_update_no_improvement_count`: an epoch improves when it beats the best so far by
        at least `tol` (validation score up, or training loss down); the best weights are those of the
        highest validation score, whatever tol."""
        if X_val is not None:
            score = self._validation_score(net, X_val, y_val, w_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            improved = not score < self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in net.params()]
        else:
            loss = self.loss_curve_[-1]
            improved = not loss > self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1



class ScratchClassifier(ClassifierMixin, _ScratchMLP):
    """Multi-layer perceptron classifier trained by the hand-written backprop of nnlab.

    Hidden layers of `activation` ('relu', 'tanh', 'logistic' or 'identity'). Two classes (or one): one
    sigmoid output unit and the log loss (the derived network). More: softmax + cross-entropy. A 0/1
    label-indicator y (multilabel): a sigmoid unit per label and the binary log loss summed over the labels
    (test_sklearn_twin_multilabel.py); `predict` gives the indicator matrix. X may be a scipy.sparse matrix
    (CSR or CSC): the first layer multiplies it as it is, never densified (test_sparse.py). Solvers:
    'adam', or 'sgd' with `momentum` (0 for plain SGD), Nesterov and the `learning_rate` schedules
    ('constant', 'invscaling' with `power_t`, 'adaptive'), in sklearn's velocity form, or 'lbfgs': scipy's
    L-BFGS-B on the whole training set, with `max_iter`, `max_fun` and gtol=`tol` as MLPClassifier's (no
    `loss_curve_`, no early stopping, no partial_fit; `n_iter_` and `loss_` are scipy's).

    As MLPClassifier: the loss in `loss_curve_` includes the L2 term, per batch from the weights before
    the step; training stops once the training loss (or, with `early_stopping`, the validation accuracy)
    has failed to improve by `tol` for more than `n_iter_no_change` epochs, and early stopping restores the
    best validation weights however training ends; `n_iter_` counts the epochs of the last call (`fit`
    with `warm_start` starts a new optimiser and a new count; `loss_curve_` and `t_` go on); `partial_fit`
    runs one epoch, keeps the optimiser and refuses `early_stopping`; Adam is scikit-learn's (eps added to
    the square root of the uncorrected second moment: `convention="sklearn"` in `scratch.optim`) and SGD
    takes its steps; `random_state` seeds a fresh RandomState each call, which splits off the validation set
    (stratified for one or two classes only) and shuffles as MLPClassifier does.

    Starting from given weights: assign `coefs_` (n_in x n_out per layer) and `intercepts_`, then `fit`
    with `warm_start=True` (or call `partial_fit`); they are copied, in `dtype`, and trained. From the same
    weights and `random_state`, in float64, the two estimators end within 1e-10
    (tests/scratch/test_sklearn_twin.py, test_sklearn_twin_more.py: every activation and schedule;
    test_sklearn_twin_lbfgs.py: L-BFGS, every evaluation alike to 1e-9 over 25 iterations;
    test_sklearn_twin_weights.py: `sample_weight`, weighing loss, gradient and validation score as sklearn).

    Every difference from MLPClassifier / MLPRegressor (the same list is in docs/reference.md; scikit-learn's
    own test_mlp.py runs on both estimators, tests/scratch/test_sklearn_own_tests.py, and those it does not
    pass are listed there with one of these reasons):

    - Deliberate: He initialisation (normal, std sqrt(2/n_in), zero biases) for every activation instead of
      Glorot uniform, so a cold start differs and draws `random_state` differently.
    - Deliberate: float32 by default whatever X's dtype (`dtype='float64'` for exactness): the fitted weights
      are float32 for float64 X too; X beyond float32's range is refused (with the ValueError MLPClassifier
      raises once such X has made its weights non-finite); and where fit and partial_fit shuffle one batch in
      other orders, their float32 sums part in the last bits (2e-5 relative after 100 steps; 2e-13 in float64).
    - Deliberate: ScratchClassifier's default `hidden_layer_sizes` is (256, 128) (MLPClassifier's is
      (100,)); ScratchRegressor keeps (100,).
    - Deliberate: the log loss from the logits (MLPClassifier clips probabilities at 1 machine eps); so where
      an L-BFGS line-search trial saturates a probability the two see other losses and their searches part.
    - Deliberate: a warm-started fit with early stopping restores the best weights it saw, where
      MLPClassifier, whose saved best weights are by then the live ones, keeps the last if the validation
      score never improved.
    - Not there: MLPClassifier's private methods and attributes (`_loss_grad_lbfgs`, `_coef_velocity`, ...).
    """

    def __init__(self, hidden_layer_sizes=(256, 128), activation="relu", solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate="constant", learning_rate_init=1e-3, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dtype="float32"):
        self.activation = activation
        self.learning_rate = learning_rate
        self.power_t = power_t
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
        self.max_fun = max_fun
        self.dtype = dtype

    # -- scikit-learn API -------------------------------------------------------------------
    @available_if(lambda self: self.solver != "lbfgs")  # as MLPClassifier: L-BFGS has no one-pass update
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One pass over (X, y), weighted by `sample_weight`. `classes` is required on the first call, and later
        ones must repeat it."""
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None and hasattr(self, "classes_") and not self._multilabel() \
                and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to partial_fit, was: "
                             f"{self.classes_!r}")
        return self._fit(X, y, classes=classes, incremental=True, sample_weight=sample_weight)

    def predict_proba(self, X):
        """Class probabilities (n_samples x n_classes; two columns for two classes). Multilabel: each label's
        own probability (n_samples x n_labels, rows need not sum to 1)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float64)
        # Predictions in float64 from the trained weights, whatever dtype trained them: a float32 matrix
        # product can differ in its last bit with a row's position in the batch (BLAS kernels block rows),
        # and a prediction must not depend on which other rows came with it.
        if self._multilabel():
            # expit of the logits, as MLPClassifier: exact in the far tail too (a label's probability at a
            # logit of -50 is 2e-22, not the 0 that the training sigmoid's 1 + tanh(z/2) rounds it to); above a
            # logit of 37 it rounds to 1, held at the float just below: no label is certain (nor its log 1-p -inf)
            logits = outputs(Network(self.coefs_, self.intercepts_, np.float64, self.activation, "identity"), X)
            return np.minimum(expit(logits, out=logits), 1.0 - np.finfo(np.float64).epsneg, out=logits)
        return predict_proba(Network(self.coefs_, self.intercepts_, np.float64, self.activation), X)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):  # a probability of exactly 0 is log 0 = -inf, as in sklearn
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Class labels; multilabel: the 0/1 indicator matrix, a label on where its probability is > 0.5."""
        P = self.predict_proba(X)
        if self._multilabel():
            return (P > 0.5).astype(int)  # as LabelBinarizer.inverse_transform
        if len(self.classes_) == 1:  # trained to say "not the other class" of a class that never came
            return np.full(len(P), self.classes_[0])
        return self.classes_[np.argmax(P, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True  # a label-indicator y, one sigmoid unit per label
        return tags

    _y_checks = dict(y_numeric=False, multi_output=True)

    def _multilabel(self) -> bool:
        """Fitted to a label-indicator matrix: a sigmoid output unit per label (as sklearn tells it apart)."""
        return self.out_activation_ == "logistic" and self.n_outputs_ > 1

    def _targets(self, y, classes, first_pass: bool):
        """Class indices into classes_; one sigmoid unit for one or two classes, a softmax for more. A 0/1
        label-indicator matrix (multilabel): itself as the targets, one sigmoid unit per label, classes_ its
        column numbers, as MLPClassifier's."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if type_of_target(y) == "multilabel-indicator":
            if not (first_pass or not hasattr(self, "classes_")) and y.shape[1] != len(self.classes_):
                raise ValueError(f"y has {y.shape[1]} labels; the network was fitted for {len(self.classes_)}.")
            self.classes_ = np.arange(y.shape[1])
            return y.astype(self._np_dtype()), y.shape[1], "logistic"
        self._set_classes(y, classes, first_pass)
        k = len(self.classes_)
        return np.searchsorted(self.classes_, y).astype(np.int64), 1 if k <= 2 else k, \
            "logistic" if k <= 2 else "softmax"

    def _stratify(self, y_index):
        """Stratified for one or two classes only (sklearn stratifies when its label-indicator matrix has one
        column, and so not for more classes). The strata are that column's booleans, as there, so a class
        too small to split is named 'True' in the error alike."""
        if y_index.ndim == 2:  # multilabel: not stratified, as there
            return None
        return (y_index == 1)[:, None] if len(self.classes_) <= 2 else None

    def _validation_score(self, net: Network, X_val, y_val, w_val=None) -> float:
        """Accuracy (weighted by w_val), as MLPClassifier's `score`; multilabel: of whole label sets."""
        if y_val.ndim == 2:
            hits = ((outputs(net, X_val) > 0.5) == y_val).all(axis=1)
            return float(np.average(hits, weights=w_val))
        P = predict_proba(net, X_val)
        return float(np.average((P.argmax(axis=1) if len(self.classes_) > 1 else 0) == y_val, weights=w_val))

    def _set_classes(self, y, classes, first_pass: bool) -> None:
        if first_pass or not hasattr(self, "classes_"):
            # One class is fitted as MLPClassifier fits it: one sigmoid unit trained towards 0 on every sample.
            self.classes_ = np.unique(y if classes is None else classes)
        elif self.warm_start and not np.array_equal(np.unique(y), self.classes_):
            raise ValueError(f"warm_start can only be used where `y` has the same classes as in the previous "
                             f"call to fit. Previously got {self.classes_}, `y` has {np.unique(y)}")
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"y holds labels not in classes_: {unknown[:5]!r}.")

def _check_finite(net: Network) -> None:
    if not np.isfinite(net.theta).all():
        raise ValueError("Solver produced non-finite parameter weights. The input data may contain large values "
                         "and need to be preprocessed (scale X, or lower learning_rate_init).")


def _in_dtype(X, dtype: np.dtype):
    """X (validated, float32 or float64, dense or CSR) in the training dtype. Values beyond float32's range
    cannot train in float32 (they are infinite there): refused with MLPClassifier's message for weights they
    would make non-finite, and the fix."""
    values = X.data if hasattr(X, "tocsr") else X
    if dtype == np.float32 and values.dtype == np.float64 and values.size \
            and np.abs(values).max() > np.finfo(np.float32).max:
        raise ValueError("Solver produced non-finite parameter weights. The input data may contain large values "
                         "and need to be preprocessed (X holds values beyond float32's range: scale X, or train "
                         "with dtype='float64').")
    return X.astype(dtype, copy=False)


class _SklearnOrder:
    """MLPClassifier's sample order, for `EpochRunner.run`: each epoch shuffles the previous epoch's order
    (`sklearn.utils.shuffle` of the index) with the call's RandomState."""

    def __init__(self, rs: np.random.RandomState, n: int):
        self.rs, self.order = rs, np.arange(n)

    def permutation(self, n: int) -> np.ndarray:
        self.order = self.order[self.rs.permutation(n)]
        return self.order
