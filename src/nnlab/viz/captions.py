"""What each figure of the report says under it: how to read it. Data beside the plan (`viz.plan`).

A caption is a string, or, where its words depend on the run, a small function of the figure plan's
`Views` of the report input (the run's facts, the numbers the picture shows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlab.training import health
from nnlab.training.config import TorchConfig

if TYPE_CHECKING:
    from nnlab.viz.plan import Views
    from nnlab.viz.report_input import RunFacts


def curves(facts: RunFacts, validated: bool) -> str:
    """What the learning curves measure, naming only what this model trains with."""
    during = []
    if facts.family == "mlp":
        during += ["batch norm on batch statistics"] if facts.batch_norm else []
    if facts.family in ("mlp", "cnn"):
        during += ["dropout"] if facts.dropout else []
        during += [facts.augmentation] if facts.augmentation != "none" else []
    training = ("The training curve is the log loss and accuracy on the epoch's batches while the weights were "
                "still changing" + (", with " + ", ".join(during) if during else "") + ".")
    parts = [training]
    if facts.family == "scratch" and facts.weight_decay:
        parts.append("Both losses are the data's log loss alone: the L2 penalty that training also minimises is "
                     "left out of both, so the two curves compare like with like.")
    if facts.mse_loss:
        parts.append("Training minimised the squared error (--loss mse); both curves show the log loss, so that "
                     "runs of either loss compare on one scale.")
    if facts.label_smoothing:
        parts.append("Training minimised the label-smoothed loss; both curves show the plain log loss.")
    if validated:
        return ("Loss and accuracy per epoch. A validation curve that turns up while training keeps falling means "
                "overfitting; two curves still falling mean more epochs would help. " + " ".join(parts)
                + (" So the training curve can sit above the validation one." if during else ""))
    why = ("This run held out no validation split (--val-fraction 0)" if facts.held_out_validation is False
           else "No validation values were recorded")
    return (f"Loss and accuracy per epoch on the training data. {why}, so these curves cannot show overfitting: "
            "the test metrics above are the only check on data the network did not train on. " + " ".join(parts))


def learning_curves(v: Views) -> str:
    return curves(v.ev.facts, v.ev.history[-1].get("val_loss") is not None)


def first_layer_learned(v: Views) -> str:
    return ("Each tile is one hidden unit: what training added to its incoming weights, the random start "
            "taken away (W − c·W₀, with c the share of its start the unit still holds: weight decay shrinks "
            f"it; {v.kept_start:.2f} for the median unit here), each pixel multiplied by how much that pixel varies "
            "across the training images, all on the one colour scale of the bar. Red pixels, when bright, "
            "raise the unit's input; blue ones lower it. Look for strokes, outlines and parts of the classes. "
            "Pixels that never vary in the training images (such as MNIST's border) are blank: no weight there "
            "can matter. The raw weights below still hold the random start.")


def first_layer_weights(v: Views) -> str:
    return ("The raw incoming weights of each unit laid out as an image, each tile on its own colour scale (red "
            "positive, blue negative). They are the random start plus what training added, so speckle here does "
            "not mean the unit learned nothing: the picture above separates the two."
            + ("" if v.start is not None else " (This run kept no record of its start, so only the raw weights are "
               "shown: train it again with this version to see what training added.)"))


DENSE_CLASS_TEMPLATES = (
    "For each class, the product of all weight matrices (any batch norm folded in) laid out as an "
    "image, each pixel multiplied by how much it varies across the training images: how each pixel "
    "pushes that class's score when all ReLUs are on. Red pixels speak for the class, blue against "
    "it; pixels that never vary are blank. It is the network's linear view of the class and ignores "
    "which units switch off.")


def conv1_kernels(v: Views) -> str:
    return ("Each tile is one filter of the first conv layer, all on the colour scale of the bar: red weights "
            "respond to bright pixels, blue to dark ones. A red side beside a blue side is an edge detector "
            "whose orientation is the line between them; a red centre in a blue ring is a spot detector. "
            "Faint tiles are weak filters" + (" (but batch norm after the layer rescales each channel, so read "
                                              "their patterns more than their strength)."
                                              if v.ev.facts.conv_batch_norm else "."))


SALIENCY = (
    "Under each test image (true class → predicted class): integrated gradients, how much each pixel "
    "contributes to the predicted class's score against the others, measured along the way from a black "
    "image to this one. Red pixels speak for the predicted class, blue against it; the contributions add "
    "up to the score's rise from black. Colour on the strokes and parts that tell the class apart is "
    "good. Black pixels get none by construction, so a missing stroke that matters is not shown.")

FEATURE_MAPS = (
    "One test image through each conv block (after the ReLU, first 16 channels, bright = strong). "
    "The first block answers to edges and strokes at full size; deeper blocks are smaller and "
    "answer to larger parts. A map that is dark for every image belongs to a dead channel.")


def conv_patches(index: int):
    """The caption of conv layer `index`'s patch rows."""

    def caption(v: Views) -> str:
        p = v.patches(index)
        return (f"One row per channel of conv layer {index} (the strongest {len(p.picked)} of {p.channels}): the "
                f"{p.k} test-image patches where it fires most, each the {p.size}x{p.size} pixels that channel sees. "
                "What a row has in common is what the channel detects: deeper layers see larger patches and answer "
                "to larger parts (corners, stroke ends, collars) built from the first layer's edges.")

    return caption


