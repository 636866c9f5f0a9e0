"""nn.Conv1d against the float64 reference loop over every option of the seed.

stride {1,2,3} x padding {0,1,2,'same','valid'} x dilation {1,2,3} x groups
{1,2,C} x K {1..5} x padding_mode x bias x {float32, float64} x odd/even
length: forward and the gradients of input, weight and bias.  The reference
runs once per problem (bias and dtype reuse it); illegal combinations must
raise ValueError instead.  Then float64 finite-difference checks of the
weight gradient where stride and dilation are both > 1 (a classic trap),
through whichever algorithm the planner picks.
"""
from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from helpers import relative_error
from reference import conv1d_grads_ref, conv1d_ref, finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F

MODES = ("zeros", "reflect", "replicate", "circular")
C_IN, N = 4, 2
TOLERANCE = {"float32": 2e-5, "float64": 1e-10}


def pad_total(padding, k, d):
    if padding in ("same", "causal"):
        return d * (k - 1)
    return 0 if padding == "valid" else 2 * padding


@cache
def reference(stride, padding, dilation, groups, k, length, mode):
    """Operands and the float64 reference (no bias) for one problem."""
    c_out = 8 if groups == C_IN else 6
    rng = np.random.default_rng([stride, pad_total(padding, k, dilation), dilation, groups, k, length])
    x = rng.standard_normal((N, C_IN, length))
    w = rng.standard_normal((c_out, C_IN // groups, k))
    b = rng.standard_normal(c_out)
    y = conv1d_ref(x, w, None, stride, padding, dilation, groups, mode)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = conv1d_grads_ref(x, w, dy, stride, padding, dilation, groups, mode)
    return x, w, b, dy, y, dx, dw, db


def run_conv(x, w, b, dy, dtype, stride, padding, dilation, groups, mode):
    """Forward and backward through nn.Conv1d; returns (y, dx, dw, db or None)."""
    c_out, _, k = w.shape
    conv = nn.Conv1d(C_IN, c_out, k, stride=stride, padding=padding, dilation=dilation, groups=groups,
                     bias=b is not None, padding_mode=mode, dtype=dtype)
    conv.load_state_dict({"weight": w} if b is None else {"weight": w, "bias": b})
    xt = lucid.tensor(x, dtype=dtype, requires_grad=True)
    y = conv(xt)
    y.backward(lucid.tensor(dy, dtype=dtype))
    db = None if b is None else conv.bias.grad.numpy()
    assert y.dtype == conv.weight.grad.dtype == xt.grad.dtype == lucid.dtypes.to_dtype(dtype)
    return y.numpy(), xt.grad.numpy(), conv.weight.grad.numpy(), db


@pytest.mark.parametrize("padding", (0, 1, 2, "same", "valid", "causal"))
@pytest.mark.parametrize("stride", (1, 2, 3))
@pytest.mark.parametrize("mode", MODES)
def test_sweep_matches_reference(mode, stride, padding):
    checked, failures = 0, []
    for dilation, groups, k, length in itertools.product((1, 2, 3), (1, 2, C_IN), (1, 2, 3, 4, 5), (7, 8)):
        legal = not (padding == "same" and stride > 1) and length + pad_total(padding, k, dilation) \
            >= dilation * (k - 1) + 1
        if padding == "causal" and mode in ("reflect", "circular"):     # one side takes all of d(K-1)
            legal = legal and pad_total(padding, k, dilation) <= length - (mode == "reflect")
        args = (stride, padding, dilation, groups)
        if not legal:
            with pytest.raises(ValueError, match="padding|input|pad must be at most"):
                conv = nn.Conv1d(C_IN, 8, k, *args, padding_mode=mode)
                conv(lucid.zeros(N, C_IN, length))
            continue
        ref_mode = mode if pad_total(padding, k, dilation) else "zeros"
        x, w, b, dy, y, dx, dw, db = reference(stride, padding, dilation, groups, k, length, ref_mode)
        for bias, dtype in itertools.product((True, False), ("float32", "float64")):
            got = run_conv(x, w, b if bias else None, dy, dtype, *args, mode)
            want = (y + b[None, :, None] if bias else y, dx, dw, db if bias else None)
            assert got[0].shape == want[0].shape
            for name, g, r in zip(("y", "dx", "dw", "db"), got, want):
                if r is not None and relative_error(g, r) > TOLERANCE[dtype]:
                    failures.append(f"{name} d={dilation} g={groups} K={k} L={length} bias={bias} {dtype}: "
                                    f"{relative_error(g, r):.2e}")
            checked += 1
    assert not failures, f"{len(failures)} mismatches, e.g. {failures[:5]}"
    if padding == "same" and stride > 1:
        assert checked == 0                  # every one raised above
    else:
        assert checked >= 4 * 3 * 3 * 2      # at least K=1..2 of every (dilation, groups, length) ran


FD_CASES = [(s, d, p, g, mode) for s, d in ((2, 2), (3, 2), (2, 3), (3, 3))
            for p, g, mode in ((0, 1, "zeros"), (2, 2, "zeros"), (1, 4, "reflect"), (2, 1, "circular"))]


@pytest.mark.parametrize("stride,dilation,padding,groups,mode", FD_CASES)
def test_strided_dilated_weight_gradient_by_finite_differences(stride, dilation, padding, groups, mode):
    rng = np.random.default_rng(stride * 100 + dilation * 10 + groups)
    x = rng.standard_normal((2, 4, 17))
    w = rng.standard_normal((4, 4 // groups, 3))
    conv = nn.Conv1d(4, 4, 3, stride=stride, padding=padding, dilation=dilation, groups=groups,
                     bias=False, padding_mode=mode, dtype="float64")
    conv.load_state_dict({"weight": w})
    y = conv(lucid.tensor(x))
    dy = rng.standard_normal(y.shape)
    y.backward(dy)

    def loss(weight):
        with lucid.no_grad():
            conv.weight.copy_(weight)
            return float((conv(lucid.tensor(x)).numpy() * dy).sum())
    analytic = conv.weight.grad.numpy().copy()
    numeric = finite_difference(loss, w)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-7)
    assert np.abs(analytic).max() > 1e-3          # a zero gradient would pass trivially


@pytest.mark.parametrize("stride,dilation", ((2, 2), (3, 2)))
def test_strided_dilated_input_gradient_by_finite_differences(stride, dilation):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 2, 15))
    w = lucid.tensor(rng.standard_normal((3, 2, 3)))
    dy = rng.standard_normal((1, 3, F.conv1d(lucid.tensor(x), w, stride=stride, padding=1,
                                             dilation=dilation).shape[-1]))
    xt = lucid.tensor(x, requires_grad=True)
    F.conv1d(xt, w, stride=stride, padding=1, dilation=dilation).backward(dy)
    numeric = finite_difference(
        lambda a: float((F.conv1d(lucid.tensor(a), w, stride=stride, padding=1, dilation=dilation).numpy()
                         * dy).sum()), x)
    np.testing.assert_allclose(xt.grad.numpy(), numeric, rtol=1e-7, atol=1e-7)
