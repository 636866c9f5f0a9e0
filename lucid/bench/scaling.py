"""``lucid-bench scaling``: forward and training-step time at several thread counts, lucid and PyTorch.

For each thread count ``t`` (default 1 and 2), ``lucid-bench --threads t
--workload ... --algorithms none --peers torch --train --json ...`` runs in a
child pinned to ``t`` cores (:mod:`lucid.bench.pinning`), timing lucid's
``auto`` and torch by block timing.  With ``passes`` > 1 the counts run again
in reverse order (1, 2, 2, 1, ...), and each figure is the median over passes.
The speed-up of ``t`` threads is ``time(first count) / time(t)`` of those
medians: unlike the per-round ratios inside one run, these compare separate
processes, so a drift of the shared machine between runs is not cancelled
(the load averages are recorded).
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import algos
from ..suite import SUITE
from . import export, pinning

#: The K=3 rows of the suite (issue #16: >= 1.8x from 1 to 2 cores).
K3_ROWS = tuple(w.name for w in SUITE if w.kernel_size == 3)
#: (table, method) of every figure compared across thread counts.
FIGURES = (("forward", "auto"), ("forward", "torch"), ("train", "auto"), ("train", "torch"))


def child_argv(threads: int, workloads: Sequence[str], repeats: int, block_s: float, path: str) -> list[str]:
    """The ``lucid-bench`` arguments of one pinned run."""
    return ["--threads", str(threads), "--workload", ",".join(workloads), "--algorithms", "none", "--peers",
            "torch", "--train", "--repeats", str(repeats), "--block", str(block_s), "--json", path]


def figures(doc: dict) -> dict[str, dict[tuple[str, str], float]]:
    """Median ms per workload of forward auto/torch and train-step auto/torch in one run's JSON document."""
    found: dict[str, dict[tuple[str, str], float]] = {}
    for row in doc["rows"]:
        if row["op"] == "forward" and row["status"] == "ok" and row["method"] in ("auto", "torch"):
            found.setdefault(row["case"], {})[("forward", row["method"])] = row["median_ms"]
    for row in doc["train"]:
        mine = found.setdefault(row["case"], {})
        mine[("train", "auto")] = row["step_ms"]
        if row["torch_ms"] is not None:
            mine[("train", "torch")] = row["torch_ms"]
    return found


def combine(runs: dict[int, list[dict]]) -> list[dict[str, Any]]:
    """One row per workload: per figure, the median ms at each thread count and the speed-ups."""
    counts = list(runs)
    per = {t: [figures(doc) for doc in docs] for t, docs in runs.items()}
    rows = []
    for case in per[counts[0]][0]:
        row: dict[str, Any] = {"case": case}
        for table, method in FIGURES:
            ms = {t: [f[case][(table, method)] for f in per[t] if (table, method) in f.get(case, {})] for t in counts}
            if not all(ms.values()):
                continue
            median = {t: statistics.median(v) for t, v in ms.items()}
            row[f"{table}_{method}"] = {"ms": {str(t): median[t] for t in counts},
                                        "speedup": {str(t): median[counts[0]] / median[t] for t in counts[1:]}}
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]], counts: Sequence[int]) -> str:
    """Speed-ups ``t_first / t`` per workload and figure, with the times at the first and last count."""
    first, last = counts[0], counts[-1]
    lines = [f"== scaling {first} -> {last} threads: time at {first} / time at {last} (medians, separate pinned "
             "processes)"]
    for row in rows:
        cells = [f"{row['case']:<16}"]
        for table, method in FIGURES:
            item = row.get(f"{table}_{method}")
            if item is not None:
                cells.append(f"{table} {method} {item['ms'][str(first)]:.2f}->{item['ms'][str(last)]:.2f} ms "
                             f"x{item['speedup'][str(last)]:.2f}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def run(counts: Sequence[int], workloads: Sequence[str], *, repeats: int, block_s: float, passes: int,
        command: str) -> dict[str, Any]:
    """Run the pinned children (see the module doc) and return the combined JSON document."""
    for t in counts:
        pinning.cores_for(t)                       # ValueError naming --threads before any run
    load_before = export.load_average()
    runs: dict[int, list[dict]] = {t: [] for t in counts}
    with tempfile.TemporaryDirectory() as tmp:
        for p in range(passes):
            for t in counts if p % 2 == 0 else list(reversed(counts)):
                path = str(Path(tmp) / f"t{t}-p{p}.json")
                status = pinning.run_pinned(t, child_argv(t, workloads, repeats, block_s, path))
                if status != 0:
                    raise RuntimeError(f"lucid-bench --threads {t} exited with status {status}")
                runs[t].append(json.loads(Path(path).read_text()))
    return {"command": command, "threads": list(counts), "passes": passes, "workloads": list(workloads),
            "fingerprint": algos.fingerprint(),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "load_average_before": load_before, "load_average_after": export.load_average(),
            "method": f"each thread count in its own process pinned to that many cores (like taskset); in it "
                      f"{runs[counts[0]][0]['method']} Speed-up = median ms at {counts[0]} thread(s) / median ms "
                      f"at t threads (medians over passes; separate processes, so machine drift is not cancelled)",
            "rows": combine(runs),
            "runs": {str(t): docs for t, docs in runs.items()}}


def build_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The arguments of ``lucid-bench scaling`` (``parser_class`` raises on errors)."""
    p = parser_class(prog="lucid-bench scaling", description="Time forward and training step of lucid auto and "
                     "torch at each thread count, each count in a process pinned to that many cores; print the "
                     "speed-ups (and write them with --json PATH).")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts, first is the base (default 1,2)")
    p.add_argument("--workload", default=",".join(K3_ROWS), help="suite workloads (default the K=3 rows: "
                   + ", ".join(K3_ROWS) + ")")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds per run (default 7)")
    p.add_argument("--block", type=float, default=0.05, help="least seconds per block (default 0.05)")
    p.add_argument("--passes", type=int, default=1, help="runs per thread count, order alternating (default 1)")
    p.add_argument("--json", metavar="PATH", help="write the JSON document there (default: write nothing)")
    return p


def parse(argv: Sequence[str], parser_class: type[argparse.ArgumentParser]) -> argparse.Namespace:
    """Parsed and validated ``scaling`` arguments; ValueError naming the option otherwise."""
    args = build_parser(parser_class).parse_args(argv)
    try:
        args.threads = [int(v) for v in args.threads.split(",")]
    except ValueError:
        raise ValueError(f"--threads expects comma-separated ints, got {args.threads!r}") from None
    if len(args.threads) < 2 or len(set(args.threads)) != len(args.threads):
        raise ValueError(f"--threads needs at least two distinct counts, got {args.threads}")
    for t in args.threads:
        pinning.cores_for(t)
    names = {w.name for w in SUITE}
    args.workload = [v for v in args.workload.split(",") if v]
    if not args.workload or set(args.workload) - names:
        raise ValueError(f"--workload must be among {sorted(names)}, got {args.workload}")
    for option in ("repeats", "passes", "block"):
        if getattr(args, option) <= 0:
            raise ValueError(f"--{option} must be positive, got {getattr(args, option)}")
    return args
