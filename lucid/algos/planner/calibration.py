"""Calibrate the heuristic cost model on this machine: time grids, fit, judge out of sample.

:func:`time_problem` block-times every algorithm the planner would consider
for one ``(op, spec)`` problem (:mod:`lucid.algos.planner.grids`), in one
process, interleaved; :func:`fit_records` fits per-algorithm constants to
such timings (:func:`lucid.algos.planner.cost_model.fit_problems`) and
:mod:`lucid.algos.planner.regret` judges constants on them.  Features are
recomputed from the current code at fit time, so timings cached as JSON can
be refitted after a feature changes without timing again.
:func:`calibrate` does all of it within a budget (``lucid-bench calibrate``).
"""
from __future__ import annotations

import dataclasses
import datetime
import math
import os
import time
from collections.abc import Callable

import numpy as np

from ..._errors import bad_type, bad_value
from .. import registry
from ..base import Plan
from ..spec import ConvSpec
from . import config, cost_model, grids, regret, wisdom
from .candidates import Candidate
from .decision import OnOperands, assess, build_plan
from .machine import fingerprint
from .stopwatch import PLANNING_LOCK, random_operands, time_plans

#: Interleaved block-timed rounds per algorithm and problem.
ROUNDS = 9
#: Shortest block of back-to-back runs, seconds: short, so that most blocks escape the
#: preemptions of a loaded 2-core machine (docs/tuning.md: calibration timing).
MIN_BLOCK_S = 0.003
#: An algorithm this many times slower than the best after two samples is timed no more ("hopeless").
HOPELESS = 10.0
#: Most seconds spent timing one problem.
PROBLEM_BUDGET_S = 4.0


def _settings() -> config.Settings:
    """The default settings, with every algorithm admitted (no tolerance or determinism filter)."""
    return config.settings()._replace(tolerance=math.inf, deterministic=False, nonfinite_operands=False)


def candidates(op: str, spec: ConvSpec) -> list[Candidate]:
    """The eligible candidates of ``op`` on ``spec``, as the planner assesses them (layouts at the
    default workspace limit), best predicted first."""
    settings = _settings()
    cands = [assess(algorithm, op, spec, settings) for algorithm in registry.algorithms()]
    return sorted((c for c in cands if c.eligible), key=lambda c: c.predicted_s or 0.0)


def spec_of(record: dict) -> ConvSpec:
    """The :class:`ConvSpec` of a timing record (its ``spec`` field, JSON-ready)."""
    fields = dict(record["spec"])
    fields["padding"] = tuple(fields["padding"])
    return ConvSpec(**fields)


def time_problem(op: str, spec: ConvSpec, rounds: int = ROUNDS, budget_s: float = PROBLEM_BUDGET_S) -> dict:
    """Block-timed seconds per run of every eligible algorithm on one problem.

    Each algorithm gets a warm-up run and a timed run, in predicted order,
    then ``rounds`` interleaved blocks of at least :data:`MIN_BLOCK_S`
    (:func:`stopwatch.time_plans`); its time is the fastest sample (per-run
    time of the least disturbed block: on a shared machine every slower one
    holds someone else's work).  One whose first two samples are both
    :data:`HOPELESS` times the best is timed no more and listed under
    ``hopeless`` (a single sample never condemns: one preemption costs ms).

    Returns
    -------
    dict
        JSON-ready ``{"op", "spec", "times": {name: seconds}, "hopeless": [names]}``.
    """
    with PLANNING_LOCK:     # each candidate on the op's own operands, its lowering's copies included
        plans: dict[str, Plan] = {c.name: OnOperands(build_plan(c), c.lowering) for c in candidates(op, spec)
                                 if c.lowering is not None}
        x, w = random_operands(spec, op=op)
        times, notes = time_plans(plans, x, w, budget_s, max_samples=rounds, min_block_s=MIN_BLOCK_S,
                                  prune=(HOPELESS, math.inf), statistic=min)
        del plans
    finite = {n: t for n, t in times.items() if t is not None and math.isfinite(t) and t > 0}
    return {"op": op, "spec": dataclasses.asdict(spec), "times": finite,
            "hopeless": sorted(n for n in finite if notes.get(n, "").startswith("pruned"))}


