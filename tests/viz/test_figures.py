import numpy as np
import pytest

from nnlab.viz import figures


def tiles_of(fig, shape: tuple[int, int, int], cols: int, labelled: bool, axes: int = 0) -> np.ndarray:
    """The tiles drawn on fig.axes[axes], cut back out of its montage."""
    canvas = np.ma.filled(fig.axes[axes].images[0].get_array(), np.nan)
    _, corners = figures.montage(np.zeros(shape), cols, label_room=labelled)
    h, w = shape[1:]
    return np.stack([canvas[y:y + h, x:x + w] for y, x in corners])


def labels_of(fig, axes: int = 0) -> list[str]:
    return [t.get_text() for t in fig.axes[axes].texts]


def test_montage_places_tiles_in_rows_with_blank_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    canvas, corners = figures.montage(tiles, 3)
    assert canvas.shape == (2 * 2 + 1, 3 * 3 + 2) and corners[3] == (3, 0) and corners[4] == (3, 4)
    np.testing.assert_array_equal(canvas[3:5, 4:7], tiles[4])
    assert np.isnan(canvas[2]).all() and np.isnan(canvas[3:5, 8:]).all()  # gap row, empty last cell
    labelled, corners = figures.montage(tiles, 3, label_room=True)
    assert corners[0][0] >= 1 and labelled.shape[0] > canvas.shape[0]
    two_lines, corners2 = figures.montage(tiles, 3, label_room=2)
    assert corners2[0][0] >= corners[0][0] and two_lines.shape[0] >= labelled.shape[0]


def test_weight_tiles_each_on_its_own_scale_or_all_on_one():
    rng = np.random.default_rng(0)
    tiles = rng.normal(0, 0.01, (5, 6, 6))
    cross = np.zeros((6, 6))
    cross[2, :] = cross[:, 2] = 1.0
    tiles[0] = cross * 5
    tiles[1, 0, 0] = np.nan                                  # a pixel that never varies
    own = figures.weight_tiles(tiles, list("abcde"), "t")
    assert labels_of(own) == list("abcde")                  # in the order given
    shown = tiles_of(own, (5, 6, 6), 5, labelled=True)
    np.testing.assert_array_equal(shown[0], cross)           # its own symmetric scale: the cross at +1
    assert np.nanmax(np.abs(shown[2])) == pytest.approx(1.0)  # the faint tile too
    assert np.isnan(shown[1, 0, 0]) and np.isfinite(shown[1, 1:]).all()  # blank stays blank
    shared = figures.weight_tiles(tiles, list("abcde"), "t", colorbar="change")
    shown = tiles_of(shared, (5, 6, 6), 5, labelled=True)
    assert np.nanmax(np.abs(shown[0])) == pytest.approx(1.0)
    assert np.nanmax(np.abs(shown[2])) < 0.05                # one scale: a faint tile stays faint
    assert len(shared.axes) == 2 and shared.axes[1].get_ylabel() == "change"  # the colour bar
    image = shared.axes[0].images[0]
    assert image.get_clim() == (-1, 1) and image.get_cmap().name.startswith("RdBu_r")


def test_conv_kernels_share_one_scale_with_a_colour_bar():
    K = np.zeros((8, 3, 3))
    K[2, :, 0], K[2, :, 2] = 1, -1  # a vertical edge detector
    K[5, 1, 1] = 0.25               # a weak spot
    fig = figures.conv_kernels(K, [f"ch {i}" for i in range(8)], "c")
    shown = tiles_of(fig, (8, 3, 3), 8, labelled=True)
    np.testing.assert_array_equal(shown[2], K[2])
    assert shown[5, 1, 1] == 0.25                           # not stretched to its own peak
    assert len(fig.axes) == 2 and labels_of(fig)[2] == "ch 2"


def test_patch_rows_label_each_row_once():
    patches = np.random.default_rng(0).random((3, 4, 5, 5))
    fig = figures.patch_rows(patches, ["ch 1", "ch 7", "ch 9"], "p")
    assert [t for t in labels_of(fig) if t] == ["ch 1", "ch 7", "ch 9"]
    np.testing.assert_array_equal(tiles_of(fig, (12, 5, 5), 4, labelled=True), patches.reshape(12, 5, 5))


