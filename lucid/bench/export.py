"""Write benchmark rows to JSON or CSV, stamped with the machine fingerprint.

JSON: ``{"fingerprint": {...}, "command": "...", "created": ISO-8601 UTC,
"load_average": [1, 5, 15 min], "load_average_before": [...] or null,
"threads": {"affinity", "lucid_pool", "torch", "blas"}, "method": "...",
"rows": [row, ...], "train": [train row, ...]}`` — the load averages at the
start and the end of the run say how busy the (shared) machine was while it
was timed; ``method`` says how it was timed (block timing, warm allocator).
A row is :class:`lucid.bench.cases.Row` (forward and, with ``--backward``,
backward ops; ``per_call_ms`` one time per round, ``vs_torch`` the median of
per-round ratios); a train row is :class:`lucid.bench.train.TrainRow`
(``--train``; empty list otherwise).

CSV: one line per row with the row's fields followed by ``fp_<key>`` columns
holding the fingerprint (non-scalar values as JSON), so every line stands on
its own when files from several machines are joined; ``per_call_ms`` is a JSON
list.  Train rows are in the JSON only.
"""
from __future__ import annotations

import csv
import datetime
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .. import algos
from .cases import Row
from .train import TrainRow

METHOD = ("block timing (lucid.bench.timing.block_timing): after one checked warm-up call per method, blocks of "
          "back-to-back calls of one method lasting >= {block_ms:g} ms, {repeats} rounds, the method order rotated "
          "each round, 0.15 s pause after every torch block; a method two of whose calls (warm-up included) exceed "
          "{cap_s:g} s is timed by one sizing call (capped). Warm allocator: a 64 MiB NumPy array is allocated, "
          "touched and freed before each workload's calls, which raises glibc's dynamic mmap threshold to its "
          "32 MiB maximum for lucid and torch alike (both allocate through glibc malloc), so no method page-faults "
          "fresh mmaps of its outputs. median_ms: median per-call time over the rounds; vs_torch: median of "
          "per-round ratios to torch.")


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, ``None`` where the OS has none."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def document(rows: Sequence[Row], command: str, *, train: Sequence[TrainRow] = (), method: str = "",
             threads: dict | None = None, load_before: list[float] | None = None) -> dict:
    """The JSON document for ``rows`` (and ``train`` rows) run by ``command`` (see the module doc)."""
    return {
        "fingerprint": algos.fingerprint(),
        "command": command,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average": load_average(),
        "load_average_before": load_before,
        "threads": threads,
        "method": method,
        "rows": [row.as_dict() for row in rows],
        "train": [row.as_dict() for row in train],
    }


def write_json(path: str | Path, doc: dict) -> None:
    """Write ``doc`` (see :func:`document`) as indented JSON to ``path``."""
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def write_csv(path: str | Path, doc: dict) -> None:
    """Write the rows of ``doc`` as CSV, each followed by the ``fp_*`` fingerprint columns."""
    fingerprint = {f"fp_{key}": value if isinstance(value, (str, int, float, bool)) or value is None
                   else json.dumps(value, sort_keys=True) for key, value in doc["fingerprint"].items()}
    rows = doc["rows"]
    fields = list(rows[0]) if rows else list(Row.__dataclass_fields__)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields + list(fingerprint))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "per_call_ms": json.dumps(row["per_call_ms"]), **fingerprint})
