"""nn.Module machinery, Conv1d's contract with the planner, F.pad, init and SGD; torch as an optional oracle."""
from __future__ import annotations

import math

import numpy as np
import pytest
from reference import conv1d_grads_ref, conv1d_ref, pad_ref

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.nn.init as init
import lucid.optim as optim
from lucid.algos import planner, registry


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Conv1d(4, 2, 1, bias=False)
        self.register_buffer("scale", lucid.ones(1))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


# ------------------------------------------------------------------ Module
def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "head.weight"]
    assert len(list(net.parameters())) == 3 and all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Sequential", "Conv1d", "ReLU", "Conv1d"]
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "Conv1d"]
    assert net.head.bias is None and [n for n, _ in net.named_buffers()] == ["scale"]
    assert list(net.state_dict()) == ["body.0.weight", "body.0.bias", "head.weight", "scale"]
    assert net(lucid.zeros(2, 1, 8)).shape == (2, 2, 8)


def test_train_eval_and_zero_grad():
    net = Net()
    assert net.training and net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(lucid.randn(2, 1, 8)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_load_state_dict_copies_in_place_and_is_strict():
    src, dst = Net(), Net()
    arrays = [p.data for p in dst.parameters()]
    dst.load_state_dict(src.state_dict())
    assert [p.data for p in dst.parameters()] == arrays              # same arrays ...
    for a, b in zip(src.parameters(), dst.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())                   # ... new values
    state = src.state_dict()
    state.pop("scale")
    with pytest.raises(ValueError, match="missing: \\['scale'\\]"):
        dst.load_state_dict(state)
    assert dst.load_state_dict(state, strict=False).missing_keys == ["scale"]
    with pytest.raises(ValueError, match="state_dict\\['head.weight'\\]"):
        dst.load_state_dict({**src.state_dict(), "head.weight": np.zeros((1, 1, 1))})


def test_parameter_assignment_rules():
    conv = nn.Conv1d(1, 1, 1)
    with pytest.raises(TypeError, match="weight"):
        conv.weight = lucid.ones(1, 1, 1)
    conv.bias = None
    assert [n for n, _ in conv.named_parameters()] == ["weight"]
    p = nn.Parameter(lucid.ones(2))
    assert p.requires_grad and p.is_leaf and repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert nn.Parameter().shape == (0,)


def test_sequential_indexing_and_repr():
    seq = nn.Sequential(nn.Conv1d(1, 8, 3, padding=1), nn.ReLU(), nn.MSELoss())
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and len(seq[:2]) == 2
    assert repr(seq) == ("Sequential(\n  (0): Conv1d(1, 8, kernel_size=(3,), stride=(1,), padding=(1,))\n"
                         "  (1): ReLU()\n  (2): MSELoss()\n)")


def test_relu_and_mse_loss_values_and_gradients():
    x = lucid.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]
    a = lucid.tensor([1.0, 2.0], requires_grad=True)
    loss = nn.MSELoss()(a, lucid.tensor([0.0, 0.0]))
    loss.backward()
    assert loss.item() == 2.5 and a.grad.tolist() == [1.0, 2.0]
    assert F.mse_loss(a, lucid.zeros(2), reduction="sum").item() == 5.0
    assert F.mse_loss(a, lucid.zeros(2), reduction="none").tolist() == [1.0, 4.0]


# --------------------------------------------------------------- Conv1d
def test_seed_example_basic():
    import lucid
    import lucid.nn as nn
    conv = nn.Conv1d(in_channels=1, out_channels=8, kernel_size=3, padding=1)
    x = lucid.zeros(4, 1, 16) # (N, C_in, L)
    y = conv(x)
    assert y.shape == (4, 8, 16)


def test_seed_example_depthwise():
    import lucid
    import lucid.nn as nn
    depthwise = nn.Conv1d(
        in_channels=32, out_channels=32,
        kernel_size=5, padding=2, groups=32
    )
    x = lucid.zeros(2, 32, 64)
    y = depthwise(x)
    assert y.shape == (2, 32, 64)


def test_conv1d_parameters_and_init_bounds():
    lucid.manual_seed(0)
    conv = nn.Conv1d(6, 4, 5, groups=2)
    assert conv.weight.shape == (4, 3, 5) and conv.bias.shape == (4,)
    assert conv.weight.dtype is lucid.float32
    bound = 1 / math.sqrt(3 * 5)
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.weight.numpy()).max() > 0.8 * bound
    assert np.abs(conv.bias.numpy()).max() <= bound
    assert nn.Conv1d(2, 2, 3, dtype="float64").weight.dtype is lucid.float64
    assert nn.Conv1d(2, 2, 3, bias=False).bias is None


