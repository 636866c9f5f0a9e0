"""F.interpolate / nn.Upsample, adaptive pooling, Flatten / Unflatten (issue #25).

Always: plain-loop float64 references of PyTorch's index rules and central finite differences.
Optional oracle: PyTorch over a sweep of lengths, sizes, scale factors and modes (float64 to 1e-13,
float32 to 1e-6, forward and gradient), including the adaptive pools' indices and NaN handling.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F

RNG = np.random.default_rng(7)


def interpolate_reference(x, out, mode, scale=None, align_corners=False):
    """Loops over output positions with PyTorch's source-index formulas (UpSample.h), float64."""
    x = np.asarray(x, np.float64)
    length = x.shape[-1]
    y = np.zeros(x.shape[:-1] + (out,))
    for i in range(out):
        if mode in ("nearest", "nearest-exact"):
            s = np.float32(1.0 / scale) if scale else np.float32(length) / np.float32(out)
            pos = np.float32(i + (0.5 if mode == "nearest-exact" else 0.0)) * s
            y[..., i] = x[..., min(int(math.floor(pos)), length - 1)]
        else:
            if align_corners:
                src = i * (length - 1) / (out - 1) if out > 1 else 0.0
            else:
                s = 1.0 / scale if scale else length / out
                src = max(s * (i + 0.5) - 0.5, 0.0)
            i0 = min(int(math.floor(src)), length - 1)
            lam = min(max(src - i0, 0.0), 1.0)
            y[..., i] = (1 - lam) * x[..., i0] + lam * x[..., min(i0 + 1, length - 1)]
    return y


def adaptive_reference(x, out, kind):
    x = np.asarray(x, np.float64)
    length = x.shape[-1]
    y = np.zeros(x.shape[:-1] + (out,))
    for i in range(out):
        a, b = (i * length) // out, -((-(i + 1) * length) // out)
        y[..., i] = x[..., a:b].mean(-1) if kind == "avg" else x[..., a:b].max(-1)
    return y


def _check(fn, reference, x):
    t = lucid.tensor(x, requires_grad=True)
    y = fn(t)
    np.testing.assert_allclose(y.numpy(), reference(x), rtol=1e-13, atol=1e-14)
    coef = RNG.standard_normal(y.shape)
    (y * lucid.tensor(coef)).sum().backward()
    expected = finite_difference(lambda v: float((reference(v) * coef).sum()), x)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("length, kwargs, out", [
    (5, {"size": 12}, 12), (7, {"size": 3}, 3), (6, {"scale_factor": 2}, 12), (9, {"scale_factor": 0.5}, 4),
    (5, {"scale_factor": 1.7}, 8), (5, {"scale_factor": 1.7, "recompute_scale_factor": True}, 8), (4, {"size": 1}, 1),
])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "linear_corners"])
def test_interpolate_matches_the_index_rules_and_finite_differences(length, kwargs, out, mode):
    x = RNG.standard_normal((2, 3, length))
    align = mode == "linear_corners"
    mode = "linear" if align else mode
    scale = kwargs.get("scale_factor") if not kwargs.get("recompute_scale_factor") else None
    extra = {"align_corners": True} if align else {}
    _check(lambda t: F.interpolate(t, mode=mode, **kwargs, **extra),
           lambda v: interpolate_reference(v, out, mode, scale, align), x)


@pytest.mark.parametrize("length, out", [(10, 1), (10, 3), (7, 7), (5, 8), (9, 4)])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pools_match_their_windows_and_finite_differences(length, out, kind):
    x = RNG.permutation(np.linspace(-1, 1, 2 * 3 * length)).reshape(2, 3, length)      # no ties
    fn = F.adaptive_avg_pool1d if kind == "avg" else F.adaptive_max_pool1d
    _check(lambda t: fn(t, out), lambda v: adaptive_reference(v, out, kind), x)
    unbatched = fn(lucid.tensor(x[0]), (out,))
    np.testing.assert_allclose(unbatched.numpy(), adaptive_reference(x[0], out, kind), rtol=1e-13)


