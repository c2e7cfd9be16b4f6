import numpy as np
import torch
from torch import nn

from nnlab.models import CNN
from nnlab.viz import probes


def linear_model(W: np.ndarray) -> nn.Module:
    """logits = x·W (no bias): the gradient of each logit is a known column of W."""
    model = nn.Linear(W.shape[0], W.shape[1], bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(W.T.astype(np.float32)))
    return model.eval()


def test_integrated_gradients_of_a_linear_model_are_the_input_times_the_class_column_against_the_mean():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(12, 3))
    X, x0 = rng.normal(size=(4, 12)), rng.normal(size=12)
    target = np.array([0, 2, 1, 2])
    A = probes.integrated_gradients(linear_model(W), X, target, x0, (12,))
    expected = (X - x0) * (W[:, target].T - W.mean(axis=1))
    np.testing.assert_allclose(A, expected, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_add_up_to_the_score_change_and_leave_baseline_pixels_out():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    X = np.random.default_rng(1).random((5, 16)).astype(np.float32)
    X[:, :4] = 0.0                                   # "black" pixels, equal to the baseline
    target, black = np.array([0, 1, 2, 0, 1]), np.zeros(16, np.float32)
    A = probes.integrated_gradients(model, X, target, black, (16,), steps=256)
    rise = probes.class_scores(model, X, target, (16,)) - probes.class_scores(model, black[None].repeat(5, 0),
                                                                               target, (16,))
    np.testing.assert_allclose(A.sum(axis=1), rise, rtol=2e-2, atol=2e-3)   # completeness
    assert (A[:, :4] == 0).all()
    assert all(p.grad is None for p in model.parameters())


def test_receptive_field_and_strongest_positions_of_a_conv_stack():
    model = CNN((1, 12, 12), [2, 3], n_classes=2).eval()
    # Measured where the channels are read, after each block's pool (the CNN pools before batch norm and ReLU)
    assert probes.receptive_field(model, 1) == (4, 2, 0.5)   # 3x3 conv, 2x2 pool
    assert probes.receptive_field(model, 2) == (10, 4, 1.5)  # 3x3 conv, 2x2 pool, 3x3 conv, 2x2 pool
    with torch.no_grad():                                     # conv2 channel 1 copies the input's pooled max
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
                m.eval()
        conv1, conv2 = model.conv_layers()
        conv1.weight.zero_()
        conv1.weight[0, 0, 1, 1] = 1.0
        conv2.weight.zero_()
        conv2.weight[1, 0, 1, 1] = 1.0
    X = np.zeros((3, 144), np.float32)
    X[1].reshape(12, 12)[8, 4] = 1.0      # image 1 is brightest, at row 8, col 4
    X[2].reshape(12, 12)[2, 9] = 0.5
    where = probes.strongest_positions(model, X, (1, 12, 12), 2, [1], k=2)
    assert where.shape == (1, 2, 3)
    assert list(where[0, 0]) == [1, 2, 1]  # twice-pooled map (3x3): row 8 -> 4 -> 2, col 4 -> 2 -> 1
    size, jump, start = probes.receptive_field(model, 2)
    top = start + 2 * jump - (size - 1) / 2
    assert top <= 8 < top + size          # the bright pixel lies in the patch that unit sees
    assert list(where[0, 1])[0] == 2


def test_first_hidden_activations_are_the_first_relu():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2)).eval()
    X = np.random.default_rng(1).normal(size=(7, 5)).astype(np.float32)
    W, b = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    np.testing.assert_allclose(probes.first_hidden_activations(model, X, (5,)), np.maximum(X @ W.T + b, 0),
                               rtol=1e-5, atol=1e-6)


def test_feature_maps_have_one_entry_per_conv_block_with_its_shape():
    torch.manual_seed(0)
    model = CNN((1, 28, 28), [4, 8, 16], 10).eval()
    maps = probes.feature_maps(model, np.random.default_rng(0).random(784, dtype=np.float32), (1, 28, 28))
    assert [m.shape for m in maps] == [(4, 14, 14), (8, 7, 7), (16, 3, 3)]  # each block pools before its ReLU
    assert all((m >= 0).all() for m in maps)  # after the ReLU


def test_inputs_optimised_for_a_class_light_up_its_template():
    # logit_k = <T_k, x>: the best input in [0, 1] is bright where T_k > 0 and dark where T_k < 0.
    # Smooth templates (halves), as the blur and jitter of the method favour smooth inputs.
    T = np.zeros((2, 1, 8, 8))
    T[0, 0, :, :4], T[0, 0, :, 4:] = 1, -1   # class 0: bright left half
    T[1, 0, :4, :], T[1, 0, 4:, :] = -1, 1   # class 1: bright bottom half
    model = nn.Sequential(nn.Flatten(), linear_model(T.reshape(2, 64).T)).eval()
    X = probes.optimise_class_inputs(model, (1, 8, 8), 2, steps=150)
    assert X.shape == (2, 1, 8, 8) and X.min() >= 0 and X.max() <= 1
    for k in range(2):
        assert X[k][T[k] > 0].mean() > 0.7 and X[k][T[k] < 0].mean() < 0.3, X[k]  # (jitter blurs the edges)


def test_receptive_field_is_measured_through_functional_pooling():
    class Net(nn.Module):  # pools with F.max_pool2d in forward: no module says so
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 4, 5, padding=2), nn.Conv2d(4, 4, 3, padding=1)
            self.head = nn.Linear(4 * 7 * 7, 3)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.a(x)), 2)
            x = torch.nn.functional.max_pool2d(torch.relu(self.b(x)), 2)
            return self.head(x.flatten(1))

    torch.manual_seed(0)
    model = Net().eval()
    assert probes.receptive_field(model, 1) == (5, 1, 0.0)
    assert probes.receptive_field(model, 2) == (10, 2, 0.5)   # 5x5 conv, 2x2 pool, 3x3 conv


class SteepScore(nn.Module):
    """Logits (0, s) with s = (sum of the inputs)^40: along the path from black, s rises late and steeply, where
    48 midpoints measure its slope too coarsely (the midpoint rule's error grows with the curvature)."""

    def forward(self, x):
        s = x.sum(dim=1, keepdim=True) ** 40
        return torch.cat([torch.zeros_like(s), s], dim=1)


def test_integrated_gradients_take_as_many_midpoints_as_completeness_needs():
    X, black, target = np.full((1, 4), 0.25, np.float32), np.zeros(4, np.float32), np.array([1])
    rise = probes.class_scores(SteepScore(), X, target, (4,))[0]  # from 0 at black to 1
    coarse = probes.integrated_gradients(SteepScore(), X, target, black, (4,), steps=48, tolerance=1.0)
    assert abs(coarse.sum() - rise) > 0.02 * rise  # what 48 midpoints gave: about 3% short
    A = probes.integrated_gradients(SteepScore(), X, target, black, (4,))
    assert abs(A.sum() - rise) <= 0.01 * rise