def test_unbatched_input_matches_the_batched_result():
    conv = nn.Conv1d(3, 5, 3, stride=2, padding=1, dtype="float64")
    x = lucid.randn(3, 11, dtype="float64", requires_grad=True)
    y = conv(x)
    assert y.shape == (5, 6)
    y.backward(np.ones(y.shape))
    xb = lucid.tensor(x.numpy()[None], requires_grad=True)
    conv.zero_grad()
    yb = conv(xb)
    yb.backward(np.ones(yb.shape))
    np.testing.assert_allclose(y.numpy(), yb.numpy()[0])
    np.testing.assert_allclose(x.grad.numpy(), xb.grad.numpy()[0])
    assert x.grad.shape == (3, 11)


def test_empty_batch_does_not_reach_the_planner(monkeypatch):
    monkeypatch.setattr(planner, "execute", lambda *a, **k: pytest.fail("planner called for N=0"))
    conv = nn.Conv1d(2, 3, 3, padding=1)
    x = lucid.zeros(0, 2, 7, requires_grad=True)
    y = conv(x)
    assert y.shape == (0, 3, 7)
    y.sum().backward()
    assert x.grad.shape == (0, 2, 7)
    assert conv.weight.grad.shape == (3, 2, 3) and not conv.weight.grad.numpy().any()
    assert conv.bias.grad.shape == (3,) and not conv.bias.grad.numpy().any()


def test_non_contiguous_and_read_only_inputs():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((2, 3, 20))
    w = rng.standard_normal((4, 3, 3))
    strided = lucid.from_numpy(base[:, :, ::2])
    readonly = base[:, :, ::2].copy()
    readonly.flags.writeable = False
    want = conv1d_ref(base[:, :, ::2], w)
    for x in (strided, lucid.from_numpy(readonly)):
        np.testing.assert_allclose(F.conv1d(x, lucid.tensor(w)).numpy(), want, rtol=1e-12)


def test_every_call_goes_through_the_planner_with_the_module_algorithm(monkeypatch):
    calls = []
    real = planner.execute

    def spy(op, spec, a, b, algorithm=None):
        calls.append((op, spec.padding, algorithm))
        return real(op, spec, a, b, algorithm=algorithm)
    monkeypatch.setattr(planner, "execute", spy)
    conv = nn.Conv1d(2, 2, 4, padding="same")
    conv.algorithm = "direct"
    conv(lucid.randn(1, 2, 9, requires_grad=True)).sum().backward()
    assert calls == [("forward", (1, 2), "direct"), ("backward_data", (1, 2), "direct"),
                     ("backward_filter", (1, 2), "direct")]
    calls.clear()
    conv.weight.requires_grad_(False)
    conv(lucid.randn(1, 2, 9)).sum().backward()                     # only the bias needs a gradient
    assert [op for op, _, _ in calls] == ["forward"]
    assert "algorithm=direct" in repr(conv)


@pytest.mark.parametrize("name", [a.name for a in registry.algorithms()])
def test_forcing_each_registered_algorithm(name):
    rng = np.random.default_rng(2)
    x0, w0, dy = rng.standard_normal((2, 4, 16)), rng.standard_normal((6, 2, 3)), rng.standard_normal((2, 6, 8))
    x, w = lucid.tensor(x0, requires_grad=True), lucid.tensor(w0, requires_grad=True)
    try:
        y = F.conv1d(x, w, stride=2, padding=1, dilation=1, groups=2, algorithm=name)
    except ValueError as err:                                      # it cannot serve this forward problem
        assert name in str(err)
        return
    y.backward(dy)
    dx, dw, _ = conv1d_grads_ref(x0, w0, dy, 2, 1, 1, 2)
    np.testing.assert_allclose(y.numpy(), conv1d_ref(x0, w0, None, 2, 1, 1, 2), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), dw, rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------------ F.pad
@pytest.mark.parametrize("mode,ref_mode", [("constant", "zeros"), ("reflect", "reflect"),
                                           ("replicate", "replicate"), ("circular", "circular")])
def test_pad_values_and_gradient(mode, ref_mode):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((2, 3, 6))
    x = lucid.tensor(x0, requires_grad=True)
    y = F.pad(x, (4, 2), mode=mode)
    np.testing.assert_array_equal(y.numpy(), pad_ref(x0, 4, 2, ref_mode))
    g = rng.standard_normal(y.shape)
    y.backward(g)
    # the adjoint: <pad(x), g> == <x, pad^T(g)>
    np.testing.assert_allclose((pad_ref(x0, 4, 2, ref_mode) * g).sum(), (x0 * x.grad.numpy()).sum(), rtol=1e-12)
    assert F.pad(lucid.ones(2), (1, 1), value=5.0).tolist() == [5.0, 1.0, 1.0, 5.0]


