"""Fit the planner's shipped cost-model constants, reproducibly, and judge them out of sample.

Usage::

    python benchmarks/fit_cost_model.py [--timings results/cost-model-timings.json] [--passes 2] [--no-write]
                                        [--offline] [--folds 5]

1. Times the fitting grid (``grids.fit_grid()``, seed ``grids.FIT_SEED``), the
   suite (``grids.suite()``) and
   the held-out grid (``grids.held_out()``, seed ``grids.TEST_SEED``): every
   eligible algorithm block-timed per problem in this process
   (``calibration.time_problem``).  Timings are cached in ``--timings``; a
   cached problem is timed again only when an algorithm registered now is
   eligible for it and missing from its record (a newly merged algorithm),
   or with ``--retime``.  ``--offline`` never times: it refits and judges the
   cached timings and stops if any problem would need timing.
2. Fits per-algorithm constants on the fitting grid and the suite's
   workloads (all three ops) only (``calibration.fit_records``) and writes them with their provenance to
   ``lucid/algos/planner/constants.json`` (unless ``--no-write``), with the
   ``--folds``-fold cross-validated regret on those same problems
   (``calibration.cross_validate``) in the provenance.
3. Prints and writes (``--out``) the heuristic's regret per op and per
   algorithm family on both grids, with the constants shipped before and
   after the fit.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from lucid.algos.planner import calibration, cost_model, grids, regret  # noqa: E402
from lucid.algos.planner.files import atomic_write_json as write_json  # noqa: E402
from lucid.algos.planner.machine import fingerprint  # noqa: E402


def _stale(record: dict) -> bool:
    """An eligible algorithm registered now is missing from the record."""
    known = set(record["times"])
    eligible = {c.name for c in calibration.candidates(record["op"], calibration.spec_of(record))}
    return not eligible <= known


def _timed(problems: list[grids.Problem], cached: list[dict], passes: int, label: str,
           offline: bool = False) -> list[dict]:
    """Records for ``problems``: cached ones reused unless stale, timed now in whole-grid passes
    until each has ``passes`` (merged with :func:`calibration.merge`); ``offline``, a problem
    that would be timed stops the script instead."""
    by_key = {(r["op"], calibration.spec_of(r)): r for r in cached}
    records = {key: record for key in problems if (record := by_key.get(key)) is not None and not _stale(record)}
    started = time.perf_counter()
    for done in range(passes):
        for i, (op, spec) in enumerate(problems):
            record = records.get((op, spec))
            if record is not None and record.get("passes", 1) > done:
                continue
            if offline:
                raise SystemExit(f"--offline: {label} problem {op} {spec.describe()} needs timing (not cached, "
                                 f"stale or fewer than {passes} passes)")
            fresh = calibration.time_problem(op, spec)
            records[op, spec] = fresh if record is None else calibration.merge(record, fresh)
            best = min(fresh["times"], key=fresh["times"].__getitem__) if fresh["times"] else "-"
            print(f"[{label} pass {done + 1} {i + 1:3d}/{len(problems)} {time.perf_counter() - started:6.0f}s] "
                  f"{op:15s} {spec.describe():58s} best {best}", flush=True)
    return [records[key] for key in problems if records[key]["times"]]


def judge(constants: dict, grid_records: dict[str, list[dict]]) -> dict:
    """:func:`regret.summary` of ``constants`` on each grid, plus the per-problem rows."""
    out = {}
    for name, records in grid_records.items():
        rows = regret.regrets(constants, records, calibration.features)
        out[name] = {"summary": regret.summary(rows), "rows": rows}
    return out


def _print(title: str, judged: dict) -> None:
    for grid_name, result in judged.items():
        s = result["summary"]
        print(f"{title} {grid_name}: all {s['all']}")
        for key in ("per_op", "per_family"):
            for value, st in s[key].items():
                print(f"    {value:16s} n={st['count']:3d} geomean {st['geomean']} worst {st['worst']} "
                      f"over {regret.MISS}: {st[f'over_{regret.MISS}']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timings", default=os.path.join("results", "cost-model-timings.json"))
    parser.add_argument("--out", default=os.path.join("results", "planner-regret-grids.json"))
    parser.add_argument("--count", type=int, default=grids.COUNT, help="problems per grid")
    parser.add_argument("--passes", type=int, default=2,
                        help="timing passes per problem, merged by the fastest per algorithm (default 2)")
    parser.add_argument("--no-write", action="store_true", help="do not write constants.json")
    parser.add_argument("--before", metavar="JSON", help="constants to judge as 'before' (default: the shipped)")
    parser.add_argument("--offline", action="store_true",
                        help="use the cached timings only: never time, stop if a problem needs timing")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds on the fitting problems")
    args = parser.parse_args(argv)
    cached: dict[str, list] = {"fit": [], "test": [], "suite": []}
    if os.path.exists(args.timings):
        with open(args.timings, encoding="utf-8") as handle:
            cached.update(json.load(handle)["grids"])
    problems = {"fit": grids.fit_grid(args.count), "suite": grids.suite(),
                "test": grids.held_out(args.count, args.count)}
    records = {name: _timed(grid, cached[name], args.passes, name, args.offline) for name, grid in problems.items()}
    if not args.offline:
        write_json(args.timings, {"fingerprint": fingerprint(), "date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
                                  "seeds": {"fit": grids.FIT_SEED, "test": grids.TEST_SEED}, "grids": records})
    if args.before:
        with open(args.before, encoding="utf-8") as handle:
            old = json.load(handle)["constants"]
    else:
        old = cost_model.shipped()[0]
    before = judge(old, records)
    fitting = records["fit"] + records["suite"]
    constants, quality = calibration.fit_records(fitting)
    validated = calibration.cross_validate(fitting, args.folds)
    after = judge(constants, records)
    _print("before", before)
    _print("after ", after)
    for name, q in quality.items():
        print(f"fit {name:10s} {q}")
    print(f"{args.folds}-fold cross-validation on the fitting problems: all {validated['all']}")
    for op, st in validated["per_op"].items():
        print(f"    {op:16s} {st}")
    test_after = after["test"]["summary"]["all"]
    prov = calibration.provenance(fitting, grids.FIT_SEED, quality,
                                  fitted_on="grids.fit_grid() and grids.suite() (every op)",
                                  cross_validation={"folds": args.folds, "seed": 0, "all": validated["all"],
                                                    "per_op": validated["per_op"]},
                                  held_out={"seed": grids.TEST_SEED, "problems": len(records["test"]),
                                            "regret": test_after},
                                  command="python benchmarks/fit_cost_model.py")
    if not args.no_write:
        cost_model.write_shipped(constants, prov)
        print(f"constants written to {cost_model.CONSTANTS_FILE}")
    write_json(args.out, {"provenance": prov, "before_constants": args.before or cost_model.CONSTANTS_FILE,
                          "before": before, "after": after})
    return 0


if __name__ == "__main__":
    sys.exit(main())
