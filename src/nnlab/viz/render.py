"""The figures of one run: read the run directory, compute what each picture needs, save PNGs.

This is the only viz module that knows about models and runs; the figure functions see arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from torch.nn import BatchNorm2d

from nnlab import runs
from nnlab.errors import NNLabError
from nnlab.metrics import calibration
from nnlab.models.bridge import dense_layers
from nnlab.training import health
from nnlab.viz import figures, poke


@dataclass
class Figure:
    file: str      # under RUN/figures/
    title: str
    caption: str   # what to look for


def class_templates(Ws: list[np.ndarray]) -> np.ndarray:
    """(inputs x classes): the product W1·W2·…·WL, i.e. how each input pixel moves each class's logit
    when every ReLU on the way is active — the network's linear "template" of each class. A single
    sigmoid unit (the derived network) is the logit of class 1, so class 0's template is its negative."""
    T = Ws[0]
    for W in Ws[1:]:
        T = T @ W
    return np.concatenate([-T, T], axis=1) if T.shape[1] == 1 else T


def start_share(W: np.ndarray, W0: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(units,): how much of its random start each unit still holds, c = <W, W0> / <W0, W0> over the inputs
    that vary. Weight decay shrinks the start (to nothing, in a unit training did not use), so W - W0 would
    show the start itself, upside down; W - c W0 takes away what is left of it."""
    v = spread > 0
    return (W[v] * W0[v]).sum(axis=0) / np.maximum((W0[v] * W0[v]).sum(axis=0), 1e-30)


def learned_part(W: np.ndarray, W0: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(inputs x units): what training added to a dense first layer, W - c W0 (c: `start_share`), times
    each input's spread (its standard deviation over the training set), NaN where the input never varies.

    The random start W0 is as large as the learned part and speckles every tile; taking it away leaves
    what the data wrote. Scaling by the spread gives the weights the layer would have on standardised
    inputs: a pixel that is black in almost every image moves the unit little however its weight drifted,
    and one that never varies cannot matter at all, so it is left blank."""
    D = (W - start_share(W, W0, spread) * W0) * spread[:, None]
    D[spread == 0] = np.nan
    return D


def evolution_frames(snapshots: dict[str, np.ndarray], image_hw: tuple[int, int], spread: np.ndarray | None = None,
                     units: int = 6, frames: int = 7) -> tuple[list[int], np.ndarray]:
    """From the first-layer snapshots (epochN -> dense inputs x units, or conv out x in x kh x kw): up to
    `frames` epochs spread evenly from the first to the last, and the `units` that changed most by the end,
    as (epochs, (frames x units x h x w)). Dense layers given the input `spread` show `learned_part` (so
    epoch 0 would be blank and is left out); conv kernels show their weights from epoch 0 on."""
    epochs = sorted(int(k.removeprefix("epoch")) for k in snapshots)
    dense = snapshots[f"epoch{epochs[0]}"].ndim == 2
    learned = dense and spread is not None and epochs[0] == 0

    def as_tiles(e: int) -> np.ndarray:  # (units x h x w)
        W = snapshots[f"epoch{e}"]
        if not dense:
            return W[:, 0]
        if learned:
            W = learned_part(W, snapshots["epoch0"], spread)
        return W.T.reshape(W.shape[1], *image_hw)

    shown = epochs[1:] if learned and len(epochs) > 1 else epochs
    picked = sorted({shown[round(i)] for i in np.linspace(0, len(shown) - 1, min(frames, len(shown)))})
    final = np.nan_to_num(as_tiles(epochs[-1]))
    start = np.nan_to_num(as_tiles(epochs[0]))
    changed = figures.strongest_first((final - (0 if learned else start)).reshape(len(final), -1).T)[:units]
    return picked, np.stack([as_tiles(e)[changed] for e in picked])


def render_run(run: Path, engine=None, splits=None, P_test: np.ndarray | None = None) -> Path:
    """Figures and report.html of `run`; returns the report's path. A training job passes the engine,
    the data and the test probabilities it already holds, so nothing is loaded or predicted twice."""
    from nnlab.training import job
    from nnlab.training.record import read_record
    from nnlab.viz.report import write_report

    record = read_record(run)
    config = record.table()
    summary = runs.read_json(run / runs.SUMMARY, what="run summary")
    if engine is None:
        _, engine = job.load_run(run)
    if splits is None:
        splits = job.load_splits(record.settings)
    if P_test is None:
        P_test = engine.predict_proba(splits.data.X_test)
    history = runs.read_metrics(run)
    # The samples the weights were trained on (not the validation split): a pixel that varies only in
    # validation images never moved its weights, so it must show blank like one that never varies.
    trained_on = replace(splits.data, X_train=splits.X_train, y_train=splits.y_train)
    made = render(run, engine, trained_on, P_test, summary, history, config)
    sections = []
    if engine.kind == "scratch":  # the hand-written backprop, one step of it shown (RUN/explain.html)
        from nnlab.viz.explain import report_section

        sections.append(report_section(run, record.settings, engine, splits))
    poked, why_not = poke.report_parts(engine, trained_on, P_test)
    return write_report(run, config, summary, made, health.hints(history), not_shown(trained_on, history) + why_not,
                        sections + poked)


def render(run: Path, engine, ds, P: np.ndarray, summary: dict, history: list[dict],
           config: dict | None = None) -> list[Figure]:
    """(Re)draw every figure of `run` into RUN/figures/ and return them in report order.
    `P` holds the test probabilities, `summary` the run's test metrics, `history` its epochs, `config` the
    run's settings and facts (RunRecord.table()), if it is an nnlab run."""
    out = run / "figures"
    out.mkdir(exist_ok=True)
    made: list[Figure] = []

    def add(fig, file: str, title: str, caption: str) -> None:
        figures.save(fig, out / file)
        made.append(Figure(file, title, caption))

    if history:
        add(figures.learning_curves(history), "learning_curves.png", "Learning curves",
            curves_caption(config or {}, history[-1].get("val_loss") is not None))
    image_hw = tuple(ds.image_shape[1:]) if ds.image_shape and ds.image_shape[0] == 1 else None
    layers = engine.layer_weights()
    dense = [W for name, W in layers.items() if name.startswith("dense")]
    kernels = [K for name, K in layers.items() if name.startswith("conv")]
    W0 = None if kernels else load_start(run)
    spread = ds.X_train.std(axis=0) if image_hw else None
    if image_hw and not kernels:
        _first_layer_figures(dense[0], W0, spread, image_hw, add)
        # The product needs the weights the MLP computes with at test time: each batch norm folded into its
        # dense layer (a per-unit scale).
        linear = dense if engine.kind == "scratch" else dense_layers(engine.torch_model())[0]
        chained = all(a.shape[1] == b.shape[0] for a, b in zip(linear, linear[1:]))
        T = class_templates(linear) * spread[:, None] if chained else None  # on standardised inputs, as above
        if T is not None and T.shape[1] == ds.n_classes:
            T[spread == 0] = np.nan
            add(figures.class_tiles(T, image_hw, list(ds.classes)), "class_templates.png",
                "Class templates",
                "For each class, the product of all weight matrices (any batch norm folded in) laid out as an "
                "image, each pixel multiplied by how much it varies across the training images: how each pixel "
                "pushes that class's score when all ReLUs are on. Red pixels speak for the class, blue against "
                "it; pixels that never vary are blank. It is the network's linear view of the class and ignores "
                "which units switch off.")
    if kernels:
        K = kernels[0]
        tiles = K[:, 0] if K.shape[1] == 1 else K.mean(axis=1)
        order = figures.strongest_first(tiles.reshape(len(tiles), -1).T)[:64]
        add(figures.conv_kernels(tiles[order], [f"ch {c}" for c in order],
                                 f"conv layer 1: {len(order)} kernels of {K.shape[2]}x{K.shape[3]} (strongest first)"
                                 + ("" if K.shape[1] == 1 else ", mean over input channels")),
            "conv1_kernels.png", "Conv layer 1 kernels",
            "Each tile is one filter of the first conv layer, all on the colour scale of the bar: red weights "
            "respond to bright pixels, blue to dark ones. A red side beside a blue side is an edge detector "
            "whose orientation is the line between them; a red centre in a blue ring is a spot detector. "
            "Faint tiles are weak filters" + (" (but batch norm after the layer rescales each channel, so read "
                                              "their patterns more than their strength)."
                                              if any(isinstance(m, BatchNorm2d) for m in engine.torch_model().modules())
                                              else "."))
    if image_hw:
        _image_figures(run, engine, layers, ds, P, image_hw, W0, spread, add)
    add(figures.confusion_matrix(np.array(summary["confusion_matrix"]), list(ds.classes)), "confusion_matrix.png",
        "Confusion matrix", "Rows are the true classes, columns the predictions; off-diagonal cells show "
        "which classes the model confuses.")
    pred = P.argmax(axis=1)
    wrong = np.flatnonzero(pred != ds.y_test)
    if image_hw and len(wrong):
        worst = wrong[np.argsort(-P[wrong, pred[wrong]])][:18]
        images = ds.scaler.inverse(ds.X_test[worst]).reshape(-1, *image_hw) / ds.scaler.pixel_max
        captions = [f"{ds.classes[ds.y_test[i]]}\n→ {ds.classes[pred[i]]} {P[i, pred[i]]:.0%}" for i in worst]
        add(figures.image_gallery(np.clip(images, 0, 1), captions, "most confident mistakes: true → predicted"),
            "confident_mistakes.png", "Most confident mistakes",
            "Test images the model got wrong with the highest confidence. Some are mislabelled or truly "
            "ambiguous; the rest show what the model has not learned.")
    cal = calibration(P, ds.y_test)
    add(figures.reliability_diagram(cal["edges"], cal["accuracy"], cal["count"], cal["ece"]),
        "calibration.png", "Calibration",
        "How far to trust the stated confidence: bars under the diagonal mean the model is more confident "
        "than it is right (over-confident), bars above it under-confident. The expected calibration error "
        "(ECE) is the average gap, weighted by how many test samples fall in each bar.")
    if ds.n_features == 2 and ds.n_classes == 2:
        lo, hi = ds.X_test.min(axis=0) - 0.5, ds.X_test.max(axis=0) + 0.5
        xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        prob = engine.predict_proba(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))[:, 1].reshape(xx.shape)
        add(figures.decision_boundary(xx, yy, prob, ds.X_test, ds.y_test, list(ds.classes)),
            "decision_boundary.png", "Decision boundary",
            "The probability of the second class over the (standardised) plane, with the test points; the "
            "black line is where the network is undecided.")
    if any(h.get("health") for h in history):
        span = health.spans(history)
        add(figures.training_health(history, span.later, span.steady, health.DEAD_WARN, health.RATIO_HIGH,
                                    health.RATIO_LOW),
            "training_health.png", "Training health",
            "Per layer, measured after each epoch on a fixed batch of validation samples (training samples "
            "if the run has no validation split): the share of ReLU units that never fire (dead), the size "
            "of the loss gradient, and how far the epoch moved the weights relative to their size. Dashed red "
            "lines bound the healthy range over the epochs each check judges: the first epoch starts from "
            "random weights and is not judged, and shaded epochs (a learning rate under "
            f"{health.STEADY_LR:.0%} of its peak, in warm-up or as the schedule anneals) are expected to move "
            "the weights little. A point beyond a red line is what the notes above warn of.")
    return made


