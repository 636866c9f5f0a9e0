"""Every registered algorithm, every op, against the float64 reference loop.

One suite for all implementations (scipy's TestAllFreqConvolves pattern): the
sweep covers odd/even lengths, stride, asymmetric padding, dilation, groups
(dense, grouped, depthwise) and both dtypes; each algorithm runs every spec
(and every derived backward spec) it supports, and the test checks the answer
against the error bound the algorithm states for it.

The operands of a spec are seeded from its description (``zlib.crc32``), never
from ``hash()``: string hashes change with ``PYTHONHASHSEED``, and the sweep
must see the same operands in every process.
"""
from __future__ import annotations

import functools
import itertools
import zlib
from functools import cache

import numpy as np
import pytest
from concurrency import assert_concurrent_runs_match
from helpers import float64_reference, operands, relative_error, run
from reference import conv1d_grads_ref, conv1d_ref

from lucid import algos
from lucid.algos import planner, registry
from lucid.algos.lowering import route
from lucid.algos.spec import ConvSpec
from lucid.suite import SUITE, workload

TOLERANCE = {"float32": 2e-6, "float64": 1e-12}
ALGORITHMS = [a.name for a in registry.algorithms()]
#: The algorithms that solve the forward problem (and so every op, through the lowering).
FORWARD = [a.name for a in registry.algorithms() if "forward" in a.ops]


def own_op(name: str) -> str:
    """The op algorithm ``name`` is checked on by the op-generic tests: forward if it solves it."""
    ops = registry.get(name).ops
    return "forward" if "forward" in ops else ops[0]


def sweep_specs():
    specs = []
    for s, pad, d, groups, k, length, dtype in itertools.product(
            (1, 2, 3), ((0, 0), (1, 1), (2, 2), (1, 2)), (1, 2, 3), ("1", "2", "C"), (1, 2, 3, 4, 5),
            (10, 13), ("float32", "float64")):
        c = 4
        g = {"1": 1, "2": 2, "C": c}[groups]
        c_out = 6 if g != c else c
        try:
            specs.append(ConvSpec(2, c, c_out, length, k, s, pad, d, g, dtype))
        except ValueError:   # output shorter than one sample: not a valid call
            continue
    return specs


SPECS = sweep_specs()


