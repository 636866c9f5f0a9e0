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

A candidate whose time is :data:`PRUNE` times the best stops being timed; a
race with one survivor stops.  A candidate's time is the *minimum* of its
timed runs: on a shared machine interference only ever adds time, so the
fastest run is the least disturbed one (FFTW's timer keeps the minimum too).
When the budget runs out the best time so far wins; the first candidate is
always timed.  A candidate that raises gets an infinite time and the error as
its note.
"""
from __future__ import annotations

import math
import threading
import time

import numpy as np

from .base import Plan
from .spec import ConvSpec

#: Serialises every plan creation and timing run in the process: FFTW's planner is not
#: thread-safe, and timings taken while another thread plans or times mean nothing.
PLANNING_LOCK = threading.RLock()
#: Timed runs each leader gets before the long shots are tried (budget permitting).
MIN_SAMPLES = 3
#: Most timed runs per candidate.
MAX_SAMPLES = 10
#: A candidate this many times slower than the best so far stops being timed.
PRUNE = 1.5


def random_operands(spec: ConvSpec, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal ``(x, w)`` of ``spec``'s shapes and dtype, for timing without real data."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(spec.input_shape, dtype=spec.np_dtype),
            rng.standard_normal(spec.weight_shape, dtype=spec.np_dtype))


class _Race:
    """Timed runs of named plans on shared operands, against one deadline."""

    def __init__(self, plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float) -> None:
        self.plans, self.x, self.w = plans, x, w
        self.deadline = time.perf_counter() + budget_s
        self.samples: dict[str, list[float]] = {name: [] for name in plans}
        self.notes: dict[str, str] = {}
        self.failed: set[str] = set()
        self.alive: list[str] = []

    def best(self) -> float:
        return min((min(s) for s in self.samples.values() if s), default=math.inf)

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
            fastest = min(self.samples[name])
            if fastest > PRUNE * best:
                self.notes[name] = f"pruned: {fastest / best:.1f}x slower than the best"
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
            for name in sorted(self.alive, key=lambda n: min(self.samples[n])):
                if self.out_of_time():
                    return
                if name in self.alive and len(self.samples[name]) < samples:
                    elapsed = self._run(name)
                    if elapsed is not None:
                        self.samples[name].append(elapsed)
            self._prune()

    def times(self) -> dict[str, float | None]:
        """Fastest run of each candidate: ``inf`` if it failed, None if never timed."""
        return {name: math.inf if name in self.failed else min(s) if s else None
                for name, s in self.samples.items()}


def time_plans(plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float, *,
               leaders: int | None = None, max_samples: int = MAX_SAMPLES
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

    Returns
    -------
    (times, notes)
        ``times[name]`` is its fastest timed run in seconds, ``inf`` if it
        raised, ``None`` if the budget ran out before it ran; ``notes[name]``
        explains failures, pruning and budget exhaustion.

    Notes
    -----
    Cost: at most ``budget_s`` plus one run, and at most
    ``(max_samples + 1) * sum(run times)``.
    """
    names = list(plans)
    head = len(names) if leaders is None else max(1, leaders)
    race = _Race(plans, x, w, budget_s)
    race.enter(names[:head])
    race.rounds(min(MIN_SAMPLES, max_samples))
    race.enter(names[head:])
    race.rounds(max_samples)
    return race.times(), race.notes
