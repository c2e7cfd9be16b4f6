"""Sanity checks of a run, in words with their numbers: what a careful colleague would say before you wait for a
run that cannot work, and after one that did not learn. Pure: settings, sizes and measured numbers in, Notes out;
training/job.py prints the doubtful ones and keeps them all in summary.json (`sanity`), the report shows them, and
`nnlab doctor` tries the fixes they name.

    few-steps    before: too few optimiser steps for the schedule
    start-loss   before: the loss before the first update against ln C, an untrained guess of 1/C per class
    input-scale  before: inputs far from the scale networks expect (raw 0-255 pixels, outliers)
    chance       after: training accuracy no better than always saying the largest class
    val-chance   after: validation accuracy at chance while training accuracy is not (memorising)
    loss-flat    after: the training loss barely fell from its start
    test-chance  after: test accuracy at chance while training accuracy is not (the model evaluates unlike it
                 trained: batch norm's running statistics, the issue-26 one-epoch CNN)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from nnlab.training.config import MIN_STEPS, TrainConfig

# Below this many optimiser steps a network has had too few updates to learn (measured: the default CNN on
# mnist-5k, 1 epoch = 15 steps, 10% test accuracy before batch norm's statistics were measured; 2 epochs = 30
# steps, 57-59%; 3 epochs = 45 steps, 96.5%). The defaults give small data at least MIN_STEPS.
FEW_STEPS = 100
# An untrained network should give each class about 1/C: a loss of ln C. He's start scores 1.01 on moons (ln 2 =
# 0.69), PyTorch's MLP 1.48 (batch norm at its initial statistics), the CNN 2.28-2.30 on ten classes (2.30): all
# within a nat. A start a nat or more above ln C gives the true class e times less than chance on average: the
# network starts confident, and must unlearn that before it learns (--start confident-wrong: 11.2 on moons).
START_GAP = 1.0
# Sampling noise of an accuracy measured on n samples is sqrt(p(1 - p) / n): at chance within three of them, and
# at least two points, counts as chance.
CHANCE_SIGMAS, CHANCE_MARGIN = 3.0, 0.02
FLAT = 0.05          # a training loss that fell by under 5% of its start has barely moved
RAW_PIXELS = 1.5     # non-negative whole numbers above this are not 0-1 pixels
OUTLIER = 30.0       # a model input this many units from 0 (standardised features: standard deviations)


@dataclass(frozen=True)
class Note:
    """One sanity check: which (`check`, a key above), whether it passed, and the sentence with its numbers."""

    check: str
    ok: bool
    text: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Note:
        return cls(str(d["check"]), bool(d["ok"]), str(d["text"]))


def steps(cfg: TrainConfig, n_train: int) -> int:
    """The optimiser steps of the whole run: epochs × batches per epoch (the last, smaller batch counted)."""
    return cfg.epochs * math.ceil(n_train / cfg.batch_size)


def before_training(cfg: TrainConfig, n_train: int) -> list[str]:
    """The notes on the settings to print before training starts (empty when they raise no doubt)."""
    note = few_steps(cfg, n_train)
    return [] if note.ok else [f"note: {note.text}"]


def few_steps(cfg: TrainConfig, n_train: int) -> Note:
    total = steps(cfg, n_train)
    if total >= FEW_STEPS:
        return Note("few-steps", True, f"{total:,} optimiser steps ({cfg.epochs} epochs of "
                                       f"{math.ceil(n_train / cfg.batch_size)} batches), at least {FEW_STEPS}.")
    per_epoch = math.ceil(n_train / cfg.batch_size)
    enough = math.ceil(FEW_STEPS / per_epoch)
    return Note("few-steps", False,
                f"{cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''} of {n_train:,} samples at batch "
                f"{cfg.batch_size} {'is' if cfg.epochs == 1 else 'are'} {total} optimiser step"
                f"{'s' if total != 1 else ''}: too few for most networks to learn (expect a weak model); "
                f"give --epochs {enough} or more ({FEW_STEPS} steps), or leave --epochs out (at least "
                f"{MIN_STEPS:,} steps on small data)")


def chance_loss(n_classes: int) -> float:
    """ln C: the log loss of a guess of 1/C per class, whatever the labels (for two classes, a sigmoid at 0.5)."""
    return math.log(n_classes)


def start_loss(loss: float, n_classes: int, n: int, start: str | None = None) -> Note:
    """The loss before the first update (on `n` training samples) against ln C. `start`: the NumPy network's
    --start, None for the PyTorch models (PyTorch's own initialisation)."""
    expected = chance_loss(n_classes)
    said = f"ln {n_classes} = {expected:.3f}"
    if not math.isfinite(loss) or loss > expected + START_GAP:
        if start == "confident-wrong":
            cause, fix = "--start confident-wrong raised the output's bias on purpose", "use --start he"
        elif start is not None:
            cause, fix = ("He's random start drew a last layer whose outputs are large for these samples",
                          "another --seed draws another start")
        else:
            cause, fix = ("its last layer's initial weights or bias are too large",
                          "scale the last layer's initial weights down and zero its bias")
        return Note("start-loss", False,
                    f"the loss before the first update is {loss:.3g} on {n:,} training samples, {loss / expected:.3g} "
                    f"times {said}, what an untrained network's guess of 1/{n_classes} per class scores: it starts "
                    f"confidently wrong ({cause}) and must unlearn that before it learns; expect a slow start, or "
                    f"{fix}")
    return Note("start-loss", True, f"The loss before the first update, {loss:.3f} on {n:,} training samples, is "
                                    f"less than a nat above {said}, what a guess of 1/{n_classes} per class scores.")


def chance_accuracy(y: np.ndarray, n_classes: int) -> tuple[float, int]:
    """(the share of the largest class, its index): the accuracy of always saying it."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)
    k = int(counts.argmax())
    return float(counts[k] / max(counts.sum(), 1)), k


def chance_margin(chance: float, n: int) -> float:
    """How far above chance an accuracy on `n` samples must be to count as better than it."""
    return max(CHANCE_MARGIN, CHANCE_SIGMAS * math.sqrt(chance * (1 - chance) / max(n, 1)))


def at_chance(accuracy: float, chance: float, n: int) -> bool:
    return accuracy <= chance + chance_margin(chance, n)


def after_training(history: list[dict], y_train: np.ndarray, y_val: np.ndarray, classes: list[str] | tuple,
                   start: float | None, cfg: TrainConfig) -> list[Note]:
    """The notes on what training did, from the epochs' records (`history`), the labels and the start loss."""
    if not history:
        return []
    last, epochs = history[-1], len(history)
    chance, k = chance_accuracy(y_train, len(classes))
    said = f"chance is {chance:.3f}, always saying the largest class {classes[k]!r}"
    notes = []
    acc = last.get("accuracy")
    loss = last.get("loss")
    fell = ((start - loss) / start if start is not None and loss is not None and math.isfinite(start) and start > 0
            else None)
    chance_now = acc is not None and at_chance(acc, chance, len(y_train))
    if chance_now:
        if fell is not None and fell < FLAT:
            likely = (f"the loss hardly moved ({fell:.1%}), so most likely a learning rate too low to move the "
                      f"weights (--lr {cfg.lr:g}: try {cfg.lr * 10:g}), or too few steps; else labels that do not "
                      "belong to their inputs")
        else:
            likely = ("labels that do not belong to their inputs (shuffled, or the wrong column: look at a few "
                      f"samples and their labels), a learning rate so high that the outputs collapsed to one class "
                      f"(--lr {cfg.lr:g}: try {cfg.lr / 10:g}) or too low to move them (try {cfg.lr * 10:g}), or "
                      "too few steps")
        notes.append(Note("chance", False,
                          f"training accuracy {acc:.3f} after {epochs} epoch{'s' if epochs != 1 else ''} is no better "
                          f"than chance ({said}): the network learned nothing it can use. Likely: {likely}; "
                          "`nnlab doctor RUN` tries the fixes"))
    elif acc is not None:
        notes.append(Note("chance", True, f"Training accuracy {acc:.3f} is above chance ({chance:.3f}, always "
                                          f"{classes[k]!r})."))
    val = last.get("val_accuracy")
    if val is not None and not chance_now and len(y_val):
        val_chance, _ = chance_accuracy(y_val, len(classes))
        margin = chance_margin(val_chance, len(y_val))
        # (memorising: at chance on held-out samples, and clearly better on the training samples)
        if at_chance(val, val_chance, len(y_val)) and acc > max(val, val_chance) + margin:
            notes.append(Note("val-chance", False,
                              f"validation accuracy {val:.3f} is at chance ({val_chance:.3f}) while training accuracy "
                              f"is {acc:.3f}: the network memorises its training samples and learns nothing that "
                              "carries over. Likely: labels that do not follow the inputs (shuffled or misaligned), "
                              "or a model far too large for the data (fewer units, more --weight-decay)"))
    if fell is not None:
        if fell < FLAT:
            notes.append(Note("loss-flat", False,
                              f"the training loss barely fell: {start:.4f} before the first update, {loss:.4f} in "
                              f"the last epoch ({fell:.1%}); the weights hardly learned: raise --lr (now {cfg.lr:g}), "
                              f"train longer, or check the labels"))
        else:
            notes.append(Note("loss-flat", True, f"The training loss fell from {start:.4f} to {loss:.4f} "
                                                 f"({fell:.0%})."))
    return notes


def test_chance(test_accuracy: float, history: list[dict], y_test: np.ndarray, classes) -> list[Note]:
    """Test accuracy at chance while the last epoch's training accuracy was clearly above it."""
    acc = history[-1].get("accuracy") if history else None
    chance, k = chance_accuracy(y_test, len(classes))
    margin = chance_margin(chance, len(y_test))
    if acc is None or not at_chance(test_accuracy, chance, len(y_test)) or acc <= chance + 2 * margin:
        return []
    return [Note("test-chance", False,
                 f"test accuracy {test_accuracy:.3f} is at chance ({chance:.3f}, always {classes[k]!r}) while training "
                 f"accuracy on the epoch's batches was {acc:.3f}: the model evaluates unlike it trained. Likely: batch "
                 "norm's running statistics far from the training batches' after few steps (more --epochs, or "
                 "--no-batch-norm), or test data scaled unlike the training data")]


def input_scale(X: np.ndarray, kind: str | None = None) -> list[Note]:
    """Inputs far from the scale networks train well on (0-1 pixels or standardised features): raw 0-255 pixel
    values, or values dozens of units from 0. `kind` is the data layer's scaler ("pixels", "standardize"), or
    None for inputs nnlab did not scale (a model of your own). Empty for no inputs."""
    X = np.asarray(X)
    if X.size == 0:
        return []
    X = X.reshape(len(X), -1).astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        return [Note("input-scale", False, "the inputs hold NaN or infinite values: clean the data")]
    lo, hi = float(X.min()), float(X.max())
    whole = bool(np.all(X == np.round(X)))  # (scikit-learn's digits: 0-16, MNIST's files: 0-255)
    if kind is None and lo >= 0 and RAW_PIXELS < hi <= 255 and whole:  # (nnlab's data layer scales its own)
        return [Note("input-scale", False,
                     f"the inputs are whole numbers from {lo:g} to {hi:g}: raw pixel values, where networks expect "
                     f"0-1 (or standardised) inputs; divide them by {hi:g}, their largest value (255 for 8-bit "
                     f"images), or standardise each feature")]
    far = float(np.abs(X).max())
    if far > OUTLIER:
        column = int(np.abs(X).max(axis=0).argmax())
        unit = " standard deviations" if kind == "standardize" else ""
        fix = ("clip or log-transform that feature, or drop it" if kind == "standardize"
               else "scale the inputs to 0-1 or standardise each feature")
        return [Note("input-scale", False,
                     f"input feature {column} reaches {far:.3g}{unit} from 0 (inputs from {lo:.3g} to {hi:.3g}), far "
                     f"outside the -3..3 networks train well on: one feature will swamp the others; {fix}")]
    return [Note("input-scale", True, f"Inputs range from {lo:.3g} to {hi:.3g}"
                                      + (" (pixels scaled to 0-1)." if kind == "pixels" else "."))]


def printed(notes: list[Note]) -> list[str]:
    """The console lines of the notes that raise a doubt."""
    return [f"note: {n.text}" for n in notes if not n.ok]


# Overfitting one batch (training/overfit.py): the loss after the last step must be below this share of ln C, and
# every sample of the batch right. Measured in 200 steps on 32 samples at the defaults: the NumPy network 1.07 ->
# 0.040 on moons, 2.42 -> 0.0011 on digits; the MLP 1.26 -> 0.004 on moons; the CNN 2.23 -> 6e-5 on digits.
OVERFIT_SHARE = 0.1
STALLED = 0.75       # a batch's loss still above this share of its start after every step: it did not fall


def overfit_verdict(losses: list[float], final: float, accuracy: float, samples: int, n_classes: int,
                    lr: float) -> tuple[bool, str]:
    """(fits?, one line with the numbers) for a batch of `samples` trained on alone: `losses` before each update,
    `final` and `accuracy` on the batch after the last."""
    goal = OVERFIT_SHARE * chance_loss(n_classes)
    start, steps = losses[0], len(losses)
    numbers = (f"training loss {start:.4g} -> {final:.4g} in {steps} steps on {samples} samples (batch accuracy "
               f"{accuracy:.0%}; goal: under {goal:.3g}, {OVERFIT_SHARE:.0%} of ln {n_classes}, and every sample "
               "right)")
    if not math.isfinite(final):
        return False, (f"overfit one batch: FAILED, the training loss became {final} after {steps} steps on "
                       f"{samples} samples: the rate is too high (--lr {lr:g}: try {lr / 10:g})")
    if final <= goal and accuracy == 1.0:
        return True, f"overfit one batch: ok, {numbers}: the model, its loss and the optimiser can learn"
    if final > start:
        why = f"the loss rose: the rate is too high (--lr {lr:g}: try {lr / 10:g})"
    elif final >= STALLED * start:
        why = (f"the loss did not fall: the rate cannot move the weights (--lr {lr:g}: try {lr * 10:g}), or the "
               "gradient does not reach them (a detached tensor, frozen layers, an output that ignores the input)")
    else:
        why = (f"the loss falls but not to zero: more steps, a higher rate (--lr {lr:g}: try {lr * 3:g}), or a "
               "model too small or too constrained to tell these samples apart (labels that contradict each other, "
               "inputs that are all alike)")
    return False, f"overfit one batch: FAILED, {numbers}: {why}"


# A model of your own scored on data scaled another way (training/../viz/any_model.py): an alternative scaling that
# scores this much higher than the data as given is how the model was most likely trained.
SCALE_GAIN = 0.05


def scaling_guess(accuracies: dict[str, float]) -> Note:
    """From a model's accuracy on the same samples scaled several ways ({"as given": a, "rescaled to [-1, 1]":
    b, ...}, the first as given), whether another scaling fits the model better than the data as given."""
    (given, base), *others = accuracies.items()
    if not others:
        return Note("input-scale", True, f"The model's test accuracy is {base:.2%} on the data {given}.")
    name, best = max(others, key=lambda kv: kv[1])
    tried = ", ".join(f"{acc:.2%} {what}" for what, acc in others)
    if best >= base + SCALE_GAIN:
        return Note("input-scale", False,
                    f"the model scores {base:.2%} on the data {given} but {best:.2%} on it {name}: it was most "
                    f"likely trained on inputs scaled that way, and this report scores it on others (tried: "
                    f"{tried}); pass transform= the scaling it was trained with, e.g. transform=lambda x: x * 2 - 1")
    return Note("input-scale", True, f"The model scores best on the data {given} ({base:.2%}; {tried}): its "
                                     "inputs are scaled as it was trained.")
