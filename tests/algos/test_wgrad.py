"""wgrad, the native backward-filter algorithm, against the plain float64 loop of tests/reference.py.

Both strategies (per-tap GEMMs on views, and gathered columns) are forced in
turn over a seeded grid of N, C_in, C_out, L, K, stride, dilation, padding and
groups (dense, grouped, depthwise) in float32 and float64, and on specs of
several reduction blocks; a NaN/Inf of ``dy`` at each edge's outermost and
innermost padded column and in the middle lands where the definition puts it;
the planner serves it natively (the record's spec is the source spec posed as
backward_filter).
"""
from __future__ import annotations

import numpy as np
import pytest
from helpers import forced_residual_graph, native_op_failures, relative_error, seeded_specs
from planner_fakes import reset_planner
from reference import conv1d_grads_ref, finite_difference

import lucid
from lucid import algos
from lucid.algos import planner, registry, wgrad
from lucid.algos.spec import ConvSpec
from lucid.suite import SUITE


def grid(count: int = 64, seed: int = 16) -> list[ConvSpec]:
    """Seeded random valid specs: dense, grouped and depthwise, every hyper-parameter varied."""
    return seeded_specs(count, seed, length=(4, 31), kernel=(1, 6), stride=(1, 4), padding=(0, 4),
                        dilation=(1, 4))


def definition(spec: ConvSpec, dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dw`` by the plain float64 loop over the definition (padding zeros multiplied too)."""
    xp = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), spec.padding))
    with np.errstate(all="ignore"):
        return conv1d_grads_ref(xp, np.zeros(spec.weight_shape), dy, spec.stride, 0, spec.dilation, spec.groups)[1]


@pytest.fixture(params=["taps", "columns"])
def forced_strategy(request, monkeypatch):
    """Every plan built in the test uses this strategy."""
    monkeypatch.setattr(wgrad, "strategy", lambda spec: request.param)
    reset_planner()
    yield request.param
    reset_planner()


def test_matches_the_definition_on_a_seeded_grid(forced_strategy):
    failures = native_op_failures("backward_filter", "wgrad", grid(), definition)
    assert not failures, failures[:5]


#: Specs of several reduction blocks (2048 columns each): runs of whole items, runs of positions
#: of one item (stride 2: the phases), and one item per block; float32 and float64.
MULTI_BLOCK_SPECS = [ConvSpec(40, 4, 6, 100, 3, 1, (1, 1), 1, 2, "float64"),
                     ConvSpec(2, 4, 4, 6100, 3, 2, (2, 1), 2, 1, "float32"),
                     ConvSpec(3, 6, 6, 1500, 4, 1, (0, 3), 3, 3, "float64")]


@pytest.mark.parametrize("spec", MULTI_BLOCK_SPECS, ids=lambda s: s.describe())
def test_specs_of_several_blocks_match_the_definition(forced_strategy, spec):
    """Every block counts: a reduction cut into several blocks (shared over the pool threads,
    summed in slot order) gives the definition's ``dw``; the grid above fits in one block."""
    assert len(wgrad._blocks(spec)) >= 2
    assert all(len(wgrad._blocks(small)) == 1 for small in grid())
    failures = native_op_failures("backward_filter", "wgrad", [spec], definition)
    assert not failures, failures


@pytest.mark.parametrize("where", ["dy_in_padding", "x"])
def test_nonfinite_operands_land_where_the_definition_puts_them(forced_strategy, where):
    """An Inf of ``dy`` read only against padding zeros gives NaN in exactly that tap
    (``0 * Inf``), as the definition (and PyTorch) does; a NaN of ``x`` stays local."""
    spec = ConvSpec(2, 4, 6, 20, 3, 1, (2, 2), 1, 2, "float64")
    rng = np.random.default_rng(3)
    dy, x = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.input_shape)
    if where == "x":
        x[1, 2, 7] = np.nan
    else:
        dy[0, 1, 0] = np.inf          # position 0: taps 0 and 1 read padding there
    want = definition(spec, dy, x)
    got = planner.execute("backward_filter", spec, dy, x, algorithm="wgrad")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert 0 < np.isnan(want).sum() < want.size / 2
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


def skipped_taps(spec: ConvSpec, t: int) -> list[int]:
    """Taps ``k`` that read padding at output position ``t`` (input ``t*s + k*d - left`` outside ``x``)."""
    return [k for k in range(spec.kernel_size)
            if not 0 <= t * spec.stride + k * spec.dilation - spec.padding[0] < spec.length]