def not_shown(ds, history: list[dict]) -> list[str]:
    """What the report cannot show for this model and data, and why: a reader should not have to guess
    why a picture is missing."""
    out = []
    if not history:
        out.append("Learning curves, weight evolution and training health: no training history was recorded "
                   "(give nnlab.report the nnlab.Recorder your training loop fed).")
    elif not any(h.get("health") for h in history):
        out.append("Training health: it needs a fixed probe batch, nnlab.Recorder(model, probe=(X, y)).")
    if ds.image_shape is None and ds.n_features != 2:
        out.append("Weight pictures, attributions and the images that excite each unit: the inputs are "
                   f"{ds.n_features} plain features, not an image.")
    elif ds.image_shape is not None and ds.image_shape[0] != 1:
        out.append(f"Weight pictures, attributions, feature maps: these are colour images ({ds.image_shape[0]} "
                   "channels), which the report does not draw yet.")
    if ds.n_features == 2 and ds.n_classes != 2:
        out.append("Decision boundary: drawn for two classes only.")
    return out


def curves_caption(config: dict, validated: bool) -> str:
    """What the learning curves measure, naming only what this model trains with."""
    during = []
    if config.get("model") == "mlp":
        during += ["batch norm on batch statistics"] if config.get("batch_norm") else []
    if config.get("model") in ("mlp", "cnn"):
        during += ["dropout"] if config.get("dropout") else []
        used = config.get("augment_used", "augmented images" if config.get("augment") else "none")
        during += [used] if used != "none" else []
    training = ("The training curve is the log loss and accuracy on the epoch's batches while the weights were "
                "still changing" + (", with " + ", ".join(during) if during else "") + ".")
    parts = [training]
    if config.get("model") == "scratch" and config.get("weight_decay"):
        parts.append("Both losses are the data's log loss alone: the L2 penalty that training also minimises is "
                     "left out of both, so the two curves compare like with like.")
    if config.get("loss") == "mse":
        parts.append("Training minimised the squared error (--loss mse); both curves show the log loss, so that "
                     "runs of either loss compare on one scale.")
    if config.get("label_smoothing"):
        parts.append("Training minimised the label-smoothed loss; both curves show the plain log loss.")
    if validated:
        return ("Loss and accuracy per epoch. A validation curve that turns up while training keeps falling means "
                "overfitting; two curves still falling mean more epochs would help. " + " ".join(parts)
                + (" So the training curve can sit above the validation one." if during else ""))
    why = ("This run held out no validation split (--val-fraction 0)" if "val_fraction" in config
           else "No validation values were recorded")
    return (f"Loss and accuracy per epoch on the training data. {why}, so these curves cannot show overfitting: "
            "the test metrics above are the only check on data the network did not train on. " + " ".join(parts))


