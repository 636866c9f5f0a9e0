"""Backward-data time of col2im (native) against the lowered algorithms, on three suite rows.

``speech_frontend`` (strided, one input channel: the lowering upsamples ``dy``
5x), ``dense_k3_L4096`` and ``pointwise``.  On ``(dy, w)`` in float32, col2im
and every lowered candidate among direct, im2col and the planner's choice
without col2im are forced and timed in one process in blocks of back-to-back
calls in rotated order (:func:`lucid.bench.timing.block_timing`); the ratio is
the median of the per-round ratios best-lowered / col2im (above 1: col2im is faster).

Run: ``PYTHONPATH=. python benchmarks/col2im_ratio.py [--rounds R]``
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np
from lowered_choice import choice_without

from lucid import algos
from lucid.algos import planner
from lucid.bench.timing import block_timing, raise_mmap_threshold
from lucid.suite import SUITE

WORKLOADS = ("speech_frontend", "dense_k3_L4096", "pointwise")


def _row(workload, rounds: int) -> dict:
    spec = workload.spec()
    rng = np.random.default_rng(0)
    dy = rng.standard_normal(spec.output_shape).astype(np.float32)
    w = rng.standard_normal(spec.weight_shape).astype(np.float32)
    lowered = choice_without("col2im", spec, "backward_data")
    methods = {name: (lambda name=name: planner.execute("backward_data", spec, dy, w, algorithm=name))
               for name in dict.fromkeys(("col2im", lowered, "direct", "im2col"))}
    for fn in methods.values():
        fn()
    times = {name: t["per_call_s"] for name, t in block_timing(methods, rounds, spinning=(), time_limit_s=30).items()}
    best = min((name for name in times if name != "col2im"), key=lambda name: statistics.median(times[name]))
    ratio = statistics.median(b / c for c, b in zip(times["col2im"], times[best]))
    row = {"workload": workload.name, "auto": algos.choose(spec, "backward_data"), "best_lowered": best,
           **{f"{name}_ms": round(statistics.median(t) * 1e3, 2) for name, t in times.items()},
           "ratio": round(ratio, 2)}
    print(row, flush=True)
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    raise_mmap_threshold()
    return [_row(w, args.rounds) for w in SUITE if w.name in WORKLOADS]


if __name__ == "__main__":
    main()
