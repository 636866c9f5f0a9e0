"""Tensor basics of issue #25: comparisons and masks (lucid.bool), where, clamp, maximum / minimum,
min / amin / argmax / argmin, var / std, view, clone, casts, in-place add_ ..., Module.to / float /
double / requires_grad_ / apply, lucid.sum / mean / matmul, and the grad-mode context managers.

Gradients are checked against float64 finite differences (always) and PyTorch (optional oracle).
"""
from __future__ import annotations

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn

RNG = np.random.default_rng(5)


def _grad_check(fn, *arrays, tol=1e-7):
    """lucid's gradients of sum(coef * fn(*tensors)) against central finite differences."""
    tensors = [lucid.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    coef = RNG.standard_normal(out.shape)
    (out * lucid.tensor(coef)).sum().backward()
    for i, (t, a) in enumerate(zip(tensors, arrays)):
        def f(v, i=i):
            with lucid.no_grad():
                args = [lucid.tensor(v if j == i else b) for j, b in enumerate(arrays)]
                return float((fn(*args).numpy() * coef).sum())
        np.testing.assert_allclose(t.grad.numpy(), finite_difference(f, a), rtol=tol, atol=tol, err_msg=f"arg {i}")
    return out


def test_comparisons_give_bool_tensors_without_gradient():
    x = lucid.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for got, want in ((x > 0, [True, False, True]), (x >= 1, [True, False, True]), (x < 0, [False, True, False]),
                      (x <= -2, [False, True, False]), (x == 3, [False, False, True]), (x != 3, [True, True, False]),
                      (x.eq(lucid.tensor([1.0, 0.0, 3.0])), [True, False, True]), (lucid.gt(x, 2.5), [0, 0, 1]),
                      (0 < x, [True, False, True]), ((x > 0) & (x < 2), [True, False, False]),
                      ((x > 2) | (x < -1), [False, True, True]), (~(x > 0), [False, True, False])):
        assert got.dtype is lucid.bool and not got.requires_grad
        assert got.tolist() == [bool(v) for v in want]
    mask = x > 0
    np.testing.assert_array_equal(x[mask].numpy(), [1.0, 3.0])
    assert (mask * 2).dtype is lucid.int64 and (mask * 2.0).dtype is lucid.float32 and mask.sum().item() == 2
    assert mask.float().tolist() == [1.0, 0.0, 1.0] and lucid.tensor([True]).dtype is lucid.bool
    assert (x > 0).any().item() and not (x > 5).any().item() and (x > -5).all().item()
    assert {x: 1}[x] == 1                                  # tensors stay hashable (optimizer state keys)
    assert (x == None) is False and (x != "a") is True     # noqa: E711  (non-tensor operands: identity)


def test_where_clamp_maximum_minimum_gradients():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((1, 4))
    cond = lucid.tensor(RNG.standard_normal((3, 4)) > 0)
    out = _grad_check(lambda x, y: lucid.where(cond, x, y), a, b)
    np.testing.assert_array_equal(out.numpy(), np.where(cond.numpy(), a, b))
    _grad_check(lambda x: lucid.where(cond, 0.5, x), a)
    _grad_check(lambda x: x.clamp(-0.5, 0.7), a)
    _grad_check(lambda x: lucid.clamp(x, min=0.1), a)
    _grad_check(lambda x, lo, hi: x.clamp(lo, hi), a, b * 0.3 - 0.5, b * 0.3 + 0.5)
    _grad_check(lambda x, y: lucid.maximum(x, y) + lucid.minimum(x, y) * 2, a, b)
    assert lucid.tensor([1, 5, 9]).clamp(2, 6).tolist() == [2, 5, 6]


def test_reductions_min_argmax_var_std():
    a = RNG.permutation(np.linspace(-1, 1, 24)).reshape(2, 3, 4)
    _grad_check(lambda x: x.min(), a)
    _grad_check(lambda x: x.min(dim=1).values, a)
    _grad_check(lambda x: lucid.amin(x, (0, 2), keepdim=True), a)
    for dims in (None, 1, (0, 2)):
        out = _grad_check(lambda x, dims=dims: x.var(dims), a)
        np.testing.assert_allclose(out.numpy(), a.var(axis=dims, ddof=1), rtol=1e-13)
        out = _grad_check(lambda x, dims=dims: lucid.std(x, dims, keepdim=True, correction=0), a)
        np.testing.assert_allclose(out.numpy(), a.std(axis=dims, ddof=0, keepdims=True), rtol=1e-13)
    assert lucid.var(lucid.tensor(a), 2, unbiased=False).shape == (2, 3)
    t = lucid.tensor(a)
    assert t.argmax().item() == a.argmax() and t.argmin(dim=2).tolist() == a.argmin(axis=2).tolist()
    assert lucid.argmax(t, 1, keepdim=True).shape == (2, 1, 4) and t.argmax().dtype is lucid.int64
    values, indices = lucid.min(t, dim=-1)
    np.testing.assert_array_equal(values.numpy(), a.min(-1))
    np.testing.assert_array_equal(indices.numpy(), a.argmin(-1))


def test_view_clone_casts_and_top_level_functions():
    a = RNG.standard_normal((2, 6))
    _grad_check(lambda x: x.view(3, 4).clone() * 2, a)
    _grad_check(lambda x: x.view(-1).view_as(x), a)
    x = lucid.tensor(a, requires_grad=True)
    y = x.float()
    assert y.dtype is lucid.float32 and x.double() is x and x.to("cpu") is x and x.to(x) is x
    y.sum().backward()
    assert x.grad.dtype is lucid.float64
    assert x.to(lucid.float32, copy=True).dtype is lucid.float32 and x.clone() is not x
    assert lucid.tensor([1.5, -2.5]).long().tolist() == [1, -2] and lucid.tensor([0.0, 2.0]).bool().tolist() == [0, 1]
    m = RNG.standard_normal((6, 3))
    out = _grad_check(lambda p, q: lucid.matmul(p, q), a, m)
    np.testing.assert_allclose(out.numpy(), a @ m)
    assert lucid.sum(lucid.tensor(a), 1).shape == (2,) and lucid.mean(lucid.tensor(a)).item() == pytest.approx(a.mean())


def test_in_place_operations_only_outside_the_graph():
    p = nn.Parameter(lucid.ones(3))
    with pytest.raises(RuntimeError, match="in-place"):
        p.add_(1.0)
    with lucid.no_grad():
        p.add_(lucid.tensor([1.0, 2.0, 3.0]), alpha=2).mul_(0.5).sub_(1.0).div_(2.0)
        p.clamp_(max=1.0)
    assert p.tolist() == [0.25, 0.75, 1.0] and p.requires_grad
    t = lucid.zeros(2)
    assert t.add_(1).tolist() == [1.0, 1.0]


def test_module_to_float_double_requires_grad_and_apply():
    net = nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3))
    weight = net[0].weight
    net(lucid.randn(2, 2, 8)).sum().backward()
    assert net.double() is net and net[0].weight is weight and weight.dtype is lucid.float64
    assert weight.grad.dtype is lucid.float64 and net[1].running_var.dtype is lucid.float64
    assert net[1].num_batches_tracked.dtype is lucid.int64
    assert net(lucid.randn(2, 2, 8, dtype="float64")).dtype is lucid.float64
    net.float()
    assert weight.dtype is lucid.float32 and net.to("cpu") is net
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Conv1d", "BatchNorm1d", "Sequential"]
    with pytest.raises(TypeError, match="floating"):
        net.to(lucid.int64)


