"""What ``lucid-bench plans`` prints: planner decisions as tables.

Three sources: the suite planned now in this process (every workload, every
op, under the current settings and ``$LUCID_WISDOM``); a records file written
by :func:`lucid.algos.export_records` (a JSON list); or a wisdom file written by
:func:`lucid.algos.save_wisdom` / ``lucid-bench calibrate`` (its measured
decisions and calibration provenance).
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import algos
from ..algos.lowering import OPS
from ..algos.planner import units
from ..suite import SUITE


def suite_report() -> str:
    """Plan every suite workload's forward and backward ops now and return :func:`lucid.algos.report`.

    Heuristic mode (the default) runs nothing, so this takes milliseconds;
    under ``LUCID_PLANNER=measure`` it times the candidates once per problem.
    """
    algos.clear_records()
    for workload in SUITE:
        for op in OPS:
            algos.choose(workload.spec(), op=op)
    return algos.report()


def file_report(path: str | Path) -> str:
    """The decisions stored in ``path`` (records list or wisdom file) as a table.

    Raises ValueError naming the file when it is neither.
    """
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"WISDOM.json: cannot read {str(path)!r}: {exc}") from None
    if isinstance(payload, list):
        return algos.report(payload)
    if isinstance(payload, dict) and payload.get("format") == "lucid-wisdom":
        return _wisdom_table(payload)
    raise ValueError(f"WISDOM.json: {str(path)!r} is neither a lucid wisdom file nor exported records")


def _wisdom_table(payload: dict) -> str:
    decisions = payload.get("decisions") or {}
    calibration = payload.get("calibration") or {}
    fp = payload.get("fingerprint") or {}
    lines = [f"wisdom for {fp.get('cpu', '?')}, {fp.get('cores', '?')} cores: {len(decisions)} measured decision(s)"]
    if calibration:
        provenance = calibration.get("provenance", {})
        lines.append(f"calibrated {provenance.get('date', '?')} on {provenance.get('machine', '?')}: "
                     f"{', '.join(sorted(calibration.get('constants', {}))) or 'no'} constants")
    for key, entry in sorted(decisions.items()):
        measured = ", ".join(f"{name} {units.seconds(t)}"
                             for name, t in sorted(entry["measured"].items(), key=lambda kv: kv[1] or float("inf")))
        lines.append(f"  {key}  -> {entry['algorithm']}   ({measured})")
    return "\n".join(lines)
