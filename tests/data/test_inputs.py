"""`nnlab predict`'s inputs: a digit drawn dark on light, as people draw, is inverted to match training images
drawn light on dark, and says so (issue 26)."""

import numpy as np
from PIL import Image

from nnlab.cli import main
from nnlab.data.dataset import Scaler
from nnlab.data.inputs import read_input

SHAPE = (1, 28, 28)


def stroke(light_on_dark: bool) -> np.ndarray:
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255  # a "1"
    return img if light_on_dark else 255 - img


def test_an_image_of_the_other_polarity_is_inverted_and_says_so(tmp_path):
    path = tmp_path / "one.png"
    Image.fromarray(stroke(light_on_dark=False)).save(path)
    scaler = Scaler("pixels", pixel_max=255.0)
    row, notice = read_input(path, 784, SHAPE, scaler, background=0.01)  # training images: black borders
    np.testing.assert_allclose(row.reshape(28, 28), stroke(light_on_dark=True) / 255.0)
    assert "drawn dark on light: inverted" in notice
    same, quiet = read_input(path, 784, SHAPE, scaler, background=0.97)  # training images drawn dark on light too
    np.testing.assert_allclose(same.reshape(28, 28), stroke(light_on_dark=False) / 255.0)
    assert quiet is None
    unknown, _ = read_input(path, 784, SHAPE, scaler)  # a run from before the background was recorded
    np.testing.assert_array_equal(unknown, same)


def test_predict_gives_a_dark_on_light_digit_the_class_of_its_light_on_dark_twin(tmp_path, capsys):
    assert main(["train", "scratch", "--data", "mnist-5k", "--classes", "1,0", "--epochs", "2", "--hidden", "16",
                 "--quiet", "--out", str(tmp_path), "--name", "r"]) == 0
    for name, light in (("light.png", True), ("dark.png", False)):
        Image.fromarray(stroke(light)).save(tmp_path / name)
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "r"), str(tmp_path / "light.png"), str(tmp_path / "dark.png")]) == 0
    out, err = capsys.readouterr()
    classes = [line.split("\t")[1] for line in out.splitlines()]
    assert classes == ["1", "1"], out
    assert "dark.png is drawn dark on light" in err and "light.png" not in err