def merge(first: dict, second: dict) -> dict:
    """Two timing records of one problem as one: each algorithm's faster time (the pass least
    disturbed by other processes), ``hopeless`` where that time was; ``passes`` counts both."""
    times, hopeless = dict(first["times"]), set(first["hopeless"])
    for name, seconds in second["times"].items():
        if seconds < times.get(name, math.inf):
            times[name] = seconds
            hopeless.discard(name)
            if name in second["hopeless"]:
                hopeless.add(name)
    return {**first, "times": times, "hopeless": sorted(hopeless),
            "passes": first.get("passes", 1) + second.get("passes", 1)}


def time_grid(problems: list[grids.Problem], budget_s: float = math.inf,
              progress: Callable[[int, dict], None] | None = None) -> list[dict]:
    """:func:`time_problem` of each problem in order until ``budget_s`` seconds have passed."""
    deadline = time.perf_counter() + budget_s
    records = []
    for i, (op, spec) in enumerate(problems):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        record = time_problem(op, spec, budget_s=min(PROBLEM_BUDGET_S, remaining))
        if record["times"]:
            records.append(record)
            if progress is not None:
                progress(i, record)
    return records


def features(record: dict) -> dict[str, dict[str, float]]:
    """The current cost features of each algorithm timed in ``record`` (that is still eligible)."""
    op, spec = record["op"], spec_of(record)
    return {c.name: dict(c.layout.features) for c in candidates(op, spec)
            if c.name in record["times"] and c.layout is not None}


def problems_of(records: list[dict]) -> list[dict[str, tuple[dict[str, float], float]]]:
    """``[{name: (features, seconds)}]`` of timing records, features from the current code."""
    problems = []
    for record in records:
        feats = features(record)
        problems.append({name: (feats[name], seconds) for name, seconds in record["times"].items() if name in feats})
    return problems


def fit_records(records: list[dict], start: dict[str, dict[str, float]] | None = None
                ) -> tuple[dict[str, dict[str, float]], dict[str, dict]]:
    """Per-algorithm constants fitted to timing records, and each fit's error.

    Without ``start``, every algorithm is fitted from scratch
    (:func:`cost_model.fit_problems`).  With it (a recalibration on a few
    dozen problems, too few to refit every coefficient), each algorithm it
    has constants for keeps their proportions and is only rescaled by the
    median of its measured/predicted ratios (:func:`rescale`); the others
    are fitted from scratch.

    Returns ``(constants, quality)``; ``quality[name]`` has ``samples``, the
    median and the geometric-mean spread (``exp(mean |log(predicted/measured)|)``)
    of the predicted/measured ratios on the records, and the worst ratio.
    """
    problems = problems_of(records)
    known = start or {}
    constants = cost_model.fit_problems([{n: v for n, v in timed.items() if n not in known} for timed in problems])
    constants.update(rescale(known, problems))
    return constants, fit_quality(constants, problems)


def folds(count: int, k: int, seed: int = 0) -> list[list[int]]:
    """``k`` disjoint folds covering ``range(count)``, from a shuffle seeded by ``seed``
    (fold ``f`` takes every ``k``-th shuffled index from ``f``)."""
    order = np.random.default_rng(seed).permutation(count)
    return [sorted(int(i) for i in order[f::k]) for f in range(k)]


def cross_validate(records: list[dict], k: int = 5, seed: int = 0) -> dict:
    """:func:`regret.summary` of ``k``-fold cross-validated picks on ``records``.

    Each fold is judged by constants fitted (:func:`fit_records`) on the
    other folds only, so every problem's regret is out of sample; pass the
    fitting records only (never the held-out grid), so that options chosen by
    this figure leave the held-out grid untouched.  Cost: ``k`` fits.
    """
    rows = []
    for held in folds(len(records), k, seed):
        skip = set(held)
        constants, _ = fit_records([r for i, r in enumerate(records) if i not in skip])
        rows += regret.regrets(constants, [records[i] for i in held], features)
    return regret.summary(rows)