def load_start(run: Path) -> np.ndarray | None:
    """The first layer as initialised (kept by training in RUN/start.safetensors; runs from older versions
    have none)."""
    path = run / runs.START
    if not path.exists():
        return None
    try:
        tensors, _ = runs.load_tensors(path)
    except NNLabError as e:  # it only feeds pictures: a damaged file costs them their learned view, not the run
        print(f"note: {e}; the first-layer pictures show the raw weights only")
        return None
    return tensors.get("first_layer")


def _first_layer_figures(W: np.ndarray, W0: np.ndarray | None, spread: np.ndarray, image_hw: tuple[int, int],
                         add, shown: int = 32) -> None:
    """A dense first layer on image data: what training added to it (if the run kept its start), then the
    raw weights of the same units."""
    if W0 is not None and W0.shape == W.shape:
        D = learned_part(W, W0, spread)
        order = figures.strongest_first(np.nan_to_num(D))[:shown]
        kept = float(np.median(start_share(W, W0, spread)))
        add(figures.weight_tiles(D[:, order].T.reshape(-1, *image_hw), [str(j) for j in order],
                                 f"first layer: what training added, {len(order)} of {W.shape[1]} units "
                                 "(most changed first)", colorbar="(W − c·W₀) × pixel spread"),
            "first_layer_learned.png", "First layer: what training learned",
            "Each tile is one hidden unit: what training added to its incoming weights, the random start "
            "taken away (W − c·W₀, with c the share of its start the unit still holds: weight decay shrinks "
            f"it; {kept:.2f} for the median unit here), each pixel multiplied by how much that pixel varies "
            "across the training images, all on the one colour scale of the bar. Red pixels, when bright, "
            "raise the unit's input; blue ones lower it. Look for strokes, outlines and parts of the classes. "
            "Pixels that never vary in the training images (such as MNIST's border) are blank: no weight there "
            "can matter. The raw weights below still hold the random start.")
        raw = W[:, order]
        title = "the same units' raw weights W (random start included), each on its own scale"
    else:
        order = figures.strongest_first(W)[:shown]
        raw = W[:, order]
        title = f"first-layer weights, {len(order)} of {W.shape[1]} units (strongest first), each on its own scale"
    add(figures.weight_tiles(raw.T.reshape(-1, *image_hw), [str(j) for j in order], title),
        "first_layer_weights.png", "First-layer weights as they are",
        "The raw incoming weights of each unit laid out as an image, each tile on its own colour scale (red "
        "positive, blue negative). They are the random start plus what training added, so speckle here does "
        "not mean the unit learned nothing: the picture above separates the two."
        + ("" if W0 is not None else " (This run kept no record of its start, so only the raw weights are "
           "shown: train it again with this version to see what training added.)"))