def test_area_mode_is_adaptive_average_and_modules():
    x = lucid.tensor(RNG.standard_normal((2, 4, 9)))
    np.testing.assert_array_equal(F.interpolate(x, size=4, mode="area").numpy(), F.adaptive_avg_pool1d(x, 4).numpy())
    up = nn.Upsample(scale_factor=2, mode="linear")
    assert repr(up) == "Upsample(scale_factor=2.0, mode='linear')" and up(x).shape == (2, 4, 18)
    assert repr(nn.Upsample(size=5)) == "Upsample(size=5, mode='nearest')"
    assert repr(nn.AdaptiveAvgPool1d(1)) == "AdaptiveAvgPool1d(output_size=1)"
    values, indices = nn.AdaptiveMaxPool1d(3, return_indices=True)(x)
    assert values.shape == indices.shape == (2, 4, 3) and indices.dtype == lucid.int64
    np.testing.assert_array_equal(np.take_along_axis(x.numpy(), indices.numpy(), -1), values.numpy())
    flat = nn.Flatten()
    assert repr(flat) == "Flatten(start_dim=1, end_dim=-1)" and flat(x).shape == (2, 36)
    assert nn.Unflatten(1, (4, -1))(flat(x)).shape == (2, 4, 9)
    assert repr(nn.Unflatten(1, (4, 9))) == "Unflatten(dim=1, unflattened_size=(4, 9))"


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.interpolate(lucid.zeros(1, 2, 4)), ValueError, "size"),
    (lambda: F.interpolate(lucid.zeros(1, 2, 4), size=2, scale_factor=2.0), ValueError, "size"),
    (lambda: F.interpolate(lucid.zeros(1, 2, 4), size=3, mode="bilinear"), ValueError, "mode"),
    (lambda: F.interpolate(lucid.zeros(1, 2, 4), size=3, align_corners=True), ValueError, "align_corners"),
    (lambda: F.interpolate(lucid.zeros(2, 4), size=3), ValueError, "3-D"),
    (lambda: F.interpolate(lucid.zeros(1, 2, 4), scale_factor=-1.0), ValueError, "scale_factor"),
    (lambda: F.interpolate(lucid.zeros(1, 2, 4), size=(2, 2)), ValueError, "1-tuple"),
    (lambda: F.interpolate(lucid.zeros(1, 2, 4), size=3, antialias=True), ValueError, "antialias"),
    (lambda: F.adaptive_avg_pool1d(lucid.zeros(1, 2, 4), -1), ValueError, "output_size"),
    (lambda: F.adaptive_max_pool1d(lucid.zeros(4), 2), ValueError, "2-D (C, L)"),
    (lambda: nn.Unflatten(1, (4, 9))(lucid.zeros(2)), ValueError, "dim"),
])
def test_bad_arguments_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_matches_torch_over_a_sweep():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    cases = [(length, kwargs, mode, extra) for length in (1, 2, 3, 7, 16, 33)
             for kwargs in ({"size": 1}, {"size": 5}, {"size": 40}, {"scale_factor": 2}, {"scale_factor": 0.5},
                            {"scale_factor": 1.7}, {"scale_factor": 3.3, "recompute_scale_factor": True})
             for mode, extra in (("nearest", {}), ("nearest-exact", {}), ("linear", {}),
                                 ("linear", {"align_corners": True}), ("area", {}))]
    checked = 0
    for length, kwargs, mode, extra in cases:
        if "scale_factor" in kwargs and math.floor(length * kwargs["scale_factor"]) < 1:
            continue
        for dtype, tol in (("float64", 1e-13), ("float32", 1e-6)):
            x = RNG.standard_normal((2, 3, length)).astype(dtype)
            tx, lx = torch.tensor(x, requires_grad=True), lucid.tensor(x, requires_grad=True)
            ty, ly = tf.interpolate(tx, mode=mode, **kwargs, **extra), F.interpolate(lx, mode=mode, **kwargs, **extra)
            g = RNG.standard_normal(ly.shape).astype(dtype)
            ty.backward(torch.tensor(g))
            ly.backward(lucid.tensor(g))
            assert ly.shape == tuple(ty.shape)
            np.testing.assert_allclose(ly.numpy(), ty.detach().numpy(), rtol=tol, atol=tol,
                                       err_msg=f"{length} {kwargs} {mode} {extra} {dtype}")
            np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
            checked += 1
    assert checked > 300


def test_adaptive_pools_match_torch_with_nan_and_indices():
    torch = pytest.importorskip("torch")
    for length, out in ((5, 2), (7, 3), (10, 4), (4, 7), (3, 3), (9, 1)):
        x = RNG.standard_normal((2, 3, length))
        x[0, 0, 1] = x[1, 2, -1] = np.nan
        for ours, theirs in ((F.adaptive_avg_pool1d, torch.nn.functional.adaptive_avg_pool1d),
                             (F.adaptive_max_pool1d, torch.nn.functional.adaptive_max_pool1d)):
            tx, lx = torch.tensor(x, requires_grad=True), lucid.tensor(x, requires_grad=True)
            ty, ly = theirs(tx, out), ours(lx, out)
            g = RNG.standard_normal(ly.shape)
            ty.backward(torch.tensor(g))
            ly.backward(lucid.tensor(g))
            np.testing.assert_allclose(ly.numpy(), ty.detach().numpy(), rtol=1e-13, equal_nan=True)
            np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-13, equal_nan=True)
        _, ours_idx = F.adaptive_max_pool1d(lucid.tensor(x), out, return_indices=True)
        _, theirs_idx = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x), out, return_indices=True)
        np.testing.assert_array_equal(ours_idx.numpy(), theirs_idx.numpy())
