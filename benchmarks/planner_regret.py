"""How much the planner's choice costs versus the best forced algorithm (issue 4).

Usage::

    python benchmarks/planner_regret.py [--shapes 120] [--out results/planner-regret.json] [--no-suite]

Builds a grid of convolution problems (K 1..2049, dilation 1..64, dense /
grouped / depthwise, lengths 64..65536, batch 1..64, forward and both backward
ops, each capped at a moderate amount of work), times every algorithm that
supports each one (forced) and ``auto`` in heuristic mode, interleaved round by
round (rotated order, back to back as a network's layers run: on the shared
2-core VM an idle pause before each call made calls 30-100 % slower and far
noisier, 2026-11-26) with medians, and reports the regret ``time(auto's
choice) / time(best forced)``: geometric mean and worst case.  With the suite (default) it also
times every :data:`lucid.suite.SUITE` workload forced, heuristic and measured.
Writes a JSON file with the per-shape times and the summary.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from lucid import algos  # noqa: E402
from lucid.algos import registry  # noqa: E402
from lucid.algos.lowering import derived_spec  # noqa: E402
from lucid.algos.spec import ConvSpec  # noqa: E402
from lucid.bench.timing import interleaved  # noqa: E402
from lucid.suite import SUITE  # noqa: E402

#: Work per problem (direct FLOPs of the derived problem): enough to time, small enough to finish.
FLOPS_RANGE = (2e5, 4e8)


def grid(count: int, seed: int = 0) -> list[tuple[str, ConvSpec]]:
    """``count`` (op, spec) problems spanning the issue's ranges, reproducibly."""
    rng = random.Random(seed)
    kernels = (1, 2, 3, 4, 5, 7, 9, 15, 31, 65, 129, 257, 513, 1025, 2049)
    problems: list[tuple[str, ConvSpec]] = [          # the ends of the ranges, explicitly
        ("forward", ConvSpec(64, 16, 16, 64, 3, 1, (1, 1))),
        ("forward", ConvSpec(1, 1, 1, 65536, 2049, 1, (1024, 1024))),
        ("forward", ConvSpec(1, 4, 4, 65536, 3, 1, (64, 64), 64, 4)),
    ]
    attempts = 0
    while len(problems) < count and attempts < 100 * count:
        attempts += 1
        k = kernels[len(problems) % len(kernels)] if rng.random() < 0.6 else rng.choice(kernels)
        length = int(2 ** rng.uniform(6, 16))
        n = rng.choice((1, 2, 4, 8, 16, 32, 64))
        c = rng.choice((1, 4, 16, 32, 64, 128, 256))
        layout = rng.choice(("dense", "dense", "depthwise", "grouped"))
        groups = c if layout == "depthwise" else (4 if layout == "grouped" and c % 4 == 0 else 1)
        c_out = c if groups > 1 else rng.choice((c, 2 * c, max(1, c // 2)))
        dilation = rng.choice((1, 1, 1, 2, 8, 64)) if k > 1 else 1
        stride = rng.choice((1, 1, 1, 1, 2, 4))
        span = dilation * (k - 1) + 1
        if span > length:
            continue
        op = rng.choice(("forward",) * 6 + ("backward_data", "backward_filter"))
        spec = ConvSpec(n, c, c_out, length, k, stride, (span // 2, span // 2), dilation, groups)
        work = derived_spec(op, spec).direct_flops
        if FLOPS_RANGE[0] <= work <= FLOPS_RANGE[1]:
            problems.append((op, spec))
    return problems


def _operands(op: str, spec: ConvSpec, rng: np.random.Generator):
    x = rng.standard_normal(spec.input_shape, dtype=np.float32)
    w = rng.standard_normal(spec.weight_shape, dtype=np.float32)
    dy = rng.standard_normal(spec.output_shape, dtype=np.float32)
    return {"forward": (x, w), "backward_data": (dy, w), "backward_filter": (dy, x)}[op]


def _supported(op: str, spec: ConvSpec) -> list[str]:
    derived = derived_spec(op, spec)
    layouts = {a.name: a.layout(derived) for a in registry.algorithms()}
    return [name for name, layout in layouts.items() if not isinstance(layout, str) and layout.fits]


def _methods(op, spec, a, b, names, modes):
    methods = {name: (lambda n=name: algos.execute(op, spec, a, b, algorithm=n)) for name in names}
    for mode in modes:
        def auto(mode=mode):
            with algos.use(mode=mode):
                return algos.execute(op, spec, a, b, algorithm="auto")
        methods[f"auto-{mode}"] = auto
    return methods


def measure_problem(op: str, spec: ConvSpec, modes, rounds: int, idle_s: float) -> dict:
    """Times, choices and regrets of one problem."""
    a, b = _operands(op, spec, np.random.default_rng(0))
    names = _supported(op, spec)
    timings = interleaved(_methods(op, spec, a, b, names, modes), rounds, idle_s=idle_s)
    times = {name: timing.median_s for name, timing in timings.items()}
    best = min(names, key=times.get)
    row = {"op": op, "shape": spec.describe(), "flops": derived_spec(op, spec).direct_flops,
           "times_s": times, "best": best}
    for mode in modes:
        with algos.use(mode=mode):
            chosen = algos.choose(spec, op)
        row[f"choice_{mode}"] = chosen
        row[f"regret_{mode}"] = times[chosen] / times[best]
        row[f"regret_{mode}_timed"] = times[f"auto-{mode}"] / times[best]
    return row


def summary(rows: list[dict], mode: str) -> dict:
    """Geometric mean and worst regret of ``mode`` (by the chosen algorithm's forced time)."""
    regrets = [r[f"regret_{mode}"] for r in rows]
    worst = max(rows, key=lambda r: r[f"regret_{mode}"])
    return {"count": len(regrets), "geomean": math.exp(statistics.fmean(math.log(x) for x in regrets)),
            "worst": worst[f"regret_{mode}"], "worst_shape": f"{worst['op']} {worst['shape']}",
            "within_1.15": sum(x <= 1.15 for x in regrets), "within_1.05": sum(x <= 1.05 for x in regrets)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", type=int, default=120)
    parser.add_argument("--out", default=os.path.join("results", "planner-regret.json"))
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timed rounds per grid problem")
    parser.add_argument("--suite-rounds", type=int, default=21, help="interleaved timed rounds per suite workload")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="seconds idle before each timed call (default none: back to back, as layers run)")
    parser.add_argument("--no-suite", action="store_true", help="skip the suite workloads")
    args = parser.parse_args(argv)
    result = {"fingerprint": algos.fingerprint(), "algorithms": list(registry.names()),
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "grid": [], "suite": []}
    started = time.perf_counter()
    for i, (op, spec) in enumerate(grid(args.shapes)):
        row = measure_problem(op, spec, ("heuristic",), args.rounds, args.idle)
        result["grid"].append(row)
        print(f"[{i + 1:3d}] {op:15s} {spec.describe():52s} best {row['best']:8s} "
              f"auto {row['choice_heuristic']:8s} regret {row['regret_heuristic']:.2f}", flush=True)
    result["summary"] = {"heuristic": summary(result["grid"], "heuristic")}
    if not args.no_suite:
        for workload in SUITE:
            row = measure_problem("forward", workload.spec(), ("heuristic", "measure"), args.suite_rounds, args.idle)
            row["workload"] = workload.name
            result["suite"].append(row)
            print(f"suite {workload.name:18s} best {row['best']:8s} heuristic {row['choice_heuristic']:8s} "
                  f"{row['regret_heuristic']:.2f}  measure {row['choice_measure']:8s} {row['regret_measure']:.2f}",
                  flush=True)
        result["summary"]["suite_heuristic"] = summary(result["suite"], "heuristic")
        result["summary"]["suite_measure"] = summary(result["suite"], "measure")
    result["elapsed_s"] = time.perf_counter() - started
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    print(json.dumps(result["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
