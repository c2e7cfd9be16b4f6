"""The PyTorch networks: an MLP and a CNN that output logits (softmax + log loss is in the trainer),
and the bridge between the MLP and the NumPy network of `nnlab.scratch`."""

from nnlab.models.bridge import from_scratch, to_scratch
from nnlab.models.nets import CNN, MLP, build_model

__all__ = ["MLP", "CNN", "build_model", "to_scratch", "from_scratch"]