def references(spec: ConvSpec, x: np.ndarray, w: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(y, dx, dw)`` of ``spec`` by the float64 loop oracle."""
    xp = np.pad(x, ((0, 0), (0, 0), spec.padding))
    y = conv1d_ref(xp, w, None, spec.stride, 0, spec.dilation, spec.groups)
    dxp, dw, _ = conv1d_grads_ref(xp, w, dy, spec.stride, 0, spec.dilation, spec.groups)
    left = spec.padding[0]
    return y, dxp[:, :, left:left + spec.length], dw


@cache
def case(spec: ConvSpec):
    """Random operands for ``spec`` (seeded by its description), the reference forward and gradients
    (float64), and the scale of each result's products (:func:`scales`)."""
    rng = np.random.default_rng(zlib.crc32(spec.describe().encode()))
    x = rng.standard_normal(spec.input_shape)
    w = rng.standard_normal(spec.weight_shape)
    dy = rng.standard_normal(spec.output_shape)
    return (x, w, dy, *references(spec, x, w, dy), scales(spec, x, w, dy))


def scales(spec: ConvSpec, x: np.ndarray, w: np.ndarray, dy: np.ndarray) -> dict[str, float]:
    """Per op, ``sqrt(sum of the squared products)`` that the result sums (the oracle on squared
    operands: every result is bilinear): the norm the result has when its products do not cancel,
    as for random data on average.  The stated error bounds are square-root models relative to it
    (rounding errors scale with the products, not with what is left after they cancel)."""
    y, dx, dw = references(spec, x**2, w**2, dy**2)
    return {op: float(np.sqrt(v.sum())) for op, v in zip(("forward", "backward_data", "backward_filter"), (y, dx, dw))}


def conditioned_error(got: np.ndarray, want: np.ndarray, scale: float) -> float:
    """``||got - want|| / max(||want||, scale)``: the normwise relative error, except where the
    products cancel (``||want|| < scale``): there relative to the products' scale instead."""
    return float(np.linalg.norm(np.asarray(got, np.float64) - want)) / max(float(np.linalg.norm(want)), scale)


def sweep_tolerance(spec: ConvSpec, bound: float) -> float:
    """The algorithm's own stated bound; in float64 no tighter than 1e-12, the resolution of a
    float64 oracle (its own rounding is of the bound's size)."""
    return bound if spec.dtype == "float32" else max(bound, TOLERANCE["float64"])


def run_op(algorithm, op, spec, a, b):
    """``op`` on ``spec`` by ``algorithm`` as the planner poses it (natively or lowered), or None."""
    lowering = route(op, spec, algorithm.ops)
    if lowering is None or algorithm.supports(lowering.spec) is not None:
        return None
    plan = algorithm.prepare(lowering.spec, 1 << 30)
    dt = spec.np_dtype
    return lowering.result(plan.run(*lowering.operands(a.astype(dt), b.astype(dt))))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_algorithm_matches_reference_on_sweep(name):
    """Every op of every sweep spec the algorithm serves (natively or lowered) is within the error
    bound the algorithm states for the posed spec (:func:`sweep_tolerance`), measured on the
    products' scale where the result cancels (:func:`conditioned_error`)."""
    algorithm = registry.get(name)
    checked = 0
    failures = []
    for spec in SPECS:
        x, w, dy, y, dx, dw, scale = case(spec)
        for op, a, b, want in (("forward", x, w, y), ("backward_data", dy, w, dx), ("backward_filter", dy, x, dw)):
            if op == "forward" and algorithm.supports(spec) is not None:
                continue
            got = run_op(algorithm, op, spec, a, b)
            if got is None:
                continue
            checked += 1
            assert got.shape == want.shape, (name, op, spec)
            assert got.dtype == spec.np_dtype, (name, op, spec, got.dtype)
            err = conditioned_error(got, want, scale[op])
            bound = algorithm.layout(route(op, spec, algorithm.ops).spec).error_bound
            if not err <= sweep_tolerance(spec, bound):
                failures.append(f"{op} {spec.describe()}: {err:.2e} > bound {bound:.2e}")
    assert not failures, f"{name}: {len(failures)} mismatches, e.g. {failures[:5]}"
    assert checked > 100, f"{name} ran only {checked} cases of the sweep"


def plan_for(name, spec):
    """The plan of algorithm ``name`` for ``spec`` (K=3, which every algorithm here supports)."""
    algorithm = registry.get(name)
    assert algorithm.supports(spec) is None, f"{name} should support {spec.describe()}"
    return algorithm.prepare(spec, 1 << 30)


#: Two paths through every algorithm: dense, and grouped one-channel-per-group with
#: stride, dilation and padding (fft's elementwise mixing and polyphase split, winograd's phases).
PATHS = [ConvSpec(2, 4, 4, 33, 3, 1, (1, 1), 1, 1, "float64"), ConvSpec(2, 4, 4, 300, 3, 2, (2, 1), 3, 4, "float64")]


@pytest.mark.parametrize("spec", PATHS, ids=lambda s: s.describe())
@pytest.mark.parametrize("name", FORWARD)
def test_plan_reuse_sees_weight_updates(name, spec):
    """A plan run twice with an in-place-changed weight must not serve a stale transform,
    and with the weight cache off (``weight_varies``: the backward-filter lowering) it is still right."""
    x, w, *_ = case(spec)
    want_after = conv1d_ref(np.pad(x, ((0, 0), (0, 0), spec.padding)), -2.0 * w, None, spec.stride, 0,
                            spec.dilation, spec.groups)
    for weight_varies in (False, True):
        plan = registry.get(name).prepare(spec, 1 << 30, weight_varies=weight_varies)
        w_now = w.copy()
        first = plan.run(x, w_now)
        w_now *= -2.0                          # in place: same object, new values
        second = plan.run(x, w_now)
        np.testing.assert_allclose(second, -2.0 * first, rtol=1e-10, atol=1e-10)
        assert relative_error(second, want_after) <= TOLERANCE["float64"]


@pytest.mark.parametrize("spec", [ConvSpec(2, 16, 16, 2000, 3, 1, (1, 1), 2, 1, "float64"),
                                  ConvSpec(2, 16, 16, 2000, 3, 2, (1, 1), 2, 1, "float64")],
                         ids=lambda s: s.describe())
@pytest.mark.parametrize("name", ALGORITHMS)
def test_two_threads_share_one_plan(name, spec):
    """Concurrent runs of one plan (on the algorithm's own op) give exactly its sequential results
    (plans reuse their buffers and borrow per-thread scratch), under a limit that makes the chunking
    ones chunk."""
    algorithm, op = registry.get(name), own_op(name)
    posed = route(op, spec, algorithm.ops).spec
    floor = algorithm.layout(posed, 0)
    assert not isinstance(floor, str)
    plan = algorithm.prepare(posed, max(1 << 17, floor.workspace_bytes))
    cases = [operands(spec, seed, op) for seed in range(4)]
    assert relative_error(plan.run(*cases[0]), float64_reference(op, spec, *cases[0])) <= 1e-12
    assert_concurrent_runs_match(plan, cases)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_output_is_fresh_array(name):
    """Results never alias plan buffers: a second call must not change the first result."""
    spec = ConvSpec(1, 2, 2, 20, 3, 1, (0, 0), 1, 1, "float64")
    algorithm, op = registry.get(name), own_op(name)
    plan = plan_for(name, route(op, spec, algorithm.ops).spec)
    a, b = operands(spec, 0, op)
    first = plan.run(a, b)
    keep = first.copy()
    plan.run(a * 3.0, b)
    np.testing.assert_array_equal(first, keep)


@pytest.mark.parametrize("op, cached", [("forward", True), ("backward_data", True), ("backward_filter", False)])
def test_weight_transforms_are_cached_except_for_backward_filter(op, cached):
    """backward_filter's "weight" is ``dy``, new every call: its plans skip the
    compare-and-copy of the weight cache (a hit is impossible)."""
    spec = ConvSpec(2, 4, 4, 64, 3, 1, (1, 1), 1, 1, "float64")
    a, b = operands(spec, op=op)
    for name in ("fft", "winograd"):
        algos.clear_plans()
        got = algos.execute(op, spec, a, b, algorithm=name)
        assert relative_error(got, float64_reference(op, spec, a, b)) <= 1e-12
        (entry,) = planner.default_planner().plans()
        if entry.algorithm != name:         # winograd cannot serve backward_filter (K' = L_out)
            continue
        weights = entry.plan._idle[0]._weights if name == "fft" else entry.plan._cache
        assert weights._enabled is cached and (weights._entry is not None) is cached


#: Work above which an algorithm's run is left out of the suite check (direct and im2col on
#: dense_long_k257 would take seconds each, and lose to fft by 100x anyway).
SUITE_FLOPS = 5e9


@functools.lru_cache(maxsize=1)
def suite_case(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operands and float64 reference of a suite workload, shared by every algorithm and dtype."""
    spec = workload(name).spec("float64")
    x, w = operands(spec)
    return x, w, float64_reference("forward", spec, x, w)


def _applicable(name: str, load, dtype: str) -> bool:
    layout = registry.get(name).layout(load.spec(dtype))
    return not isinstance(layout, str) and layout.flops <= SUITE_FLOPS


#: (algorithm, workload, dtype) wherever the algorithm applies and the run is affordable: generated,
#: not skipped, so the count of cases says what is covered.
SUITE_CASES = [(name, load, dtype) for name in ALGORITHMS for load in SUITE for dtype in ("float32", "float64")
               if _applicable(name, load, dtype)]


@pytest.mark.parametrize("name,load,dtype", SUITE_CASES, ids=lambda v: getattr(v, "name", v))
def test_suite_accuracy_within_tolerance_and_stated_bound(name, load, dtype):
    """Every algorithm on every suite workload it applies to: the normwise error is within
    the issue's tolerance and within the error bound its layout states."""
    spec = load.spec(dtype)
    layout = registry.get(name).layout(spec)
    x, w, want = suite_case(load.name)
    got = run(name, spec, x, w)
    assert got.dtype == spec.np_dtype and got.shape == spec.output_shape
    err = relative_error(got, want)
    assert err <= TOLERANCE[dtype], f"{name} {load.name} {dtype}: {err:.2e}"
    assert err <= layout.error_bound, f"{name} {load.name} {dtype}: {err:.2e} above the stated bound"
