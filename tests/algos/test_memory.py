"""Memory: no algorithm allocates more than the workspace it reports; tiny limits chunk, and stay right.

Allocation is measured with ``tracemalloc`` (NumPy reports its data buffers to
it, and pyFFTW's ``empty_aligned`` allocates through NumPy) around
``prepare`` + ``run``: the peak above the starting point, minus the fresh
output.  Inputs and weight exist before measuring, so they are not counted.

Slack: 64 KiB + 10 %.  The fixed part covers Python objects and tiny arrays
that no workspace formula counts (chunk lists, index tuples, thread-pool
futures, pyFFTW plan objects, the value-checked weight copy of
:class:`~lucid.algos.base.WeightCache` for small weights); the relative part
covers alignment padding of aligned buffers and short-lived views.  What FFTW
allocates inside C (its plans' scratch) is invisible to tracemalloc.
"""
from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest
from planner_fakes import reset_planner
from reference import conv1d_grads_ref_taps, conv1d_ref_taps

import lucid
import lucid.algos as algos
import lucid.nn.functional as F
from lucid.algos import registry, scratch
from lucid.algos.base import DEFAULT_WORKSPACE_LIMIT
from lucid.algos.lowering import operand_shapes, route
from lucid.algos.spec import ConvSpec

SLACK_BYTES, SLACK_FRACTION = 64 << 10, 0.10

SHAPES = [
    ConvSpec(4, 16, 16, 4096, 3, 1, (1, 1)),
    ConvSpec(2, 8, 8, 2000, 31, 1, (15, 15)),
    ConvSpec(1, 32, 32, 1024, 3, 2, (0, 0), 1, 1, "float64"),
    ConvSpec(2, 16, 16, 4096, 9, 1, (4, 4), 1, 16),
    ConvSpec(1, 4, 4, 10000, 129, 1, (64, 64), 2, 2),
]
CASES = [(name, op, spec) for name in registry.names() for spec in SHAPES
         for op in ("forward", "backward_data", "backward_filter")
         if (lowered := route(op, spec, registry.get(name).ops)) is not None
         and registry.get(name).supports(lowered.spec) is None]     # only what each can run, as the planner poses it


def posed(name: str, op: str, spec: ConvSpec, ones: bool = False) -> tuple[ConvSpec, np.ndarray, np.ndarray]:
    """The spec algorithm ``name`` is given for ``op`` (native or derived) and its two operands."""
    lowering = route(op, spec, registry.get(name).ops)
    assert lowering is not None
    rng = np.random.default_rng(0)
    a, b = (np.ones(shape) if ones else rng.standard_normal(shape) for shape in operand_shapes(op, spec))
    x, w = lowering.operands(a.astype(spec.np_dtype), b.astype(spec.np_dtype))
    return lowering.spec, np.array(x), np.array(w)


def allowed(workspace: int) -> int:
    return int(workspace * (1 + SLACK_FRACTION)) + SLACK_BYTES


def allocated(plan_of, x: np.ndarray, w: np.ndarray, fresh_scratch: bool = True) -> tuple[int, np.ndarray]:
    """Peak bytes ``plan_of()`` + one run allocate beyond their output, and that output,
    starting from no per-thread scratch at all (what earlier tests left behind is dropped).

    One run: a second one may land on another pool thread, which then borrows its own
    scratch; each thread's share is what the workspace counts per slot."""
    if fresh_scratch:
        scratch.release_scratch(above=0)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        plan = plan_of()
        first = plan.run(x, w)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - start - first.nbytes, first


@pytest.mark.parametrize("name,op,spec", CASES, ids=[f"{n}-{o}-{s.describe()}" for n, o, s in CASES])
def test_algorithm_allocates_at_most_its_reported_workspace(name, op, spec):
    algorithm = registry.get(name)
    derived, x, w = posed(name, op, spec)
    reported = int(algorithm.layout(derived, DEFAULT_WORKSPACE_LIMIT).workspace_bytes)
    used, _ = allocated(lambda: algorithm.prepare(derived, DEFAULT_WORKSPACE_LIMIT), x, w)
    assert used <= allowed(reported), (f"{name} {op} {derived.describe()}: allocated {used} B, "
                                       f"reports {reported} B (allowed {allowed(reported)})")


@pytest.mark.parametrize("name,op,spec", CASES, ids=[f"{n}-{o}-{s.describe()}" for n, o, s in CASES])
def test_plan_holds_at_most_its_reported_workspace(name, op, spec):
    """What the plan cache counts (``held_bytes``) after a run stays within the workspace."""
    algorithm = registry.get(name)
    derived, x, w = posed(name, op, spec, ones=True)
    plan = algorithm.prepare(derived, DEFAULT_WORKSPACE_LIMIT)
    plan.run(x, w)
    assert plan.held_bytes() <= allowed(algorithm.layout(derived, DEFAULT_WORKSPACE_LIMIT).workspace_bytes)


