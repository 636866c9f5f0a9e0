"""Backward-filter time / forward time of the same layer on the suite (issue 16, item 2).

For every suite workload with ``K <= 5`` (and ``speech_frontend``, K=10, which
must not get worse) the planner's own choice (``auto``) runs forward on
``(x, w)`` and backward_filter on ``(dy, x)``, and so does the choice the
planner makes without the native algorithm ``wgrad`` (the lowering only, as
before issue 16; that algorithm forced).  All are timed in one process in
blocks of back-to-back calls in rotated order
(:func:`lucid.bench.timing.block_timing`); each figure is the median of the
per-round ratios to forward.

Run: ``PYTHONPATH=. python benchmarks/wgrad_ratio.py [--rounds R] [--json results/backward-filter.json]``
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
from lowered_choice import choice_without

from lucid import algos
from lucid.algos import planner
from lucid.bench.timing import block_timing, raise_mmap_threshold
from lucid.suite import SUITE

#: Workloads measured: every K <= 5 row (the acceptance) and speech_frontend (must not regress).
EXTRA = ("speech_frontend",)


def _row(workload, rounds: int, force: str | None = None) -> dict:
    spec = workload.spec()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(spec.input_shape).astype(np.float32)
    w = rng.standard_normal(spec.weight_shape).astype(np.float32)
    dy = rng.standard_normal(spec.output_shape).astype(np.float32)
    lowered = choice_without("wgrad", spec, "backward_filter")
    methods = {"forward": lambda: planner.execute("forward", spec, x, w),
               "backward_filter": lambda: planner.execute("backward_filter", spec, dy, x, algorithm=force),
               "lowered": lambda: planner.execute("backward_filter", spec, dy, x, algorithm=lowered)}
    for fn in methods.values():
        fn()
    times = {name: t["per_call_s"] for name, t in block_timing(methods, rounds, spinning=()).items()}
    fwd = times["forward"]
    ratio = {name: statistics.median(b / f for f, b in zip(fwd, t)) for name, t in times.items()}
    row = {"workload": workload.name, "kernel_size": workload.kernel_size, "forward_algorithm": algos.choose(spec),
           "backward_filter_algorithm": algos.choose(spec, "backward_filter", algorithm=force),
           "lowered_algorithm": lowered,
           **{f"{name}_ms": round(statistics.median(t) * 1e3, 3) for name, t in times.items()},
           "ratio": round(ratio["backward_filter"], 3), "ratio_lowered": round(ratio["lowered"], 3),
           "rounds": len(fwd)}
    print(f"{row['workload']:18s} fwd {row['forward_algorithm']:8s} {row['forward_ms']:7.2f} ms | "
          f"bwf {row['backward_filter_algorithm']:8s} {row['backward_filter_ms']:7.2f} ms "
          f"ratio {ratio['backward_filter']:5.2f}"
          f" | lowered {lowered:8s} {row['lowered_ms']:7.2f} ms ratio {ratio['lowered']:5.2f}", flush=True)
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", default=None, help="write the rows here")
    parser.add_argument("--force", default=None, help="force this algorithm for backward_filter (e.g. wgrad)")
    args = parser.parse_args(argv)
    raise_mmap_threshold()
    rows = [_row(w, args.rounds, args.force) for w in SUITE if w.kernel_size <= 5 or w.name in EXTRA]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"fingerprint": algos.fingerprint(), "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                       "load_average": os.getloadavg()[2], "forced": args.force, "rows": rows}, handle, indent=1)
    return rows


if __name__ == "__main__":
    main()
