"""Every planner decision, kept and handed out as a plain, JSON-ready record.

The planner adds :class:`~lucid.algos.planner.candidates.Decision` values;
:func:`records` returns each as a ``dict`` with the fixed fields

``op``, ``key``, ``spec``, ``mode``, ``algorithm``, ``reason``, ``candidates``,
``cache_hit``, ``duration_s``, ``settings``, ``time``, ``race``, ``not_applicable``

where each candidate is ``{"name", "supported", "reason", "predicted_s",
"measured_s", "workspace_bytes", "error_bound", "deterministic"}`` (``reason``
is ``None`` for a candidate that was eligible, else why it was skipped;
``measured_s`` is ``None`` unless it was timed; ``supported`` is ``None``
for a candidate not assessed because a measured bucket decision was reused).  ``cache_hit`` is true when
the decision was reused from a measured length bucket or from wisdom instead of
being planned afresh.  ``not_applicable`` lists the candidates that do not
apply to the op once, names sharing a reason together (None when all apply);
the reason names them only.

``race`` is None unless online mode raced the shape: the decision that starts
a race has ``{"candidates", "verdict": None}``, and when the race ends a
second record of the same op and key carries
:meth:`lucid.algos.planner.race.Race.record`: ``candidates``, ``samples``
and ``medians_s`` per candidate, ``rounds``, ``calls`` spent, ``lengths``
that took part, ``extra_s`` (time beyond the best median), ``span_s``,
``verdict`` (``separated``, ``tie``, ``only survivor``, ``budget``),
``winner``, ``comparison`` and the ``dropped`` candidates with why.

Records are kept in a bounded buffer (the newest :data:`MAX_RECORDS`) and each
new one is logged on the ``lucid.algos`` logger at INFO; ``LUCID_VERBOSE=1``
attaches a stderr handler so they print as they happen, like ONEDNN_VERBOSE.
"""
from __future__ import annotations

import collections
import logging
import os
import threading

from ..._errors import check_path
from . import units
from .candidates import Decision
from .files import atomic_write_json

#: Records kept in memory; the oldest are dropped first.
MAX_RECORDS = 10_000

logger = logging.getLogger("lucid.algos")

_verbose_handler: logging.Handler | None = None


def _ensure_verbose() -> None:
    """Attach a stderr handler at INFO when ``LUCID_VERBOSE`` is set to a true value."""
    global _verbose_handler
    if _verbose_handler is None and os.environ.get("LUCID_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on"):
        _verbose_handler = logging.StreamHandler()
        _verbose_handler.setFormatter(logging.Formatter("lucid_verbose,%(message)s"))
        logger.addHandler(_verbose_handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)


