"""The acceptance figures of issue #23: the planner after 40 calls of a shape it has never seen.

Usage::

    python benchmarks/online_regret.py [--problems 32] [--seed 23] [--calls 40] [--rounds 7]
                                        [--modes online,heuristic,measure] [--json PATH]

For each problem of a seeded *unseen* grid (all three ops; K 1-255; dense,
grouped and depthwise; stride 1-2; dilation up to 32; N 1-16; L 512-16000;
drawn with a seed no fitting ever used, plus the issue's named cases with
``--named``), and for each planner mode:

1. the planner is reset (no plans, no wisdom, no records) and the shape is
   called ``--calls`` times through :func:`lucid.algos.execute` in that mode,
   each call timed with ``time.perf_counter``: their sum is the *first-N
   cost*, planning and racing included;
2. then auto (the mode's pick, its race carrying on if it is not over) and
   every eligible algorithm forced are block-timed in interleaved rounds
   (:func:`lucid.bench.timing.block_timing`, blocks of >= 50 ms, median of
   ``--rounds``): the *per-call time after N calls*.

Figures per problem: ``after = auto per call / fastest forced per call``,
``first = first-N cost / (N x fastest forced per call)``, and ``heuristic`` =
the heuristic's first pick's per-call time / the fastest (first-call quality).
Summaries: geometric mean and worst per mode (acceptance: online after
<= 1.03 geomean and <= 1.15 worst; first <= 1.25 geomean).  JSON is written
only to ``--json``.  A full run (32 problems, 3 modes) takes ~20-40 min on 2
cores; ``--problems 3 --rounds 3 --modes online`` checks the script in ~1 min.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import lucid  # noqa: E402
from lucid import algos  # noqa: E402
from lucid.algos.lowering import OPS  # noqa: E402
from lucid.algos.planner import calibration, grids, wisdom  # noqa: E402
from lucid.algos.planner.files import atomic_write_json  # noqa: E402
from lucid.algos.spec import ConvSpec  # noqa: E402
from lucid.bench.timing import block_timing  # noqa: E402

#: The grid's seed: no fitting or judging grid uses it (grids.FIT_SEED = 1, TEST_SEED = 2).
SEED = 23
KERNELS = (1, 2, 3, 4, 5, 7, 9, 11, 15, 16, 25, 31, 33, 48, 63, 64, 97, 127, 128, 200, 255)
#: Bounds that keep the fastest algorithm at ~0.1-60 ms per call on 2 cores.
MIN_FLOPS, MAX_FLOPS, MAX_ELEMENTS = 2e6, 1.5e9, 1 << 22
#: The issue's named cases: op, (N, C_in, C_out, L, K, stride, padding, dilation, groups).
NAMED = {
    "tcn_layer_backward_data": ("backward_data", (8, 64, 64, 2048, 3, 1, 8, 8, 1)),
    "pointwise_1x1": ("forward", (1, 128, 128, 512, 1, 1, 0, 1, 1)),
    "grouped_k9_d4": ("forward", (16, 64, 64, 8192, 9, 1, 16, 4, 16)),
    "grouped_k9_d4_bwd": ("backward_data", (16, 64, 64, 8192, 9, 1, 16, 4, 16)),
    "grouped_k4_c256": ("forward", (4, 256, 256, 2048, 4, 1, 0, 1, 4)),
}


def draw(rng: random.Random) -> tuple[str, ConvSpec] | None:
    """One problem of the acceptance's ranges, or None when invalid or out of the work bounds."""
    k = rng.choice(KERNELS)
    length = int(round(2 ** rng.uniform(math.log2(512), math.log2(16000))))
    n = rng.choice((1, 2, 4, 8, 16))
    c = rng.choice((4, 8, 16, 32, 64, 128, 256))
    kind = rng.choice(("dense", "dense", "grouped", "depthwise"))
    if kind == "depthwise":
        groups, c_out = c, c
    elif kind == "grouped":
        groups = rng.choice([g for g in (2, 4, 8, 16) if c % g == 0 and g < c] or [1])
        c_out = c
    else:
        groups, c_out = 1, max(1, int(c * rng.choice((0.5, 1, 2))))
    dilation = rng.choice((1, 1, 2, 4, 8, 16, 32)) if k > 1 else 1
    stride = rng.choice((1, 1, 2))
    span = dilation * (k - 1) + 1
    pad = rng.choice((0, span // 2))
    return grids.bounded(rng.choice(OPS), (n, c, c_out, length, k, stride, (pad, pad), dilation, groups),
                         (MIN_FLOPS, MAX_FLOPS), MAX_ELEMENTS)


def unseen_grid(seed: int, count: int) -> list[tuple[str, ConvSpec]]:
    """``count`` distinct problems drawn reproducibly from ``seed`` (the acceptance's ranges)."""
    return grids.grid(seed, count, draw=draw)


def named_problems() -> list[tuple[str, str, ConvSpec]]:
    return [(name, op, ConvSpec(n, ci, co, length, k, s, (p, p), d, g))
            for name, (op, (n, ci, co, length, k, s, p, d, g)) in NAMED.items()]


def operands(op: str, spec: ConvSpec, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(spec.input_shape, dtype=np.float32)
    w = rng.standard_normal(spec.weight_shape, dtype=np.float32)
    dy = rng.standard_normal(spec.output_shape, dtype=np.float32)
    return {"forward": (x, w), "backward_data": (dy, w), "backward_filter": (dy, x)}[op]


def reset() -> None:
    """A fresh planner: no plans, no wisdom, no records."""
    algos.clear_plans()
    algos.clear_records()
    wisdom.forget()


def problem_row(name: str, op: str, spec: ConvSpec, modes: list[str], calls: int, rounds: int) -> dict:
    """Every mode's first-N cost and per-call time after N calls, with every forced algorithm's."""
    a, b = operands(op, spec)
    forced_names = [c.name for c in calibration.candidates(op, spec)]
    row: dict = {"name": name, "op": op, "spec": spec.describe(), "modes": {}}
    for mode in modes:
        reset()
        with algos.use(mode=mode):
            first = []
            for _ in range(calls):
                start = time.perf_counter()
                algos.execute(op, spec, a, b)
                first.append(time.perf_counter() - start)
        records = algos.records()
        race = next((r["race"] for r in reversed(records) if r["race"] and r["race"]["verdict"]), None)
        started = next((r for r in records if r["op"] == op), None)
        heuristic_pick = None
        if started is not None:
            eligible = [c for c in started["candidates"] if c["reason"] is None and c["predicted_s"] is not None]
            heuristic_pick = min(eligible, key=lambda c: c["predicted_s"])["name"] if eligible else None
        row["modes"][mode] = {"first_calls_s": sum(first), "first_call_s": first[0],
                              "pick_after": records[-1]["algorithm"] if records else None,
                              "heuristic_pick": heuristic_pick, "race": race}
        # each mode keeps its own planner state for the block timing: time it now, against the forced ones
        methods = {f"auto:{mode}": (lambda mode=mode: _in_mode(mode, op, spec, a, b))}
        for forced in forced_names:
            methods[forced] = (lambda forced=forced: algos.execute(op, spec, a, b, algorithm=forced))
        for forced in forced_names:
            methods[forced]()                      # warm: plan, weight transforms, pages
        timed = block_timing(methods, rounds, spinning=())
        per_call = {m: float(np.median(t["per_call_s"])) for m, t in timed.items() if t["per_call_s"]}
        row["modes"][mode]["per_call_s"] = per_call
        fastest = min(v for m, v in per_call.items() if not m.startswith("auto:"))
        mine = row["modes"][mode]
        mine["fastest"] = min((m for m in per_call if not m.startswith("auto:")), key=lambda m: per_call[m])
        mine["after"] = per_call[f"auto:{mode}"] / fastest
        mine["first"] = mine["first_calls_s"] / (calls * fastest)
        pick = mine["heuristic_pick"]
        mine["heuristic"] = per_call[pick] / fastest if pick in per_call else None
    return row


def _in_mode(mode: str, op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with algos.use(mode=mode):
        return algos.execute(op, spec, a, b)


def stats(values: list[float]) -> dict:
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return {"geomean": None, "worst": None, "count": 0}
    return {"geomean": float(np.exp(np.mean(np.log(values)))), "worst": float(max(values)), "count": len(values),
            "over_1.15": sum(v > 1.15 for v in values)}


def summary(rows: list[dict], modes: list[str]) -> dict:
    return {mode: {figure: stats([r["modes"][mode][figure] for r in rows if mode in r["modes"]])
                   for figure in ("after", "first", "heuristic")} for mode in modes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=32, help="problems of the unseen grid (default 32)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--calls", type=int, default=40, help="calls of each shape before timing (default 40)")
    parser.add_argument("--rounds", type=int, default=7, help="block-timing rounds (default 7)")
    parser.add_argument("--modes", default="online,heuristic,measure")
    parser.add_argument("--named", action="store_true", help="also the issue's named cases (TCN layer, ...)")
    parser.add_argument("--only-named", action="store_true", help="only the issue's named cases")
    parser.add_argument("--json", default=None, help="write the rows and summaries here (nothing is written otherwise)")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    problems = [] if args.only_named else [(f"grid{i}", op, spec)
                                             for i, (op, spec) in enumerate(unseen_grid(args.seed, args.problems))]
    if args.named or args.only_named:
        problems += named_problems()
    rows = []
    started = time.perf_counter()
    for i, (name, op, spec) in enumerate(problems):
        row = problem_row(name, op, spec, modes, args.calls, args.rounds)
        rows.append(row)
        figures = "  ".join(f"{m}: after {row['modes'][m]['after']:.2f} first {row['modes'][m]['first']:.2f}"
                            for m in modes)
        print(f"[{i + 1}/{len(problems)}] {op:<15} {spec.describe():<48} fastest "
              f"{row['modes'][modes[0]]['fastest']:<9} {figures}", flush=True)
    result = {"issue": 23, "seed": args.seed, "calls": args.calls, "rounds": args.rounds, "modes": modes,
              "threads": lucid.get_num_threads(), "load_average": os.getloadavg(),
              "fingerprint": algos.fingerprint(), "seconds": time.perf_counter() - started,
              "summary": summary(rows, modes), "rows": rows}
    print(json.dumps(result["summary"], indent=1))
    if args.json:
        atomic_write_json(args.json, result)
        print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
