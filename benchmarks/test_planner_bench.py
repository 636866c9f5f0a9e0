"""Planner overheads (issue 4): cached-call dispatch and measure mode over varying lengths.

* ``dispatch``: a cached ``execute`` on a tiny problem versus the same plan's
  ``run`` alone; the difference (settings lookup, LRU hit, lock, lowering
  re-layout) must stay within :data:`DISPATCH_LIMIT_S`.
* ``varying lengths``: in measure mode, once every length bucket has been
  measured, a loop over 200 different lengths must cost less than
  :data:`VARYING_LIMIT` times the same loop at one fixed length (PyTorch
  re-benchmarks each new length, pytorch#2759: 30-100x); the median of
  :data:`LOOPS` such loops, each planning every length afresh.

Both compare against a peer timed in the same process, interleaved, with
medians, so machine noise cancels, and both always assert: in a timed
regression run against the tight limits above, and under
``--benchmark-disable`` (CI, on a shared machine that other jobs load) against
the generous :data:`CI_DISPATCH_LIMIT_S` and :data:`CI_VARYING_LIMIT`, which a
real regression (a re-validation or re-planning per call: hundreds of
microseconds, 30-100x) still exceeds.
"""
from __future__ import annotations

import statistics

import numpy as np
import pytest

from lucid import algos
from lucid.algos import planner
from lucid.algos.spec import ConvSpec
from lucid.bench.timing import clock

DISPATCH_LIMIT_S = 30e-6
VARYING_LIMIT = 2.0
#: The bounds of an untimed (CI) run: ~15x the ~20 us measured quietly, and 2x VARYING_LIMIT.
CI_DISPATCH_LIMIT_S = 300e-6
CI_VARYING_LIMIT = 4.0
#: Whole 200-length loops compared; their median ratio is asserted (one stall of the
#: shared machine inside a loop of ~1 ms calls would otherwise decide the verdict).
LOOPS = 3
LENGTHS = [1500 + 13 * i for i in range(200)]      # 1500..4087: 200 new lengths over 6 buckets
FIXED = 2800


@pytest.fixture(autouse=True)
def _fresh_planner():
    algos.clear_plans()
    yield
    algos.clear_plans()


@pytest.mark.benchmark(group="planner-dispatch")
def test_cached_dispatch_overhead(benchmark):
    spec = ConvSpec(1, 1, 1, 8, 1)
    x, w = np.ones(spec.input_shape, np.float32), np.ones(spec.weight_shape, np.float32)
    algos.execute("forward", spec, x, w)
    plan = planner.default_planner().plans()[0].plan
    calls = lambda: [algos.execute("forward", spec, x, w) for _ in range(200)]   # noqa: E731
    runs = lambda: [plan.run(x, w) for _ in range(200)]                          # noqa: E731
    pairs = [(clock(calls)[0], clock(runs)[0]) for _ in range(25)]
    overhead = statistics.median(c - r for c, r in pairs) / 200
    limit = CI_DISPATCH_LIMIT_S if benchmark.disabled else DISPATCH_LIMIT_S
    benchmark.extra_info.update(dispatch_overhead_us=overhead * 1e6, limit_us=limit * 1e6)
    benchmark(algos.execute, "forward", spec, x, w)
    assert overhead <= limit, f"cached dispatch costs {overhead * 1e6:.1f} us (limit {limit * 1e6:.0f} us)"


def _call(length: int, weight: np.ndarray) -> float:
    """Seconds of one measure-mode forward call at ``length`` (N4 C32->32 K3 'same')."""
    spec = ConvSpec(4, 32, 32, length, 3, 1, (1, 1))
    x = np.ones(spec.input_shape, np.float32)
    with algos.use(mode="measure"):
        return clock(lambda: algos.execute("forward", spec, x, weight))[0]


@pytest.mark.benchmark(group="planner-varying-lengths")
def test_varying_lengths_cost_less_than_twice_fixed(benchmark):
    weight = np.ones((32, 32, 3), np.float32)
    buckets = {round(planner.BUCKETS_PER_OCTAVE * np.log2(n)): n for n in LENGTHS + [FIXED]}
    for length in buckets.values():                # measure the first length of every bucket once
        _call(length, weight)
    ratios = []
    for _ in range(LOOPS):                          # each loop plans all 200 lengths afresh
        algos.clear_plans()                         # (the measured bucket decisions stay in wisdom)
        _call(FIXED, weight)
        varying, fixed = 0.0, 0.0
        for length in LENGTHS:                      # interleaved call by call, so load hits both alike
            varying += _call(length, weight)
            fixed += _call(FIXED, weight)
        ratios.append(varying / fixed)
    ratio = statistics.median(ratios)
    limit = CI_VARYING_LIMIT if benchmark.disabled else VARYING_LIMIT
    benchmark.extra_info.update(ratios=ratios, ratio=ratio, limit=limit)
    benchmark.pedantic(_call, args=(FIXED, weight), rounds=3, iterations=1)
    assert ratio < limit, f"200 lengths cost {ratio:.2f}x the fixed-length loop (loops: {ratios})"
