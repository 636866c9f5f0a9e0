"""A serving loop that sees a new length on most calls (issue #23): what planning costs there.

Usage::

    python benchmarks/variable_lengths.py [--calls 200] [--repeats 3] [--modes online,heuristic]
                                          [--no-torch] [--json PATH]

200 random lengths of 8000-16000 samples (seeded) through one C64 -> 64, K3
layer (padding 1, N=1, float32) in ``lucid.algos.execute``: the *first pass*
plans every new length (and, in online mode, races each length bucket once);
the *second pass* repeats the same lengths, all planned.  Acceptance: the
first pass costs <= 1.15x the second.  PyTorch (``torch.nn.functional.conv1d``
on :func:`lucid.get_num_threads` threads) runs the same two passes when it is
installed.  Each repeat starts from a fresh planner (no plans, no wisdom, no
records); the figures are per-repeat and their medians.  JSON is written only
to ``--json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import lucid  # noqa: E402
from lucid import algos  # noqa: E402
from lucid.algos.planner import wisdom  # noqa: E402
from lucid.algos.planner.files import atomic_write_json  # noqa: E402
from lucid.algos.spec import ConvSpec  # noqa: E402

CHANNELS, KERNEL, LOW, HIGH = 64, 3, 8000, 16000


def workload(calls: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(LOW, HIGH + 1, calls)
    xs = [rng.standard_normal((1, CHANNELS, int(n)), dtype=np.float32) for n in lengths]
    return xs, rng.standard_normal((CHANNELS, CHANNELS, KERNEL), dtype=np.float32)


def lucid_pass(xs: list[np.ndarray], w: np.ndarray) -> float:
    start = time.perf_counter()
    for x in xs:
        spec = ConvSpec(1, CHANNELS, CHANNELS, x.shape[2], KERNEL, 1, (1, 1), 1, 1, "float32")
        algos.execute("forward", spec, x, w)
    return time.perf_counter() - start


def torch_passes(xs: list[np.ndarray], w: np.ndarray) -> tuple[float, float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(lucid.get_num_threads())
    tx, tw = [torch.from_numpy(x) for x in xs], torch.from_numpy(w)
    times = []
    with torch.no_grad():
        for _ in range(2):
            start = time.perf_counter()
            for x in tx:
                torch.nn.functional.conv1d(x, tw, padding=1)
            times.append(time.perf_counter() - start)
    return times[0], times[1]


def reset() -> None:
    algos.clear_plans()
    algos.clear_records()
    wisdom.forget()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default="online,heuristic")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", default=None, help="write the figures here (nothing is written otherwise)")
    args = parser.parse_args(argv)
    xs, w = workload(args.calls)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    peers: list[dict] = []
    for repeat in range(args.repeats):
        for mode in modes:
            reset()
            with algos.use(mode=mode):
                first, second = lucid_pass(xs, w), lucid_pass(xs, w)
            records = algos.records()
            races = [r["race"] for r in records if r["race"] and r["race"]["verdict"]]
            runs[mode].append({"first_s": first, "second_s": second, "ratio": first / second,
                               "decisions": len(records), "races": len(races),
                               "race_calls": sum(r["calls"] for r in races),
                               "mean_decision_s": statistics.fmean(r["duration_s"] for r in records) if records else 0,
                               "winners": sorted({r["winner"] for r in races})})
            print(f"repeat {repeat + 1} {mode:<9} first {1e3 * first:7.0f} ms  second {1e3 * second:7.0f} ms  "
                  f"ratio {first / second:.3f}  races {len(races)}", flush=True)
        if not args.no_torch:
            torch = torch_passes(xs, w)
            if torch is not None:
                peers.append({"first_s": torch[0], "second_s": torch[1]})
                print(f"repeat {repeat + 1} torch     first {1e3 * torch[0]:7.0f} ms  second {1e3 * torch[1]:7.0f} ms")
    summary = {mode: {key: statistics.median(r[key] for r in rows) for key in ("first_s", "second_s", "ratio")}
               for mode, rows in runs.items()}
    if peers:
        summary["torch"] = {key: statistics.median(p[key] for p in peers) for key in ("first_s", "second_s")}
    result = {"issue": 23, "calls": args.calls, "lengths": [LOW, HIGH], "channels": CHANNELS, "kernel": KERNEL,
              "threads": lucid.get_num_threads(), "load_average": os.getloadavg(), "summary": summary,
              "runs": runs, "torch": peers, "fingerprint": algos.fingerprint()}
    print(json.dumps(summary, indent=1))
    if args.json:
        atomic_write_json(args.json, result)
        print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
