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


def _class_score(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """logit_target - mean of the logits, per sample: the class against the others. (Not the bare logit:
    the binary network's twin has a constant logit for class 0.)"""
    return logits.gather(1, target[:, None])[:, 0] - logits.mean(1)


def integrated_gradients(model: nn.Module, X: np.ndarray, target: np.ndarray, baseline: np.ndarray,
                         input_shape: tuple[int, ...], steps: int = 48, tolerance: float = 0.01,
                         max_steps: int = 1536) -> np.ndarray:
    """Integrated gradients (Sundararajan et al., 2017) of each target class's score against the others,
    from `baseline` (one input, e.g. a black image) to each x:  (x - x0) * mean over the path of ds/dx,
    the mean taken at midpoints of the path. The attributions add up to s(x) - s(x0) up to the midpoint
    rule's error, so each pixel's share of the score is read off directly; a pixel equal to the baseline
    gets none. An image starts with `steps` midpoints and gets twice as many until its attributions add up
    to its score's rise within `tolerance` of that rise (48 were measured to miss a trained CNN's "1", whose
    score barely rises from black, by 14%), up to `max_steps`. Returns (samples x *input_shape)."""
    x = _tensor(X, input_shape)
    x0 = _tensor(baseline[None], input_shape)
    target = torch.as_tensor(target, dtype=torch.long)
    rise = class_scores(model, X, target.numpy(), input_shape) - class_scores(
        model, np.repeat(baseline[None], len(X), axis=0), target.numpy(), input_shape)
    total = torch.zeros_like(x)
    for i in range(len(x)):  # one image's whole path in one batch
        n = steps
        while True:
            alphas = (torch.arange(n, dtype=torch.float32) + 0.5) / n
            path = (x0 + alphas.view(-1, *[1] * (x.dim() - 1)) * (x[i:i + 1] - x0)).requires_grad_(True)
            score = _class_score(model(path), target[i].expand(n)).sum()
            (grad,) = torch.autograd.grad(score, path)
            total[i] = grad.mean(0)
            added = float(((x[i] - x0[0]) * total[i]).sum())
            # (a small absolute floor: a rise of nearly nothing need not be matched to 1% of nearly nothing)
            if abs(added - rise[i]) <= tolerance * abs(rise[i]) + 1e-6 or 2 * n > max_steps:
                break
            n *= 2
    return ((x - x0) * total).numpy()


def class_scores(model: nn.Module, X: np.ndarray, target: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Each input's score for its target class against the others (what `integrated_gradients` explains)."""
    with torch.no_grad():
        return _class_score(model(_tensor(X, input_shape)), torch.as_tensor(target, dtype=torch.long)).numpy()


def _through(model: nn.Module, module: nn.Module, hook, X: np.ndarray, input_shape: tuple[int, ...],
             batch_size: int) -> None:
    """Run X through the model in batches with `hook` on `module`'s output (the hook keeps what it needs:
    a whole test set's maps at once would take gigabytes)."""
    handle = module.register_forward_hook(hook)
    try:
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                model(_tensor(X[start:start + batch_size], input_shape))
    finally:
        handle.remove()


def hidden_layers(model: nn.Module) -> list[nn.Module]:
    """The modules whose outputs are the hidden layers' activations, in forward order: the ReLU modules;
    for a model that calls F.relu in its forward (no ReLU modules), every conv and dense layer but the last,
    whose outputs the probes pass through max(0, .) themselves."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    return relus or [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))][:-1]


def _activation(module: nn.Module, output: torch.Tensor) -> torch.Tensor:
    out = output.detach()
    return out if isinstance(module, nn.ReLU) else out.clamp_min(0)


def relu_outputs(model: nn.Module, X: np.ndarray, input_shape: tuple[int, ...]) -> list[np.ndarray]:
    """Every hidden layer's activation in forward order, for the inputs X (one array per layer)."""
    outputs: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: outputs.append(_activation(mod, out).clone()))
             for m in hidden_layers(model)]
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
    first = hidden_layers(model)[0]
    means: list[torch.Tensor] = []

    def record(mod, inp, out):
        out = _activation(mod, out)
        means.append(out.flatten(2).mean(2) if out.dim() > 2 else out)

    _through(model, first, record, X, input_shape, batch_size)
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