def _image_figures(run: Path, engine, layers: dict[str, np.ndarray], ds, P: np.ndarray, image_hw: tuple[int, int],
                   W0: np.ndarray | None, spread: np.ndarray, add) -> None:
    """The pictures that need a model to probe: saliency, feature maps, class inputs, unit cards, and
    the weight evolution kept during training."""
    from nnlab.viz import probes

    model = engine.torch_model()
    cnn = any(name.startswith("conv") for name in layers)
    input_shape = getattr(engine, "input_shape", None) or (tuple(ds.image_shape) if cnn else (ds.n_features,))

    def pixels(X: np.ndarray) -> np.ndarray:  # model inputs back to [0, 1] images for display
        return np.clip(ds.scaler.inverse(X).reshape(-1, *image_hw) / ds.scaler.pixel_max, 0, 1)

    pred = P.argmax(axis=1)
    # The first test image of each class, up to 10: where the model looks, class by class.
    shown = [int(np.flatnonzero(ds.y_test == k)[0]) for k in range(ds.n_classes) if (ds.y_test == k).any()][:10]
    black = ds.scaler.transform(np.zeros((1, ds.n_features)))[0]
    attributions = probes.integrated_gradients(model, ds.X_test[shown], pred[shown], black, input_shape)
    attributions = attributions.reshape(len(shown), -1, *image_hw).sum(axis=1)  # channels summed
    add(figures.saliency_maps(pixels(ds.X_test[shown]), attributions,
                              [f"{ds.classes[ds.y_test[i]]}\n→ {ds.classes[pred[i]]}" for i in shown]),
        "saliency.png", "Where the model looks",
        "Under each test image (true class → predicted class): integrated gradients, how much each pixel "
        "contributes to the predicted class's score against the others, measured along the way from a black "
        "image to this one. Red pixels speak for the predicted class, blue against it; the contributions add "
        "up to the score's rise from black. Colour on the strokes and parts that tell the class apart is "
        "good. Black pixels get none by construction, so a missing stroke that matters is not shown.")

    if cnn:
        right = np.flatnonzero(pred == ds.y_test)
        i = int(right[0]) if len(right) else 0
        maps = probes.feature_maps(model, ds.X_test[i], input_shape)
        add(figures.feature_maps(pixels(ds.X_test[i : i + 1])[0], maps, f"test image: {ds.classes[ds.y_test[i]]}"),
            "feature_maps.png", "Feature maps",
            "One test image through each conv block (after the ReLU, first 16 channels, bright = strong). "
            "The first block answers to edges and strokes at full size; deeper blocks are smaller and "
            "answer to larger parts. A map that is dark for every image belongs to a dead channel.")
        convs = [K for name, K in layers.items() if name.startswith("conv")]
        for index in range(2, min(len(convs), 3) + 1):
            _patch_figure(model, convs[index - 1], index, ds, input_shape, pixels, add)
        X_class = probes.optimise_class_inputs(model, input_shape, ds.n_classes)
        add(figures.image_gallery(X_class.reshape(-1, *image_hw), list(ds.classes),
                                  "inputs optimised for each class score", cols=10),
            "class_templates.png", "Class templates",
            "For each class, an input image found by gradient ascent on the class score (from a grey image, "
            "kept smooth and in [0, 1]): what the network looks for. Recognisable outlines mean it learned the "
            "shapes; stripes and speckle mean it keys on texture.")

    first = next(iter(layers.values()))
    if cnn or W0 is None or W0.shape != first.shape:
        units = figures.strongest_first(first.reshape(first.shape[0], -1).T if cnn else first)[:6]
        weights = first[units, 0] if cnn else first[:, units].T.reshape(-1, *image_hw)
        seen = "weights"
    else:  # the same view and order as the first-layer picture: what training added, most changed first
        D = learned_part(first, W0, spread)
        units = figures.strongest_first(np.nan_to_num(D))[:6]
        weights = D[:, units].T.reshape(-1, *image_hw)
        seen = "change training made to its weights (as in the first-layer picture)"
    acts = probes.first_hidden_activations(model, ds.X_test, input_shape)[:, units]  # samples x units
    top = np.argsort(-acts, axis=0, kind="stable")[:6].T                             # units x (up to) 6
    add(figures.unit_cards(weights, pixels(ds.X_test[top.ravel()]).reshape(*top.shape, *image_hw),
                           [int(u) for u in units], np.take_along_axis(acts, top.T, axis=0).T),
        "unit_cards.png", "What excites the first hidden layer",
        f"For six first-layer units (filters, for the CNN): the unit's {seen}, then the six test images "
        "with the highest activation (mean over the map, for a filter) and its value. A unit that prefers "
        "one class is a detector for it; mixed classes mean a shared part such as an edge or a sleeve.")

    snapshots = runs.load_snapshots(run)
    if snapshots:
        epochs, tiles = evolution_frames(snapshots, image_hw, None if cnn else spread)
        learned = not cnn and epochs[0] > 0
        add(figures.weight_evolution(epochs, tiles, "first-layer filters during training (rows: filters)" if cnn
                                     else "what training added to first-layer units, epoch by epoch (rows: units)"
                                     if learned else "first-layer weights during training (rows: units)"),
            "weight_evolution.png", "Weight evolution",
            ("How the first-layer units that changed most (of the first 16, whose history is kept) formed: "
             "each tile is what training had added by that epoch, shown as in the first-layer picture, one "
             "colour scale per row set by its last tile. A pattern should appear early, then sharpen and grow."
             if learned else
             "The first-layer filters that changed most, from their random start (epoch 0) to the end, one "
             "colour scale per row set by its last tile. Structure should appear early and then sharpen; a "
             "tile that stays noise did not learn."))


