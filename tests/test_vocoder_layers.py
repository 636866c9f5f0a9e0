"""The layers a HiFi-GAN needs besides ConvTranspose1d (issue #24): ``nn.LeakyReLU`` / ``F.leaky_relu``,
``nn.ModuleList``, forward pre-hooks and ``nn.utils.weight_norm`` / ``remove_weight_norm``.

Against their definitions and finite differences always, and PyTorch (float64) when installed.
"""
from __future__ import annotations

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F


# ------------------------------------------------------------------------------------ leaky_relu
@pytest.mark.parametrize("slope", [0.01, 0.1, 0.2, -0.5, 1.5])
def test_leaky_relu_values_and_gradient(slope):
    x0 = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    x = lucid.tensor(x0, requires_grad=True)
    y = F.leaky_relu(x, slope)
    np.testing.assert_array_equal(y.numpy(), np.where(x0 > 0, x0, slope * x0))
    (y * lucid.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(x0 > 0, 1.0, slope) * [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(nn.LeakyReLU(slope)(lucid.tensor(x0)).numpy(), y.numpy())


def test_leaky_relu_keeps_float32_and_checks_its_arguments():
    assert F.leaky_relu(lucid.ones(3)).dtype == lucid.float32
    with pytest.raises(TypeError, match=r"leaky_relu\(\): negative_slope must be a real number"):
        F.leaky_relu(lucid.ones(3), "0.1")
    with pytest.raises(TypeError, match=r"LeakyReLU\(\): inplace must be a bool"):
        nn.LeakyReLU(0.1, inplace=1)
    with pytest.raises(TypeError, match=r"leaky_relu\(\): input must be a lucid.Tensor"):
        F.leaky_relu(np.ones(3))


def test_leaky_relu_matches_pytorch():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(0).standard_normal((2, 3, 7))
    for slope in (0.01, 0.1):
        x, t = lucid.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        y, u = nn.LeakyReLU(slope)(x), torch.nn.LeakyReLU(slope)(t)
        (y * y).sum().backward()
        (u * u).sum().backward()
        np.testing.assert_array_equal(y.numpy(), u.detach().numpy())
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-15)
        assert repr(nn.LeakyReLU(slope, True)) == repr(torch.nn.LeakyReLU(slope, True))


# ------------------------------------------------------------------------------------ ModuleList
def test_module_list_registers_indexes_and_mutates_like_a_list():
    convs = nn.ModuleList([nn.Conv1d(2, 2, 3), nn.Conv1d(2, 2, 5)])
    convs.append(nn.LeakyReLU())
    convs.extend([nn.Conv1d(2, 2, 1)])
    convs += [nn.Tanh()]
    assert len(convs) == 5 and isinstance(convs[-1], nn.Tanh) and convs[1].kernel_size == (5,)
    assert [type(m).__name__ for m in convs] == ["Conv1d", "Conv1d", "LeakyReLU", "Conv1d", "Tanh"]
    assert len(list(convs.parameters())) == 6
    assert list(convs.state_dict())[:3] == ["0.weight", "0.bias", "1.weight"]
    assert isinstance(convs[1:3], nn.ModuleList) and len(convs[1:3]) == 2
    convs.insert(0, nn.ReLU())
    del convs[2]
    assert [type(m).__name__ for m in convs] == ["ReLU", "Conv1d", "LeakyReLU", "Conv1d", "Tanh"]
    assert list(convs._modules) == ["0", "1", "2", "3", "4"]
    convs[0] = nn.Sigmoid()
    assert isinstance(convs[0], nn.Sigmoid)


def test_module_list_inside_a_module_owns_the_parameters():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ups = nn.ModuleList(nn.ConvTranspose1d(4, 4, 4, stride=2, padding=1) for _ in range(2))

        def forward(self, x):
            for up in self.ups:
                x = up(x)
            return x

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["ups.0.weight", "ups.0.bias", "ups.1.weight", "ups.1.bias"]
    assert net(lucid.zeros(1, 4, 5)).shape == (1, 4, 20)


def test_module_list_errors():
    with pytest.raises(TypeError, match=r"ModuleList.append\(\): module must be an nn.Module"):
        nn.ModuleList().append(3)
    with pytest.raises(TypeError, match="must be an iterable of nn.Module"):
        nn.ModuleList(nn.ReLU())
    with pytest.raises(IndexError, match="index 2 out of range for 2 modules"):
        nn.ModuleList([nn.ReLU(), nn.ReLU()])[2]
    with pytest.raises(NotImplementedError, match="iterate over it"):
        nn.ModuleList([nn.ReLU()])(lucid.ones(1))


# ------------------------------------------------------------------------------------ hooks
def test_forward_pre_hooks_run_in_order_may_replace_the_input_and_are_removable():
    layer, seen = nn.Tanh(), []
    first = layer.register_forward_pre_hook(lambda module, args: seen.append(("first", module)))
    layer.register_forward_pre_hook(lambda module, args: args[0] * 0.0)
    assert layer(lucid.ones(2)).tolist() == [0.0, 0.0] and seen == [("first", layer)]
    first.remove()
    first.remove()
    layer(lucid.ones(2))
    assert len(seen) == 1
    with pytest.raises(TypeError, match="hook must be a callable"):
        layer.register_forward_pre_hook(3)


# ------------------------------------------------------------------------------------ weight_norm
def _layer(kind: str):
    lucid.manual_seed(0)
    if kind == "conv":
        return nn.Conv1d(3, 4, 5, dtype=lucid.float64)
    return nn.ConvTranspose1d(3, 4, 4, stride=2, dtype=lucid.float64)


@pytest.mark.parametrize("kind", ["conv", "transposed"])
@pytest.mark.parametrize("dim", [0, 1, 2, -2, None, -1])
def test_weight_norm_keeps_the_function_and_its_gradients_match_finite_differences(kind, dim):
    layer = _layer(kind)
    w0 = layer.weight.numpy().copy()
    x = lucid.tensor(np.random.default_rng(1).standard_normal((2, 3, 9)))
    before = layer(x).numpy().copy()
    nn.utils.weight_norm(layer, dim=dim)
    assert list(layer.state_dict()) == ["bias", "weight_g", "weight_v"]
    axis = None if dim in (None, -1) else dim % 3
    want_g = np.sqrt((w0 ** 2).sum(axis=tuple(d for d in range(3) if d != axis), keepdims=axis is not None))
    np.testing.assert_allclose(layer.weight_g.numpy(), want_g, rtol=1e-14)
    np.testing.assert_allclose(layer(x).numpy(), before, rtol=1e-12, atol=1e-12)
    out = layer(x)
    (out * out).sum().backward()
    g0, v0 = layer.weight_g.numpy().copy(), layer.weight_v.numpy().copy()

    def loss(g, v):
        with lucid.no_grad():
            layer.weight_g.data[...], layer.weight_v.data[...] = g, v
            value = (layer(x) ** 2).sum().item()
            layer.weight_g.data[...], layer.weight_v.data[...] = g0, v0
            return value
    np.testing.assert_allclose(layer.weight_g.grad.numpy(), finite_difference(lambda g: loss(g, v0), g0),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.weight_v.grad.numpy(), finite_difference(lambda v: loss(g0, v), v0),
                               rtol=1e-6, atol=1e-8)


def test_weight_norm_follows_its_parameters_and_is_removed():
    layer = nn.utils.weight_norm(_layer("transposed"))
    assert layer.weight_g.shape == (3, 1, 1)                      # dim 0: per input channel of the weight
    with lucid.no_grad():
        layer.weight_g.data[...] *= 2.0
    x = lucid.tensor(np.random.default_rng(2).standard_normal((1, 3, 6)))
    doubled = layer(x).numpy()
    np.testing.assert_allclose(layer.weight.numpy(), 2 * layer.weight_v.numpy(), rtol=1e-14)
    nn.utils.remove_weight_norm(layer)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight"]
    assert isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer(x).numpy(), doubled, rtol=1e-14)
    with pytest.raises(ValueError, match=r"remove_weight_norm\(\): name must be a parameter of ConvTranspose1d "
                                         "with weight_norm applied"):
        nn.utils.remove_weight_norm(layer)


