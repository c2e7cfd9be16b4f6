import numpy as np
import pytest

from nnlab.viz import figures


def test_weight_tiles_show_each_units_pattern_strongest_first():
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.01, (36, 5))
    cross = np.zeros((6, 6))
    cross[2, :] = cross[:, 2] = 1.0
    W[:, 3] = cross.ravel() * 5  # unit 3: a strong cross
    fig = figures.weight_tiles(W, (6, 6), "t")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5
    first = shown[0]
    assert first.get_title() == "3"  # the strongest unit comes first
    np.testing.assert_array_equal(first.images[0].get_array(), cross * 5)
    vmin, vmax = first.images[0].get_clim()
    assert vmin == -vmax == -5.0  # symmetric scale: white is zero
    assert first.images[0].get_cmap().name == "RdBu_r"


def test_weight_tiles_are_capped():
    fig = figures.weight_tiles(np.ones((4, 100)), (2, 2), "t", max_tiles=64)
    assert sum(1 for ax in fig.axes if ax.images) == 64


def test_conv_kernels_first_layer_and_deeper_layer():
    K = np.zeros((8, 1, 3, 3))
    K[2, 0, :, 0], K[2, 0, :, 2] = 1, -1  # a vertical edge detector
    fig = figures.conv_kernels(K, "c")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 8
    np.testing.assert_array_equal(shown[2].images[0].get_array(), K[2, 0])
    deep = figures.conv_kernels(np.ones((40, 20, 3, 3)), "d")
    assert sum(1 for ax in deep.axes if ax.images) == 32 * 16
    assert "first 32 of 40 outputs" in deep._suptitle.get_text()


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
    fig = figures.image_gallery(np.zeros((n, 4, 4)), [f"c{i}" for i in range(n)], "g")
    assert sum(1 for ax in fig.axes if ax.images) == n


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
    from nnlab.viz.render import class_templates

    rng = np.random.default_rng(0)
    W1, W2, W3 = rng.normal(size=(9, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    np.testing.assert_allclose(class_templates([W1, W2, W3]), W1 @ W2 @ W3)
    binary = class_templates([W1, W2, rng.normal(size=(3, 1))])
    assert binary.shape == (9, 2)
    np.testing.assert_allclose(binary[:, 0], -binary[:, 1])
    pattern = np.zeros((3, 3))
    pattern[1] = 1
    fig = figures.class_tiles(np.c_[pattern.ravel(), -pattern.ravel()], (3, 3), ["row", "not row"])
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["row", "not row"]
    np.testing.assert_array_equal(shown[0].images[0].get_array(), pattern)
