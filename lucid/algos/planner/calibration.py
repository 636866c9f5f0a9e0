"""Calibrate the heuristic cost model on this machine: time a small grid, fit, store.

:func:`calibrate` times every registered algorithm on a fixed grid of forward
problems and on the backward problems they lower to (huge-kernel
backward-filter, upsampled backward-data), fits each algorithm's coefficients
with :func:`lucid.algos.planner.cost_model.fit`, installs them and keeps them in wisdom
(and writes it to ``path`` if given).  The shipped defaults in
:data:`lucid.algos.planner.cost_model.CALIBRATED` were produced by this routine.
"""
from __future__ import annotations

import dataclasses
import datetime
import itertools
import os
import platform
import random
import time

import numpy as np

from ..._errors import bad_type, bad_value
from ...suite import SUITE
from .. import registry
from ..base import DEFAULT_WORKSPACE_LIMIT, Layout
from ..lowering import derived_spec
from ..spec import ConvSpec
from . import cost_model, wisdom
from .machine import fingerprint
from .stopwatch import PLANNING_LOCK, random_operands, time_plans

#: Largest ``direct_flops`` of a grid problem: keeps each timed run under ~0.1 s.
MAX_FLOPS = 1.5e9
#: Timed runs per algorithm and problem (budget permitting); the minimum is kept, because on a
#: shared machine the fastest run is the one least disturbed by other processes.
REPEATS = 15


