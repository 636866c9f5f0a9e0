"""Regret of the heuristic's choice on timed problems: per op and per algorithm family.

The regret of a problem is ``time(pick) / time(fastest)``, where the pick is
the algorithm with the least predicted time under the constants judged and
the times are the block-timed medians of every algorithm on that problem, in
one process (:func:`lucid.algos.planner.calibration.time_problem`).  The
family of a problem is its fastest algorithm's ``family`` (an algorithm class
attribute, e.g. every winograd tile size shares one) or else its name.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from .. import registry
from . import cost_model

#: A problem whose regret exceeds this counts as a miss.
MISS = 1.15

Features = Callable[[dict], dict[str, dict[str, float]]]


def family(name: str) -> str:
    """The algorithm family of the algorithm named ``name`` (its name when unregistered or unset)."""
    return (registry.get(name).family or name) if registry.registered(name) else name


def regrets(constants: dict[str, dict[str, float]], records: list[dict], features: Features) -> list[dict]:
    """One row per record timed with at least one algorithm: ``op``, ``shape``, ``best``,
    ``family`` (of the best), ``pick`` and ``regret``.

    ``features(record)`` gives the current cost features of each algorithm of
    the record; algorithms without features (no longer eligible) are left
    out, and algorithms without constants are priced with the generic ones.
    """
    rows = []
    for record in records:
        feats = features(record)
        times = {name: t for name, t in record["times"].items() if name in feats}
        if not times:
            continue
        predicted = {name: cost_model.predict_with(constants.get(name, cost_model.GENERIC), feats[name])
                     for name in times}
        pick = min(predicted, key=lambda name: predicted[name])
        best = min(times, key=lambda name: times[name])
        rows.append({"op": record["op"], "spec": record["spec"], "best": best, "family": family(best),
                     "pick": pick, "regret": times[pick] / times[best]})
    return rows


def stats(values: list[float]) -> dict:
    """``count``, ``geomean``, ``worst`` and ``over_1.15`` of regrets."""
    if not values:
        return {"count": 0, "geomean": None, "worst": None, f"over_{MISS}": 0}
    return {"count": len(values), "geomean": round(math.exp(sum(map(math.log, values)) / len(values)), 4),
            "worst": round(max(values), 4), f"over_{MISS}": sum(v > MISS for v in values)}


def summary(rows: list[dict]) -> dict:
    """``{"all": stats, "per_op": {op: stats}, "per_family": {family: stats}}`` of :func:`regrets` rows."""
    def grouped(key: str) -> dict:
        return {value: stats([r["regret"] for r in rows if r[key] == value])
                for value in sorted({r[key] for r in rows})}
    return {"all": stats([r["regret"] for r in rows]), "per_op": grouped("op"), "per_family": grouped("family")}


def not_worse(after: dict, before: dict) -> bool:
    """``after``'s overall geometric-mean regret is at most ``before``'s, and so is its worst
    (a summary without problems is never better)."""
    a, b = after["all"], before["all"]
    if not a["count"] or not b["count"]:
        return False
    return a["geomean"] <= b["geomean"] and a["worst"] <= b["worst"] * 1.0001