def rescale(constants: dict[str, dict[str, float]],
            problems: list[dict[str, tuple[dict[str, float], float]]]) -> dict[str, dict[str, float]]:
    """Each algorithm of ``constants`` timed in ``problems``, every coefficient multiplied by
    ``exp(median log(measured / predicted))`` over its samples."""
    out = {}
    for name, coefficients in constants.items():
        rows = [timed[name] for timed in problems if name in timed]
        if rows:
            factor = float(np.exp(-np.median(np.log(cost_model.relative_errors(coefficients, rows)))))
            out[name] = {key: value * factor for key, value in coefficients.items()}
    return out


def fit_quality(constants: dict[str, dict[str, float]],
                problems: list[dict[str, tuple[dict[str, float], float]]]) -> dict[str, dict]:
    """Per algorithm: samples, median, spread and worst of predicted/measured on ``problems``."""
    quality = {}
    for name in sorted({n for timed in problems for n in timed}):
        rows = [timed[name] for timed in problems if name in timed]
        logs = np.log(cost_model.relative_errors(constants.get(name, cost_model.GENERIC), rows))
        quality[name] = {"samples": len(rows), "median_ratio": round(float(np.exp(np.median(logs))), 3),
                         "spread": round(float(np.exp(np.mean(np.abs(logs)))), 3),
                         "worst_ratio": round(float(np.exp(np.abs(logs).max())), 2)}
    return quality


def provenance(records: list[dict], seed: int | str, quality: dict, **extra) -> dict:
    """Where constants fitted on ``records`` came from: machine, date, grid, sample count and fit error."""
    machine = fingerprint()
    return {"machine": f"{machine['cpu']}, {machine['cores']} cores, {machine.get('blas', '?')}",
            "fingerprint": machine,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
            "fit": "cost_model.fit_problems (soft-L1 log ratio, per-problem load offsets) on calibration.time_problem "
                   "timings: fastest of 9 interleaved rounds of >= 3 ms blocks per algorithm",
            "grid_seed": seed, "problems": len(records), "samples": sum(len(r["times"]) for r in records),
            "fit_error": quality, **extra}


def calibrate(path: str | os.PathLike | None = None, budget_s: float = 50.0,
              fit_count: int = 60, test_count: int = 40) -> dict:
    """Refit the heuristic cost model's constants on this machine, judged out of sample.

    Times the first problems of the fitting grid (:func:`grids.fit_grid`)
    with 60 % of ``budget_s`` and of the held-out grid with the rest, rescales
    the constants in use per algorithm (:func:`fit_records` with ``start``)
    and compares the heuristic's regret on the held-out timings before (the
    constants in use) and after.  The new constants are installed (and kept
    in wisdom, written to ``path`` if given) only if they do not make the
    held-out regret worse (geometric mean, then worst).

    Returns
    -------
    dict
        ``constants`` (the fit), ``installed`` (bool), ``provenance``, ``fit``
        (per-algorithm error), ``before`` / ``after`` (:func:`regret.summary`
        on the held-out timings) and ``records`` (all timings, JSON-ready).

    Notes
    -----
    Cost: about ``budget_s`` seconds plus one problem; each problem's work
    is bounded (:data:`grids.MAX_FLOPS`).  A quiet machine gives the best constants.
    """
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)):
        raise bad_type("calibrate", "budget_s", "a positive number of seconds", budget_s)
    if not budget_s > 0:
        raise bad_value("calibrate", "budget_s", "a positive number of seconds", budget_s)
    fitting = time_grid(grids.fit_grid()[:fit_count], 0.6 * budget_s)
    judging = time_grid(grids.held_out()[:test_count], 0.4 * budget_s)
    before = regret.summary(regret.regrets(cost_model.constants(), judging, features))
    constants, quality = fit_records(fitting, start=cost_model.constants())
    after = regret.summary(regret.regrets({**cost_model.constants(), **constants}, judging, features))
    installed = regret.not_worse(after, before)
    prov = provenance(fitting, grids.FIT_SEED, quality, held_out={"seed": grids.TEST_SEED, "problems": len(judging),
                                                                    "before": before["all"], "after": after["all"]})
    if installed:
        wisdom.set_calibration(constants, prov)
    if path is not None:
        wisdom.save_wisdom(path)
    return {"constants": constants, "installed": installed, "provenance": prov, "fit": quality,
            "before": before, "after": after, "records": fitting + judging}