def grid(seed: int = 0) -> list[ConvSpec]:
    """The calibration problems: the suite's workloads, then forward specs and their
    two derived backward specs, shuffled.

    Spans K 1..1025, dense / grouped / depthwise channels, dilation 1..64,
    stride 1..4, lengths 128..16384 and batch 1..16, capped at
    :data:`MAX_FLOPS` each, in a fixed pseudo-random order so that a time
    budget cut still leaves every region represented.
    """
    forward = []
    for k, length, (c, groups), n, (stride, dilation) in itertools.product(
            (1, 2, 3, 4, 7, 15, 31, 65, 257, 1025), (128, 1024, 4096, 16384),
            ((1, 1), (16, 1), (64, 1), (256, 1), (64, 64), (256, 256), (64, 4)), (1, 4, 16),
            ((1, 1), (1, 8), (2, 1), (1, 64))):
        span = dilation * (k - 1) + 1
        if span > length + 2 * (span // 2):
            continue
        c_out = 64 if c == 1 else c
        spec = ConvSpec(n, c, c_out, length, k, stride, (span // 2, span // 2), dilation, groups)
        if spec.direct_flops <= MAX_FLOPS:
            forward.append(spec)
    rng = random.Random(seed)
    rng.shuffle(forward)
    chosen = forward[:160]
    backward = [derived_spec(op, s) for s in chosen[:60] for op in ("backward_data", "backward_filter")]
    problems = [s for s in chosen + backward if s.direct_flops <= MAX_FLOPS]
    rng.shuffle(problems)
    return [w.spec() for w in SUITE] + problems


def _time_all(spec: ConvSpec, budget_s: float) -> dict[str, float]:
    """Seconds per algorithm supporting ``spec`` within the default workspace limit."""
    plans = {}
    with PLANNING_LOCK:
        for algorithm in registry.algorithms():
            layout = algorithm.layout(spec, DEFAULT_WORKSPACE_LIMIT)
            if isinstance(layout, Layout) and layout.fits:      # else it cannot run within the limit: no sample
                plans[algorithm.name] = algorithm.build(layout)
        if not plans:
            return {}
        x, w = random_operands(spec)
        times, _ = time_plans(plans, x, w, budget_s, max_samples=REPEATS, statistic=min)
    return {name: t for name, t in times.items() if t is not None and np.isfinite(t) and t > 0}


def _features(name: str, spec: ConvSpec) -> dict[str, float]:
    """The cost features of algorithm ``name`` on ``spec`` at the default workspace limit
    (where :func:`_time_all` timed it)."""
    layout = registry.get(name).layout(spec, DEFAULT_WORKSPACE_LIMIT)
    assert isinstance(layout, Layout), layout      # it was timed, so it applies
    return dict(layout.features)


def choice_regret(constants: dict[str, dict[str, float]], timings: list[dict]) -> dict:
    """How well ``constants`` rank the algorithms on timed problems.

    ``timings`` holds ``{"spec": ConvSpec, "times": {name: seconds}}``.  For
    every problem timed with at least two algorithms: the measured time
    of the algorithm with the least prediction over the best measured time.
    Returns ``{"problems", "geomean", "worst", "over_1.15"}``.
    """
    regrets = []
    for timing in timings:
        times = timing["times"]
        if len(times) < 2:
            continue
        predicted = {name: cost_model.predict_with(constants.get(name, cost_model.GENERIC),
                                                   _features(name, timing["spec"]))
                     for name in times}
        regrets.append(times[min(predicted, key=lambda name: predicted[name])] / min(times.values()))
    if not regrets:
        return {"problems": 0, "geomean": None, "worst": None, "over_1.15": 0}
    return {"problems": len(regrets), "geomean": float(np.exp(np.mean(np.log(regrets)))),
            "worst": float(max(regrets)), "over_1.15": int(sum(r > 1.15 for r in regrets))}


def calibrate(path: str | os.PathLike | None = None, budget_s: float = 120.0) -> dict:
    """Refit the heuristic cost model's constants on this machine.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Wisdom file to merge the new constants into (:func:`lucid.algos.save_wisdom`).
    budget_s : float
        Wall-clock budget; the grid (:func:`grid`) is timed in order until it
        runs out, at most 0.5 s per problem.

    Returns
    -------
    dict
        ``constants`` (per algorithm), ``provenance`` (machine, date, fit,
        sample count), ``fit`` (per algorithm: samples, median and worst
        predicted/measured ratio), ``choice`` (:func:`choice_regret` on the
        grid) and ``timings`` (per problem: the spec's fields and every
        algorithm's seconds, JSON-ready, to refit or check choices offline).

    Notes
    -----
    Cost: ``budget_s`` seconds (the grid takes about 3 minutes in full on
    2 cores).  Each algorithm's time on a problem is the minimum of up to
    :data:`REPEATS` runs interleaved with the others', and the fit
    (:func:`cost_model.fit_problems`) removes a per-problem load factor, but a
    quiet machine still gives the best constants.  The constants take effect at once (cached plans are dropped) and are
    saved with the rest of the wisdom.
    """
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)):
        raise bad_type("calibrate", "budget_s", "a positive number of seconds", budget_s)
    if not budget_s > 0:
        raise bad_value("calibrate", "budget_s", "a positive number of seconds", budget_s)
    result = fit_timings(time_grid(budget_s))
    wisdom.set_calibration(result["constants"], result["provenance"])
    if path is not None:
        wisdom.save_wisdom(path)
    return result


def time_grid(budget_s: float) -> list[dict]:
    """``[{"spec": ConvSpec, "times": {name: seconds}}]`` for :func:`grid` until ``budget_s`` runs out."""
    deadline = time.perf_counter() + budget_s
    timings = []
    for spec in grid():
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        times = _time_all(spec, min(0.5, remaining))
        if times:
            timings.append({"spec": spec, "times": times})
    return timings


def fit_timings(timings: list[dict]) -> dict:
    """Fit constants to :func:`time_grid`'s output; the dict :func:`calibrate` returns (not installed)."""
    problems = [{name: (_features(name, t["spec"]), s) for name, s in t["times"].items()}
                for t in timings]
    constants = cost_model.fit_problems(problems)
    quality = {}
    for name, coefficients in constants.items():
        rows = [timed[name] for timed in problems if name in timed]
        ratios = cost_model.relative_errors(coefficients, rows)
        quality[name] = {"samples": len(rows), "median_ratio": float(np.median(ratios)),
                         "worst_ratio": float(max(ratios.max(), 1 / ratios.min()))}
    provenance = {"machine": f"{fingerprint()['cpu']}, {fingerprint()['cores']} cores, {platform.node()}",
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
                  "fit": "cost_model.fit_problems (soft-L1 log ratio, per-problem load offsets) on calibration.grid()",
                  "samples": sum(len(t["times"]) for t in timings)}
    return {"constants": constants, "provenance": provenance, "fit": quality,
            "choice": choice_regret(constants, timings),
            "timings": [{"spec": dataclasses.asdict(t["spec"]), "times": t["times"]} for t in timings]}
