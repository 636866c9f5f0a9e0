"""im2col specifics: chunking under a workspace limit and the backward-filter orientation.

(The registry-driven test_algorithms.py covers every option combination, the suite's
accuracy, weight refresh and shared plans.)
"""
from __future__ import annotations

import numpy as np
import pytest
from helpers import float64_reference, operands, relative_error, run
from reference import conv1d_grads_ref
from scratch import scratch_of_run

from lucid.algos import im2col, registry
from lucid.algos.im2col import Im2col, chunking
from lucid.algos.lowering import lower
from lucid.algos.spec import ConvSpec

IM2COL = Im2col()

SPECS = [
    ConvSpec(3, 6, 4, 57, 5, 2, (3, 1), 2, 2, "float64"),     # grouped, strided, dilated, asymmetric pad
    ConvSpec(2, 4, 4, 40, 3, 1, (1, 1), 1, 4, "float64"),     # depthwise
    ConvSpec(2, 3, 5, 300, 7, 3, (0, 0), 1, 1, "float64"),    # long output, no padding
    ConvSpec(4, 2, 3, 9, 2, 1, (0, 2), 3, 1, "float64"),      # short output: folded items
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.describe())
@pytest.mark.parametrize("limit", [1 << 30, 4096, 600, "minimum"])
def test_chunked_plan_is_correct_and_within_limit(monkeypatch, spec, limit):
    if limit == "minimum":
        limit = _minimum(spec)
    plan = IM2COL.prepare(spec, limit)
    assert plan.chunks.workspace_bytes == IM2COL.layout(spec, limit).workspace_bytes <= limit
    x, w = operands(spec)
    scratch, y = scratch_of_run(monkeypatch, im2col, plan, x, w)
    assert 0 < scratch <= plan.chunks.workspace_bytes
    assert relative_error(y, float64_reference("forward", spec, x, w)) < 1e-12


def _minimum(spec: ConvSpec) -> int:
    """The smallest limit im2col accepts for ``spec`` (found by bisection on the chunking)."""
    lo, hi = 0, 1 << 20
    while lo < hi:
        mid = (lo + hi) // 2
        if chunking(spec, mid) is None:
            lo = mid + 1
        else:
            hi = mid
    assert lo == IM2COL.layout(spec, 0).workspace_bytes       # the floor its layout reports
    return lo


def test_small_limits_really_cut_the_matrix():
    spec = SPECS[0]
    whole = chunking(spec, 1 << 30)
    assert (whole.items, whole.positions) == (spec.n, spec.l_out) and whole.row_blocks == 1
    tiny = chunking(spec, _minimum(spec))
    assert tiny.row_blocks == spec.cig * spec.kernel_size and tiny.positions == 1
    plan = IM2COL.prepare(spec, 4096)
    assert len(plan._columns) > 1 and len(plan._rows) > 1


def test_limit_below_one_column_raises():
    spec = SPECS[0]
    with pytest.raises(ValueError, match="workspace_limit must be at least"):
        IM2COL.prepare(spec, _minimum(spec) - 1)


@pytest.mark.parametrize("limit", [1 << 30, 20_000, 3000])
def test_backward_filter_orientation(monkeypatch, limit):
    """Derived problem with K' = L_out of the forward and only K outputs per row."""
    spec = ConvSpec(3, 4, 6, 200, 3, 2, (1, 2), 2, 2, "float64")
    lowering = lower("backward_filter", spec)
    derived = lowering.spec
    assert derived.kernel_size == spec.l_out and derived.l_out == spec.kernel_size
    plan = IM2COL.prepare(derived, limit)
    if limit == 1 << 30:
        assert plan.chunks.folded and plan.chunks.row_blocks == 1   # one wide GEMM per group
    else:
        assert plan.chunks.row_blocks > 1                           # the reduction axis is cut
    rng = np.random.default_rng(1)
    x = rng.standard_normal(spec.input_shape)
    w = rng.standard_normal(spec.weight_shape)
    dy = rng.standard_normal(spec.output_shape)
    xp = np.pad(x, ((0, 0), (0, 0), spec.padding))
    _, dw_ref, _ = conv1d_grads_ref(xp, w, dy, spec.stride, 0, spec.dilation, spec.groups)
    scratch, raw = scratch_of_run(monkeypatch, im2col, plan, *lowering.operands(dy, x))
    assert scratch <= limit
    assert relative_error(lowering.result(raw), dw_ref) < 1e-12


def test_flops_match_direct_unless_the_reduction_is_cut_and_the_error_bound_holds():
    spec = ConvSpec(2, 3, 5, 300, 7, 3, (0, 0), 1, 1, "float32")
    direct = registry.get("direct").layout(spec)
    assert IM2COL.layout(spec).flops == direct.flops          # the same GEMM products
    assert IM2COL.layout(spec, _minimum(spec)).flops > direct.flops     # plus the partial-sum adds
    errors = [relative_error(run("im2col", spec, *operands(spec, seed)),
                             float64_reference("forward", spec, *operands(spec, seed))) for seed in range(5)]
    assert max(errors) <= IM2COL.layout(spec).error_bound
