"""Online races: the top candidates of an uncertain decision take turns serving real calls.

When the cost model is unsure (online mode, the runner-up predicted within
:data:`~lucid.algos.planner.decision.LEADER_RATIO` of the leader), the key's
next calls are served by the top candidates in turn and each call is timed
with ``time.perf_counter`` around its run: no extra calls, only a few calls on
slower candidates.  Every candidate is within the call's tolerance, so every
call returns a correct result (two calls of one shape may differ in the last
bits while the race lasts).  As in Vectorwise's micro-adaptivity and DuckDB's
adaptive filters, the live workload is the benchmark.

A :class:`Race` belongs to a length bucket (the
:class:`~lucid.algos.planner.candidates.BucketKey` of measure mode), so every
length of the bucket joins the same race; a call's time is divided by its
length before it is compared.  A *round* is one timed call of each surviving
candidate; rounds are paired, and the two fastest are compared with measure
mode's noise rules (:func:`lucid.algos.planner.stopwatch.compare`: median of
per-round log ratios, MAD interval, :data:`~lucid.algos.planner.stopwatch.MIN_ROUNDS`).
A race of one shape ignores the rounds holding a plan's first run (page faults,
weight transforms); a race over many lengths, whose calls are mostly first
runs, keeps them.

The race ends with a verdict:

* ``separated``: the fastest is faster beyond noise;
* ``tie``: the two fastest are within noise (the faster median wins, the tie is recorded);
* ``only survivor``: every other candidate was dropped, either clearly slower
  (:data:`DROP_WARM` and :data:`WARM_SLACK_S` on the first runs, :data:`DROP_FIRST` after one
  round, :data:`DROP_SECOND` after two, :data:`DROP` once separated after
  :data:`MIN_DROP_ROUNDS`) or because its plan failed to build or its run raised;
* ``budget``: :data:`MAX_ROUNDS` rounds or :data:`MAX_CALLS` calls were spent
  (the best median wins).

Extra time: the time of the race's calls beyond what the best so far would
have taken.  Whenever it exceeds :data:`EXTRA_SHARE` of the time of the calls
the race spans, the slowest candidate leaves if its median is :data:`DROP`
times the best's beyond noise, or :data:`DROP_FIRST` times; otherwise (near-equals under noise) the best so far serves
the next calls (timed, not as samples) until the share is back under.

Samples never come from a call that raised or that was re-run because of
NaN/Inf.  Concurrent callers share the race: each candidate serves at most
one sample call at a time, and a call that finds every candidate of the
current round taken is served by the best so far, untimed (its time counts
towards the race's span).  Samples taken under concurrency are times under
that concurrency, which is what the key's calls see.
"""
from __future__ import annotations

import statistics
import threading
from typing import NamedTuple

from .candidates import Candidate, Decision, Entry
from .decision import build_plan
from .stopwatch import MIN_ROUNDS, PLANNING_LOCK, PRUNE_FIRST, Comparison, compare

#: Most paired rounds before the best median wins.
MAX_ROUNDS = 16
#: Most calls a race spans (samples, warm-ups, throttled and concurrent calls).
MAX_CALLS = 96
#: Share of the race's time that serving slower candidates may cost before it is throttled.
EXTRA_SHARE = 0.10
#: A candidate whose first run takes this many times the fastest first run, and
#: :data:`WARM_SLACK_S` more, is dropped (a first run pays page faults and weight transforms: up
#: to ~4x a steady run, and several ms on a sub-ms layer whose scratch was given back)...
DROP_WARM = 6.0
WARM_SLACK_S = 0.02
#: ...this many times the best's time after one paired round (one call
#: can hit a stall of a shared machine, hence measure mode's PRUNE_FIRST)...
DROP_FIRST = PRUNE_FIRST
#: ...this many after two, beyond noise...
DROP_SECOND = 2.0
#: ...or this many, once the gap is beyond noise after :data:`MIN_DROP_ROUNDS` rounds.
DROP = 1.2
MIN_DROP_ROUNDS = 3
#: The time budget is enforced from this many rounds on.
MIN_SHED_ROUNDS = 2


