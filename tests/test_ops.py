"""The ops of issue #17 part A, forward and backward.

Every case is checked against float64 central finite differences (always) and
against PyTorch's forward and gradient to 1e-10 (when torch is installed; it is
only an optional oracle).  Then: dtypes, numerical stability, PyTorch's edge
semantics (max ties, squeeze of non-1 dims, pooling windows) and bad arguments.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.ops.dims import DimensionError

RNG = np.random.default_rng(17)


def _rand(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return RNG.uniform(low, high, shape)


def _distinct(*shape: int) -> np.ndarray:
    """Values with no ties (a permutation of a spread-out grid), for max and max-pooling."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 - n * 0.15 + RNG.uniform(-0.05, 0.05, n)).reshape(shape)


# (name, lucid function of tensors, torch function of tensors or None (same spelling), inputs)
Case = tuple[str, Callable[..., Any], Callable[..., Any], list[np.ndarray]]
CASES: list[Case] = [
    ("exp", lambda x: lucid.exp(x), lambda x: x.exp(), [_rand(2, 3, 4)]),
    ("log", lambda x: lucid.log(x), lambda x: x.log(), [_rand(2, 3, 4, low=0.2, high=3.0)]),
    ("tanh", lambda x: lucid.tanh(x), lambda x: x.tanh(), [_rand(2, 3, 4)]),
    ("sigmoid", lambda x: lucid.sigmoid(x), lambda x: x.sigmoid(), [_rand(2, 3, 4, low=-8, high=8)]),
    ("abs", lambda x: lucid.abs(x), lambda x: x.abs(), [_distinct(2, 3, 4)]),
    ("sqrt", lambda x: lucid.sqrt(x), lambda x: x.sqrt(), [_rand(2, 3, 4, low=0.2, high=3.0)]),
    ("method_chain", lambda x: x.exp().log().tanh().sigmoid().abs().sqrt(),
     lambda x: x.exp().log().tanh().sigmoid().abs().sqrt(), [_rand(3, 4)]),
    ("F.sigmoid", lambda x: F.sigmoid(x), lambda x: x.sigmoid(), [_rand(5)]),
    ("F.tanh", lambda x: F.tanh(x), lambda x: x.tanh(), [_rand(5)]),
    ("relu", lambda x: F.relu(x), lambda x: x.relu(), [_distinct(2, 3, 4)]),
    ("relu_method", lambda x: x.relu(), lambda x: x.relu(), [_distinct(2, 3, 4)]),
    ("silu", lambda x: F.silu(x), "silu", [_rand(2, 3, 4, low=-6, high=6)]),
    ("gelu", lambda x: F.gelu(x), "gelu", [_rand(2, 3, 4, low=-4, high=4)]),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), ("gelu", {"approximate": "tanh"}),
     [_rand(2, 3, 4, low=-4, high=4)]),
    ("softplus", lambda x: F.softplus(x), "softplus", [_rand(2, 3, 4, low=-6, high=6)]),
    ("softplus_beta_threshold", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
     ("softplus", {"beta": 2.0, "threshold": 3.0}), [np.array([-3.0, -0.5, 0.3, 1.2, 1.7, 4.0])]),
    ("softplus_negative_beta", lambda x: F.softplus(x, beta=-0.5), ("softplus", {"beta": -0.5}),
     [_rand(7)]),
    ("transpose", lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1), [_rand(2, 3, 4)]),
    ("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [_rand(2, 3, 4)]),
    ("permute_tuple", lambda x: x.permute((1, 2, 0)), lambda x: x.permute((1, 2, 0)), [_rand(2, 3, 4)]),
    ("flatten", lambda x: x.flatten(), lambda x: x.flatten(), [_rand(2, 3, 4)]),
    ("flatten_middle", lambda x: x.flatten(1, 2), lambda x: x.flatten(1, 2), [_rand(2, 3, 4, 2)]),
    ("unsqueeze", lambda x: x.unsqueeze(-1) * x.unsqueeze(1), lambda x: x.unsqueeze(-1) * x.unsqueeze(1),
     [_rand(3, 4)]),
    ("squeeze_all", lambda x: x.squeeze(), lambda x: x.squeeze(), [_rand(1, 3, 1, 4)]),
    ("squeeze_dim", lambda x: x.squeeze(2), lambda x: x.squeeze(2), [_rand(1, 3, 1, 4)]),
    ("squeeze_dims", lambda x: x.squeeze((0, 1)), lambda x: x.squeeze((0, 1)), [_rand(1, 3, 1, 4)]),
    ("cat", lambda a, b: lucid.cat([a, b, a], dim=1), lambda a, b: torch_mod().cat([a, b, a], dim=1),
     [_rand(2, 3, 4), _rand(2, 1, 4)]),
    ("cat_negative_dim", lambda a, b: lucid.cat((a, b), -1), lambda a, b: torch_mod().cat((a, b), -1),
     [_rand(2, 3), _rand(2, 5)]),
    ("stack", lambda a, b: lucid.stack([a, b, a], dim=1), lambda a, b: torch_mod().stack([a, b, a], dim=1),
     [_rand(2, 3), _rand(2, 3)]),
    ("stack_last", lambda a, b: lucid.stack([a, b], dim=-1), lambda a, b: torch_mod().stack([a, b], dim=-1),
     [_rand(2, 3), _rand(2, 3)]),
    ("max_all", lambda x: x.max(), lambda x: x.max(), [_distinct(3, 4)]),
    ("max_dim", lambda x: x.max(1).values, lambda x: x.max(1).values, [_distinct(3, 4, 2)]),
    ("max_dim_keepdim", lambda x: x.max(-1, keepdim=True)[0], lambda x: x.max(-1, keepdim=True)[0],
     [_distinct(3, 4)]),
    ("amax", lambda x: x.amax(1), lambda x: x.amax(1), [_distinct(3, 4, 2)]),
    ("amax_dims_keepdim", lambda x: lucid.amax(x, (0, 2), keepdim=True),
     lambda x: torch_mod().amax(x, (0, 2), keepdim=True), [_distinct(3, 4, 2)]),
    ("amax_all", lambda x: lucid.amax(x), lambda x: torch_mod().amax(x), [_distinct(3, 4)]),
    ("softmax", lambda x: F.softmax(x, dim=1), ("softmax", {"dim": 1}), [_rand(2, 5, 3)]),
    ("softmax_last", lambda x: F.softmax(x, -1), ("softmax", {"dim": -1}), [_rand(2, 5, 3)]),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), ("log_softmax", {"dim": 1}), [_rand(2, 5, 3)]),
    ("log_softmax_first", lambda x: F.log_softmax(x, 0), ("log_softmax", {"dim": 0}), [_rand(4, 3)]),
    ("avg_pool", lambda x: F.avg_pool1d(x, 3), ("avg_pool1d", {"kernel_size": 3}), [_rand(2, 3, 10)]),
    ("avg_pool_stride_pad", lambda x: F.avg_pool1d(x, 4, stride=3, padding=2),
     ("avg_pool1d", {"kernel_size": 4, "stride": 3, "padding": 2}), [_rand(2, 3, 11)]),
    ("avg_pool_exclude_pad", lambda x: F.avg_pool1d(x, 3, 1, 1, count_include_pad=False),
     ("avg_pool1d", {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}), [_rand(2, 2, 7)]),
    ("avg_pool_unbatched", lambda x: F.avg_pool1d(x, (2,), (1,)),
     ("avg_pool1d", {"kernel_size": 2, "stride": 1}), [_rand(3, 6)]),
    ("max_pool", lambda x: F.max_pool1d(x, 3), ("max_pool1d", {"kernel_size": 3}), [_distinct(2, 3, 10)]),
    ("max_pool_overlap_pad", lambda x: F.max_pool1d(x, 3, stride=1, padding=1),
     ("max_pool1d", {"kernel_size": 3, "stride": 1, "padding": 1}), [_distinct(2, 3, 9)]),
    ("max_pool_dilated", lambda x: F.max_pool1d(x, 3, stride=2, padding=1, dilation=2),
     ("max_pool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}), [_distinct(2, 2, 12)]),
    ("max_pool_unbatched", lambda x: F.max_pool1d(x, 2, 1), ("max_pool1d", {"kernel_size": 2, "stride": 1}),
     [_distinct(3, 7)]),
    ("modules", lambda x: nn.Sequential(nn.Tanh(), nn.Sigmoid(), nn.SiLU(), nn.GELU("tanh"), nn.Softplus(2.0),
                                        nn.AvgPool1d(2, 1), nn.MaxPool1d(2, 1), nn.LogSoftmax(1),
                                        nn.ReLU(), nn.GELU(), nn.Softmax(-1))(x),
     lambda x: modules_torch()(x), [_distinct(2, 3, 8)]),
]


def torch_mod() -> Any:
    import torch
    return torch


def modules_torch() -> Any:
    tn = torch_mod().nn
    return tn.Sequential(tn.Tanh(), tn.Sigmoid(), tn.SiLU(), tn.GELU("tanh"), tn.Softplus(2.0), tn.AvgPool1d(2, 1),
                         tn.MaxPool1d(2, 1), tn.LogSoftmax(1), tn.ReLU(), tn.GELU(), tn.Softmax(-1))


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(len(shape) + int(np.prod(shape))).uniform(-1, 1, shape)


def _run(case: Case) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """lucid's output, input gradients of ``sum(out * w)`` and the weights ``w``."""
    _, f, _, inputs = case
    xs = [lucid.tensor(a, requires_grad=True) for a in inputs]
    out = f(*xs)
    w = _weights(out.shape)
    (out * lucid.tensor(w)).sum().backward()
    return out.numpy(), [x.grad.numpy() for x in xs], w


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradient_match_finite_differences(case):
    _, f, _, inputs = case
    out, grads, w = _run(case)
    assert out.dtype == np.float64
    for i, a in enumerate(inputs):
        def loss(v, i=i):
            with lucid.no_grad():
                args = [lucid.tensor(v if j == i else b) for j, b in enumerate(inputs)]
                return float((f(*args).numpy() * w).sum())
        np.testing.assert_allclose(grads[i], finite_difference(loss, a), rtol=1e-6, atol=1e-8,
                                   err_msg=f"{case[0]} input {i}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradient_match_pytorch(case):
    torch = pytest.importorskip("torch")
    name, _, peer, inputs = case
    if isinstance(peer, str):
        peer = (peer, {})
    if isinstance(peer, tuple):
        fname, kwargs = peer
        peer = (lambda fname, kwargs: lambda *t: getattr(torch.nn.functional, fname)(*t, **kwargs))(fname, kwargs)
    out, grads, w = _run(case)
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    theirs = peer(*ts)
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


# ------------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("f", [
    lucid.exp, lucid.log, lucid.tanh, lucid.sigmoid, lucid.abs, lucid.sqrt, F.silu, F.gelu, F.softplus,
    lambda x: F.gelu(x, approximate="tanh"), lambda x: F.softmax(x, 1), lambda x: F.log_softmax(x, -1),
    lambda x: x.transpose(0, 1), lambda x: x.permute(2, 1, 0), lambda x: x.flatten(), lambda x: x.unsqueeze(1),
    lambda x: x.squeeze(), lambda x: lucid.cat([x, x], 2), lambda x: lucid.stack([x, x]), lambda x: x.max(),
    lambda x: x.max(1).values, lambda x: x.amax(-1), lambda x: F.avg_pool1d(x, 2), lambda x: F.max_pool1d(x, 2),
    lambda x: F.avg_pool1d(x, 3, 1, 1, count_include_pad=False)])
