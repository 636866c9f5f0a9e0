"""The planner object, its plan cache and the hot path: every convolution goes through :func:`execute`.

A :class:`Planner` holds all the planner's state: the plan cache, the keys
being planned, hit/miss counts, the races in progress, its wisdom
(:class:`~lucid.algos.planner.wisdom.Wisdom`), records
(:class:`~lucid.algos.planner.history.History`) and cost model
(:class:`~lucid.algos.planner.cost_model.CostModel`), much as FFTW passes one
``planner *ego`` through its search.  The module functions (:func:`execute`,
:func:`choose`, ...) act on the default planner, :data:`DEFAULT`.

Every call resolves its settings (:func:`lucid.algos.planner.config.settings`,
one context-variable read) and looks up the plan for the key ``(op, spec,
settings, threads)`` in a two-queue cache bounded by count and by the bytes
its plans hold (:mod:`lucid.algos.planner.plan_cache`, :func:`set_cache_size`,
:meth:`~lucid.algos.base.Plan.held_bytes`).  After every
:data:`~lucid.algos.planner.plan_cache.TRIM_AFTER_BYTES` of evicted plans, large
per-thread scratch is dropped and the C heap is trimmed, so the memory goes
back to the operating system.
On a miss :func:`lucid.algos.planner.decision.decide` decides, builds the
winner's plan and records the decision.  In online mode an unsure decision
caches a :class:`~lucid.algos.planner.race.RacingEntry` instead: the key's
calls go through :meth:`Planner._race_call` until the bucket's race has a
verdict, then the winner's plain entry replaces it (the losers' plans are
dropped) and the verdict goes to wisdom and the records.

Concurrency: the cache is guarded by one lock held only for dictionary work;
a key being planned has a future that other callers of the same key wait on,
so nothing is planned twice; all plan creation and measuring is serialised by
one planning lock (FFTW's planner is not thread-safe, and concurrent timing
would be meaningless).  A run takes no lock: plans are reentrant (per-thread
scratch, or an fft runner per concurrent call), so a cached call takes the
cache's lock once and threads calling one shape run in parallel.  A cache hit costs a settings read, a dict lookup and
the operand re-layout of its op (see ``benchmarks/cached_call_overhead.py``).
"""
from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..._errors import bad_type, check_int
from ...allocator import release_to_os
from .. import registry
from .._parallel import num_threads
from ..scratch import release_scratch, scratch_bytes
from ..spec import ConvSpec
from . import config
from . import cost_model as cost_model_module
from . import history as history_module
from . import wisdom as wisdom_module
from .candidates import BucketKey, Entry
from .config import AUTO, Settings
from .decision import Context, Operands, assess, decide
from .plan_cache import TRIM_AFTER_BYTES, PlanCache
from .race import Race, RacingEntry, Ticket
from .stopwatch import PLANNING_LOCK


def _finite_sum(y: np.ndarray) -> bool:
    """False when ``y`` holds NaN/Inf (or is so large that ``y . y`` overflows)."""
    flat = y.reshape(-1)
    return bool(np.isfinite(np.dot(flat, flat)))


