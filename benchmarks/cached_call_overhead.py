"""Cached-call overhead of the planner: microseconds a cached call adds to its plan's run.

Usage: ``python benchmarks/cached_call_overhead.py [calls]``.  On a tiny
problem (N1 C1->1 L8 K1, float32) it times, interleaved, batches of
``calls`` cached ``lucid.algos.execute`` calls and batches of the same plan's
``run`` alone, and prints the median over 101 batches of the per-call
difference (settings, cache hit, locks, lowering), plus the whole
``F.conv1d`` forward on the same operands (argument checks, spec, tensor).
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import lucid
import lucid.nn.functional as F
from lucid import algos
from lucid.algos.spec import ConvSpec


def _per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main(calls: int = 200, batches: int = 101) -> dict[str, float]:
    spec = ConvSpec(1, 1, 1, 8, 1)
    x, w = np.ones(spec.input_shape, np.float32), np.ones(spec.weight_shape, np.float32)
    xt, wt = lucid.from_numpy(x), lucid.from_numpy(w)
    algos.execute("forward", spec, x, w)
    plan = algos.get(algos.choose(spec)).prepare(spec, 1 << 20)
    execute = lambda: algos.execute("forward", spec, x, w)   # noqa: E731
    run = lambda: plan.run(x, w)                             # noqa: E731
    conv = lambda: F.conv1d(xt, wt)                          # noqa: E731
    samples = [(_per_call(execute, calls), _per_call(run, calls), _per_call(conv, calls)) for _ in range(batches)]
    result = {"dispatch_us": statistics.median(e - r for e, r, _ in samples) * 1e6,
              "run_us": statistics.median(r for _, r, _ in samples) * 1e6,
              "conv1d_us": statistics.median(c for _, _, c in samples) * 1e6}
    return result


if __name__ == "__main__":
    print(", ".join(f"{k} {v:.2f}" for k, v in main(*map(int, sys.argv[1:2])).items()))
