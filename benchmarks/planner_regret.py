"""How much the planner's choice costs versus the best forced algorithm (issue 14).

Usage::

    python benchmarks/planner_regret.py [--out results/planner-regret.json] [--grids] [--rounds 9]

Regret is ``time(pick) / time(fastest forced algorithm)``, all block-timed
medians in this process (:func:`lucid.bench.timing.block_timing`: blocks of
back-to-back calls of at least 50 ms, interleaved rounds in rotated order).

* The suite: every :data:`lucid.suite.SUITE` workload and op (forward,
  backward_data, backward_filter), every supporting algorithm forced, and
  the heuristic's and measure mode's picks (a fresh plan cache and no
  wisdom, so measure mode really measures).
* ``--grids``: the fitting and the held-out grid
  (:mod:`lucid.algos.planner.grids`), every eligible algorithm block-timed
  per problem (:func:`lucid.algos.planner.calibration.time_problem`), the
  heuristic judged with the constants in use.

Reports geometric mean, worst and how many exceed 1.15, per op and per
algorithm family (of the fastest algorithm), and writes them with the
per-problem rows to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from lucid import algos  # noqa: E402
from lucid.algos.lowering import OPS, derived_spec  # noqa: E402
from lucid.algos.planner import calibration, cost_model, grids, regret, wisdom  # noqa: E402
from lucid.algos.planner.files import atomic_write_json  # noqa: E402
from lucid.bench.timing import block_timing  # noqa: E402
from lucid.suite import SUITE  # noqa: E402

MODES = ("heuristic", "measure")


def _operands(op: str, spec, rng: np.random.Generator):
    x = rng.standard_normal(spec.input_shape, dtype=np.float32)
    w = rng.standard_normal(spec.weight_shape, dtype=np.float32)
    dy = rng.standard_normal(spec.output_shape, dtype=np.float32)
    return {"forward": (x, w), "backward_data": (dy, w), "backward_filter": (dy, x)}[op]


def suite_problem(name: str, op: str, spec, rounds: int) -> dict:
    """Block-timed forced algorithms on one suite problem, and each mode's pick."""
    a, b = _operands(op, spec, np.random.default_rng(0))
    names = [c.name for c in calibration.candidates(op, spec)]
    methods = {n: (lambda n=n: algos.execute(op, spec, a, b, algorithm=n)) for n in names}
    for method in methods.values():
        method()                                   # warm: plan, weight transforms, pages
    timed = block_timing(methods, rounds, spinning=())
    times = {n: float(np.median(t["per_call_s"])) for n, t in timed.items()}
    best = min(times, key=times.__getitem__)
    row = {"workload": name, "op": op, "spec": spec.describe(), "times_s": times, "best": best,
           "family": regret.family(best)}
    for mode in MODES:
        algos.clear_plans()
        wisdom.forget()
        with algos.use(mode=mode):
            pick = algos.choose(spec, op)
        row[f"pick_{mode}"], row[f"regret_{mode}"] = pick, times[pick] / times[best]
    record = next((r for r in reversed(algos.records()) if r["mode"] == "measure"), None)
    row["measure_reason"] = record["reason"] if record else None
    return row


def suite(rounds: int, only: list[str] | None = None) -> dict:
    rows = []
    for workload in SUITE:
        if only and workload.name not in only:
            continue
        for op in OPS:
            spec = workload.spec()
            if derived_spec(op, spec).direct_flops > 3e10 and op != "forward":
                continue
            row = suite_problem(workload.name, op, spec, rounds)
            rows.append(row)
            print(f"suite {workload.name:18s} {op:15s} best {row['best']:8s} heuristic {row['pick_heuristic']:8s} "
                  f"{row['regret_heuristic']:.2f}  measure {row['pick_measure']:8s} {row['regret_measure']:.2f}",
                  flush=True)
    summaries = {mode: regret.summary([{**r, "regret": r[f"regret_{mode}"]} for r in rows]) for mode in MODES}
    return {"rows": rows, "summary": summaries}


def fresh_grids() -> dict:
    """Every grid problem timed now, judged with the constants in use."""
    out = {}
    for label, problems in (("fit", grids.fit_grid()), ("test", grids.held_out())):
        started = time.perf_counter()
        records = calibration.time_grid(problems)
        rows = regret.regrets(cost_model.constants(), records, calibration.features)
        out[label] = {"summary": regret.summary(rows), "rows": rows, "elapsed_s": time.perf_counter() - started}
        print(label, json.dumps(out[label]["summary"]["all"]), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join("results", "planner-regret.json"))
    parser.add_argument("--rounds", type=int, default=9, help="block-timed rounds per suite problem")
    parser.add_argument("--grids", action="store_true", help="also time both grids")
    parser.add_argument("--no-suite", action="store_true", help="skip the suite")
    parser.add_argument("--workloads", help="comma-separated suite workload names (default all)")
    args = parser.parse_args(argv)
    result: dict = {"fingerprint": algos.fingerprint(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    started = time.perf_counter()
    if not args.no_suite:
        result["suite"] = suite(args.rounds, args.workloads.split(",") if args.workloads else None)
        print(json.dumps(result["suite"]["summary"], indent=1))
    if args.grids:
        result["grids"] = fresh_grids()
    result["elapsed_s"] = time.perf_counter() - started
    atomic_write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
