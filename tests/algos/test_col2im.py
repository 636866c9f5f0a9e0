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


@pytest.fixture(params=["production", "tiny_blocks", "phases", "tiny_phases"])
def blocking(request, monkeypatch):
    """Production blocks, or one-position blocks shared over the pool threads from any size; production
    or the phase GEMM for every strided spec (whatever its waste, width and rows)."""
    if request.param.startswith("tiny"):
        monkeypatch.setattr(col2im, "_BLOCK_ELEMENTS", 1)
        monkeypatch.setattr(col2im, "_MIN_COLUMNS", 1)
        monkeypatch.setattr(col2im, "_SPLIT_FLOPS", 0)
    if request.param.endswith("phases"):
        monkeypatch.setattr(col2im, "_MAX_PHASE_WASTE", float("inf"))
        monkeypatch.setattr(col2im, "_MIN_PHASE_WIDTH", 0)
        monkeypatch.setattr(col2im, "_MIN_PHASE_ROWS", 0)
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
    phases = col2im.strategy(spec) == "phases"
    assert phases == blocking.endswith("phases")
    shares = col2im._shares(spec, phases)
    if blocking.startswith("tiny"):
        positions = col2im._rows(spec) if phases else spec.l_out
        assert len(shares) == min(lucid.get_num_threads(), spec.n) and sum(map(len, shares)) == spec.n * positions
    item_sets = [{n for n0, n1, _, _ in share for n in range(n0, n1)} for share in shares]
    assert sum(map(len, item_sets)) == spec.n       # an item is never split between threads


@pytest.mark.parametrize("where", ["dy", "w"])
@pytest.mark.parametrize("layout", ["taps", "phases"])
def test_nonfinite_operands_land_where_the_definition_puts_them(where, layout, monkeypatch):
    """In both layouts (the phase GEMM multiplies zeros the definition does not: it re-runs as taps)."""
    if layout == "phases":
        monkeypatch.setattr(col2im, "_MIN_PHASE_WIDTH", 0)
        monkeypatch.setattr(col2im, "_MIN_PHASE_ROWS", 0)
        monkeypatch.setattr(col2im, "_MAX_PHASE_WASTE", float("inf"))
    reset_planner()
    spec = ConvSpec(2, 4, 6, 20, 3, 2, (2, 1), 2, 2, "float64")
    assert col2im.strategy(replace(spec, op="backward_data")) == layout
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


#: The decoder layers of issue #24 as the backward_data of their matching convolution, and col2im's layout.
DECODERS = {
    "hifigan_up1": (ConvSpec(4, 256, 512, 512, 16, 8, (4, 4)), "taps"),        # 260 rows: weight re-layout
    "hifigan_up2": (ConvSpec(4, 128, 256, 4096, 16, 8, (4, 4)), "phases"),
    "hifigan_up3": (ConvSpec(4, 64, 128, 8192, 4, 2, (1, 1)), "phases"),
    "demucs_decoder": (ConvSpec(4, 128, 256, 4100, 8, 4, (0, 0)), "phases"),
    "encodec_up": (ConvSpec(4, 64, 128, 16384, 16, 8, (4, 4)), "phases"),
    "convtasnet_decoder": (ConvSpec(8, 1, 512, 16008, 16, 8, (0, 0)), "taps"),  # Cig*s = 8: a thin GEMM
    "istft_synthesis": (ConvSpec(4, 1, 257, 51584, 512, 128, (0, 0)), "phases"),
}


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_the_decoder_layers_layouts_and_the_heuristic_picks_col2im(name):
    spec, layout = DECODERS[name]
    assert col2im.strategy(replace(spec, op="backward_data")) == layout
    reset_planner()
    assert algos.choose(spec, "backward_data") == "col2im"
    (record,) = algos.records()
    fft = next(c for c in record["candidates"] if c["name"] == "fft")
    assert fft["supported"] and fft["reason"] is None and fft["predicted_s"] > 0     # fft competes (lowered)


def test_the_phase_layout_of_the_istft_shape_is_one_gemm_per_block_and_no_copy(monkeypatch):
    """K=512 at stride 128 into one channel: Q = 4 shifts, the rows are dx itself (no crop, no copy)."""
    spec = replace(DECODERS["istft_synthesis"][0], op="backward_data")
    assert col2im._phase_count(spec) == 4 and col2im._buffer_is_dx(spec)
    layout = registry.get("col2im").layout(spec)
    blocks = sum(map(len, layout.detail[0]))
    assert layout.features["python_steps"] == blocks * (4 + 2)          # not blocks x 513
    small = ConvSpec(1, 1, 3, 2 * 128 + 384, 512, 128, (0, 0), 1, 1, "float64")
    monkeypatch.setattr(col2im, "_MIN_PHASE_ROWS", 0)
    assert col2im.strategy(replace(small, op="backward_data")) == "phases"
    rng = np.random.default_rng(9)
    dy, w = rng.standard_normal(small.output_shape), rng.standard_normal(small.weight_shape)
    got = registry.get("col2im").prepare(replace(small, op="backward_data")).run(dy, w)
    assert relative_error(got, definition(small, dy, w)) < TOLERANCE["float64"]