def test_weight_norm_errors():
    layer = nn.utils.weight_norm(nn.Conv1d(2, 2, 3))
    with pytest.raises(ValueError, match="without weight_norm already"):
        nn.utils.weight_norm(layer)
    with pytest.raises(ValueError, match=r"name must be the name of a parameter of Conv1d"):
        nn.utils.weight_norm(nn.Conv1d(2, 2, 3), name="kernel")
    with pytest.raises(ValueError, match="dim must be None or a dimension of the 3-D weight"):
        nn.utils.weight_norm(nn.Conv1d(2, 2, 3), dim=3)
    with pytest.raises(TypeError, match="module must be an nn.Module"):
        nn.utils.weight_norm("conv")


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_pytorch_state_dict_and_gradients(dim):
    torch = pytest.importorskip("torch")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # torch.nn.utils.weight_norm is deprecated, still what HiFi-GAN uses
        theirs = torch.nn.utils.weight_norm(torch.nn.ConvTranspose1d(3, 4, 4, stride=2, dtype=torch.float64), dim=dim)
    ours = nn.utils.weight_norm(_layer("transposed"), dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x0 = np.random.default_rng(3).standard_normal((2, 3, 8))
    x, t = lucid.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, u = ours(x), theirs(t)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-12, atol=1e-12)
    (y * y).sum().backward()
    (u * u).sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("module", ["lucid.nn.conv_transpose", "lucid.nn._conv_transpose_functional",
                                    "lucid.nn.utils.weight_norm", "lucid.nn.modules", "lucid.nn.activation",
                                    "lucid.nn._activation_functional"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
