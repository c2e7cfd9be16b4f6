"""nnlab: train small neural networks exactly and fast, and see what they learned."""

from nnlab.errors import NNLabError

__version__ = "0.1.0"
__all__ = ["NNLabError", "Recorder", "Run", "ScratchClassifier", "ScratchRegressor", "TrainConfig",
           "__version__", "doctor", "explain", "load_run", "overfit_batch",
           "report", "train"]

# Each pulls in heavy libraries (scikit-learn, PyTorch, matplotlib): imported only when asked for.
_LAZY = {
    "ScratchClassifier": ("nnlab.scratch.estimator", "ScratchClassifier"),
    "ScratchRegressor": ("nnlab.scratch.regressor", "ScratchRegressor"),
    "TrainConfig": ("nnlab.training.config", "TrainConfig"),
    "Recorder": ("nnlab.training.recorder", "Recorder"),
    "report": ("nnlab.viz.any_model", "report"),
    "Run": ("nnlab.api", "Run"),
    "train": ("nnlab.api", "train"),
    "load_run": ("nnlab.api", "load_run"),
    "explain": ("nnlab.api", "explain"),
    "doctor": ("nnlab.api", "doctor"),
    "overfit_batch": ("nnlab.api", "overfit_batch"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'nnlab' has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)
