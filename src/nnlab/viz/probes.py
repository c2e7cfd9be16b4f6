"""What a trained model does to inputs, computed with autograd and returned as arrays for the figures.

Each function takes a PyTorch module in evaluation mode (the NumPy network gets there through
`nnlab.models.from_scratch`) and inputs shaped as the module expects them; none changes the module.
Gradients are taken with `torch.autograd.grad`, so no parameter's `.grad` is touched.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _tensor(X: np.ndarray, input_shape: tuple[int, ...]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).reshape(len(X), *input_shape)


def saliency(model: nn.Module, X: np.ndarray, target: np.ndarray, input_shape: tuple[int, ...],
             samples: int = 16, noise: float = 0.15, seed: int = 0) -> np.ndarray:
    """|d s / d x| per input (the largest over channels for an image), for the target class's score
    s = logit_target - mean of the logits: the pixels whose change would most move that class against
    the others. (Not the bare logit: the binary network's twin has a constant logit for class 0.)
    The gradient is averaged over `samples` copies of each input with Gaussian noise of `noise` times its
    value range (SmoothGrad): a plain gradient of a ReLU network is speckled by which units happen to be on."""
    x = _tensor(X, input_shape)
    spread = (x.flatten(1).amax(1) - x.flatten(1).amin(1)).clamp_min(1e-6) * noise
    gen = torch.Generator().manual_seed(seed)
    target = torch.as_tensor(target, dtype=torch.long)[:, None]
    total = torch.zeros_like(x)
    for _ in range(samples):
        shake = torch.randn(x.shape, generator=gen) * spread.view(-1, *[1] * (x.dim() - 1))
        noisy = (x + shake).requires_grad_(True)
        logits = model(noisy)
        score = (logits.gather(1, target)[:, 0] - logits.mean(1)).sum()
        (grad,) = torch.autograd.grad(score, noisy)
        total += grad
    grad = (total / samples).abs()
    return (grad.amax(dim=1) if grad.dim() == 4 else grad).numpy()


def relu_outputs(model: nn.Module, X: np.ndarray, input_shape: tuple[int, ...]) -> list[np.ndarray]:
    """The output of every ReLU in forward order, for the inputs X (one array per ReLU)."""
    outputs, hooks = [], [m.register_forward_hook(lambda mod, inp, out: outputs.append(out.detach().clone()))
                          for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(_tensor(X, input_shape))
    finally:
        for h in hooks:
            h.remove()
    return [o.numpy() for o in outputs]


def feature_maps(model: nn.Module, image: np.ndarray, input_shape: tuple[int, int, int]) -> list[np.ndarray]:
    """For one image, each conv block's maps after its ReLU: (channels x h x w) per block."""
    return [o[0] for o in relu_outputs(model, image[None], input_shape) if o.ndim == 4]


def first_hidden_activations(model: nn.Module, X: np.ndarray, input_shape: tuple[int, ...],
                             batch_size: int = 500) -> np.ndarray:
    """(samples x units): the first hidden layer's output; a conv layer's channels are averaged over space.
    In batches, keeping only those means: a whole test set's conv maps would take gigabytes."""
    first = next(m for m in model.modules() if isinstance(m, nn.ReLU))
    means: list[torch.Tensor] = []
    hook = first.register_forward_hook(lambda mod, inp, out: means.append(out.detach().flatten(2).mean(2)
                                                                           if out.dim() > 2 else out.detach()))
    try:
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                model(_tensor(X[start:start + batch_size], input_shape))
    finally:
        hook.remove()
    return torch.cat(means).numpy()


def optimise_class_inputs(model: nn.Module, input_shape: tuple[int, ...], n_classes: int, steps: int = 200,
                          lr: float = 0.05, l2: float = 1e-3, seed: int = 0) -> np.ndarray:
    """For each class, an input in [0, 1] that the model scores highly as that class: gradient ascent
    on  logit_k(x) - l2·‖x‖²  from a grey image. A random shift of up to one pixel before each step
    and a light blur every 10 steps keep the result from turning into high-frequency noise that only
    this network reads as the class (the usual regularisers of activation maximisation).
    Returns (n_classes x *input_shape)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.full((n_classes, *input_shape), 0.5, requires_grad=True)
    opt = torch.optim.Adam([x], lr=lr)
    target = torch.arange(n_classes)
    for step in range(steps):
        dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=gen))
        shifted = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
        score = model(shifted).gather(1, target[:, None]).sum() - l2 * (x ** 2).sum()
        (grad,) = torch.autograd.grad(-score, x)
        opt.zero_grad()
        x.grad = grad
        opt.step()
        with torch.no_grad():
            if step % 10 == 9:
                channels = x.shape[1]
                kernel = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=x.dtype) / 16
                x.copy_(F.conv2d(x, kernel.expand(channels, 1, 3, 3), padding=1, groups=channels))
            x.clamp_(0, 1)
    return x.detach().numpy()