def test_float32_stays_float32_forward_and_backward(f):
    x = lucid.tensor(np.random.default_rng(0).uniform(0.1, 2.0, (2, 3, 4)).astype(np.float32), requires_grad=True)
    out = f(x)
    assert out.dtype == lucid.float32
    out.sum().backward()
    assert x.grad.dtype == lucid.float32


def test_integer_inputs_compute_in_float32_and_abs_keeps_integers():
    i = lucid.tensor([1, 4, 9])
    assert lucid.exp(i).dtype == lucid.float32 and lucid.sqrt(i).tolist() == [1.0, 2.0, 3.0]
    assert lucid.abs(lucid.tensor([-2, 3])).dtype == lucid.int64
    assert lucid.cat([i, lucid.tensor([0.5])]).dtype == lucid.float32


# --------------------------------------------------------------------------------- stability
def test_sigmoid_softplus_and_softmax_are_stable_for_huge_inputs():
    big = lucid.tensor([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4], dtype="float64", requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):      # no overflow anywhere
        s = lucid.sigmoid(big)
        sp = F.softplus(big, threshold=1e9)
        (s.sum() + sp.sum() + F.softmax(big, 0).sum() + F.log_softmax(big, 0).sum() + F.silu(big).sum()).backward()
    np.testing.assert_allclose(s.numpy(), [0, 0, 1 / (1 + np.exp(40.0)), 0.5, 1 / (1 + np.exp(-40.0)), 1, 1])
    np.testing.assert_allclose(sp.numpy(), [0, 0, np.log1p(np.exp(-40.0)), np.log(2), 40, 800, 1e4], rtol=1e-15)
    assert np.all(np.isfinite(big.grad.numpy()))
    np.testing.assert_allclose(F.log_softmax(lucid.tensor([0.0, 1e4], dtype="float64"), 0).numpy(), [-1e4, 0.0])