def test_learning_curves_plot_the_history():
    history = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 1 / e, "val_loss": 1.1 / e, "val_accuracy": 0.9 - 1 / e}
               for e in range(1, 6)]
    fig = figures.learning_curves(history)
    loss_ax, acc_ax = fig.axes
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), [1 / e for e in range(1, 6)])
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [0.9 - 1 / e for e in range(1, 6)])
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["training", "validation"]


def test_confusion_matrix_shows_counts_and_names():
    C = np.array([[5, 1], [0, 4]])
    fig = figures.confusion_matrix(C, ["cat", "dog"])
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "4", "5"]  # zero cells stay empty
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    np.testing.assert_allclose(ax.images[0].get_array(), [[5 / 6, 1 / 6], [0, 1]])


def test_decision_boundary_and_save(tmp_path):
    xx, yy = np.meshgrid(np.linspace(-1, 1, 20), np.linspace(-1, 1, 20))
    prob = 1 / (1 + np.exp(-5 * xx))
    X = np.array([[-0.5, 0], [0.5, 0]])
    fig = figures.decision_boundary(xx, yy, prob, X, np.array([0, 1]), ["a", "b"])
    figures.save(fig, tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("n", [1, 5, 30])
def test_gallery(n):
    images = np.random.default_rng(n).random((n, 4, 4))
    fig = figures.image_gallery(images, [f"c{i}" for i in range(n)], "g")
    assert labels_of(fig) == [f"c{i}" for i in range(n)]
    np.testing.assert_array_equal(tiles_of(fig, images.shape, min(n, 6), labelled=True), images)


def test_calibration_of_a_known_model_and_its_diagram():
    from nnlab.metrics import calibration

    # 100 samples at confidence 0.85 of which 85 are right: calibrated; 100 at 0.95, all wrong
    P = np.array([[0.85, 0.15]] * 100 + [[0.05, 0.95]] * 100)
    y = np.array([0] * 85 + [1] * 15 + [0] * 100)
    cal = calibration(P, y)
    assert cal["count"][8] == 100 and cal["count"][9] == 100
    assert cal["accuracy"][8] == pytest.approx(0.85) and cal["accuracy"][9] == 0.0
    assert cal["ece"] == pytest.approx(0.5 * 0 + 0.5 * 0.95)
    fig = figures.reliability_diagram(cal["edges"], cal["accuracy"], cal["count"], cal["ece"])
    bars = [p.get_height() for p in fig.axes[0].patches]
    assert bars[8] == pytest.approx(0.85) and "0.475" in fig.axes[0].get_title()


def test_class_templates_are_the_weight_product_and_binary_gets_two():
    from nnlab.viz.analysis import class_templates

    rng = np.random.default_rng(0)
    W1, W2, W3 = rng.normal(size=(9, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    np.testing.assert_allclose(class_templates([W1, W2, W3]), W1 @ W2 @ W3)
    binary = class_templates([W1, W2, rng.normal(size=(3, 1))])
    assert binary.shape == (9, 2)
    np.testing.assert_allclose(binary[:, 0], -binary[:, 1])
    pattern = np.zeros((3, 3))
    pattern[1] = 1
    fig = figures.class_tiles(np.c_[pattern.ravel(), -pattern.ravel()], (3, 3), ["row", "not row"])
    assert labels_of(fig) == ["row", "not row"]
    shown = tiles_of(fig, (2, 3, 3), 2, labelled=True)
    np.testing.assert_array_equal(shown[0], pattern)
    np.testing.assert_array_equal(shown[1], -pattern)


def test_saliency_maps_put_each_signed_map_under_its_image():
    rng = np.random.default_rng(0)
    images, maps = rng.random((3, 5, 5)), rng.normal(size=(3, 5, 5))
    captions = ["a\n→ a", "b\n→ c", "c\n→ c"]
    fig = figures.saliency_maps(images, maps, captions)
    np.testing.assert_array_equal(tiles_of(fig, images.shape, 3, labelled=2), images)
    limits = np.array([np.percentile(np.abs(m), 99.5) for m in maps])
    np.testing.assert_allclose(tiles_of(fig, maps.shape, 3, labelled=2, axes=1),
                               np.clip(maps / limits[:, None, None], -1, 1))
    assert labels_of(fig) == captions
    assert fig.axes[0].images[0].get_array().shape == fig.axes[1].images[0].get_array().shape  # aligned
    assert fig.axes[1].images[0].get_cmap().name.startswith("RdBu_r")  # signed: for and against


def test_feature_maps_one_row_per_block_capped_at_max_channels():
    maps = [np.ones((4, 8, 8)), np.arange(20 * 16, dtype=float).reshape(20, 4, 4)]
    fig = figures.feature_maps(np.zeros((8, 8)), maps, "x", max_channels=16)
    assert len(fig.axes) == 3
    second = tiles_of(fig, (16, 4, 4), 16, labelled=False, axes=2)
    np.testing.assert_allclose(second[5], maps[1][5] / maps[1][5].max())
    assert "20 maps of 4x4 (first 16)" in fig.axes[2].get_title()


def test_weight_evolution_shows_each_units_epochs_in_turn_on_the_last_epochs_scale():
    tiles = np.arange(2 * 3 * 4 * 4, dtype=float).reshape(2, 3, 4, 4) + 1
    fig = figures.weight_evolution([1, 5], tiles, "t")
    assert labels_of(fig)[:6] == ["epoch 1", "epoch 5"] * 3  # two epochs: the units side by side
    shown = tiles_of(fig, (6, 4, 4), 6, labelled=True)  # row-major over (unit, epoch)
    for unit in range(3):
        limit = np.percentile(np.abs(tiles[1, unit]), 99.5)
        np.testing.assert_allclose(shown[2 * unit], np.clip(tiles[0, unit] / limit, -1, 1))  # grows into it
        np.testing.assert_allclose(shown[2 * unit + 1], np.clip(tiles[1, unit] / limit, -1, 1))


def test_unit_cards_show_weights_then_top_images_with_activations():
    weights, images = np.ones((2, 3, 3)), np.random.default_rng(0).random((2, 4, 3, 3))
    fig = figures.unit_cards(weights, images, [7, 9], np.array([[4.0, 3, 2, 1], [9, 8, 7, 6]]))
    assert labels_of(fig, 0) == ["unit 7", "unit 9"]
    assert labels_of(fig, 1)[4] == "9.00"
    np.testing.assert_array_equal(tiles_of(fig, (8, 3, 3), 4, labelled=True, axes=1), images.reshape(8, 3, 3))


def test_training_health_plots_each_layer_and_the_limits_over_the_judged_epochs():
    history = [{"epoch": e, "health": {"dense1": {"grad_norm": 1.0 / e, "update_ratio": 0.1 / e, "dead": 0.1},
                                       "dense2": {"grad_norm": 2.0 / e, "update_ratio": 0.2 / e, "dead": None}}}
               for e in (1, 2, 3)]
    fig = figures.training_health(history, [False, True, True], [False, True, False], 0.25, 1.0, 1e-4)
    dead, grads, ratios = fig.axes[:3]
    assert len(dead.lines) == 1 + 1          # dense1 (dense2 has no ReLU) + the warning level
    np.testing.assert_allclose(grads.lines[1].get_ydata(), [2.0, 1.0, 2 / 3])
    assert len(ratios.lines) == 2 + 2         # both layers + both limits
    np.testing.assert_array_equal(ratios.lines[2].get_ydata(), [np.nan, 1.0, 1.0])    # after the first epoch
    np.testing.assert_array_equal(ratios.lines[3].get_ydata(), [np.nan, 1e-4, np.nan])  # steady epochs only
    assert len(ratios.patches) == 1 and "shaded" in ratios.get_xlabel()   # epoch 3: low learning rate


def test_training_health_of_a_network_without_relus_says_dead_units_are_not_measured():
    history = [{"epoch": e, "health": {name: {"grad_norm": 1.0 / e, "update_ratio": 0.1 / e, "dead": None}
                                       for name in ("dense1", "dense2")}} for e in (1, 2, 3)]
    dead = figures.training_health(history, [False, True, True], [False, True, False], 0.25, 1.0, 1e-4).axes[0]
    assert not dead.lines and "not measured" in dead.texts[0].get_text()   # no empty panel with a warning line
    assert dead.get_xlim() == (0.5, 3.5)


def test_evolution_frames_pick_spread_epochs_and_the_units_that_changed_most():
    from nnlab.viz.analysis import evolution_frames

    snapshots = {f"epoch{e}": np.full((4, 3), float(e)) for e in range(10)}
    snapshots["epoch9"][:, 2] = 50.0          # unit 2 ends furthest from its start
    epochs, tiles = evolution_frames(snapshots, (2, 2), units=2, frames=4)
    assert epochs == [0, 3, 6, 9]
    assert tiles.shape == (4, 2, 2, 2)
    assert (tiles[-1, 0] == 50.0).all()
    spread = np.array([1.0, 2.0, 0.0, 1.0])   # input 2 never varies
    epochs, tiles = evolution_frames(snapshots, (2, 2), spread, units=2, frames=3)
    assert epochs == [1, 5, 9]                # what training added: epoch 0 would be blank
    np.testing.assert_array_equal(tiles[-1, 0].ravel(), [50.0, 100.0, np.nan, 50.0])
    np.testing.assert_array_equal(tiles[0, 0].ravel(), [1.0, 2.0, np.nan, 1.0])
    kernels = {f"epoch{e}": np.random.default_rng(e).normal(size=(6, 1, 3, 3)) for e in range(3)}
    epochs, tiles = evolution_frames(kernels, (28, 28), units=4)
    assert epochs == [0, 1, 2] and tiles.shape == (3, 4, 3, 3)


def test_curves_of_a_run_without_validation_show_training_alone():
    history = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 1 / e, "val_loss": None, "val_accuracy": None}
               for e in (1, 2, 3)]
    left, right = figures.learning_curves(history).axes
    assert [line.get_label() for line in left.lines + right.lines] == ["training", "training"]
    compared = figures.compare_curves({"none": history, "some": [{**h, "val_loss": 1.0} for h in history]})
    assert np.isnan(compared.axes[0].lines[0].get_ydata()).all()
    np.testing.assert_array_equal(compared.axes[0].lines[2].get_ydata(), [1.0, 1.0, 1.0])


def test_compare_curves_one_colour_per_run():
    history = [{"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "val_accuracy": 1 - 1 / e} for e in (1, 2, 3)]
    fig = figures.compare_curves({"a": history, "b": history[:2]})
    left, right = fig.axes
    assert len(left.lines) == 4 and len(right.lines) == 2       # validation + training loss per run
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["a", "b"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), [0, 0.5])
    assert left.lines[0].get_color() == right.lines[0].get_color() != right.lines[1].get_color()


def test_compare_marks_a_best_accuracy_only_among_runs_on_the_same_data():
    from nnlab.viz.compare import best_on_same_data

    def item(data, acc):
        from nnlab.training.config import ScratchConfig

        return {"settings": ScratchConfig(data=data, data_label=data), "summary": {"test_accuracy": acc}}

    moons_a, moons_b, digits = item("moons", 0.95), item("moons", 0.97), item("digits", 0.99)
    best = best_on_same_data([moons_a, digits, moons_b])
    assert len(best) == 1 and best[0] is moons_b   # digits' 0.99 is best of nothing: it is alone on its data


def test_a_one_epoch_run_is_visible_in_the_comparison():
    one = [{"epoch": 1, "loss": 0.9, "val_loss": 0.8, "val_accuracy": 0.6}]
    long = [{"epoch": e, "loss": 1 / e, "val_loss": 1 / e, "val_accuracy": 1 - 1 / e} for e in range(1, 6)]
    left, right = figures.compare_curves({"one": one, "long": long}).axes
    assert left.lines[0].get_marker() == "o" and right.lines[0].get_marker() == "o"  # a single point, drawn
    assert left.lines[2].get_marker() in ("None", "", None)  # longer runs stay plain lines


def test_the_calibration_legend_sits_above_the_bars_never_on_them():
    """An under-confident model's bars reach the top left, where the legend used to be."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    edges = np.linspace(0, 1, 11)
    accuracy = np.array([np.nan, np.nan, 0.9, 0.95, 0.97, 0.99, 1, 1, 1, 1])
    fig = figures.reliability_diagram(edges, accuracy, np.array([0, 0, 3, 10, 20, 40, 60, 90, 200, 500]), 0.2)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    top = fig.axes[0]
    legend, axes = top.get_legend().get_window_extent(renderer), top.get_window_extent(renderer)
    title = top.title.get_window_extent(renderer)
    assert legend.y0 >= axes.y1 - 1 and title.y0 >= legend.y1 - 1  # above the bars, under the title


@pytest.mark.parametrize("epochs", [1, 2, 3, 4, 5, 7])
def test_weight_evolution_stays_about_as_wide_as_tall_for_any_number_of_epochs(epochs):
    """Two or three epochs of six units drew a column 2.7 times as tall as wide."""
    fig = figures.weight_evolution(list(range(1, epochs + 1)), np.ones((epochs, 6, 28, 28)), "t")
    width, height = fig.get_size_inches()
    assert 0.25 <= height / width <= 1.3, (epochs, width, height)