class Ticket(NamedTuple):
    """Which candidate serves one call, and whether its time is a sample of the race."""

    name: str
    sample: bool


class Race:
    """The race of one length bucket among ``names`` (leader first); thread-safe.

    ``predicted`` maps each name to its predicted seconds and ``origin`` is the decision
    that started the race (both for the records).
    """

    def __init__(self, bucket: str, names: list[str], predicted: dict[str, float | None], origin: Decision) -> None:
        self.bucket, self.names, self.predicted, self.origin = bucket, list(names), dict(predicted), origin
        self.alive = list(names)
        self.lock = threading.Lock()
        self.rounds: list[dict[str, tuple[float, bool]]] = []     # name -> (seconds per length unit, first run)
        self.current: dict[str, tuple[float, bool]] = {}
        self.dropped: dict[str, str] = {}
        self.keys: set[object] = set()
        self.calls = self.samples = 0
        self.out: set[str] = set()      # candidates serving a sample call right now
        self.span = 0.0                 # normalised time of every timed call
        self.unit = 1.0                 # the latest call's length, to report medians in seconds
        self.verdict: str | None = None
        self.claimed = False
        self.winner: str | None = None
        self.comparison: Comparison | None = None

    # -- serving ---------------------------------------------------------------------------
    def join(self, key: object) -> None:
        """Note that ``key`` (an exact shape of the bucket) takes part."""
        with self.lock:
            self.keys.add(key)

    def begin(self, allowed: frozenset[str]) -> Ticket | None:
        """The candidate to serve the next call among ``allowed`` (the key's buildable ones);
        None once the race is decided."""
        with self.lock:
            if self.verdict is not None:
                return None
            self.calls += 1
            if self._over_budget() and self._shed() and self.verdict is not None:
                return None     # shedding decided the race
            pending = [n for n in self.alive if n not in self.current and n not in self.out and n in allowed]
            if not pending or self._over_budget():
                return Ticket(self._best(allowed), False)
            self.out.add(pending[0])
            return Ticket(pending[0], True)

    def finish(self, ticket: Ticket, seconds: float, unit: float, first: bool) -> bool:
        """Count a call that ran and returned finite values; True if it decided the race."""
        with self.lock:
            if ticket.sample:
                self.out.discard(ticket.name)
            if self.verdict is not None:
                return False
            self.span += seconds / unit
            self.unit = unit
            if ticket.sample and ticket.name in self.alive:
                self.current[ticket.name] = (seconds / unit, first)
                self.samples += 1
                if all(n in self.current for n in self.alive):
                    self.rounds.append(self.current)
                    self.current = {}
                    self._judge()
            if self.verdict is None and self.calls >= MAX_CALLS:
                self._decide("budget")
            return self.verdict is not None

    def cancel(self, ticket: Ticket, drop: str | None = None) -> bool:
        """A call that is not a sample (it raised or was re-run); ``drop`` takes its candidate out
        with that reason.  True if that decided the race."""
        with self.lock:
            if ticket.sample:
                self.out.discard(ticket.name)
            if drop is not None and self.verdict is None:
                self._drop(ticket.name, drop)
                self._judge()
            return self.verdict is not None and drop is not None

    def claim(self) -> bool:
        """True exactly once, to the first caller after the verdict (who records it)."""
        with self.lock:
            if self.verdict is None or self.claimed:
                return False
            self.claimed = True
            return True

    def best(self) -> str:
        """The candidate with the lowest median so far (the leader before any sample)."""
        with self.lock:
            return self.winner or self._best(frozenset(self.alive))

    # -- judging (lock held) ---------------------------------------------------------------
    def _usable(self) -> list[dict[str, tuple[float, bool]]]:
        if len(self.keys) > 1:
            return self.rounds
        return [r for r in self.rounds if not any(first for _, first in r.values())]

    def _series(self, name: str, rounds: list[dict[str, tuple[float, bool]]]) -> list[float]:
        return [r[name][0] for r in rounds if name in r]

    def _median(self, name: str) -> float | None:
        series = self._series(name, self._usable()) or self._series(name, self.rounds)
        return statistics.median(series) if series else None

    def _best(self, allowed: frozenset[str]) -> str:
        timed = {n: m for n in self.alive if n in allowed and (m := self._median(n)) is not None}
        if timed:
            return min(timed, key=lambda n: timed[n])
        return next((n for n in self.alive if n in allowed), next(iter(allowed)))

    def _extra(self) -> float:
        """Normalised time the surviving candidates' usable rounds spent beyond the best median so
        far (a plan's first run in a one-shape race, and a dropped candidate's calls, are sunk
        costs and say nothing about the next calls)."""
        medians = [m for n in self.alive if (m := self._median(n)) is not None]
        if not medians:
            return 0.0
        fastest = min(medians)
        return sum(max(0.0, t - fastest) for r in self._usable() for n, (t, _) in r.items() if n in self.alive)

    def _paired(self, fast: str, slow: str) -> Comparison:
        rounds = [r for r in self._usable() if fast in r and slow in r]
        return compare(self._series(fast, rounds), self._series(slow, rounds))

    def _drop(self, name: str, reason: str) -> None:
        if name in self.alive:
            self.alive.remove(name)
            self.current.pop(name, None)
            self.dropped[name] = reason

    def _over_budget(self) -> bool:
        """The extra time passed its share, with two rounds to judge by (one call can stall)."""
        return len(self._usable()) >= MIN_SHED_ROUNDS and self._extra() > EXTRA_SHARE * self.span

    def _shed(self) -> bool:
        """Over the time budget: drop the slowest candidate if it is :data:`DROP` times the best
        beyond noise, or :data:`DROP_FIRST` times by median."""
        medians = {n: m for n in self.alive if (m := self._median(n)) is not None}
        if len(medians) < 2:
            return False
        slowest, best = max(medians, key=lambda n: medians[n]), min(medians, key=lambda n: medians[n])
        fastest = medians[best]
        ratio = medians[slowest] / fastest
        if ratio < DROP or (ratio < DROP_FIRST and not self._paired(best, slowest).separated):
            return False
        self._drop(slowest, f"dropped: {medians[slowest] / fastest:.2f}x the best's median once the race's "
                            f"extra time passed {EXTRA_SHARE:.0%} of its calls' time")
        self._judge()
        return True

    def _judge(self) -> None:
        """Drop clear losers, then decide when the two fastest are told apart or tied."""
        if len(self.alive) > 1 and len(self.rounds) == 1 and len(self.keys) == 1:
            warm = {n: t for n, (t, _) in self.rounds[0].items() if n in self.alive}
            fastest = min(warm.values())
            for name, t in warm.items():
                if t >= DROP_WARM * fastest and (t - fastest) * self.unit >= WARM_SLACK_S:
                    self._drop(name, f"dropped: its first run took {t / fastest:.1f}x the fastest first run")
        if len(self.alive) > 1 and self._usable():
            best = self._best(frozenset(self.alive))
            for name in [n for n in self.alive if n != best]:
                lead = self._paired(best, name)
                if lead.rounds and (lead.ratio >= DROP_FIRST if lead.rounds == 1 else lead.separated and (
                        lead.ratio >= DROP_SECOND or (lead.rounds >= MIN_DROP_ROUNDS and lead.ratio >= DROP))):
                    self._drop(name, f"dropped: {lead.describe()} slower than {best}")
        if len(self.alive) == 1:
            self._decide("only survivor")
        elif len(self.alive) > 1:
            ranked = sorted(self.alive, key=lambda n: self._median(n) or float("inf"))
            lead = self._paired(ranked[0], ranked[1])
            if lead.rounds >= MIN_ROUNDS and lead.resolved:
                self.comparison = lead
                self._decide("separated" if lead.separated else "tie")
            elif len(self._usable()) >= MAX_ROUNDS:
                self.comparison = lead
                self._decide("budget")
        elif not self.alive:
            self._decide("every candidate failed")

    def _decide(self, verdict: str) -> None:
        self.verdict = verdict
        self.winner = self._best(frozenset(self.alive)) if self.alive else self.names[0]

    # -- outcome ---------------------------------------------------------------------------
    def medians(self) -> dict[str, float | None]:
        """Each candidate's median seconds per call at the latest call's length (None: never timed)."""
        with self.lock:
            return {n: None if (m := self._median(n)) is None else m * self.unit for n in self.names}

    def record(self) -> dict:
        """The race as a record: candidates, samples, medians, calls spent, extra time, verdict."""
        medians = self.medians()
        with self.lock:
            fastest = min((m for m in medians.values() if m is not None), default=None)
            return {"candidates": list(self.names), "predicted_s": dict(self.predicted),
                    "samples": {n: len(self._series(n, self._usable())) for n in self.names},
                    "medians_s": medians, "rounds": len(self._usable()), "calls": self.calls,
                    "lengths": len(self.keys),
                    "extra_s": None if fastest is None else self._extra() * self.unit,
                    "span_s": self.span * self.unit, "verdict": self.verdict, "winner": self.winner,
                    "comparison": None if self.comparison is None else self.comparison.describe(),
                    "dropped": dict(self.dropped)}

    def describe(self) -> str:
        """One line for a record's reason, e.g. ``im2col won the race (separated: 1.31x +-4.0 % over 5 rounds)``."""
        with self.lock:
            how = self.verdict or "undecided"
            if self.comparison is not None:
                how += f": {self.comparison.describe()}"
            dropped = "".join(f"; {n} {reason}" for n, reason in self.dropped.items())
            return f"{self.winner} won the race of {', '.join(self.names)} in {self.calls} calls ({how}){dropped}"


