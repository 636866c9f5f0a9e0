"""Measure mode's stopwatch: race candidate plans on one shape within a time budget.

Like FFTW_MEASURE with ``fftw_set_timelimit``, with the order of work chosen
so that the budget goes where the decision is made:

1. the *leaders* (the candidates the caller thinks plausible, best guess
   first) each get a warm-up run (page faults, weight transforms) and a timed
   run;
2. they are raced: interleaved rounds (so a noisy neighbour hits every
   candidate alike) until each survivor has :data:`MIN_SAMPLES` timed runs;
3. the long shots get their warm-up and timed run with what is left;
4. the race goes on, up to :data:`MAX_SAMPLES` runs each, while time is left.

A candidate's time is the *median* of its timed runs, what a layer calling
it over and over sees (calibration, which wants the undisturbed speed, asks
for the minimum).  A candidate whose time is :data:`PRUNE` times the best so
far stops being timed (after a single run only at :data:`PRUNE_FIRST` times:
one run can hit a stall of the shared machine); a race with one survivor
stops.  When the budget runs out the best time so far wins; the first
candidate is always timed.  A candidate that raises gets an infinite time
and the error as its note.
"""
from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..base import Plan
from ..spec import ConvSpec

#: Serialises every plan creation and timing run in the process: FFTW's planner is not
#: thread-safe, and timings taken while another thread plans or times mean nothing.
PLANNING_LOCK = threading.RLock()
#: Timed runs each leader gets before the long shots are tried (budget permitting).
MIN_SAMPLES = 3
#: Most timed runs per candidate (the time limit usually ends the race first on layers over ~5 ms).
MAX_SAMPLES = 25
#: A candidate whose time is this many times the best so far stops being timed...
PRUNE = 1.5
#: ...or this many times, when it has been timed only once.
PRUNE_FIRST = 3.0


def random_operands(spec: ConvSpec, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal ``(x, w)`` of ``spec``'s shapes and dtype, for timing without real data."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(spec.input_shape, dtype=spec.np_dtype),
            rng.standard_normal(spec.weight_shape, dtype=spec.np_dtype))


class _Race:
    """Timed runs of named plans on shared operands, against one deadline."""

    def __init__(self, plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float,
                 statistic: Callable[[Sequence[float]], float]) -> None:
        self.plans, self.x, self.w, self.statistic = plans, x, w, statistic
        self.deadline = time.perf_counter() + budget_s
        self.samples: dict[str, list[float]] = {name: [] for name in plans}
        self.notes: dict[str, str] = {}
        self.failed: set[str] = set()
        self.alive: list[str] = []

    def best(self) -> float:
        return min((self.time(name) for name, s in self.samples.items() if s), default=math.inf)

    def time(self, name: str) -> float:
        return self.statistic(self.samples[name])

    def out_of_time(self) -> bool:
        """The deadline has passed and something has been timed (so there is a winner)."""
        return time.perf_counter() > self.deadline and self.best() < math.inf

    def _run(self, name: str) -> float | None:
        """Seconds of one run of ``name``; None (and the candidate out) if it raised."""
        start = time.perf_counter()
        try:
            self.plans[name].run(self.x, self.w)
        except Exception as exc:    # a failing candidate loses, it does not abort planning
            self.notes[name] = f"failed: {type(exc).__name__}: {exc}"
            self.failed.add(name)
            if name in self.alive:
                self.alive.remove(name)
            return None
        return time.perf_counter() - start

    def _prune(self) -> None:
        best = self.best()
        for name in list(self.alive):
            mine = self.time(name)
            if mine > (PRUNE if len(self.samples[name]) > 1 else PRUNE_FIRST) * best:
                self.notes[name] = f"pruned: {mine / best:.1f}x slower than the best"
                self.alive.remove(name)

    def enter(self, names: list[str]) -> None:
        """Warm up and time each of ``names`` once, in order, while time is left."""
        for name in names:
            if self.out_of_time():
                self.notes[name] = "time limit reached"
                continue
            if self._run(name) is None:
                continue
            elapsed = self._run(name)
            if elapsed is not None:
                self.samples[name].append(elapsed)
                self.alive.append(name)
                self._prune()

    def rounds(self, samples: int) -> None:
        """Interleaved rounds of the survivors, fastest first, until each has ``samples``
        runs, one survivor is left, or time is up."""
        while len(self.alive) > 1 and min(len(self.samples[n]) for n in self.alive) < samples:
            for name in sorted(self.alive, key=self.time):
                if self.out_of_time():
                    return
                if name in self.alive and len(self.samples[name]) < samples:
                    elapsed = self._run(name)
                    if elapsed is not None:
                        self.samples[name].append(elapsed)
            self._prune()

    def times(self) -> dict[str, float | None]:
        """Each candidate's time: ``inf`` if it failed, None if never timed."""
        return {name: math.inf if name in self.failed else self.time(name) if s else None
                for name, s in self.samples.items()}


def time_plans(plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float, *,
               leaders: int | None = None, max_samples: int = MAX_SAMPLES,
               statistic: Callable[[Sequence[float]], float] = statistics.median
               ) -> tuple[dict[str, float | None], dict[str, str]]:
    """Race the plans in ``plans`` (ordered best guess first) on ``(x, w)``.

    Parameters
    ----------
    plans : dict of name -> Plan
        Prepared plans of one spec; iteration order is the timing priority.
    x, w : ndarray
        Operands of the spec; never modified.
    budget_s : float
        Wall-clock seconds for the whole search; the first candidate always
        gets its warm-up and one timed run, and a run in progress is never
        interrupted, so the search can overrun by one run.
    leaders : int, optional
        How many of the first plans are raced to :data:`MIN_SAMPLES` runs
        before the rest are tried (all of them by default).
    max_samples : int
        Most timed runs per candidate.
    statistic : callable
        How a candidate's timed runs are reduced (median by default;
        calibration takes the minimum).

    Returns
    -------
    (times, notes)
        ``times[name]`` is the statistic of its timed runs in seconds, ``inf`` if it
        raised, ``None`` if the budget ran out before it ran; ``notes[name]``
        explains failures, pruning and budget exhaustion.

    Notes
    -----
    Cost: at most ``budget_s`` plus one run, and at most
    ``(max_samples + 1) * sum(run times)``.
    """
    names = list(plans)
    head = len(names) if leaders is None else max(1, leaders)
    race = _Race(plans, x, w, budget_s, statistic)
    race.enter(names[:head])
    race.rounds(min(MIN_SAMPLES, max_samples))
    race.enter(names[head:])
    race.rounds(max_samples)
    return race.times(), race.notes