def test_grad_modes():
    w = lucid.ones(2, requires_grad=True)
    with lucid.no_grad():
        with lucid.enable_grad():
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad
    with lucid.inference_mode():
        assert not (w * 2).requires_grad
    with lucid.inference_mode(False):
        assert (w * 2).requires_grad

    @lucid.inference_mode
    def bare():
        return w * 2

    @lucid.set_grad_enabled(False)
    def disabled():
        return w * 2
    assert lucid.is_grad_enabled() and not bare().requires_grad and not disabled().requires_grad
    lucid.set_grad_enabled(False)
    assert not lucid.is_grad_enabled()
    lucid.set_grad_enabled(True)
    assert lucid.is_grad_enabled()


def test_matches_torch():
    torch = pytest.importorskip("torch")
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    b[0, 0] = a[0, 0]                                           # a tie for maximum / minimum
    cases = [
        lambda lib, x, y: lib.where(x > y, x, y * 2),
        lambda lib, x, y: x.clamp(-0.3, 0.4) + y.clamp(min=0.1),
        lambda lib, x, y: x.clamp(y - 0.5, y + 0.5),
        lambda lib, x, y: x.clamp(y, -y),                       # min > max in places
        lambda lib, x, y: lib.maximum(x, y) * lib.minimum(x, y),
        lambda lib, x, y: x.var(1).sum() + y.std(0, unbiased=False).sum() + x.var(),
        lambda lib, x, y: x.min() + y.min(dim=1).values.sum() + lib.amin(x, 0).sum(),
        lambda lib, x, y: lib.matmul(x, y.transpose(0, 1)),
    ]
    for i, case in enumerate(cases):
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        lx, ly = lucid.tensor(a, requires_grad=True), lucid.tensor(b, requires_grad=True)
        t_out, l_out = case(torch, tx, ty), case(lucid, lx, ly)
        t_out.sum().backward()
        l_out.sum().backward()
        np.testing.assert_allclose(l_out.numpy(), t_out.detach().numpy(), rtol=1e-13, err_msg=f"case {i}")
        np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-15, err_msg=f"case {i}")
        np.testing.assert_allclose(ly.grad.numpy(), ty.grad.numpy(), rtol=1e-13, atol=1e-15, err_msg=f"case {i}")
    t = torch.tensor(a)
    assert lucid.tensor(a).argmax(1).tolist() == t.argmax(1).tolist()
    assert lucid.tensor(a).argmin().item() == t.argmin().item()