def test_held_bytes_counts_each_allocation_once_through_views_and_containers():
    plan = registry.get("direct").prepare(ConvSpec(1, 1, 1, 8, 1), DEFAULT_WORKSPACE_LIMIT)
    base = np.zeros(1000, np.uint8)
    plan.views = [base[:10], base.view(np.uint16), base[::2]]
    plan.nested = {"cache": (np.zeros(24, np.float64), base)}
    assert plan.held_bytes() == 1000 + 24 * 8
    fft = registry.get("fft").prepare(SHAPES[1], DEFAULT_WORKSPACE_LIMIT)
    assert fft.held_bytes() > 0 and fft.geometry.workspace_bytes() >= fft.held_bytes()


TINY = 256 << 10      # well below every algorithm's default-geometry workspace for SPEC
SPEC = ConvSpec(4, 16, 16, 8192, 9, 1, (4, 4))


@pytest.fixture()
def fresh():
    reset_planner()
    yield
    reset_planner()


@pytest.mark.parametrize("name", ["im2col", "fft", "winograd"])
def test_prepare_under_a_tiny_limit_chunks_within_it(name):
    algorithm = registry.get(name)
    # winograd (K=2..5) keeps a stacked copy of the input, so its case is one item: floor < TINY.
    spec = SPEC if algorithm.supports(SPEC) is None else dataclasses.replace(
        SPEC, n=1, length=1024, kernel_size=3, padding=(1, 1))
    assert algorithm.supports(spec) is None
    assert algorithm.layout(spec, DEFAULT_WORKSPACE_LIMIT).workspace_bytes > TINY, "the limit must force chunking"
    assert algorithm.layout(spec, TINY).workspace_bytes <= TINY
    rng = np.random.default_rng(1)
    x = rng.standard_normal(spec.input_shape).astype(np.float32)
    w = rng.standard_normal(spec.weight_shape).astype(np.float32)
    used, y = allocated(lambda: algorithm.prepare(spec, TINY), x, w)
    assert used <= allowed(TINY), f"{name}: allocated {used} B under workspace_limit={TINY}"
    want = conv1d_ref_taps(x.astype(np.float64), w.astype(np.float64), padding=spec.padding[0])
    assert np.linalg.norm(y - want) / np.linalg.norm(want) < 2e-5


def test_direct_reports_its_floor_and_refuses_a_limit_below_it():
    """direct does not chunk (its padded input copy alone exceeds TINY): it
    reports that floor, so the planner skips it, and ``prepare`` refuses."""
    direct = registry.get("direct")
    floor = direct.layout(SPEC, TINY).workspace_bytes
    assert floor > TINY and floor == direct.layout(SPEC, DEFAULT_WORKSPACE_LIMIT).workspace_bytes
    with pytest.raises(ValueError, match="workspace_limit"):
        direct.prepare(SPEC, TINY)
    x = np.ones(SPEC.input_shape, np.float32)
    w = np.ones(SPEC.weight_shape, np.float32)
    direct.prepare(SPEC, floor).run(x, w)          # warm: the pool thread that runs a block keeps its tap
    used, y = allocated(lambda: direct.prepare(SPEC, floor), x, w, fresh_scratch=False)
    assert used <= allowed(floor) and y.shape == SPEC.output_shape
    assert np.all(y[:, :, 4:-4] == 9 * SPEC.c_in)


@pytest.mark.parametrize("name", ["im2col", "fft"])
def test_tiny_workspace_limit_through_the_planner_chunks_and_stays_right(fresh, name):
    """``use(workspace_limit=...)`` must make an algorithm that can chunk do so, not skip it."""
    rng = np.random.default_rng(2)
    xt = lucid.tensor(rng.standard_normal(SPEC.input_shape), requires_grad=True)
    wt = lucid.tensor(rng.standard_normal(SPEC.weight_shape), requires_grad=True)
    with algos.use(name, workspace_limit=TINY):
        y = F.conv1d(xt, wt, padding=4)
        dy = rng.standard_normal(y.shape)
        y.backward(lucid.tensor(dy))
    records = algos.records()
    forward = next(r for r in records if r["op"] == "forward")
    assert forward["algorithm"] == name
    chosen = next(c for c in forward["candidates"] if c["name"] == name)
    assert chosen["workspace_bytes"] <= TINY, chosen
    assert all(r["settings"]["workspace_limit"] == TINY for r in records)
    x64, w64 = xt.data.astype(np.float64), wt.data.astype(np.float64)
    want = conv1d_ref_taps(x64, w64, padding=4)
    dx, dw, _ = conv1d_grads_ref_taps(x64, w64, dy.astype(np.float32).astype(np.float64), padding=4)
    for got, ref in ((y.data, want), (xt.grad.data, dx), (wt.grad.data, dw)):
        assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 2e-5