def test_log_and_sqrt_follow_pytorch_outside_their_domain_without_warnings():
    with np.errstate(all="raise"):
        assert lucid.log(lucid.tensor([0.0, -1.0])).tolist()[0] == -np.inf
        assert np.isnan(lucid.sqrt(lucid.tensor([-1.0])).item())
        x = lucid.tensor([0.0], requires_grad=True)
        lucid.sqrt(x).sum().backward()
    assert x.grad.tolist() == [np.inf]


# ------------------------------------------------------------------------- PyTorch semantics
def test_max_returns_values_and_indices_and_routes_tie_gradients_like_pytorch():
    x = lucid.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], dtype="float64", requires_grad=True)
    result = x.max(dim=1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0] and indices.dtype == lucid.int64
    assert not indices.requires_grad
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]        # to the returned index only
    x.grad = None
    x.max().backward()
    assert x.grad.tolist() == [[0, 0.5, 0.5], [0, 0, 0]]    # no dim: shared among ties
    x.grad = None
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0, 0.5, 0.5], [0.5, 0.5, 0]]
    assert x.max().ndim == 0 and x.amax(()).item() == 3.0 and x.max(0, keepdim=True).values.shape == (1, 3)


def test_squeeze_unsqueeze_and_flatten_edge_cases():
    x = lucid.zeros(2, 1, 3)
    assert x.squeeze(0).shape == (2, 1, 3)                   # a non-1 dim is left alone, as in PyTorch
    assert x.squeeze(-2).shape == (2, 3) and x.unsqueeze(3).shape == (2, 1, 3, 1)
    assert x.unsqueeze(-1).shape == (2, 1, 3, 1) and x.unsqueeze(-4).shape == (1, 2, 1, 3)
    assert lucid.tensor(2.0).flatten().shape == (1,) and x.flatten(0, 0).shape == (2, 1, 3)
    assert lucid.tensor(2.0).unsqueeze(0).shape == (1,) and lucid.tensor(2.0).transpose(0, -1).shape == ()