def _nonfinite(entry: Entry, settings: Settings, raw: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """The call must be re-run on an algorithm that keeps NaN/Inf in place (see :func:`execute`)."""
    return settings.check_finite and not entry.local_nonfinite and not _finite_sum(raw) \
        and not (np.isfinite(a).all() and np.isfinite(b).all())


class Planner:
    """All of one planner's state, and the calls that use it.

    Parameters
    ----------
    wisdom, history, costs : optional
        The planner's wisdom, records and cost model; fresh ones by default
        (the default planner, :data:`DEFAULT`, uses the modules' defaults).

    Every method is thread-safe.  Settings come from :func:`lucid.algos.use`
    and the environment, as for the module functions.
    """

    def __init__(self, wisdom: wisdom_module.Wisdom | None = None, history: history_module.History | None = None,
                 costs: cost_model_module.CostModel | None = None) -> None:
        self.costs = costs if costs is not None else cost_model_module.CostModel()
        self.wisdom = wisdom if wisdom is not None else wisdom_module.Wisdom(self.costs)
        self.history = history if history is not None else history_module.History()
        self._cache = PlanCache()
        self._inflight: dict[tuple, Future] = {}
        self._lock = threading.Lock()
        self._stats = {"hits": 0, "misses": 0}
        self._races: dict[str, Race] = {}       # bucket text -> its race in progress
        self._picks: dict[str, str] = {}        # bucket text -> online mode's clear heuristic pick
        self.wisdom.on_change(self.clear_plans)

    # -- calls -----------------------------------------------------------------------------
    def execute(self, op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray,
                algorithm: str | None = None, called_as: str | None = None) -> np.ndarray:
        """:func:`execute` on this planner."""
        settings = config.settings(algorithm)
        key = (op, spec, settings, num_threads(), called_as)
        entry = self._entry(key, (a, b))
        if entry.racing:
            return self._race_call(key, entry, a, b)
        raw = entry.run(a, b)
        if _nonfinite(entry, settings, raw, a, b):
            return self._rerun(key, a, b)
        return entry.lowering.result(raw)

    def _rerun(self, key: tuple, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Re-run a call whose operands hold NaN/Inf on an algorithm that keeps them in place."""
        op, spec, settings, threads, called_as = key
        entry = self._entry((op, spec, settings._replace(nonfinite_operands=True), threads, called_as), (a, b))
        return entry.lowering.result(entry.run(a, b))

    def choose(self, spec: ConvSpec, op: str = "forward", algorithm: str | None = None,
               called_as: str | None = None) -> str:
        """:func:`choose` on this planner."""
        if not isinstance(spec, ConvSpec):
            raise bad_type("choose", "spec", "a lucid.algos.ConvSpec", spec)
        if called_as is not None and not isinstance(called_as, str):
            raise bad_type("choose", "called_as", "None or a str", called_as)
        return self._entry((op, spec, config.settings(algorithm), num_threads(), called_as), None).algorithm

    def clear_plans(self) -> None:
        """:func:`clear_plans` on this planner (races in progress and online picks are dropped too)."""
        with self._lock:
            self._cache.clear()
            self._cache.take_evicted_bytes()
        with PLANNING_LOCK:
            self._races.clear()
            self._picks.clear()
        release_scratch()
        release_to_os()

    def set_cache_size(self, n: int, max_bytes: int | None = None) -> None:
        """:func:`set_cache_size` on this planner."""
        n = check_int("set_cache_size", "n", n, 1)
        max_bytes = None if max_bytes is None else check_int("set_cache_size", "max_bytes", max_bytes, 1)
        with self._lock:
            self._cache.resize(n, self._cache.max_bytes if max_bytes is None else max_bytes)
        self._trim_if_due()

    def cache_info(self) -> dict[str, Any]:
        """:func:`cache_info` of this planner, with ``races``: the races in progress."""
        with self._lock:
            info = {**self._stats, **self._cache.info(), "scratch_bytes": scratch_bytes()}
        info["races"] = len(self._races)
        return info

    def plans(self) -> list[Any]:
        """The cached entries (each with ``plan``, ``lowering`` and ``algorithm``; a key being
        raced has a racing entry), least recently used first."""
        with self._lock:
            return self._cache.values()

    def _trim_if_due(self) -> None:
        """Once enough plan bytes were evicted, drop large scratch and trim the C heap (outside the lock)."""
        with self._lock:
            due = self._cache.evicted_bytes >= TRIM_AFTER_BYTES
            if due:
                self._cache.take_evicted_bytes()
        if due:
            release_scratch()
            release_to_os()

    # -- planning --------------------------------------------------------------------------
    def _entry(self, key: tuple, operands: Operands | None) -> Any:
        """The cached entry of ``key`` = ``(op, spec, settings, threads, called_as)``, planning it once
        if absent (other callers wait); ``called_as`` (the function the user called, or None) is
        part of the key, so each caller's first call is planned and recorded under its name."""
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._stats["hits"] += 1
                return entry
            future = self._inflight.get(key)
            owner = future is None
            if owner:
                future = self._inflight[key] = Future()
                self._stats["misses"] += 1
        assert future is not None
        if not owner:
            return future.result()
        try:
            entry = self._plan(key, operands)
        except BaseException as exc:
            with self._lock:
                del self._inflight[key]
            future.set_exception(exc)
            raise
        with self._lock:
            self._cache.put(key, entry, entry.nbytes, "race" if entry.racing else entry.algorithm)
            del self._inflight[key]
        future.set_result(entry)
        self._trim_if_due()
        return entry

    def _plan(self, key: tuple, operands: Operands | None) -> Entry | RacingEntry:
        """A new key's entry: a joined race, else a decision (which may start a race)."""
        op, spec, settings, threads, called_as = key
        bucket = BucketKey.of(op, spec, settings.workspace_limit, settings.tolerance, settings.deterministic,
                              settings.nonfinite_operands, threads).text()
        joined = self._join(key, bucket)
        if joined is not None:
            return joined
        decided = decide(op, spec, settings, threads, operands, Context(self.wisdom, self.costs, self._picks))
        if called_as is not None:
            decided = decided._replace(decision=dataclasses.replace(decided.decision, called_as=called_as))
        entry = Entry(decided.plan, decided.lowering)
        if not decided.race:
            self.history.add(decided.decision)
            return entry
        names = [c.name for c in decided.race]
        origin = dataclasses.replace(decided.decision, race={"candidates": names, "verdict": None})
        self.history.add(origin)
        race = Race(bucket, names, {c.name: c.predicted_s for c in decided.race}, origin)
        race.join(key)
        with PLANNING_LOCK:
            self._races[bucket] = race
        return RacingEntry(race, decided.race, entry.algorithm, {entry.algorithm: entry}, float(spec.length))

    def _join(self, key: tuple, bucket: str) -> RacingEntry | None:
        """A new length of a bucket whose race is in progress joins it (its surviving candidates
        are assessed for the length; each one's plan is built when it first serves a call)."""
        op, spec, settings, threads, _ = key
        if settings.mode != "online" or settings.algorithm != AUTO:
            return None
        started = time.perf_counter()
        with PLANNING_LOCK:
            race = self._races.get(bucket)
            if race is None or race.verdict is not None:
                return None
            cands = [assess(registry.get(n), op, spec, settings, self.costs) for n in race.alive]
            cands = [c for c in cands if c.eligible]
            if not cands:
                return None
            best = race.best()
            first = next((c for c in cands if c.name == best), cands[0])
            racing = RacingEntry(race, cands, first.name, {}, float(spec.length))
            race.join(key)
        self.history.add(dataclasses.replace(
            race.origin, key=f"{spec.describe()} t{threads}", algorithm=first.name, cache_hit=True,
            reason=f"joined the race of bucket {bucket}", candidates=tuple(cands),
            duration_s=time.perf_counter() - started, time=time.time()))
        return racing

    # -- races -----------------------------------------------------------------------------
    def _race_call(self, key: tuple, racing: RacingEntry, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Serve one call of a racing key with the candidate whose turn it is, timed."""
        race = racing.race
        while True:
            ticket = race.begin(racing.allowed())
            if ticket is None:
                return self._run_settled(key, racing, a, b)
            racing.prune()
            try:
                entry = racing.entry(ticket.name)
            except Exception as exc:    # noqa: BLE001  (MemoryError, an FFTW error: the candidate leaves)
                racing.fail(ticket.name)
                race.cancel(ticket, f"plan failed to build: {type(exc).__name__}: {exc}")
                self._after(race)
                continue
            return self._timed(key, racing, entry, ticket, a, b)

    def _timed(self, key: tuple, racing: RacingEntry, entry: Entry, ticket: Ticket,
               a: np.ndarray, b: np.ndarray) -> np.ndarray:
        race = racing.race
        first = entry.runs == 0
        entry.runs += 1
        start = time.perf_counter()
        try:
            raw = entry.run(a, b)
        except Exception as exc:
            racing.fail(ticket.name)
            race.cancel(ticket, f"raised {type(exc).__name__}: {exc}")
            self._after(race)
            raise
        ran = time.perf_counter() - start
        if _nonfinite(entry, key[2], raw, a, b):
            race.cancel(ticket)
            return self._rerun(key, a, b)
        start = time.perf_counter()
        y = entry.lowering.result(raw)
        ran += time.perf_counter() - start
        race.finish(ticket, ran, racing.unit, first)
        self._after(race)
        return y

    def _after(self, race: Race) -> None:
        """The first call after ``race``'s verdict keeps the winner in wisdom and records the race."""
        if not race.claim():
            return
        winner = race.winner
        assert winner is not None
        record = race.record()
        if race.alive:
            self.wisdom.store(race.bucket, winner, race.medians())
        with PLANNING_LOCK:
            if self._races.get(race.bucket) is race:
                del self._races[race.bucket]
            self._picks[race.bucket] = winner
        origin = race.origin
        medians = record["medians_s"]
        cands = tuple(dataclasses.replace(c, measured_s=medians[c.name], note=race.dropped.get(c.name, c.note))
                      if c.name in medians else c for c in origin.candidates)
        self.history.add(dataclasses.replace(origin, algorithm=winner, reason=race.describe(), candidates=cands,
                                             duration_s=0.0, race=record, time=time.time()))

    def _run_settled(self, key: tuple, racing: RacingEntry, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The race is decided: cache the winner's plain entry for ``key`` and run it."""
        self._after(racing.race)
        entry = racing.settled()
        with self._lock:
            if self._cache.peek(key) is racing:
                self._cache.replace(key, entry, entry.nbytes, entry.algorithm)
        raw = entry.run(a, b)
        if _nonfinite(entry, key[2], raw, a, b):
            return self._rerun(key, a, b)
        return entry.lowering.result(raw)


#: The default planner: the one the module functions and :func:`lucid.algos.execute` use.
DEFAULT = Planner(wisdom_module.DEFAULT, history_module.DEFAULT, cost_model_module.DEFAULT)


def default_planner() -> Planner:
    """The planner the module functions act on."""
    return DEFAULT


def execute(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray, algorithm: str | None = None,
            called_as: str | None = None) -> np.ndarray:
    """Run ``op`` ("forward", "backward_data", "backward_filter") of ``spec`` on operands ``a, b``.

    Forward takes ``(x, w)``, backward_data ``(dy, w)``, backward_filter
    ``(dy, x)`` (see :mod:`lucid.algos.lowering`).  ``algorithm`` forces the
    forward algorithm for this call; ``None`` defers to :func:`lucid.algos.use`
    and ``LUCID_CONV_ALGO``.  The operands are never modified; the result is a
    fresh array.  ``spec`` is trusted (``F.conv1d`` built and checked it).

    Non-finite values: when the plan's algorithm spreads NaN/Inf (not
    ``local_nonfinite``) and ``check_finite`` is on, one pass over the output
    (a dot product, ~0.1 ms per 8 MB) looks for NaN/Inf; only if it finds some
    and an operand holds NaN/Inf is the call re-planned with the algorithms
    that keep them where the definition puts them (recorded with that reason).

    Online mode (the default): while the shape's length bucket is raced, its
    calls are served by the raced candidates in turn (all within tolerance),
    so two calls may differ in the last bits; ``deterministic=True`` never races.

    ``called_as`` names, in the record of a new plan, the function the user called
    when ``op`` is how it is computed (``"conv_transpose1d"`` runs as a backward_data).
    """
    return DEFAULT.execute(op, spec, a, b, algorithm, called_as)


def choose(spec: ConvSpec, op: str = "forward", algorithm: str | None = None, called_as: str | None = None) -> str:
    """The algorithm the planner runs ``op`` of ``spec`` with under the current settings.

    Plans the problem if it is not cached (measuring it on random operands in
    measure mode), exactly as the first :func:`execute` call would.  While the
    shape is raced (online mode), the candidate with the best median so far.
    """
    return DEFAULT.choose(spec, op, algorithm, called_as)


def clear_plans() -> None:
    """Drop every cached plan (decisions in wisdom and records are kept) and give
    their memory back to the operating system.  Races in progress are dropped."""
    DEFAULT.clear_plans()


def set_cache_size(n: int, max_bytes: int | None = None) -> None:
    """Keep at most ``n`` plans holding at most ``max_bytes`` together.

    Bytes are those of :meth:`~lucid.algos.base.Plan.held_bytes` (buffers and
    cached weight transforms).  ``max_bytes=None`` keeps the current bound; the
    default is :func:`~lucid.algos.planner.plan_cache.default_cache_bytes`: 1/8
    of the machine's (or the container's) memory, at most 1 GiB.  Plans used
    once may hold only 1/8 of it; :mod:`lucid.algos.planner.plan_cache` gives
    the eviction order.  The most recently used plan is always kept.
    """
    DEFAULT.set_cache_size(n, max_bytes)


def cache_info() -> dict[str, Any]:
    """What the plan cache holds: ``hits``, ``misses``, ``size``, ``capacity``, ``bytes``,
    ``max_bytes``, its ``probation`` and ``protected`` segments, ``by_algorithm`` (plans
    and bytes per algorithm; ``race`` for keys being raced), ``scratch_bytes`` (per-thread
    scratch of all threads) and ``races`` (races in progress)."""
    return DEFAULT.cache_info()
