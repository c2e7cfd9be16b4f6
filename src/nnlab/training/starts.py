"""Where the NumPy network's training starts (--start): He's random start, or the same start made confidently
wrong, the start from which the squared error stalls and the log loss recovers (docs/derivation.md).

Each start takes the network as `Network.create` drew it and the training data, and changes the weights in
place; it draws no random numbers, so every start of one seed shares He's draw and the shuffling after it.
"""

from __future__ import annotations

import numpy as np

from nnlab.errors import NNLabError
from nnlab.scratch.network import Network, Workspace, forward

# The smallest logit of the confident-wrong start: sigma(10) = 0.99995, sigma'(10) = A(1 - A) = 4.5e-5. Far from
# float32's limit (sigma rounds to 1 above z ~ 17, where A(1 - A) is exactly 0): the stall is the loss's, not the
# arithmetic's.
MARGIN = 10.0


def he(net: Network, X: np.ndarray, y: np.ndarray) -> None:
    """He's random start as `Network.create` drew it (std sqrt(2/n_in), zero biases): nothing to change."""


def confident_wrong(net: Network, X: np.ndarray, y: np.ndarray) -> None:
    """He's start with the output's bias raised until every training sample's logit is at least MARGIN: the
    network says the second class with sigma(Z) >= 0.99995 for every sample, so it is confidently wrong on each
    sample of the first class. There the squared error's gradient (A - Y)·A(1 - A) carries A(1 - A) <= 4.5e-5,
    while the log loss's A - Y is about 1: the one stalls where the other pulls hardest."""
    if not net.binary:
        raise NNLabError("--start confident-wrong is for two classes (one sigmoid output, where the squared error "
                         "applies); give two classes with --classes, or drop --start")
    if len(X) == 0:
        return
    Z_out = forward(net, X, Workspace.create(net, len(X)))  # Z3 = A2·W3 + b3, every training sample
    net.b[-1][...] += np.float32(MARGIN - float(Z_out.min()))  # b3 + (10 - min Z3): the smallest logit is now 10


# --start NAME (the names in order: he is the default)
STARTS = {"he": he, "confident-wrong": confident_wrong}
