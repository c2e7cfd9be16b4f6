"""Models as students write them get their report: a CNN whose forward begins `x.reshape(-1, 1, 28, 28)`
(common in course code) takes its data's size alone, and no probe may feed it another (issue 26)."""

import numpy as np
import pytest
import torch
from torch import nn

import nnlab
from nnlab.viz import probes


class CourseCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 7 * 7, 10)

    def forward(self, x):
        x = x.reshape(-1, 1, 28, 28)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class AnySize(nn.Module):
    """The same layers without the reshape: they take any image size."""

    def __init__(self, inner: CourseCNN):
        super().__init__()
        self.conv1, self.conv2 = inner.conv1, inner.conv2

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        return torch.max_pool2d(torch.relu(self.conv2(x)), 2)


def test_the_receptive_field_is_measured_on_the_models_own_input_size():
    torch.manual_seed(0)
    model = CourseCNN().eval()
    with pytest.raises(RuntimeError):
        model(torch.zeros(1, 1, 64, 64))  # what the probe tried first, and all it tried before
    for index in (1, 2):  # the same field as the same layers measure on 64x64 inputs, away from the border
        free = probes.receptive_field(AnySize(model), index)
        assert probes.receptive_field(model, index, image_hw=(28, 28)) == free
    assert probes.receptive_field(model, 2, image_hw=(28, 28)) == (8, 2, 0.5)  # 3x3 conv, 2x2 pool, 3x3 conv


def test_a_course_cnn_gets_its_report_with_the_conv_pictures(tmp_path):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.random((60, 1, 28, 28), dtype=np.float32)
    y = np.arange(60) % 10
    report = nnlab.report(CourseCNN(), (X, y), out=tmp_path / "r")
    drawn = {p.name for p in (tmp_path / "r" / "figures").iterdir()}
    assert {"conv1_kernels.png", "conv2_patches.png", "feature_maps.png", "saliency.png"} <= drawn, drawn
    assert report.path.is_file()


def test_a_report_without_health_says_what_would_measure_it(tmp_path):
    torch.manual_seed(0)
    X, y = np.random.default_rng(0).random((40, 784), dtype=np.float32), np.arange(40) % 10
    model = nn.Sequential(nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    bare = nnlab.report(model, (X, y), out=tmp_path / "bare").path.read_text()
    assert "no training history was given" in bare and "probe=(X, y)" in bare
    recorder = nnlab.Recorder(model)  # fed, but with no probe batch: a history without health
    recorder.epoch(loss=2.3)
    fed = nnlab.report(model, (X, y), out=tmp_path / "fed", recorder=recorder).path.read_text()
    assert "holds no health records" in fed and "nnlab.Recorder(model, probe=(X, y))" in fed
    assert "Measured after each epoch" not in fed
