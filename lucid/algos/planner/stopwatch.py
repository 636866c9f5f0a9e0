"""Measure mode's stopwatch: race candidate plans on one shape within a time budget.

Like FFTW_MEASURE with ``fftw_set_timelimit``, with the order of work chosen
so that the budget goes where the decision is made:

1. the *leaders* (the candidates the caller thinks plausible, best guess
   first) each get a warm-up run (page faults, weight transforms) and a timed
   run;
2. they are raced: interleaved rounds (so a noisy neighbour hits every
   candidate alike) until each survivor has :data:`MIN_SAMPLES` timed runs;
3. the long shots get their warm-up and timed run with what is left;
4. the race goes on, up to ``max_samples`` rounds each, while time is left
   and, when asked to ``resolve``, only until the two fastest are told
   apart or shown to be a tie (:func:`compare`).

Rounds are *block-timed*: a candidate's sample in a round is the mean of a
block of back-to-back runs lasting at least ``min_block_s`` (sized from its
first timed run), which is how a layer is called and what keeps sub-
millisecond runs above the clock's and the scheduler's noise.  A
candidate's time is the *median* of its samples, what a layer calling
it over and over sees.  A candidate whose time is :data:`PRUNE` times the best so
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
from dataclasses import dataclass

import numpy as np

from ..base import Plan
from ..lowering import operand_shapes
from ..spec import ConvSpec

#: Serialises every plan creation and timing run in the process: FFTW's planner is not
#: thread-safe, and timings taken while another thread plans or times mean nothing.
PLANNING_LOCK = threading.RLock()
#: Timed runs each leader gets before the long shots are tried (budget permitting).
MIN_SAMPLES = 3
#: Most timed rounds per candidate (the time limit usually ends the race first on layers over ~5 ms).
MAX_SAMPLES = 40
#: Measure mode's shortest block of back-to-back runs, seconds.
MIN_BLOCK_S = 0.004
#: Fewest paired rounds before two candidates can be called apart or tied (a MAD needs a few).
MIN_ROUNDS = 5
#: Candidates whose times differ by more than this factor are told apart, given the rounds.
RESOLUTION = 1.05
#: Candidates within this factor are a tie however precise the timing (the difference does not matter).
TIE = 1.01
#: Half-width of the confidence interval of a median log ratio, in standard errors (~95 %).
Z = 2.0
#: A candidate whose time is this many times the best so far stops being timed...
PRUNE = 1.5
#: ...or this many times, when it has been timed only once.
PRUNE_FIRST = 3.0


def random_operands(spec: ConvSpec, seed: int = 0, op: str = "forward") -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal operands of ``op`` on ``spec`` (``(x, w)``, ``(dy, w)`` or ``(dy, x)``),
    in its dtype, for timing without real data."""
    rng = np.random.default_rng(seed)
    a, b = operand_shapes(op, spec)
    return rng.standard_normal(a, dtype=spec.np_dtype), rng.standard_normal(b, dtype=spec.np_dtype)


@dataclass(frozen=True)
class Comparison:
    """How two candidates timed in the same rounds compare (see :func:`compare`)."""

    #: Median over rounds of ``slow / fast`` per-call time.
    ratio: float
    #: Half-width of its confidence interval, as a log: the ratio lies in ``ratio * exp(+-half_width)``.
    half_width: float
    #: Rounds both were timed in.
    rounds: int

    @property
    def separated(self) -> bool:
        """The slower one is slower beyond noise (the interval excludes 1) and by more than :data:`TIE`."""
        return math.log(self.ratio) > max(self.half_width, math.log(TIE))

    @property
    def resolved(self) -> bool:
        """Separated, or precise enough that a difference over :data:`RESOLUTION` would be."""
        return self.rounds >= MIN_ROUNDS and (self.separated or self.half_width <= math.log(RESOLUTION))

    def describe(self) -> str:
        """E.g. ``1.02x +-3.1 % over 9 rounds``."""
        return f"{self.ratio:.3f}x +-{100 * math.expm1(self.half_width):.1f} % over {self.rounds} rounds"


def compare(fast: Sequence[float], slow: Sequence[float]) -> Comparison:
    """Compare per-round per-call seconds of two candidates timed in the same rounds.

    With ``r_i = log(slow_i / fast_i)`` over the ``n`` paired rounds, the
    ratio is ``exp(median r)`` and the half-width ``Z * 1.2533 * 1.4826 *
    MAD(r) / sqrt(n)`` (the standard error of a median from the median
    absolute deviation: robust to the odd round a neighbour disturbed).
    Pairing by round cancels the machine's slow drifts.  Fewer than 2 rounds
    give an infinite half-width.  Cost: ``O(n log n)``.
    """
    n = min(len(fast), len(slow))
    if n < 2:
        ratio = statistics.median(slow) / statistics.median(fast) if n else 1.0
        return Comparison(ratio, math.inf, n)
    logs = np.log(np.asarray(slow[-n:], dtype=float) / np.asarray(fast[-n:], dtype=float))
    centre = float(np.median(logs))
    mad = float(np.median(np.abs(logs - centre)))
    return Comparison(math.exp(centre), Z * 1.2533 * 1.4826 * mad / math.sqrt(n), n)


