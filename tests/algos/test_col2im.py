"""col2im, the native backward-data algorithm, against the plain float64 loop of tests/reference.py.

Forced over a seeded grid of N, C_in, C_out, L, K (1-12), stride (1-6, some
above K so some inputs get no gradient), dilation (1-4), padding (asymmetric
too) and groups (dense, grouped, depthwise) in float32 and float64, with the
production blocking and with tiny blocks shared over the threads; through
autograd against finite differences; from four threads on one plan; and
raced by the planner's measure mode.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from concurrency import assert_concurrent_runs_match
from helpers import TOLERANCE, forced_residual_graph, native_op_failures, relative_error, seeded_specs
from planner_fakes import reset_planner
from reference import conv1d_grads_ref, finite_difference

import lucid
from lucid import algos
from lucid.algos import col2im, planner, registry
from lucid.algos.spec import ConvSpec
from lucid.suite import SUITE


def grid(count: int = 72, seed: int = 23) -> list[ConvSpec]:
    """Seeded random valid specs: dense, grouped and depthwise, every hyper-parameter varied."""
    specs = seeded_specs(count, seed, length=(1, 41), kernel=(1, 13), stride=(1, 7),
                         padding=(0, 5), dilation=(1, 5))
    pointwise = [ConvSpec(2, 6, 4, 9, 1), ConvSpec(3, 6, 9, 7, 1, 1, (0, 0), 1, 3, "float32"),
                 ConvSpec(2, 4, 4, 9, 1, 1, (1, 0), 1, 2)]           # in place, and K = 1 with padding
    return specs + pointwise


def definition(spec: ConvSpec, dy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``dx`` by the plain float64 loop over the definition (on the padded input, then cropped)."""
    zeros = np.zeros((spec.n, spec.c_in, spec.l_padded))
    with np.errstate(all="ignore"):
        dxp = conv1d_grads_ref(zeros, w, dy, spec.stride, 0, spec.dilation, spec.groups)[0]
    return dxp[:, :, spec.padding[0]:spec.padding[0] + spec.length]


@pytest.fixture(params=["production", "tiny_blocks"])
def blocking(request, monkeypatch):
    """Production blocks, or one-position blocks shared over the pool threads from any size."""
    if request.param == "tiny_blocks":
        monkeypatch.setattr(col2im, "_BLOCK_ELEMENTS", 1)
        monkeypatch.setattr(col2im, "_MIN_COLUMNS", 1)
        monkeypatch.setattr(col2im, "_SPLIT_FLOPS", 0)
    reset_planner()
    yield request.param
    reset_planner()


def test_the_grid_covers_the_edge_cases():
    specs = grid()
    assert any(s.l_out == 1 for s in specs) and any(s.stride > s.dilation * (s.kernel_size - 1) + 1 for s in specs)
    assert any(s.padding[0] != s.padding[1] for s in specs) and max(s.kernel_size for s in specs) >= 11
    assert any(col2im._in_place(s) for s in specs) and any(s.kernel_size == 1 and s.padding[0] for s in specs)


def test_matches_the_definition_on_a_seeded_grid(blocking):
    failures = native_op_failures("backward_data", "col2im", grid(), definition)
    assert not failures, failures[:5]


def test_tiny_blocks_really_split_items_positions_and_threads(blocking):
    spec = ConvSpec(3, 4, 6, 50, 5, 2, (1, 2), 2, 2, "float64")
    shares = col2im._shares(spec)
    if blocking == "tiny_blocks":
        assert len(shares) == min(lucid.get_num_threads(), spec.n) and sum(map(len, shares)) == spec.n * spec.l_out
    item_sets = [{n for n0, n1, _, _ in share for n in range(n0, n1)} for share in shares]
    assert sum(map(len, item_sets)) == spec.n       # an item is never split between threads


