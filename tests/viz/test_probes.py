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


def test_saliency_of_a_linear_model_is_the_class_column_against_the_mean():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(12, 3))
    X = rng.normal(size=(4, 12))
    target = np.array([0, 2, 1, 2])
    S = probes.saliency(linear_model(W), X, target, (12,))
    expected = np.abs(W[:, target].T - W.mean(axis=1))
    np.testing.assert_allclose(S, expected, rtol=1e-5, atol=1e-6)


def test_saliency_leaves_the_parameters_gradients_alone():
    model = linear_model(np.ones((4, 2)))
    probes.saliency(model, np.ones((1, 4)), np.array([1]), (4,))
    assert model.weight.grad is None


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
    assert [m.shape for m in maps] == [(4, 28, 28), (8, 14, 14), (16, 7, 7)]
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
