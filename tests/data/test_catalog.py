import numpy as np
import pytest

from nnlab.data import load
from nnlab.data.catalog import CATALOG, locate
from nnlab.data.synthetic import GENERATORS
from nnlab.errors import NNLabError
from tests.data.fixtures import write_idx_folder


@pytest.mark.parametrize("name", list(GENERATORS))
def test_playground_sets_are_seeded_balanced_and_noisy(name):
    a, b = load(name, seed=1), load(name, seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, load(name, seed=2).X_train)
    assert a.X_train.shape == (1000, 2) and a.X_test.shape == (500, 2)
    assert abs(a.y_train.mean() - 0.5) < 0.05
    quiet, noisy = load(name, noise=0.0), load(name, noise=0.5)
    assert noisy.scaler.std.mean() > quiet.scaler.std.mean() * 0.9  # noise spreads the points


def test_moons_noise_range_is_checked():
    with pytest.raises(NNLabError, match="--noise must be between 0 and 2"):
        load("moons", noise=5)


def test_sklearn_sets():
    digits = load("digits")
    assert digits.image_shape == (1, 8, 8) and digits.n_classes == 10
    assert digits.X_train.max() <= 1.0
    cancer = load("breast-cancer")
    assert cancer.classes == ("malignant", "benign") and cancer.n_features == 30


def test_mnist_5k_fixed_split():
    ds = load("mnist-5k")
    assert (len(ds.y_train), len(ds.y_test)) == (4000, 1000)
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert ds.image_shape == (1, 28, 28)


def test_named_idx_dataset_found_through_nnlab_data(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_idx_folder(tmp_path / "mnist", n_classes=10, n_train=50, n_test=20)
    assert locate("mnist") == tmp_path / "mnist"
    ds = load("mnist")
    assert ds.classes == tuple(str(i) for i in range(10)) and len(ds.y_train) == 50


def test_named_idx_dataset_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(NNLabError, match="dataset mnist not found .*nnlab data fetch mnist"):
        load("mnist")


def test_every_catalog_entry_has_a_description():
    assert all(e.description and e.source for e in CATALOG.values())