# -------------------------------------------------------------- init, SGD
def test_init_functions_fill_in_place():
    t = lucid.empty(3, 4)
    array = t.data
    assert init.zeros_(t) is t and not t.numpy().any() and t.data is array
    assert init.ones_(t).numpy().sum() == 12 and init.constant_(t, 2.5).numpy().max() == 2.5
    init.uniform_(t, -1, 1)
    assert (np.abs(t.numpy()) <= 1).all()
    init.normal_(t, 10.0, 0.01)
    assert abs(t.numpy().mean() - 10) < 0.1
    w = lucid.empty(64, 16, 8)
    init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 128)
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("leaky_relu", 0) == math.sqrt(2)


def test_sgd_rule_and_in_place_updates():
    p = nn.Parameter(lucid.tensor([1.0, -2.0], dtype="float64"))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    array, grads, buf, want = p.data, [np.array([0.5, 1.0]), np.array([-1.0, 2.0])], None, p.numpy().copy()
    for g in grads:
        opt.zero_grad()
        (p * lucid.tensor(g)).sum().backward()
        opt.step()
        d = g + 0.01 * want
        buf = d.copy() if buf is None else 0.9 * buf + d
        want = want - 0.1 * (d + 0.9 * buf)
    assert p.data is array
    np.testing.assert_allclose(p.numpy(), want, rtol=1e-12)


def test_sgd_param_groups():
    a, b = nn.Parameter(lucid.ones(1)), nn.Parameter(lucid.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)


# ------------------------------------------------------------ torch oracle
CONFIGS = [dict(in_channels=1, out_channels=8, kernel_size=3, padding=1),
           dict(in_channels=4, out_channels=8, kernel_size=3, padding="same", padding_mode="reflect", dilation=2,
                groups=2, bias=False),
           dict(in_channels=4, out_channels=8, kernel_size=3, padding="valid"),
           dict(in_channels=4, out_channels=4, kernel_size=(4,), stride=(2,), padding=(2,), groups=4,
                padding_mode="circular"),
           dict(in_channels=3, out_channels=6, kernel_size=4, padding="same", padding_mode="replicate")]


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_torch_oracle_repr_init_and_padding_modes(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Conv1d(**kwargs), torch.nn.Conv1d(**kwargs)
    assert repr(ours) == repr(theirs)
    for name in ("kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.weight.shape == tuple(theirs.weight.shape)
    fan_in = kwargs["in_channels"] // kwargs.get("groups", 1) * ours.kernel_size[0]
    assert np.abs(ours.weight.numpy()).max() <= 1 / math.sqrt(fan_in)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.numpy()))
        if theirs.bias is not None:
            theirs.bias.copy_(torch.from_numpy(ours.bias.numpy()))
    x = np.random.default_rng(4).standard_normal((2, kwargs["in_channels"], 13)).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_(True)
    xl = lucid.tensor(x, requires_grad=True)
    yt, yl = theirs(xt), ours(xl)
    np.testing.assert_allclose(yl.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    yt.sum().backward()
    yl.sum().backward()
    np.testing.assert_allclose(xl.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_torch_oracle_pad(mode):
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    for pad in [(1, 2), (3, 0), (2, 4)]:
        if mode == "reflect" and max(pad) >= 5:
            continue
        want = torch.nn.functional.pad(torch.from_numpy(x), pad, mode=mode).numpy()
        np.testing.assert_array_equal(F.pad(lucid.tensor(x), pad, mode=mode).numpy(), want)


def test_torch_oracle_sgd_momentum():
    torch = pytest.importorskip("torch")
    w0 = np.array([1.0, -2.0, 0.5])
    ours, theirs = nn.Parameter(lucid.tensor(w0)), torch.nn.Parameter(torch.tensor(w0))
    kw = dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.02)
    o, t = optim.SGD([ours], **kw), torch.optim.SGD([theirs], **kw)
    for _ in range(5):
        o.zero_grad()
        t.zero_grad()
        (ours * ours * ours).sum().backward()
        (theirs ** 3).sum().backward()
        o.step()
        t.step()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("module", ["lucid", "lucid.tensor", "lucid._errors", "lucid.dtypes", "lucid.nn.module",
                                    "lucid.nn.modules", "lucid.nn.conv", "lucid.nn.parameter",
                                    "lucid.nn.functional", "lucid.nn.init", "lucid.optim"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
