import numpy as np
import pytest

from nnlab.data import load, select_classes, validation_split
from nnlab.data.dataset import make_dataset
from nnlab.errors import NNLabError
from tests.data.fixtures import write_idx_folder, write_image_folder


def write_csv(path, text):
    path.write_text(text)
    return path


def csv_rows(n=20, label="label"):
    lines = [f"a,b,{label}"] + [f"{i},{i * 0.5},{'yes' if i % 2 else 'no'}" for i in range(n)]
    return "\n".join(lines) + "\n"


def test_idx_folder_loads_images_scaled_to_unit_range(tmp_path):
    ds = load(str(write_idx_folder(tmp_path / "set")))
    assert ds.X_train.shape == (40, 36) and ds.X_test.shape == (10, 36)
    assert ds.image_shape == (1, 6, 6) and ds.X_train.dtype == np.float32
    assert 0 <= ds.X_train.min() and ds.X_train.max() <= 1
    assert ds.classes == ("0", "1", "2")


def test_idx_folder_with_raw_files(tmp_path):
    ds = load(str(write_idx_folder(tmp_path / "set", gz=False)))
    assert len(ds.y_train) == 40


def test_idx_folder_with_mismatched_counts(tmp_path):
    from nnlab.data import write_idx

    folder = write_idx_folder(tmp_path / "set")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(39, dtype=np.uint8))
    with pytest.raises(NNLabError, match="40 train images but 39 train labels"):
        load(str(folder))


def test_idx_labels_outside_the_named_classes_are_refused(tmp_path):
    from nnlab.data.readers import read_idx_folder

    folder = write_idx_folder(tmp_path / "set", n_classes=3)
    with pytest.raises(NNLabError, match="label 2 is outside the 2 classes"):
        read_idx_folder(folder, "set", classes=("a", "b"))


def test_csv_with_label_column_and_string_labels(tmp_path):
    ds = load(str(write_csv(tmp_path / "d.csv", csv_rows())))
    assert ds.classes == ("no", "yes")
    assert ds.n_features == 2
    assert len(ds.y_train) + len(ds.y_test) == 20 and len(ds.y_test) == 4
    # standardised on the training split only
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)


def test_csv_without_label_column_uses_the_last(tmp_path):
    ds = load(str(write_csv(tmp_path / "d.csv", csv_rows(label="target"))))
    assert ds.classes == ("no", "yes")


def test_csv_integer_labels_sort_numerically(tmp_path):
    text = "x,label\n" + "".join(f"{i},{[2, 10, 1][i % 3]}\n" for i in range(30))
    assert load(str(write_csv(tmp_path / "d.csv", text))).classes == ("1", "2", "10")


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,label\n1,nan,x\n2,3,y\n", "line 2, column 'b': 'nan' is not a finite number"),
        ("a,b,label\n1,hello,x\n2,3,y\n", "'hello' is not a number"),
        ("a,b,label\n1,2,x\n2,3\n", "line 3 has 2 fields but the header has 3"),
        ("a,b,label\n1,2,x\n2,3,x\n", "every row has label 'x'"),
        ("a,b,label\n", "no data rows"),
        ("", "empty CSV"),
        ("a,b,label\n1,2,\n2,3,y\n", "empty label"),
        ("a,label\n1,x\n2,y\n", "too few rows to hold any out for testing"),  # found by the fuzzer
        # the classes in the first column, without a `label` header: say how to name it
        ("species,a,b\nsetosa,1,2\nvirginica,3,4\n", "if 'species' holds the classes, name its header `label`"),
        ("kind,a,b\n" + "".join(f"{i % 3},{i},{i / 7:.3f}\n" for i in range(60)),
         "the last column 'b', taken as the class .* has 60 different values in 60 rows"),
    ],
)
def test_bad_csv_is_refused_with_a_message(tmp_path, text, message):
    with pytest.raises(NNLabError, match=message):
        load(str(write_csv(tmp_path / "d.csv", text)))


