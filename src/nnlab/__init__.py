"""nnlab: train small neural networks exactly and fast, and see what they learned."""

from nnlab.errors import NNLabError

__version__ = "0.1.0"
__all__ = ["NNLabError", "Recorder", "ScratchClassifier", "__version__", "report"]


def __getattr__(name: str):
    # Each pulls in heavy libraries (scikit-learn, PyTorch, matplotlib): imported only when asked for.
    if name == "ScratchClassifier":
        from nnlab.scratch.estimator import ScratchClassifier

        return ScratchClassifier
    if name == "Recorder":
        from nnlab.training.recorder import Recorder

        return Recorder
    if name == "report":
        from nnlab.viz.any_model import report

        return report
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")
