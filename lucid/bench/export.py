"""Write benchmark rows to JSON or CSV, stamped with the machine fingerprint.

JSON: ``{"fingerprint": {...}, "command": "...", "created": ISO-8601 UTC,
"load_average": [1, 5, 15 min], "rows": [row, ...]}`` — the load average at
the end of the run says how busy the machine was while it was timed.

CSV: one line per row with the row's fields followed by ``fp_<key>`` columns
holding the fingerprint (non-scalar values as JSON), so every line stands on
its own when files from several machines are joined.
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


def document(rows: Sequence[Row], command: str) -> dict:
    """The JSON document for ``rows`` run by ``command``, with fingerprint, UTC time and load average."""
    return {
        "fingerprint": algos.fingerprint(),
        "command": command,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "rows": [row.as_dict() for row in rows],
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
            writer.writerow({**row, **fingerprint})