class _Race:
    """Block-timed runs of named plans on shared operands, against one deadline."""

    def __init__(self, plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float,
                 statistic: Callable[[Sequence[float]], float], min_block_s: float,
                 prune: tuple[float, float]) -> None:
        self.plans, self.x, self.w, self.statistic = plans, x, w, statistic
        self.min_block_s, self.prune = min_block_s, prune
        self.deadline = time.perf_counter() + budget_s
        self.samples: dict[str, list[float]] = {name: [] for name in plans}
        self.paired: dict[str, list[float]] = {name: [] for name in plans}   # samples of the interleaved rounds
        self.block: dict[str, int] = {}
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

    def _run(self, name: str, calls: int = 1) -> float | None:
        """Seconds per run of a block of ``calls`` runs of ``name``; None (and the candidate out) if it raised."""
        start = time.perf_counter()
        try:
            for _ in range(calls):
                self.plans[name].run(self.x, self.w)
        except Exception as exc:    # a failing candidate loses, it does not abort planning
            self.notes[name] = f"failed: {type(exc).__name__}: {exc}"
            self.failed.add(name)
            if name in self.alive:
                self.alive.remove(name)
            return None
        return (time.perf_counter() - start) / calls

    def _prune(self) -> None:
        best = self.best()
        for name in list(self.alive):
            mine = self.time(name)
            if mine > self.prune[0 if len(self.samples[name]) > 1 else 1] * best:
                self.notes[name] = f"pruned: {mine / best:.1f}x slower than the best"
                self.alive.remove(name)

    def enter(self, names: list[str]) -> None:
        """Warm up and time each of ``names`` once, in order, while time is left; size its block."""
        for name in names:
            if self.out_of_time():
                self.notes[name] = "time limit reached"
                continue
            if self._run(name) is None:
                continue
            elapsed = self._run(name)
            if elapsed is not None:
                self.samples[name].append(elapsed)
                self.block[name] = max(1, math.ceil(self.min_block_s / max(elapsed, 1e-9)))
                self.alive.append(name)
                self._prune()

    def leaders(self) -> Comparison | None:
        """The comparison of the two fastest survivors (None with fewer than two)."""
        if len(self.alive) < 2:
            return None
        first, second = sorted(self.alive, key=self.time)[:2]
        return compare(self.paired[first], self.paired[second])

    def rounds(self, samples: int, resolve: bool = False) -> None:
        """Interleaved rounds of the survivors' blocks, fastest first, until each has
        ``samples`` samples, one survivor is left, time is up or (``resolve``) the
        two fastest are told apart or tied."""
        while len(self.alive) > 1 and min(len(self.samples[n]) for n in self.alive) < samples:
            lead = self.leaders()
            if resolve and lead is not None and lead.resolved:
                return
            for name in sorted(self.alive, key=self.time):
                if self.out_of_time():
                    return
                if name in self.alive and len(self.samples[name]) < samples:
                    elapsed = self._run(name, self.block[name])
                    if elapsed is not None:
                        self.samples[name].append(elapsed)
                        self.paired[name].append(elapsed)
            self._prune()

    def times(self) -> dict[str, float | None]:
        """Each candidate's time: ``inf`` if it failed, None if never timed."""
        return {name: math.inf if name in self.failed else self.time(name) if s else None
                for name, s in self.samples.items()}


def time_plans(plans: dict[str, Plan], x: np.ndarray, w: np.ndarray, budget_s: float, *,
               leaders: int | None = None, max_samples: int = MAX_SAMPLES,
               statistic: Callable[[Sequence[float]], float] = statistics.median,
               min_block_s: float = 0.0, prune: tuple[float, float] = (PRUNE, PRUNE_FIRST),
               resolve: bool = False) -> tuple[dict[str, float | None], dict[str, str]]:
    """Race the plans in ``plans`` (ordered best guess first) on ``(x, w)``.

    Parameters
    ----------
    plans : dict of name -> Plan
        Prepared plans of one spec; iteration order is the timing priority.
    x, w : ndarray
        Operands of the spec; never modified.
    budget_s : float
        Wall-clock seconds for the whole search; the first candidate always
        gets its warm-up and one timed run, and a block in progress is never
        interrupted, so the search can overrun by one block.
    leaders : int, optional
        How many of the first plans are raced to :data:`MIN_SAMPLES` runs
        before the rest are tried (all of them by default).
    max_samples : int
        Most samples (the first single run, then one block per round) per candidate.
    statistic : callable
        How a candidate's samples are reduced (median by default).
    min_block_s : float
        Shortest block of back-to-back runs per round (0: single runs).
    prune : (float, float)
        A candidate this many times the best so far stops being timed (the
        second factor applies while it has one sample).
    resolve : bool
        Stop the race once the two fastest are resolved (:func:`compare`),
        and note a tie on the runner-up when they are not separated:
        ``"tie with <winner>: ..."``, saying so when the time limit ended the
        race before it was resolved.

    Returns
    -------
    (times, notes)
        ``times[name]`` is the statistic of its samples in seconds (per run),
        ``inf`` if it raised, ``None`` if the budget ran out before it ran;
        ``notes[name]`` explains failures, pruning, budget exhaustion and ties.

    Notes
    -----
    Cost: at most ``budget_s`` plus one block, and at most
    ``(max_samples + 1) * sum(max(run time, min_block_s))``.
    """
    names = list(plans)
    head = len(names) if leaders is None else max(1, leaders)
    race = _Race(plans, x, w, budget_s, statistic, min_block_s, prune)
    race.enter(names[:head])
    race.rounds(min(MIN_SAMPLES, max_samples))
    race.enter(names[head:])
    race.rounds(max_samples, resolve)
    lead = race.leaders()
    if resolve and lead is not None and not lead.separated:
        first, second = sorted(race.alive, key=race.time)[:2]
        unresolved = "" if lead.resolved else " (time limit reached before a 5 % gap could be ruled out)"
        race.notes[second] = f"tie with {first}: {lead.describe()}{unresolved}"
    return race.times(), race.notes
