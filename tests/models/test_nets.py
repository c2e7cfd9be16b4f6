import numpy as np
import pytest
import torch

from nnlab.models import CNN, MLP, from_scratch, to_scratch
from nnlab.scratch.network import Network, predict_proba


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 8, 8), (1, 5, 7)])
def test_cnn_outputs_logits_for_any_image_shape(shape):
    model = CNN(shape, [4, 8, 8], n_classes=5).eval()
    logits = model(torch.randn(3, *shape))
    assert logits.shape == (3, 5)
    P = torch.softmax(logits, 1)
    torch.testing.assert_close(P.sum(1), torch.ones(3))
    assert len(model.conv_layers()) == 3


def test_mlp_shapes_with_batch_norm_and_dropout():
    model = MLP(12, [8, 6], 3, dropout=0.5, batch_norm=True).eval()
    assert model(torch.randn(4, 12)).shape == (4, 3)
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())


@pytest.mark.parametrize("n_classes", [2, 4])
def test_mlp_and_numpy_network_agree_both_ways(n_classes):
    torch.manual_seed(0)
    model = MLP(10, [16, 8], n_classes).eval()
    x = torch.randn(50, 10)
    p_torch = torch.softmax(model(x), 1).detach().numpy()
    net = to_scratch(model)
    assert net.binary == (n_classes == 2)
    np.testing.assert_allclose(predict_proba(net, x.numpy()), p_torch, atol=1e-5)

    rng = np.random.default_rng(0)
    net = Network.create([10, 16, 8, 1 if n_classes == 2 else n_classes], rng)
    back = from_scratch(net).eval()
    np.testing.assert_allclose(torch.softmax(back(x), 1).detach().numpy(), predict_proba(net, x.numpy()), atol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_an_mlp_with_batch_norm_and_dropout_folds_into_the_numpy_network(n_classes):
    torch.manual_seed(1)
    model = MLP(10, [16, 8], n_classes, dropout=0.3, batch_norm=True)
    x = torch.randn(200, 10) * 3 + 1
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(20):  # move gamma, beta and the running statistics far from their start
        loss = torch.nn.functional.cross_entropy(model(x), torch.arange(200) % n_classes)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert all(float((m.running_var - 1).abs().max()) > 0.1 for m in bn)  # folding has work to do
    p_torch = torch.softmax(model(x), 1).detach().numpy()
    net = to_scratch(model)
    assert net.sizes == [10, 16, 8, 1 if n_classes == 2 else n_classes]
    np.testing.assert_allclose(predict_proba(net, x.numpy()), p_torch, atol=1e-5)
    assert model.training is False and all(m.training is False for m in bn)  # to_scratch changed nothing