CNN_CLASS_TEMPLATES = (
    "For each class, an input image found by gradient ascent on the class score (from a grey image, "
    "kept smooth and in [0, 1]): what the network looks for. Recognisable outlines mean it learned the "
    "shapes; stripes and speckle mean it keys on texture.")


def unit_cards(v: Views) -> str:
    seen = ("weights" if v.cards_show_weights else
            "change training made to its weights (as in the first-layer picture)")
    return (f"For six first-layer units (filters, for the CNN): the unit's {seen}, then the six test images "
            "with the highest activation (mean over the map, for a filter) and its value. A unit that prefers "
            "one class is a detector for it; mixed classes mean a shared part such as an edge or a sleeve.")


def weight_evolution(v: Views) -> str:
    if v.evolution_learned:
        return ("How the first-layer units that changed most (of the first 16, whose history is kept) formed: "
                "each tile is what training had added by that epoch, shown as in the first-layer picture, one "
                "colour scale per unit set by its last tile. A pattern should appear early, then sharpen and grow.")
    return ("The first-layer filters that changed most, from their random start (epoch 0) to the end, one "
            "colour scale per unit set by its last tile. Structure should appear early and then sharpen; a "
            "tile that stays noise did not learn.")


CONFUSION_MATRIX = ("Rows are the true classes, columns the predictions; off-diagonal cells show "
                    "which classes the model confuses.")

CONFIDENT_MISTAKES = ("Test images the model got wrong with the highest confidence. Some are mislabelled or truly "
                      "ambiguous; the rest show what the model has not learned.")

CALIBRATION = (
    "How far to trust the stated confidence: bars under the diagonal mean the model is more confident "
    "than it is right (over-confident), bars above it under-confident. The expected calibration error "
    "(ECE) is the average gap, weighted by how many test samples fall in each bar.")


def calibration(v: Views) -> str:
    """CALIBRATION, and where the run trained with label smoothing, why that makes it under-confident."""
    cfg = v.ev.run_settings
    if not isinstance(cfg, TorchConfig) or not cfg.label_smoothing:
        return CALIBRATION
    eps, k = cfg.label_smoothing, len(v.ev.data.classes)
    top = 1 - eps + eps / k
    return (CALIBRATION + f" This run trained with label smoothing {eps:g} (the {cfg.recipe} recipe): the loss it "
            f"minimised asks for {top:.2f} on the true class, not 1 (1 − ε + ε/k, ε = {eps:g}, k = {k} classes), so "
            f"the network learned to stop its confidence near {top:.2f}, and where it is right more often than that "
            f"its bars sit above the diagonal: under-confident by design ({SMOOTHED_ECE}). --recipe plain or "
            "--label-smoothing 0 trains on the log loss itself, whose minimum is the true probability.")


# Measured (docs/benchmarks.md, "Plain and fast recipes"): what label smoothing does to a calibration plot
SMOOTHED_ECE = ("measured on mnist-5k: the fast recipe's CNN, ECE 0.105, mean confidence 0.885 at 98.8% accuracy; "
                "the plain one, ECE 0.021")

DECISION_BOUNDARY = ("The probability of the second class over the (standardised) plane, with the test points; the "
                     "black line is where the network is undecided.")

TRAINING_HEALTH = (
    "Per layer, measured after each epoch on a fixed batch of validation samples (training samples "
    "if the run has no validation split): the share of ReLU units that never fire (dead), the size "
    "of the loss gradient, and how far the epoch moved the weights relative to their size. Dashed red "
    "lines bound the healthy range over the epochs each check judges: the first epoch starts from "
    "random weights and is not judged, and shaded epochs (a learning rate under "
    f"{health.STEADY_LR:.0%} of its peak, in warm-up or as the schedule anneals) are expected to move "
    "the weights little. A point beyond a red line is what the notes above warn of.")

# What a saturating hidden activation does to the gradients that travel back (the vanishing-gradient lesson)
SLOPE_BOUND = {"logistic": "σ'(z) = σ(1 − σ) ≤ 0.25", "tanh": "tanh'(z) = 1 − tanh² ≤ 1, near 0 where a unit saturates"}


def training_health(v: Views) -> str:
    """The health caption, and for a sigmoid or tanh network the gradient norms it shows, first layer against
    the output's, with why they differ."""
    activation = getattr(v.ev.run_settings, "activation", "relu")
    last = next((h["health"] for h in reversed(v.ev.history) if h.get("health")), None)
    if activation not in SLOPE_BOUND or not last:
        return TRAINING_HEALTH
    norms = [(name, layer["grad_norm"]) for name, layer in last.items() if layer.get("grad_norm") is not None]
    (first, g_first), (out, g_out) = norms[0], norms[-1]
    ratio = g_first / g_out if g_out else float("inf")
    return (TRAINING_HEALTH.replace("the share of ReLU units that never fire (dead), ",
                                    f"the share of dead units (ReLU only: not measured for {activation} units), ")
            + f" This network's hidden layers are {activation}: the gradient sent back through each one is "
            f"scaled by its slope, {SLOPE_BOUND[activation]}, so the layers far from the output get less of it "
            f"(the vanishing gradient). In the last epoch measured, {first}'s gradient norm was {g_first:.3g}, "
            f"{ratio:.3g} times the output layer {out}'s {g_out:.3g}; a ReLU network (--activation relu, the "
            "default) passes it back unscaled wherever a unit is on.")