@pytest.mark.parametrize("where", ["dy", "w"])
def test_nonfinite_operands_land_where_the_definition_puts_them(where):
    spec = ConvSpec(2, 4, 6, 20, 3, 2, (2, 1), 2, 2, "float64")
    rng = np.random.default_rng(3)
    dy, w = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.weight_shape)
    if where == "dy":
        dy[1, 4, 3] = np.nan
    else:
        w[2, 1, 0] = np.inf
    want = definition(spec, dy, w)
    got = planner.execute("backward_data", spec, dy, w, algorithm="col2im")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    assert 0 < (~np.isfinite(want)).sum() < want.size / 2
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


def test_serves_only_backward_data_and_forcing_it_falls_back_for_other_ops():
    spec = ConvSpec(2, 4, 6, 20, 3, 1, (1, 1), 1, 2, "float64")
    assert registry.get("col2im").supports(spec) == "col2im: solves backward_data only, not forward"
    assert "only, not backward_filter" in registry.get("col2im").supports(ConvSpec(2, 4, 6, 20, 3,
                                                                                   op="backward_filter"))
    reset_planner()
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    planner.execute("forward", spec, x, w, algorithm="col2im")
    (record,) = algos.records()
    assert record["algorithm"] != "col2im" and record["reason"].startswith("forced col2im cannot serve forward")


def test_input_gradient_of_a_residual_graph_matches_finite_differences():
    """Conv1d input grads through autograd, with col2im forced, against float64 central differences."""
    reset_planner()
    _, forward = forced_residual_graph("col2im", (2, 3), seed=5)
    x0 = np.random.default_rng(1).standard_normal((2, 3, 17))

    x = lucid.tensor(x0, requires_grad=True)
    forward(x).backward()
    assert {r["algorithm"] for r in algos.records() if r["op"] == "backward_data"} == {"col2im"}

    def loss(a):
        with lucid.no_grad():
            return forward(lucid.tensor(a)).item()
    np.testing.assert_allclose(x.grad.numpy(), finite_difference(loss, x0), rtol=1e-6, atol=1e-8)


def test_one_plan_run_from_four_threads_gives_its_sequential_results(blocking):
    spec = ConvSpec(4, 8, 16, 300, 7, 3, (2, 3), 2, 2, "float32")
    plan = registry.get("col2im").prepare(replace(spec, op="backward_data"))
    rng = np.random.default_rng(7)
    cases = [(rng.standard_normal(spec.output_shape).astype(np.float32),
              rng.standard_normal(spec.weight_shape).astype(np.float32)) for _ in range(4)]
    assert_concurrent_runs_match(plan, cases, rounds=10)
    for dy, w in cases:
        assert relative_error(plan.run(dy, w), definition(spec, dy, w)) < TOLERANCE["float32"]


def test_measure_mode_times_col2im_against_the_lowered_candidates():
    """Measure mode races col2im (native) against the lowered candidates on ``(dy, w)``; the
    winner's result is right, and on a strided one-input-channel layer col2im wins."""
    reset_planner()
    spec = ConvSpec(4, 1, 64, 4000, 10, 5, (0, 0), 1, 1, "float32")
    rng = np.random.default_rng(4)
    dy, w = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.weight_shape)
    dy, w = dy.astype(np.float32), w.astype(np.float32)
    with algos.use(mode="measure", time_limit=0.5):
        got = planner.execute("backward_data", spec, dy, w)
    record = algos.records()[-1]
    measured = {c["name"] for c in record["candidates"] if c["measured_s"] is not None}
    assert {"col2im", "direct", "im2col"} <= measured
    assert record["algorithm"] == "col2im"
    assert relative_error(got, definition(spec, dy, w)) < TOLERANCE["float32"]


def test_the_heuristic_planner_picks_col2im_for_backward_data_of_the_speech_frontend():
    """The strided one-input-channel layer whose lowered backward-data upsamples ``dy`` 5x:
    the cost model prices col2im (generic coefficients) below every lowered candidate."""
    reset_planner()
    (load,) = [w for w in SUITE if w.name == "speech_frontend"]
    assert algos.choose(load.spec(), "backward_data") == "col2im"