class RacingEntry:
    """The plan-cache entry of one key while its bucket's race lasts: the candidates eligible
    for the key, their plans built on first use (the leader's is built by the decision)."""

    racing = True

    def __init__(self, race: Race, cands: list[Candidate], leader: str, built: dict[str, Entry], unit: float) -> None:
        self.race, self.unit, self.leader = race, unit, leader
        self.cands = {c.name: c for c in cands}
        self.built = dict(built)
        self.failed: set[str] = set()
        self.lock = threading.Lock()
        self.nbytes = sum(e.nbytes for e in built.values())
        self.local_nonfinite = False

    @property
    def algorithm(self) -> str:
        """The candidate with the best median so far."""
        best = self.race.best()
        return best if best in self.allowed() else self.leader

    def allowed(self) -> frozenset[str]:
        """The candidates that can serve this key (eligible, and their plans did not fail)."""
        return frozenset(n for n in self.cands if n not in self.failed)

    def prune(self) -> None:
        """Free the plans of candidates the race dropped (the leader's is kept as the fallback)."""
        alive = set(self.race.alive)
        with self.lock:
            for name in [n for n in self.built if n not in alive and n != self.leader]:
                self.nbytes -= self.built.pop(name).nbytes

    def entry(self, name: str) -> Entry:
        """The plan of ``name`` for this key, built on first use (raises what building raised)."""
        with self.lock:
            entry = self.built.get(name)
        if entry is not None:
            return entry
        with PLANNING_LOCK:
            with self.lock:
                entry = self.built.get(name)
            if entry is None:
                cand = self.cands[name]
                assert cand.lowering is not None
                entry = Entry(build_plan(cand), cand.lowering)
                with self.lock:
                    self.built[name] = entry
                    self.nbytes += entry.nbytes
        return entry

    def fail(self, name: str) -> None:
        """Take ``name`` out for this key (its plan failed to build or its run raised)."""
        with self.lock:
            self.failed.add(name)
            self.built.pop(name, None)

    def settled(self) -> Entry:
        """The plain entry to cache once the race is decided: the winner's plan, else the leader's,
        else any other candidate's that builds (raises the last build error when none does)."""
        order = [self.race.winner, self.leader, *self.cands]
        error: Exception | None = None
        for name in dict.fromkeys(n for n in order if n is not None and n in self.allowed()):
            try:
                return self.entry(name)
            except Exception as exc:       # noqa: BLE001  (it cannot be built for this length: try the next)
                self.fail(name)
                error = exc
        raise error or LookupError("no candidate of the race can serve this shape")