def edge_positions(spec: ConvSpec) -> dict[str, int]:
    """Outermost and innermost positions of ``dy`` where some tap reads padding, on each edge,
    and one in the middle where none does (from the definition, not from wgrad's tap ranges)."""
    skipped = [t for t in range(spec.l_out) if skipped_taps(spec, t)]
    left = [t for t in skipped if t < spec.l_out // 2]
    right = [t for t in skipped if t >= spec.l_out // 2]
    return {"left_outer": left[0], "left_inner": left[-1], "middle": spec.l_out // 2,
            "right_inner": right[0], "right_outer": right[-1]}


#: Two or more skipped columns on each edge: unit stride, and stride 3 with dilation 2 and K=4.
EDGE_SPECS = [ConvSpec(2, 4, 6, 20, 3, 1, (2, 2), 1, 2, "float64"),
              ConvSpec(2, 4, 6, 19, 4, 3, (5, 6), 2, 2, "float64")]


@pytest.mark.parametrize("value", [np.inf, np.nan], ids=["inf", "nan"])
@pytest.mark.parametrize("where", ["left_outer", "left_inner", "middle", "right_inner", "right_outer"])
@pytest.mark.parametrize("spec", EDGE_SPECS, ids=lambda s: s.describe())
def test_nonfinite_dy_at_each_edge_and_in_the_middle(forced_strategy, spec, where, value):
    """A NaN/Inf of ``dy`` at every kind of position: where taps read padding it reaches them as
    ``0 * Inf = NaN`` (the padding-product check must see the innermost skipped column of each edge,
    not only the outermost); in the middle it reaches every tap through real products only."""
    rng = np.random.default_rng([EDGE_SPECS.index(spec), 5])
    dy, x = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.input_shape)
    t = edge_positions(spec)[where]
    assert len(set(edge_positions(spec).values())) == 5            # five distinct positions
    assert (where == "middle") == (skipped_taps(spec, t) == [])
    dy[1, 4, t] = value
    want = definition(spec, dy, x)
    got = planner.execute("backward_filter", spec, dy, x, algorithm="wgrad")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    assert np.isnan(want[4, :, skipped_taps(spec, t)]).all()          # 0 * Inf or 0 * NaN at the padding
    assert not np.isfinite(want[4]).all() and np.isfinite(np.delete(want, 4, axis=0)).all()
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


def test_serves_only_backward_filter_and_forcing_it_falls_back_for_other_ops():
    spec = ConvSpec(2, 4, 6, 20, 3, 1, (1, 1), 1, 2, "float64")
    assert registry.get("wgrad").supports(spec) == "wgrad: solves backward_filter only, not forward"
    with pytest.raises(ValueError, match="solves backward_filter only"):
        registry.get("wgrad").prepare(spec)
    reset_planner()
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    planner.execute("forward", spec, x, w, algorithm="wgrad")
    (record,) = algos.records()
    assert record["algorithm"] != "wgrad" and record["reason"].startswith("forced wgrad cannot serve forward")
    for algorithm in registry.algorithms():      # forward algorithms never see a spec posed as backward_filter
        if algorithm.name != "wgrad":
            assert "only, not backward_filter" in algorithm.supports(ConvSpec(2, 4, 6, 20, 3, op="backward_filter"))


def test_weight_gradient_of_a_residual_graph_matches_finite_differences():
    """Conv1d weight.grad through autograd, with wgrad forced, against float64 central differences."""
    reset_planner()
    convs, forward = forced_residual_graph("wgrad", (4, 2), seed=2)
    x0 = np.random.default_rng(1).standard_normal((2, 3, 17))

    forward(lucid.tensor(x0)).backward()
    assert {r["algorithm"] for r in algos.records() if r["op"] == "backward_filter"} == {"wgrad"}
    for conv in convs:
        w0 = conv.weight.numpy().copy()

        def loss(w, conv=conv, w0=w0):
            with lucid.no_grad():
                conv.weight.data[...] = w
                value = forward(lucid.tensor(x0)).item()
                conv.weight.data[...] = w0
                return value
        np.testing.assert_allclose(conv.weight.grad.numpy(), finite_difference(loss, w0), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("load", [w for w in SUITE if w.kernel_size <= 5], ids=lambda w: w.name)
def test_the_heuristic_planner_picks_wgrad_for_backward_filter_of_the_suite(load):
    """Issue 16's rows (K <= 5): with the shipped constants the native algorithm wins the prediction,
    and the lowered candidates are priced with their copies."""
    reset_planner()
    assert algos.choose(load.spec(), "backward_filter") == "wgrad"
    (record,) = algos.records()
    assert record["spec"] == load.spec().describe() + " backward_filter"


def test_measure_mode_times_native_and_lowered_candidates_on_the_ops_operands():
    """Measure mode races wgrad (native) against the lowered candidates, each on ``(dy, x)``
    through its own route, and the winner's result is right; the bucket's wisdom is reused."""
    reset_planner()
    spec = ConvSpec(2, 8, 8, 300, 3, 2, (1, 1), 2, 1, "float64")
    rng = np.random.default_rng(4)
    dy, x = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.input_shape)
    with algos.use(mode="measure", time_limit=0.5):
        got = planner.execute("backward_filter", spec, dy, x)
        record = algos.records()[-1]
        measured = {c["name"] for c in record["candidates"] if c["measured_s"] is not None}
        assert {"wgrad", "direct", "im2col"} <= measured
        assert relative_error(got, definition(spec, dy, x)) < 1e-12
        planner.clear_plans()
        again = planner.execute("backward_filter", spec, dy, x)
    assert algos.records()[-1]["cache_hit"] and algos.records()[-1]["algorithm"] == record["algorithm"]
    np.testing.assert_allclose(again, got, rtol=1e-12, atol=1e-12)