def test_image_folder_grayscale_most_common_size(tmp_path, capsys):
    from PIL import Image

    folder = write_image_folder(tmp_path / "imgs")
    Image.new("RGB", (20, 20), (255, 0, 0)).save(folder / "cat" / "big.png")
    ds = load(str(folder))
    assert ds.image_shape == (1, 6, 8)
    assert ds.classes == ("cat", "dog")
    assert len(ds.y_train) + len(ds.y_test) == 11
    assert "resized 1 of 11 images" in capsys.readouterr().out


def test_image_folder_with_train_and_test(tmp_path):
    write_image_folder(tmp_path / "imgs" / "train", per_class=4)
    write_image_folder(tmp_path / "imgs" / "test", per_class=2)
    ds = load(str(tmp_path / "imgs"))
    assert (len(ds.y_train), len(ds.y_test)) == (8, 4)


def test_empty_image_folder(tmp_path):
    (tmp_path / "imgs" / "cat").mkdir(parents=True)
    with pytest.raises(NNLabError, match="no images found"):
        load(str(tmp_path / "imgs"))


def test_unreadable_image(tmp_path):
    folder = write_image_folder(tmp_path / "imgs")
    (folder / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(NNLabError, match="broken.png: not a readable image"):
        load(str(folder))


def test_select_two_classes_makes_a_binary_task_keeping_names(tmp_path):
    ds = load(str(write_idx_folder(tmp_path / "set", n_classes=3)))
    two = select_classes(ds, ["2", "0"])
    assert two.classes == ("2", "0")
    assert set(np.unique(two.y_train)) == {0, 1}
    # class "2" became label 0
    np.testing.assert_array_equal(two.X_train[two.y_train == 0], ds.X_train[ds.y_train == 2])


@pytest.mark.parametrize("wanted, message", [(["0", "7"], "'7' is not a class"), (["1"], "two or more")])
def test_select_unknown_or_too_few_classes(tmp_path, wanted, message):
    ds = load(str(write_idx_folder(tmp_path / "set")))
    with pytest.raises(NNLabError, match=message):
        select_classes(ds, wanted)


def test_a_mistyped_class_name_gets_a_suggestion():
    X = np.zeros((4, 2))
    ds = make_dataset("pets", X, [0, 1, 0, 1], X, [0, 1, 0, 1], ("cat", "dog"))
    with pytest.raises(NNLabError, match=r"'dgo' is not a class of pets \(did you mean 'dog'\?\); choose from 0=cat"):
        select_classes(ds, ["cat", "dgo"])


def test_validation_split_is_seeded_and_stratified():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.repeat([0, 1], 50)
    a = validation_split(X, y, 0.2, seed=3)
    b = validation_split(X, y, 0.2, seed=3)
    c = validation_split(X, y, 0.2, seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[2], c[2])
    assert np.bincount(a[3]).tolist() == [10, 10]
    with pytest.raises(NNLabError, match="at least 0 and below 1"):
        validation_split(X, y, 1.5, seed=0)
    X_train, y_train, X_val, y_val = validation_split(X, y, 0.0, seed=0)  # none held out
    np.testing.assert_array_equal(X_train, X)
    assert X_val.shape == (0, 2) and len(y_val) == 0


def test_make_dataset_refuses_nan_and_single_class():
    X = np.ones((4, 2))
    with pytest.raises(NNLabError, match="NaN"):
        make_dataset("t", np.full((4, 2), np.nan), [0, 1, 0, 1], X, [0, 1, 0, 1], ("a", "b"))
    with pytest.raises(NNLabError, match="single class"):
        make_dataset("t", X, [0, 0, 0, 0], X, [0, 1, 0, 1], ("a", "b"))


def test_unknown_name_and_unknown_file(tmp_path):
    with pytest.raises(NNLabError, match="unknown dataset 'nope'"):
        load("nope")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(NNLabError, match="unknown data file"):
        load(str(tmp_path / "x.txt"))