def test_max_pool_indices_and_unbatched_avg_pool():
    x = lucid.tensor([[[1.0, 5.0, 3.0, 4.0, 2.0]]])
    out, idx = F.max_pool1d(x, 2, stride=1, return_indices=True)
    assert out.tolist() == [[[5.0, 5.0, 4.0, 4.0]]] and idx.tolist() == [[[1, 1, 3, 3]]]
    assert idx.dtype == lucid.int64
    out, idx = nn.MaxPool1d(3, padding=1, return_indices=True)(x)
    assert out.tolist() == [[[5.0, 4.0]]] and idx.tolist() == [[[1, 3]]]
    mean = F.avg_pool1d(lucid.tensor([[1.0, 2.0, 3.0]]), 3, stride=1, padding=1, count_include_pad=False)
    assert mean.tolist() == [[1.5, 2.0, 2.5]]


def test_conv_stack_with_new_ops_trains_end_to_end():
    """A gated block with pooling and softmax: every new op in one graph, gradients vs finite differences."""
    rng = np.random.default_rng(5)
    x0, w0 = rng.standard_normal((2, 2, 12)), rng.standard_normal((4, 2, 3))

    def model(x, w):
        h = F.conv1d(x, w, padding=1)
        gated = lucid.tanh(h[:, :2]) * lucid.sigmoid(h[:, 2:])
        pooled = F.max_pool1d(F.silu(gated), 2) + F.avg_pool1d(gated, 2)
        feats = lucid.cat([pooled.amax(-1), pooled.flatten(1).transpose(0, 1).unsqueeze(0).squeeze(0)[:4]
                           .permute(1, 0)], dim=1)
        return F.log_softmax(feats, dim=1).exp().sum() + lucid.stack([feats, feats * 2]).max()

    w = lucid.tensor(w0, requires_grad=True)
    model(lucid.tensor(x0), w).backward()

    def loss(v):
        with lucid.no_grad():
            return model(lucid.tensor(x0), lucid.tensor(v)).item()
    np.testing.assert_allclose(w.grad.numpy(), finite_difference(loss, w0), rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------ bad arguments
x3 = lucid.zeros(2, 3, 4)
BAD: list[tuple[str, Callable[[], Any], type, str]] = [
    ("exp input", lambda: lucid.exp(np.zeros(3)), TypeError, r"exp\(\): input must be a lucid.Tensor"),
    ("sqrt input", lambda: lucid.sqrt([1.0]), TypeError, r"sqrt\(\): input must be a lucid.Tensor"),
    ("silu input", lambda: F.silu(1.0), TypeError, r"silu\(\): input must be a lucid.Tensor"),
    ("gelu approximate", lambda: F.gelu(x3, approximate="erf"), ValueError,
     r"gelu\(\): approximate must be one of 'none', 'tanh'"),
    ("GELU approximate", lambda: nn.GELU(approximate=None), TypeError, "approximate must be one of"),
    ("softplus beta 0", lambda: F.softplus(x3, beta=0), ValueError, r"softplus\(\): beta must be a non-zero"),
    ("softplus beta str", lambda: F.softplus(x3, beta="1"), TypeError, "beta must be a real number"),
    ("Softplus threshold", lambda: nn.Softplus(threshold=None), TypeError, "threshold must be a real number"),
    ("transpose dim", lambda: x3.transpose(0, 3), DimensionError, r"transpose\(\): dim1 must be in \[-3, 2\]"),
    ("transpose float", lambda: x3.transpose(0.0, 1), TypeError, r"transpose\(\): dim0 must be an int"),
    ("permute short", lambda: x3.permute(0, 1), ValueError, r"permute\(\): dims must be a permutation"),
    ("permute repeat", lambda: x3.permute(0, 1, 1), ValueError, "dims must be a permutation"),
    ("flatten order", lambda: x3.flatten(2, 1), ValueError, r"flatten\(\): start_dim must be at most"),
    ("unsqueeze dim", lambda: x3.unsqueeze(5), IndexError, r"unsqueeze\(\): dim must be in \[-4, 3\]"),
    ("squeeze dim", lambda: x3.squeeze(True), TypeError, r"squeeze\(\): dim must be an int"),
    ("cat not a list", lambda: lucid.cat(x3), TypeError, r"cat\(\): tensors must be a sequence"),
    ("cat empty", lambda: lucid.cat([]), ValueError, r"cat\(\): tensors must be a non-empty"),
    ("cat item", lambda: lucid.cat([x3, np.zeros((2, 3, 4))]), TypeError, r"tensors\[1\] must be a lucid.Tensor"),
    ("cat shapes", lambda: lucid.cat([x3, lucid.zeros(2, 2, 5)], dim=2), ValueError,
     r"cat\(\): tensors\[1\] must be of shape \(2, 3, 4\) except in dim 2"),
    ("cat 0-d", lambda: lucid.cat([lucid.tensor(1.0)]), ValueError, "at least one dimension"),
    ("cat dim", lambda: lucid.cat([x3], dim=3), ValueError, r"cat\(\): dim must be in"),
    ("stack shapes", lambda: lucid.stack([x3, lucid.zeros(2, 3)]), ValueError, r"stack\(\): tensors\[1\] must be"),
    ("stack dim", lambda: lucid.stack([x3], dim=4), ValueError, r"stack\(\): dim must be in \[-4, 3\]"),
    ("max dim", lambda: x3.max(dim=3), ValueError, r"max\(\): dim must be in"),
    ("max keepdim", lambda: x3.max(1, keepdim=1), TypeError, r"max\(\): keepdim must be a bool"),
    ("max keepdim alone", lambda: x3.max(keepdim=True), TypeError, "keepdim needs dim"),
    ("max empty", lambda: lucid.zeros(0, 3).max(0), ValueError, r"max\(\): input must be non-empty"),
    ("amax empty", lambda: lucid.zeros(0).amax(), ValueError, r"amax\(\): input must be non-empty"),
    ("amax repeat", lambda: x3.amax((1, -2)), ValueError, "must not repeat a dimension"),
    ("sum dim type", lambda: x3.sum(dim="0"), TypeError, r"sum\(\): dim must be an int"),
    ("softmax no dim", lambda: F.softmax(x3), ValueError, r"softmax\(\): dim must be an int"),
    ("softmax dim", lambda: F.softmax(x3, dim=-4), IndexError, r"softmax\(\): dim must be in \[-3, 2\]"),
    ("log_softmax int", lambda: F.log_softmax(lucid.tensor([1, 2]), 0), TypeError, "floating-point"),
    ("Softmax dim", lambda: nn.Softmax(dim=1.0), TypeError, r"Softmax\(\): dim must be an int"),
    ("avg_pool rank", lambda: F.avg_pool1d(lucid.zeros(4), 2), ValueError, r"avg_pool1d\(\): input must be a 2-D"),
    ("avg_pool int", lambda: F.avg_pool1d(lucid.tensor([[1, 2]]), 2), TypeError, "float32 or float64"),
    ("avg_pool kernel", lambda: F.avg_pool1d(x3, 0), ValueError, r"kernel_size must be a positive int"),
    ("avg_pool kernel tuple", lambda: F.avg_pool1d(x3, (2, 2)), ValueError, "an int or a 1-tuple"),
    ("avg_pool padding", lambda: F.avg_pool1d(x3, 2, padding=2), ValueError, "padding must be at most half"),
    ("avg_pool ceil", lambda: F.avg_pool1d(x3, 2, ceil_mode=True), ValueError, "ceil_mode=True is not supported"),
    ("avg_pool include_pad", lambda: F.avg_pool1d(x3, 2, count_include_pad=None), TypeError,
     "count_include_pad must be a bool"),
    ("avg_pool long kernel", lambda: F.avg_pool1d(x3, 5), ValueError, "input must be at least 5 samples long"),
    ("max_pool stride", lambda: F.max_pool1d(x3, 2, stride=2.0), TypeError, r"max_pool1d\(\): stride must be"),
    ("max_pool dilation", lambda: F.max_pool1d(x3, 2, dilation=0), ValueError, "dilation must be a positive int"),
    ("max_pool span", lambda: F.max_pool1d(x3, 2, dilation=4), ValueError, "input must be at least 5 samples"),
    ("max_pool ceil", lambda: nn.MaxPool1d(2, ceil_mode=True)(x3), ValueError, "ceil_mode"),
    ("max_pool return_indices", lambda: F.max_pool1d(x3, 2, return_indices=1), TypeError, "return_indices"),
]


@pytest.mark.parametrize("name,call,error,message", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_are_named(name, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_dimension_errors_are_value_and_index_errors():
    with pytest.raises(ValueError):
        x3.transpose(0, 9)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x3.sum(dim=3)


def test_module_reprs_match_pytorch():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    for mine, theirs in [(nn.GELU(), tn.GELU()), (nn.GELU("tanh"), tn.GELU("tanh")),
                         (nn.Softplus(2.0, 5), tn.Softplus(2.0, 5)), (nn.Softmax(1), tn.Softmax(1)),
                         (nn.LogSoftmax(-1), tn.LogSoftmax(-1)), (nn.Tanh(), tn.Tanh()),
                         (nn.Sigmoid(), tn.Sigmoid()), (nn.SiLU(), tn.SiLU()), (nn.ReLU(), tn.ReLU()),
                         (nn.AvgPool1d(3, 2, 1), tn.AvgPool1d(3, 2, 1)), (nn.MaxPool1d(3), tn.MaxPool1d(3)),
                         (nn.MaxPool1d(4, 2, 1, 2), tn.MaxPool1d(4, 2, 1, 2))]:
        assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("module", ["lucid.functions", "lucid.nn._activation_functional",
                                    "lucid.nn._pooling_functional", "lucid.ops.dims"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_max_pool_propagates_nan_and_picks_pytorchs_index():
    """A NaN wins its windows, the last NaN of a window giving the index (PyTorch's CPU kernel)."""
    x = lucid.tensor([[[1.0, np.nan, 3.0, np.nan, 2.0, 5.0, 0.0]]], dtype="float64", requires_grad=True)
    out, idx = F.max_pool1d(x, 3, 1, 1, return_indices=True)
    assert idx.tolist() == [[[1, 1, 3, 3, 3, 5, 5]]]
    assert np.isnan(out.numpy()[0, 0, :5]).all() and out.tolist()[0][0][5:] == [5.0, 5.0]
    out.sum().backward()
    assert x.grad.tolist() == [[[0.0, 2.0, 0.0, 3.0, 0.0, 2.0, 0.0]]]


def test_max_function_is_the_method():
    x = lucid.tensor([[1.0, 3.0], [4.0, 2.0]])
    assert lucid.max(x).item() == 4.0
    values, indices = lucid.max(x, dim=0)
    assert values.tolist() == [4.0, 3.0] and indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match="max"):
        lucid.max([1.0, 2.0])
