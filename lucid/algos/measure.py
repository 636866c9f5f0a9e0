"""Measure mode's stopwatch: time candidate plans on one shape within a time budget.

Like FFTW_MEASURE with ``fftw_set_timelimit``: every candidate plan is run on
the same operands, interleaved round-robin (so a noisy neighbour or OpenBLAS's
post-call spinning penalises every candidate alike instead of one), and each
one's time is the median of its runs after a warm-up run (which pays page
faults and weight transforms).  Candidates are timed in the order given, so
the caller passes the best-predicted first and the budget goes where it
matters.  When the budget runs out the best time so far wins; a candidate
whose first run is :data:`PRUNE` times slower than the best is dropped early.
A candidate that raises is given an infinite time and the error as its note.
"""
from __future__ import annotations

import math
import statistics
import threading
import time

import numpy as np

from .base import Plan
from .spec import ConvSpec

#: Serialises every plan creation and timing run in the process: FFTW's planner is not
#: thread-safe, and timings taken while another thread plans or times mean nothing.
PLANNING_LOCK = threading.RLock()
#: Timed runs per candidate after the warm-up, when the budget allows.
REPEATS = 3
#: A candidate this many times slower than the best so far stops being timed.
PRUNE = 2.0


def random_operands(spec: ConvSpec, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal ``(x, w)`` of ``spec``'s shapes and dtype, for timing without real data."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(spec.input_shape, dtype=spec.np_dtype),
            rng.standard_normal(spec.weight_shape, dtype=spec.np_dtype))


def _run_once(plan: Plan, x: np.ndarray, w: np.ndarray) -> float:
    start = time.perf_counter()
    plan.run(x, w)
    return time.perf_counter() - start


def time_plans(plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float, repeats: int = REPEATS,
               statistic=statistics.median) -> tuple[dict[str, float | None], dict[str, str]]:
    """Time each plan in ``plans`` (ordered best-guess first) on ``(x, w)``.

    Parameters
    ----------
    plans : dict of name -> Plan
        Prepared plans of one spec; iteration order is the timing priority.
    x, w : ndarray
        Operands of the spec; never modified.
    budget_s : float
        Wall-clock seconds for the whole search; at least the first candidate
        always gets one run.
    repeats, statistic
        Timed runs per candidate after the warm-up, and how they are reduced
        (median by default; calibration on a shared machine takes the minimum).

    Returns
    -------
    (times, notes)
        ``times[name]`` is the statistic of its runs in seconds, ``inf`` if it
        raised, ``None`` if the budget ran out before it ran; ``notes[name]`` explains
        failures, pruning and budget exhaustion.
    """
    deadline = time.perf_counter() + budget_s
    samples: dict[str, list[float]] = {name: [] for name in plans}
    times: dict[str, float | None] = {name: None for name in plans}
    notes: dict[str, str] = {}
    alive = list(plans)
    for round_ in range(repeats + 1):
        best = min((t for t in times.values() if t is not None), default=math.inf)
        for name in list(alive):
            if time.perf_counter() > deadline and best < math.inf:
                notes.setdefault(name, "time limit reached" if times[name] is None else "")
                alive.clear()
                break
            try:
                elapsed = _run_once(plans[name], x, w)
            except Exception as exc:    # a failing candidate loses, it does not abort planning
                times[name], notes[name] = math.inf, f"failed: {type(exc).__name__}: {exc}"
                alive.remove(name)
                continue
            if round_ == 1:
                samples[name].clear()      # drop the warm-up once a real sample exists
            samples[name].append(elapsed)
            times[name] = statistic(samples[name])
            best = min(best, times[name])
            if round_ >= 1 and times[name] > PRUNE * best:
                notes[name] = f"pruned: {times[name] / best:.1f}x slower than the best"
                alive.remove(name)
        if not alive:
            break
    return times, {name: note for name, note in notes.items() if note}