def _patch_figure(model, K: np.ndarray, index: int, ds, input_shape, pixels, add, channels: int = 8,
                  k: int = 8) -> None:
    """For the strongest channels of conv layer `index`: the test-image patches (its receptive field) where
    each fires most. Its kernels themselves combine the maps below and read as noise."""
    from nnlab.viz import probes

    picked = [int(c) for c in figures.strongest_first(K.reshape(K.shape[0], -1).T)[:channels]]
    where = probes.strongest_positions(model, ds.X_test, input_shape, index, picked, k)  # channels x k x 3
    size, jump, start = probes.receptive_field(model, index, channels=input_shape[0])
    images = pixels(ds.X_test[np.unique(where[..., 0])])
    lookup = {int(i): n for n, i in enumerate(np.unique(where[..., 0]))}
    padded = np.pad(images, ((0, 0), (size, size), (size, size)))  # black outside the image
    patches = np.zeros((*where.shape[:2], size, size))
    for c, row in enumerate(where):
        for j, (i, r, col) in enumerate(row):
            top, left = (round(start + v * jump - (size - 1) / 2) + size for v in (r, col))
            patches[c, j] = padded[lookup[int(i)], top:top + size, left:left + size]
    add(figures.patch_rows(patches, [f"ch {c}" for c in picked],
                           f"conv layer {index}: where {len(picked)} of its {K.shape[0]} channels fire most "
                           f"({size}x{size}-pixel patches)"),
        f"conv{index}_patches.png", f"Conv layer {index}: what its channels respond to",
        f"One row per channel of conv layer {index} (the strongest {len(picked)} of {K.shape[0]}): the {k} "
        f"test-image patches where it fires most, each the {size}x{size} pixels that channel sees. What a "
        "row has in common is what the channel detects: deeper layers see larger patches and answer to "
        "larger parts (corners, stroke ends, collars) built from the first layer's edges.")