class _Stop(Exception):
    """Raised by a hook to end a forward pass once the layer of interest has run."""


def channel_layer(model: nn.Module, conv_index: int) -> nn.Module:
    """The module whose output is the `conv_index`-th conv layer's channels as the pictures show them: the
    ReLU after the conv (before the next conv) if the model has ReLU modules, else the conv itself. Its map
    may be pooled already (nnlab's CNN pools before batch norm and ReLU)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    after = list(model.modules())
    after = after[after.index(convs[conv_index - 1]):]
    nxt = next((m for m in after[1:] if isinstance(m, nn.Conv2d)), None)
    after = after[:after.index(nxt)] if nxt is not None else after
    return next((m for m in after if isinstance(m, nn.ReLU)), convs[conv_index - 1])


def receptive_field(model: nn.Module, conv_index: int, channels: int = 1, side: int = 64, samples: int = 32,
                    seed: int = 0, image_hw: tuple[int, int] | None = None) -> tuple[int, int, float]:
    """(size, jump, start) of the units of the `conv_index`-th Conv2d (1-based; of its `channel_layer`) in
    input pixels: unit i of that map sees rows start + i*jump - (size-1)/2 to start + i*jump + (size-1)/2.

    Measured, not read off the modules (a model may pool with F.max_pool2d in its forward): the pixels
    whose change moves a unit are where its gradient is non-zero. A max-pool or a ReLU passes gradient
    through some positions only, so the union over `samples` random inputs is taken; a large input
    (`side` pixels, which the layers before any dense layer accept) keeps the field clear of the border. A model
    that takes its data's own size alone (a `forward` that begins `x.reshape(-1, 1, 28, 28)`, common in course
    code) is measured on inputs of that size, `image_hw`: a field that reaches the border is then cut by it."""
    layer = channel_layer(model, conv_index)  # where strongest_positions reads the map (after a pool, if any)
    caught: list[torch.Tensor] = []

    def stop(module, inputs, output):
        caught.append(output)
        raise _Stop

    hook = layer.register_forward_hook(stop)
    sizes = [(side, side)] + ([tuple(image_hw)] if image_hw is not None else [])
    try:
        for h, w in sizes:
            x = torch.randn(samples, channels, h, w, generator=torch.Generator().manual_seed(seed)).requires_grad_(True)
            try:
                model(x)
            except _Stop:
                break
            except Exception:  # noqa: BLE001 (any error means: not this input size)
                if (h, w) == sizes[-1]:
                    raise
    finally:
        hook.remove()
    out = caught[0]
    centre = out.shape[-1] // 2

    def field(i: int) -> tuple[int, int]:  # first and last input row that unit (i, i) sees
        (grad,) = torch.autograd.grad(out[:, :, i, i].sum(), x, retain_graph=True)
        rows = torch.nonzero(grad.abs().sum(dim=(0, 1, 3)) > 0).ravel()
        return int(rows.min()), int(rows.max())

    top, bottom = field(centre)
    jump = field(centre + 1)[0] - top if centre + 1 < out.shape[-1] else 1
    size = bottom - top + 1
    return size, jump, top + (size - 1) / 2 - centre * jump


def strongest_positions(model: nn.Module, X: np.ndarray, input_shape: tuple[int, ...], conv_index: int,
                        channels: list[int], k: int, batch_size: int = 500) -> np.ndarray:
    """For each of `channels` of the `conv_index`-th conv layer (after the ReLU that follows it, if any):
    the k inputs where it fires most, each at its strongest position, as (channels x k x [image, row, col])."""
    layer = channel_layer(model, conv_index)
    peaks, where, width = [], [], []

    def record(module, inputs, output):
        width.append(output.shape[-1])
        flat = output.detach()[:, channels].flatten(2)  # n x channels x positions
        value, index = flat.max(2)
        peaks.append(value)
        where.append(index)

    _through(model, layer, record, X, input_shape, batch_size)
    value, index = torch.cat(peaks), torch.cat(where)        # samples x channels
    width = width[0]                                          # of the map: a flat position is row * width + col
    top = torch.argsort(-value, dim=0, stable=True)[:k].T     # channels x k
    position = torch.gather(index.T, 1, top)
    return torch.stack([top, position // width, position % width], dim=2).numpy()
