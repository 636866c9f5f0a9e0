"""Winograd F(2,r) (``winograd``): tails, stride, dilation, groups, blocking, the kernel transform.
(Suite accuracy, weight refresh and shared plans: the registry-driven test_algorithms.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import float64_reference, operands, relative_error
from reference import conv1d_ref
from scratch import scratch_of_run

from lucid.algos import registry
from lucid.algos import winograd as winograd_module
from lucid.algos.lowering import lower
from lucid.algos.spec import ConvSpec
from lucid.suite import SUITE

WINOGRAD = registry.get("winograd")
DIRECT = registry.get("direct")
TOLERANCE = {"float32": 2e-6, "float64": 1e-12}


def winograd(spec: ConvSpec, x, w, limit: int = 1 << 30):
    dt = spec.np_dtype
    return WINOGRAD.prepare(spec, limit).run(x.astype(dt), w.astype(dt))


def small_specs():
    cases = []
    for length in (5, 6, 7, 11, 12, 33, 64, 101):
        for stride in (1, 2, 3, 5):
            for dilation in (1, 2, 3, 7):
                for padding in ((0, 0), (1, 1), (2, 3), (7, 0)):
                    try:
                        cases.append(ConvSpec(2, 6, 4, length, 3, stride, padding, dilation, 2, "float64"))
                    except ValueError:   # output shorter than one sample
                        continue
    return cases


def test_tails_stride_dilation_padding_against_loop_oracle():
    checked = 0
    for spec in small_specs():
        x, w = operands(spec, seed=checked)
        want = conv1d_ref(np.pad(x, ((0, 0), (0, 0), spec.padding)), w, None, spec.stride, 0,
                          spec.dilation, spec.groups)
        got = winograd(spec, x, w)
        assert got.shape == want.shape == spec.output_shape
        assert relative_error(got, want) <= 1e-13, spec.describe()
        checked += 1
    assert checked > 300


@pytest.mark.parametrize("groups, c_in, c_out", [(1, 8, 5), (4, 8, 12), (8, 8, 8), (8, 8, 16), (3, 9, 3)],
                         ids=["dense", "grouped", "depthwise", "multiplier", "cog1"])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (1, 4), (2, 1), (2, 3), (4, 2), (3, 1)])
def test_groups_and_depthwise(groups, c_in, c_out, stride, dilation):
    spec = ConvSpec(3, c_in, c_out, 57, 3, stride, (1, 2), dilation, groups, "float64")
    x, w = operands(spec)
    assert relative_error(winograd(spec, x, w), float64_reference("forward", spec, x, w)) <= 1e-13


@pytest.mark.parametrize("extra", [0, 20_000, 200_000])
@pytest.mark.parametrize("dilation", [1, 5, 40])
def test_blocking_under_tiny_workspace_limit(extra, dilation):
    """Limits just above the floor force one-tile boxes, splits inside a tile
    row, and many boxes per slot; below the floor ``prepare`` refuses."""
    spec = ConvSpec(3, 16, 8, 301, 3, 1, (dilation, dilation), dilation, 1, "float64")
    x, w = operands(spec)
    floor = WINOGRAD.layout(spec, 0).workspace_bytes
    with pytest.raises(ValueError, match="workspace_limit"):
        WINOGRAD.prepare(spec, floor - 1)
    limit = floor + extra
    assert WINOGRAD.layout(spec, limit).workspace_bytes <= limit
    plan = WINOGRAD.prepare(spec, limit)
    assert plan.layout.tile < 1000
    assert relative_error(plan.run(x, w), float64_reference("forward", spec, x, w)) <= 1e-13


def test_workspace_respects_limit_and_counts_buffers(monkeypatch):
    spec = SUITE[0].spec()
    unlimited = WINOGRAD.layout(spec, 1 << 30).workspace_bytes
    plan = WINOGRAD.prepare(spec, 1 << 30)
    x, w = operands(spec)
    used, y = scratch_of_run(monkeypatch, winograd_module, plan, x, w)
    u_bytes = plan._cache._entry[1].nbytes                    # the cached kernel transform U
    assert u_bytes + used <= unlimited
    assert relative_error(y, float64_reference("forward", spec, x, w)) <= 1e-5
    stacked = math.prod(plan._xs_shape) * spec.itemsize
    limit = (u_bytes + used) // 2 + stacked // 2
    small = WINOGRAD.prepare(spec, limit)
    assert WINOGRAD.layout(spec, limit).workspace_bytes <= limit
    assert small.layout.tile < plan.layout.tile
    used_small, y_small = scratch_of_run(monkeypatch, winograd_module, small, x, w)
    assert used_small < used and relative_error(y_small, float64_reference("forward", spec, x, w)) <= 1e-5


def test_flops_are_two_thirds_of_direct_at_unit_stride_and_direct_at_stride_two():
    """F(2,3): 4 products for 6 (plus the transform GEMMs); stride 2 stacks
    two phases of 2 taps (F(2,2): 3 products for 4, twice the channels)."""
    spec = SUITE[0].spec()                      # dense_k3_L4096
    ratio = WINOGRAD.layout(spec).flops / spec.direct_flops
    assert 0.66 < ratio < 0.75
    strided = ConvSpec(8, 64, 64, 4096, 3, 2, (1, 1), 1, 1)
    assert WINOGRAD.layout(strided).detail.r == 2
    assert 0.95 < WINOGRAD.layout(strided).flops / strided.direct_flops < 1.1


def test_supports_kernel_sizes_two_to_five():
    for k in (2, 3, 4, 5):
        assert WINOGRAD.supports(ConvSpec(1, 4, 4, 50, k, 3, (0, 5), 7, 4, "float64")) is None
    reason = WINOGRAD.supports(ConvSpec(1, 4, 4, 50, 7))
    assert reason == "winograd: needs kernel_size in 2..5, got 7"
    with pytest.raises(ValueError, match="needs kernel_size in 2..5, got 1"):
        WINOGRAD.prepare(ConvSpec(1, 4, 4, 50, 1), 1 << 30)


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (2, 3), (3, 2)])
def test_backward_data_derived_problem(stride, dilation):
    """dx of a K=3 forward is a K=3 forward on the stride-upsampled dy: every tile serves it."""
    spec = ConvSpec(2, 6, 8, 40, 3, stride, (1, 1), dilation, 2, "float64")
    lowering = lower("backward_data", spec)
    assert WINOGRAD.supports(lowering.spec) is None
    rng = np.random.default_rng(1)
    dy = rng.standard_normal(spec.output_shape)
    w = rng.standard_normal(spec.weight_shape)
    want = lowering.result(DIRECT.prepare(lowering.spec, 1 << 30).run(*lowering.operands(dy, w)))
    for name in ("winograd", "winograd4", "winograd6"):
        got = lowering.result(registry.get(name).prepare(lowering.spec, 1 << 30).run(*lowering.operands(dy, w)))
        assert relative_error(got, want) <= 1e-13


def test_kernel_transform_is_cached_and_refreshed():
    spec = ConvSpec(2, 4, 4, 30, 3, 1, (1, 1), 1, 1, "float64")
    x, w = operands(spec)
    plan = WINOGRAD.prepare(spec, 1 << 30)
    first = plan.run(x, w)
    cached = plan._cache.get(w, plan._kernel_transform)
    assert plan._cache.get(w, plan._kernel_transform) is cached
    w[0, 0, 1] += 1.0
    assert relative_error(plan.run(x, w), float64_reference("forward", spec, x, w)) <= 1e-13
    assert not np.allclose(plan.run(x, w), first)