class History:
    """One planner's decisions, the newest :data:`MAX_RECORDS` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: collections.deque[Decision] = collections.deque(maxlen=MAX_RECORDS)

    def add(self, decision: Decision) -> None:
        """Store ``decision`` and log it (one line: op, key, mode, chosen algorithm, reason, duration)."""
        with self._lock:
            self._records.append(decision)
        _ensure_verbose()
        if logger.isEnabledFor(logging.INFO):
            op = decision.op if decision.called_as is None else f"{decision.op} as {decision.called_as}"
            logger.info("%s,%s,%s,%s,%s,%.1fus", op, decision.key, decision.mode, decision.algorithm,
                        decision.reason, decision.duration_s * 1e6)

    def records(self) -> list[dict]:
        """All stored decisions, oldest first, as JSON-ready dicts (copies)."""
        with self._lock:
            decisions = list(self._records)
        return [decision.as_record() for decision in decisions]

    def clear(self) -> None:
        """Forget all stored decisions."""
        with self._lock:
            self._records.clear()


#: The default planner's records (what :func:`records` returns).
DEFAULT = History()


def add(decision: Decision) -> None:
    """:meth:`History.add` on the default planner."""
    DEFAULT.add(decision)


def records() -> list[dict]:
    """All stored decisions of the default planner, oldest first, as JSON-ready dicts (copies).

    Examples
    --------
    >>> isinstance(records(), list)
    True
    """
    return DEFAULT.records()


def clear_records() -> None:
    """Forget all stored decisions (plans stay cached)."""
    DEFAULT.clear()


def export_records(path: str | os.PathLike) -> None:
    """Write :func:`records` to ``path`` as a JSON list (atomically replaced)."""
    atomic_write_json(check_path("export_records", "path", path), records())


def _bound(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def report(decisions: list[dict] | None = None) -> str:
    """A printable table of decisions (default: all stored), one block per decision.

    Each decision shows op, shape key, mode, the chosen algorithm and the
    reason, then one line per candidate with predicted / measured time,
    workspace, error bound and why it was skipped, if it was.
    """
    rows = records() if decisions is None else decisions
    lines = [f"{len(rows)} planner decision(s)"]
    header = f"  {'candidate':<10} {'predicted':>10} {'measured':>10} {'workspace':>11} {'err bound':>9}  note"
    for record in rows:
        hit = " (reused)" if record.get("cache_hit") else ""
        op = record["op"] if not record.get("called_as") else f"{record['op']} as {record['called_as']}"
        lines.append(f"{op:<15} {record['key']}  mode={record['mode']}  -> {record['algorithm']}{hit}"
                     f"  [{units.seconds(record.get('duration_s'))}]")
        lines.append(f"  reason: {record['reason']}")
        lines.append(header)
        for cand in record.get("candidates", []):
            if cand.get("supported") is False:
                continue                # listed once, below
            mark = "*" if cand["name"] == record["algorithm"] else " "
            lines.append(f" {mark}{cand['name']:<10} {units.seconds(cand.get('predicted_s')):>10} "
                         f"{units.seconds(cand.get('measured_s')):>10} {units.size(cand.get('workspace_bytes')):>11} "
                         f"{_bound(cand.get('error_bound')):>9}  {cand.get('reason') or cand.get('note') or ''}")
        if record.get("not_applicable"):
            lines.append(f"  not applicable: {record['not_applicable']}")
        race = record.get("race")
        if race and race.get("verdict"):
            samples = ", ".join(f"{n} {race['samples'].get(n, 0)}" for n in race["candidates"])
            lines.append(f"  race: {race['verdict']} after {race['calls']} calls over {race['lengths']} length(s); "
                         f"samples {samples}; extra {units.seconds(race.get('extra_s'))} of "
                         f"{units.seconds(race.get('span_s'))}")
    return "\n".join(lines)


#: The ops of a convolution in the column order of :func:`summary`.
_OPS = ("forward", "backward_data", "backward_filter")


def summary(decisions: list[dict] | None = None) -> str:
    """The planner's picks, one line per convolution shape: the algorithm of its forward,
    backward-data and backward-filter pass (``-`` for a pass that was not run).

    Layers of one shape share their plans, hence their line.  An op decided more
    than once for a shape (another mode, a forced algorithm) lists each
    algorithm once, in order.  :func:`report` has the reasons and every
    candidate's figures.

    Examples
    --------
    >>> print(summary([{"op": "forward", "key": "N1 C1->1 L8 K3", "algorithm": "direct"}]))
    planner's picks, one line per convolution shape (forward / backward_data / backward_filter):
      N1 C1->1 L8 K3  direct / - / -
    """
    rows = records() if decisions is None else decisions
    picks: dict[str, dict[str, list[str]]] = {}
    for record in rows:
        chosen = picks.setdefault(record["key"], {op: [] for op in _OPS}).setdefault(record["op"], [])
        if record["algorithm"] not in chosen:
            chosen.append(record["algorithm"])
    lines = [f"planner's picks, one line per convolution shape ({' / '.join(_OPS)}):"]
    width = max((len(key) for key in picks), default=0)
    for key, by_op in picks.items():
        lines.append(f"  {key:<{width}}  " + " / ".join(",".join(by_op[op]) or "-" for op in _OPS))
    if not picks:
        lines.append("  (no convolution planned yet)")
    return "\n".join(lines)
