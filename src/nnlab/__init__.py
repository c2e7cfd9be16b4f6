"""nnlab: train small neural networks exactly and fast, and see what they learned."""

from nnlab.errors import NNLabError

__version__ = "0.1.0"
__all__ = ["NNLabError", "ScratchClassifier", "__version__"]


def __getattr__(name: str):
    # The estimator pulls in scikit-learn; import it only when asked for.
    if name == "ScratchClassifier":
        from nnlab.scratch.estimator import ScratchClassifier

        return ScratchClassifier
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")
