"""The PyTorch engine: one training loop for the MLP and the CNN.

The data sit in memory as tensors and each batch is sliced out with `index_select`: no DataLoader,
no per-sample Python. Shuffling and augmentation draw from one seeded generator whose state is
checkpointed with the weights, so the same seed on the same device and thread count gives the same run,
resumed or not.
Inside a step nothing waits for the device: loss and accuracy are summed as tensors and read once
per progress update.
"""

from __future__ import annotations

import functools
import math
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nnlab.errors import NNLabError
from nnlab.models import build_model
from nnlab.models.inspect import layer_weights, probe, weighted_layers
from nnlab.training import distributed
from nnlab.training.config import MODELS, TorchConfig, recipe_in_words
from nnlab.training.schedules import learning_rate

PROGRESS_EVERY = 25  # batches between progress updates (each one reads the running sums)
SHIFTS_FROM_EPOCHS = 10  # shorter runs underfit: random shifts only slow them down
# Batch norm's running statistics (what evaluation normalises with) are a moving average of momentum 0.1 that
# starts at mean 0, variance 1: after 15 steps (one epoch of 5,000 digits at batch 256) they were far from the
# trained layers' own, and the CNN scored 10.2% on the test set (chance) with 78% on its training batches.
# Until a run has taken this many steps, each epoch ends by measuring them afresh over the training data
# (94.9% for that epoch); later the moving average has caught up, and a pass over the data would cost more.
PRECISE_BN_STEPS = 300


@contextmanager
def deterministic(device: torch.device):
    """On a GPU, PyTorch's deterministic kernels where it has them, for one epoch, and the caller's settings
    back afterwards. It has none for max-pooling's backward (the CNN), which uses atomic adds: CNN runs on CUDA
    may still differ in their last bits (docs/reference.md). On the CPU nothing changes: its kernels are."""
    if device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    before = cudnn.deterministic, cudnn.benchmark, torch.are_deterministic_algorithms_enabled(), \
        torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn.deterministic, cudnn.benchmark = True, False
    torch.use_deterministic_algorithms(True, warn_only=True)  # warn, not fail, where no such kernel exists
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = before[0], before[1]
        torch.use_deterministic_algorithms(before[2], warn_only=before[3])


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NNLabError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu or auto")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise NNLabError("--device mps: Apple's MPS is not available here; use --device cpu or auto")
    return torch.device(name)


def resolve_precision(name: str, device: torch.device) -> str:
    """`auto`: bf16 autocast where the hardware does bf16 natively (measured 1.8x faster for the CNN on
    an AVX-512 CPU, see README), else fp32. Weights and the loss stay fp32 either way."""
    if name != "auto":
        return name
    if device.type == "cpu":
        return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "fp32"


def shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Move each image by up to `max_shift` pixels in each direction (zero fill), vectorised."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n, 1), generator=gen).to(x.device)
    dx = torch.randint(0, 2 * max_shift + 1, (n, 1), generator=gen).to(x.device)
    rows = (torch.arange(h, device=x.device)[None, :] + dy)[:, None, :, None]   # n,1,h,1
    cols = (torch.arange(w, device=x.device)[None, :] + dx)[:, None, None, :]   # n,1,1,w
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def hflip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images left-right."""
    flip = (torch.rand(x.shape[0], generator=gen) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def _adamw(params, cfg: TorchConfig, device: torch.device) -> torch.optim.Optimizer:
    # fused: one kernel updates every parameter (measured faster than the per-tensor default)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=device.type in ("cpu", "cuda"))


def _sgd(params, cfg: TorchConfig, device: torch.device) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _momentum(params, cfg: TorchConfig, device: torch.device) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                           weight_decay=cfg.weight_decay)


# --optimizer NAME for the PyTorch models, the names of nnlab.scratch.optim's table (TrainConfig checks the name;
# AdamW: weight decay decoupled from the gradient, as PyTorch does it)
OPTIMIZERS = {"sgd": _sgd, "momentum": _momentum, "adam": _adamw}


def _flushing() -> bool:
    """Whether this thread flushes subnormal floats to zero (a subnormal times 1 is then 0)."""
    return float.fromhex("0x1p-1060") * 1.0 == 0.0


def fast_floats(method):
    """Run an engine's arithmetic with subnormal floats flushed to zero on the CPU (they slow it ~25x; flushing
    costs nothing), and put the caller's setting back after: the flag is the whole thread's, and code that calls
    nnlab (NumPy, hypothesis, a user's own) keeps IEEE subnormals."""

    @functools.wraps(method)
    def flushed(self, *args, **kwargs):
        if self.device.type != "cpu":
            return method(self, *args, **kwargs)
        was = _flushing()
        torch.set_flush_denormal(True)
        try:
            return method(self, *args, **kwargs)
        finally:
            torch.set_flush_denormal(was)

    return flushed


class TorchEngine:
    """MLP or CNN with softmax + log loss (cross-entropy), AdamW (PyTorch's) or SGD with momentum."""

    # PyTorch splits a convolution's weight gradient and its sums between threads: another count, other bits
    thread_invariant = False

    def __init__(self, cfg: TorchConfig, n_features: int, n_classes: int, image_shape=None,
                 facts: dict[str, Any] | None = None):
        self.cfg, self.kind, self.spec = cfg, cfg.model, MODELS[cfg.model]
        self.device = pick_device(cfg.device)
        self.precision = resolve_precision(cfg.precision, self.device)
        self.image_shape = tuple(image_shape) if image_shape else None
        torch.manual_seed(cfg.seed)  # weights and dropout draw from the global generator
        self.gen = torch.Generator().manual_seed(cfg.seed)  # shuffling and augmentation
        model = build_model(cfg, n_features, self.image_shape, n_classes).to(self.device)
        self.channels_last = self.spec.needs_images and self.device.type == "cpu"
        if self.channels_last:  # measured 1.3-1.7x faster for convolutions on this kind of CPU
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.dist = distributed.context()
        self.trained = model  # becomes the DDP wrapper in prepare(): only training needs it
        self.optimizer = OPTIMIZERS[cfg.optimizer](model.parameters(), cfg, self.device)
        self.step = 0
        # Averaging the predictions of an image and its mirror: only for models trained on mirrors
        # (measured +0.15 to +0.25 points for the CNN on Fashion-MNIST). Set by prepare(), kept in the run's facts.
        self.mirror_average = bool((facts or {}).get("test_time_flip", False))

    # -- data -----------------------------------------------------------------------------
    def to_input(self, X: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(self.device)
        if self.spec.needs_images:
            x = x.reshape(len(X), *self.image_shape)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
        return x

    def prepare(self, X: np.ndarray, y: np.ndarray, flip_ok: bool) -> None:
        """Hold the training data on the device, ready to train (DDP wrapping is a collective: every
        rank does it here together, never when a single rank loads a run to draw or predict)."""
        self.trained = self.dist.wrap(self.model)
        self.X, self.y = self.to_input(X), torch.from_numpy(y).to(self.device)
        augment = self.cfg.augment and self.image_shape is not None
        # The CNN gets shifts of up to ~8% of the image side (2 pixels on 28x28, 1 on 8x8), in runs long enough
        # to overfit without them: in 4 epochs they cost the CNN 0.9 points on Fashion-MNIST (docs/benchmarks.md).
        # The MLP gets mirror images only: shifts cost it 2.5 points (it has no translation invariance).
        shift_ok = augment and self.spec.shifts and self.cfg.epochs >= SHIFTS_FROM_EPOCHS
        self.max_shift = max(1, round(0.08 * min(self.image_shape[1:]))) if shift_ok else 0
        self.flip = augment and flip_ok
        self.mirror_average = self.flip

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        rows = not self.spec.needs_images
        if rows:
            x = x.reshape(len(x), *self.image_shape)
        if self.max_shift:
            x = shift(x, self.max_shift, self.gen)
        if self.flip:
            x = hflip(x, self.gen)
        if rows:
            return x.reshape(len(x), -1)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    # -- training -------------------------------------------------------------------------
    @fast_floats
    def train_epoch(self, epoch: int, epochs: int, on_batch=None) -> tuple[float, float]:
        with deterministic(self.device):
            return self._train_epoch(epochs, on_batch)

    def _train_epoch(self, epochs: int, on_batch) -> tuple[float, float]:
        cfg, n = self.cfg, len(self.y)
        order = torch.randperm(n, generator=self.gen).to(self.device)
        order = self.dist.shard(order)  # each rank its share of the same permutation
        bs = max(1, cfg.batch_size // self.dist.world)
        steps = math.ceil(len(order) / bs)
        if steps > 1 and len(order) % bs == 1:
            steps -= 1  # batch norm cannot train on a batch of one: the last sample joins the batch before
        total_steps = steps * epochs
        self.trained.train()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = reported = 0
        for i in range(steps):
            idx = order[i * bs:(i + 1) * bs if i < steps - 1 else None]
            xb, yb = self.X.index_select(0, idx), self.y.index_select(0, idx)
            if self.max_shift or self.flip:
                xb = self.augment(xb)
            lr = learning_rate(cfg.schedule, cfg.lr, self.step / total_steps)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                logits = self.trained(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=cfg.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            # The curves report the log loss itself, the quantity the validation loss measures: with label
            # smoothing the loss trained on is larger by design and would sit apart from it.
            data_loss = loss.detach() if not cfg.label_smoothing else F.cross_entropy(logits.detach().float(), yb)
            loss_sum += data_loss * len(idx)
            correct += (logits.argmax(1) == yb).sum()
            seen += len(idx)
            if on_batch is not None and (i % PROGRESS_EVERY == PROGRESS_EVERY - 1 or i == steps - 1):
                on_batch((seen - reported) * self.dist.world, loss_sum.item() / seen, correct.item() / seen)
                reported = seen
        self.dist.average_buffers(self.model)
        if self.step < PRECISE_BN_STEPS:
            self.measure_batch_norm()
        totals = self.dist.sum(torch.stack([loss_sum, correct.to(loss_sum.dtype),
                                            torch.tensor(float(seen), device=self.device)]))
        return float(totals[0] / totals[2]), float(totals[1] / totals[2])

    @fast_floats
    def train_batch(self, X: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One optimiser step on the batch (X, y) at rate `lr` (the learning-rate finder's step), as
        train_epoch takes each of its steps; returns the batch's log loss before the step."""
        with deterministic(self.device):
            self.trained.train()
            xb, yb = self.to_input(X), torch.from_numpy(np.asarray(y)).to(self.device)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                logits = self.trained(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=self.cfg.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            return float(F.cross_entropy(logits.detach().float(), yb))

    @torch.no_grad()
    @fast_floats
    def measure_batch_norm(self, batch_size: int = 1024) -> None:
        """Every batch norm's running mean and variance, measured over the training data with today's weights
        (the plain average over the batches, momentum None), as evaluation will use them. Only the batch norms
        run in training mode: dropout stays off, so no random number is drawn and a resumed run stays the same.
        Every rank holds all the training data and the same weights, so all measure the same statistics."""
        norms = [m for m in self.model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        if not norms or len(self.y) < 2:
            return
        self.model.eval()
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        n = len(self.y)
        ends = list(range(batch_size, n, batch_size))
        if ends and n - ends[-1] < 2:
            ends.pop()  # batch norm cannot measure a batch of one: the last sample joins the batch before
        for start, end in zip([0, *ends], [*ends, n]):
            self.model(self.X[start:end])
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        self.model.eval()

    def epoch_lr(self, epoch: int, epochs: int) -> float:
        """The learning rate in the middle of `epoch` (it changes every step): what the health check
        judges the epoch's update ratio against."""
        return learning_rate(self.cfg.schedule, self.cfg.lr, (epoch + 0.5) / epochs)

    def describe(self) -> dict[str, str]:
        """What `auto` settings became on this machine: the facts of the run (RunRecord.facts)."""
        return {"device_used": str(self.device), "precision_used": self.precision,
                "test_time_flip": self.mirror_average, "augment_used": self.augmentation(),
                "recipe_used": recipe_in_words(self.cfg)}  # (the recipe in words, and what was given beside it)

    def augmentation(self) -> str:
        """What --augment became for this run and data, in words."""
        kinds = ([f"shifts of up to {self.max_shift} px"] if getattr(self, "max_shift", 0) else []) + (
            ["mirror images"] if getattr(self, "flip", False) else [])
        return " and ".join(kinds) or "none"

    @torch.no_grad()
    @fast_floats
    def predict_proba(self, X: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        self.model.eval()
        out = []
        for start in range(0, len(X), batch_size):
            x = self.to_input(X[start:start + batch_size])
            P = torch.softmax(self.model(x).float(), dim=1)
            if self.mirror_average:
                mirrored = x.reshape(len(x), *self.image_shape).flip(3).reshape(x.shape)
                P = (P + torch.softmax(self.model(mirrored).float(), dim=1)) / 2
            out.append(P.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    # -- inspection -----------------------------------------------------------------------
    def weighted_layers(self) -> dict[str, torch.nn.Module]:
        return weighted_layers(self.model)

    def layer_weights(self) -> dict[str, np.ndarray]:
        return layer_weights(self.model)

    @fast_floats
    def probe(self, X: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float | None]]:
        return probe(self.model, self.to_input(X), torch.from_numpy(y).to(self.device),
                     self.cfg.label_smoothing)

    def torch_model(self) -> torch.nn.Module:
        return self.model.eval()

    # -- state ----------------------------------------------------------------------------
    def weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().contiguous().numpy() for k, v in self.model.state_dict().items()}

    def load_weights(self, tensors: dict[str, np.ndarray]) -> None:
        expected = self.model.state_dict()
        for name, value in expected.items():
            # safetensors stores a 0-d scalar (batch norm's counter) with shape (1,)
            if name not in tensors or tensors[name].size != value.numel() or (
                    value.dim() > 0 and tuple(tensors[name].shape) != tuple(value.shape)):
                got = tuple(tensors[name].shape) if name in tensors else "nothing"
                raise NNLabError(f"weights file does not fit the {self.kind}: {name} should be "
                                 f"{tuple(value.shape)}, found {got}")
        self.model.load_state_dict({k: torch.from_numpy(np.array(tensors[k])).reshape(v.shape)
                                    for k, v in expected.items()})

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = dict(self.weights())
        for i, st in self.optimizer.state_dict()["state"].items():
            for key, value in st.items():
                tensors[f"optimizer.{i}.{key}"] = torch.as_tensor(value).detach().cpu().numpy()
        tensors["rng.data"] = self.gen.get_state().numpy()
        tensors["rng.torch"] = torch.get_rng_state().numpy()
        return tensors, {"step": self.step}

    def load_state(self, tensors: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        self.load_weights(tensors)
        opt_state: dict[int, dict[str, torch.Tensor]] = {}
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        for name, value in tensors.items():
            if name.startswith("optimizer."):
                _, i, key = name.split(".", 2)
                t = torch.from_numpy(np.array(value))
                if key == "step":  # a 0-d CPU tensor in torch.optim (safetensors gives it shape (1,))
                    t = t.reshape(())
                else:  # same shape *and memory layout* as the parameter: the fused kernel assumes it
                    t = torch.empty_like(params[int(i)]).copy_(t.reshape(params[int(i)].shape))
                opt_state.setdefault(int(i), {})[key] = t
        self.optimizer.load_state_dict({"state": opt_state,
                                        "param_groups": self.optimizer.state_dict()["param_groups"]})
        self.gen.set_state(torch.from_numpy(np.array(tensors["rng.data"])))
        torch.set_rng_state(torch.from_numpy(np.array(tensors["rng.torch"])))
        self.step = int(state["step"])
