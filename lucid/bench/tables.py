"""Plain-text tables of benchmark rows, one per case and op.

Columns: method, median and min per-call ms over the rounds, timed rounds,
calls per block, GFLOP/s (definition FLOPs), × vs the fastest method (ratio of
medians), × vs torch (median of per-round ratios), normwise error vs float64,
workspace, and ``*`` on the planner's pick.  ``auto`` shows the algorithm it ran (``auto→fft``); skipped
methods show their reason instead of numbers.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby

from ..algos.planner import units
from .cases import Row
from .timing import round_ratios

HEADER = ("method", "median ms", "min ms", "n", "calls", "GFLOP/s", "x fastest", "x torch", "error", "workspace",
          "pick")


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _cells(row: Row) -> tuple[str, ...]:
    name = f"auto→{row.ran}" if row.kind == "auto" else row.method
    if row.status != "ok":
        return (name, f"skipped: {row.reason}")
    return (name, _ms(row.median_ms), _ms(row.min_ms), str(row.repeats), str(row.calls_per_block),
            f"{row.gflops:.2f}", f"{row.vs_fastest:.2f}", "-" if row.vs_torch is None else f"{row.vs_torch:.2f}",
            f"{row.error:.1e}", units.size(row.workspace_bytes),
            "*" if row.planner_pick else "")


def format_table(rows: Sequence[Row], title: str = "") -> str:
    """One aligned table for the rows of a single case and op.

    Skipped rows span the numeric columns with ``skipped: <reason>``.
    """
    body = [_cells(row) for row in rows]
    full = [HEADER] + [cells for cells in body if len(cells) == len(HEADER)]
    widths = [max(len(cells[i]) for cells in full) for i in range(len(HEADER))]
    widths[0] = max(widths[0], *(len(cells[0]) for cells in body))

    def line(cells: tuple[str, ...]) -> str:
        if len(cells) != len(HEADER):
            return f"{cells[0]:<{widths[0]}}  {cells[1]}"
        first = f"{cells[0]:<{widths[0]}}"
        return "  ".join([first] + [f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:])]).rstrip()

    lines = ([title] if title else []) + [line(HEADER), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + [line(cells) for cells in body])


def format_report(rows: Iterable[Row], targets: dict[str, str] | None = None) -> str:
    """Tables for all rows, grouped by (case, op) in their order, separated by blank lines.

    ``targets`` maps a case name to its goal, shown in the title line.
    """
    targets = targets or {}
    tables = []
    for (case, op), group in groupby(rows, key=lambda r: (r.case, r.op)):
        items = list(group)
        goal = f"  (target: {targets[case]})" if targets.get(case) else ""
        tables.append(format_table(items, f"== {case} {op}: {items[0].shape}{goal}"))
    return "\n\n".join(tables)


def format_summary(rows: Iterable[Row]) -> str:
    """One line per (case, op): the planner's pick, the fastest forced algorithm (if any), auto against each peer.

    ``auto/best`` is auto's median over the fastest forced algorithm's (1.00
    when the planner picked the winner); ``auto/peer`` is the median of
    per-round ratios (< 1 means lucid is faster).
    """
    lines = []
    for (case, op), group in groupby(rows, key=lambda r: (r.case, r.op)):
        ok = [r for r in group if r.status == "ok" and r.median_ms is not None]
        auto = next((r for r in ok if r.kind == "auto"), None)
        forced = [r for r in ok if r.kind == "algorithm"]
        if auto is None:
            continue
        best = min(forced, key=_median, default=None)
        versus = "" if best is None else f"best {best.method:<9} auto/best {_median(auto) / _median(best):5.2f}  "
        peers = "  ".join(f"auto/{r.method} {round_ratios(auto.per_call_ms, r.per_call_ms):6.2f}"
                          for r in ok if r.kind == "peer")
        lines.append(f"{case:<18} {op:<15} auto→{auto.ran:<9} {versus}{peers}".rstrip())
    return "\n".join(["== summary (auto/best: ratio of medians; auto/peer: median of per-round ratios)"] + lines)


def _median(row: Row) -> float:
    """The median of a timed row (``format_summary`` keeps only those)."""
    assert row.median_ms is not None
    return row.median_ms
