import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from nnlab import ScratchRegressor

# As scikit-learn runs this check on MLPRegressor (its PER_ESTIMATOR_CHECK_PARAMS).
# The same for sparse data, which the check's dense and sparse variants share.
CHECK_PARAMS = {f"check_sample_weight_equivalence_on_{data}_data": dict(solver="sgd", tol=1e-2, random_state=42)
                for data in ("dense", "sparse")}


@parametrize_with_checks([ScratchRegressor()])
def test_scikit_learn_estimator_contract(estimator, check):
    estimator.set_params(**CHECK_PARAMS.get(getattr(check, "func", check).__name__, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
