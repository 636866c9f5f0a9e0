"""The planner: which algorithm runs each convolution, planned once per shape and cached.

Every call of :func:`execute` resolves its settings (:mod:`lucid.algos.config`)
and looks up the plan for the key ``(op, spec, settings, threads)`` in an
LRU cache bounded by count and by the bytes its plans hold
(:func:`set_cache_size`, :meth:`~lucid.algos.base.Plan.held_bytes`).  On a miss it decides, builds the winner's plan and records
the decision (:mod:`lucid.algos.records`):

* **forced** (``algorithm="fft"``, ``use("fft")``, ``LUCID_CONV_ALGO``): that
  algorithm.  For the forward op a forced algorithm that cannot serve the call
  raises ValueError with its reason; a backward op runs on it when it supports
  the derived problem, otherwise on the best one that does (recorded).
* **heuristic** (default, runs nothing, like FFTW_ESTIMATE): the eligible
  candidate with the least predicted time (:mod:`lucid.algos.cost_model`).
* **measure** (like FFTW_MEASURE): times the eligible candidates on the real
  operands within ``time_limit`` (:mod:`lucid.algos.measure`).  The decision is
  kept in wisdom (:mod:`lucid.algos.wisdom`) under a *length bucket* (lengths
  within a factor 2**(1/4)), so a new length in a measured bucket only builds
  its plan.

Eligible means: ``supports(spec)`` is None, ``workspace_bytes <= workspace_limit``,
``error_bound <= tolerance`` and, when asked, ``deterministic``.  The planner
knows algorithms only through that interface.

Concurrency: the cache is guarded by one lock held only for dictionary work;
a key being planned has a future that other callers of the same key wait on,
so nothing is planned twice; all plan creation and measuring is serialised by
one planning lock (FFTW's planner is not thread-safe, and concurrent timing
would be meaningless); each plan runs under its own lock, because plans reuse
their buffers.  A cache hit costs a settings lookup, a dict lookup and the
operand re-layout of its op (~10 µs).
"""
from __future__ import annotations

import collections
import math
import threading
import time
from concurrent.futures import Future

import numpy as np

from .._errors import bad_type, check_int
from . import config, cost_model, records, registry, wisdom
from ._parallel import THREADS
from .base import Plan
from .lowering import Lowering, lower
from .measure import PLANNING_LOCK, random_operands, time_plans
from .spec import ConvSpec

#: Default number of cached plans.
DEFAULT_CACHE_SIZE = 512
#: Default bound on the bytes the cached plans hold (:meth:`Plan.held_bytes`): an fft plan
#: keeps its buffers and kernel spectrum (10-350 MB on the suite), so a loop over many
#: lengths would otherwise keep gigabytes alive.
DEFAULT_CACHE_BYTES = 2 << 30
#: Measured decisions are shared by lengths with equal ``round(BUCKETS_PER_OCTAVE * log2(L))``.
BUCKETS_PER_OCTAVE = 4
#: Measure mode races the candidates predicted within this factor of the best prediction
#: first and tries the rest with the time left.  On the 120-shape regret grid (2026-11-26)
#: the fastest algorithm was predicted within 2x of the best prediction on 112 shapes.
LEADER_RATIO = 2.0


class _Entry:
    """A cached plan with the lowering around it and the lock that serialises its runs."""

    __slots__ = ("plan", "lowering", "lock", "algorithm", "local_nonfinite", "nbytes")

    def __init__(self, plan: Plan, lowering: Lowering) -> None:
        self.plan, self.lowering, self.lock = plan, lowering, threading.Lock()
        self.algorithm = plan.algorithm.name
        self.local_nonfinite = plan.algorithm.local_nonfinite
        self.nbytes = plan.held_bytes()

    def run(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The derived problem's raw output (before ``lowering.result``).

        NumPy's floating-point warnings are silenced: NaN/Inf operands are
        handled by :func:`execute`, as in PyTorch, without RuntimeWarnings.
        """
        with self.lock, np.errstate(all="ignore"):
            return self.plan.run(*self.lowering.operands(a, b))


_cache: collections.OrderedDict = collections.OrderedDict()
_inflight: dict = {}
_cache_lock = threading.Lock()
_capacity = DEFAULT_CACHE_SIZE
_max_bytes = DEFAULT_CACHE_BYTES
_held = 0        # bytes held by the cached plans
_stats = {"hits": 0, "misses": 0}


def execute(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray, algorithm: str | None = None) -> np.ndarray:
    """Run ``op`` ("forward", "backward_data", "backward_filter") of ``spec`` on operands ``a, b``.

    Forward takes ``(x, w)``, backward_data ``(dy, w)``, backward_filter
    ``(dy, x)`` (see :mod:`lucid.algos.lowering`).  ``algorithm`` forces the
    forward algorithm for this call; ``None`` defers to :func:`lucid.algos.use`
    and ``LUCID_CONV_ALGO``.  The operands are never modified; the result is a
    fresh array.

    Non-finite values: when the plan's algorithm spreads NaN/Inf (not
    ``local_nonfinite``) and ``check_finite`` is on, one pass over the output
    (a dot product, ~0.1 ms per 8 MB) looks for NaN/Inf; only if it finds some
    and an operand holds NaN/Inf is the call re-planned with the algorithms
    that keep them where the definition puts them (recorded with that reason).
    """
    settings = config.settings(algorithm)
    entry = _entry((op, spec, settings, THREADS), (a, b))
    raw = entry.run(a, b)
    if settings.check_finite and not entry.local_nonfinite and not _finite_sum(raw) \
            and not (np.isfinite(a).all() and np.isfinite(b).all()):
        entry = _entry((op, spec, settings._replace(nonfinite_operands=True), THREADS), (a, b))
        raw = entry.run(a, b)
    return entry.lowering.result(raw)


def _finite_sum(y: np.ndarray) -> bool:
    """False when ``y`` holds NaN/Inf (or is so large that ``y . y`` overflows)."""
    flat = y.reshape(-1)
    return bool(np.isfinite(np.dot(flat, flat)))


def choose(spec: ConvSpec, op: str = "forward", algorithm: str | None = None) -> str:
    """The algorithm the planner runs ``op`` of ``spec`` with under the current settings.

    Plans the problem if it is not cached (measuring it on random operands in
    measure mode), exactly as the first :func:`execute` call would.
    """
    if not isinstance(spec, ConvSpec):
        raise bad_type("choose", "spec", "a lucid.algos.ConvSpec", spec)
    return _entry((op, spec, config.settings(algorithm), THREADS), None).algorithm


def clear_plans() -> None:
    """Drop every cached plan (decisions in wisdom and records are kept)."""
    global _held
    with _cache_lock:
        _cache.clear()
        _held = 0


def set_cache_size(n: int, max_bytes: int | None = None) -> None:
    """Keep at most ``n`` plans holding at most ``max_bytes`` together
    (:meth:`~lucid.algos.base.Plan.held_bytes`; unchanged when None, default
    :data:`DEFAULT_CACHE_BYTES`).  Least recently used plans are evicted first;
    the newest plan is always kept, whatever its size."""
    global _capacity, _max_bytes
    n = check_int("set_cache_size", "n", n, 1)
    max_bytes = None if max_bytes is None else check_int("set_cache_size", "max_bytes", max_bytes, 1)
    with _cache_lock:
        _capacity = n
        _max_bytes = _max_bytes if max_bytes is None else max_bytes
        _evict()


def cache_info() -> dict:
    """``{"hits", "misses", "size", "capacity", "bytes", "max_bytes"}`` of the plan cache."""
    with _cache_lock:
        return {**_stats, "size": len(_cache), "capacity": _capacity, "bytes": _held, "max_bytes": _max_bytes}


def _evict() -> None:
    """Drop least recently used plans beyond the count or byte bound (caller holds the lock)."""
    global _held
    while len(_cache) > _capacity or (_held > _max_bytes and len(_cache) > 1):
        _, entry = _cache.popitem(last=False)
        _held -= entry.nbytes


def _entry(key: tuple, operands: tuple | None) -> _Entry:
    """The cached entry of ``key``, planning it once if absent (other callers wait)."""
    global _held
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return entry
        future = _inflight.get(key)
        owner = future is None
        if owner:
            future = _inflight[key] = Future()
            _stats["misses"] += 1
    if not owner:
        return future.result()
    try:
        entry = _plan(key, operands)
    except BaseException as exc:
        with _cache_lock:
            del _inflight[key]
        future.set_exception(exc)
        raise
    with _cache_lock:
        _cache[key] = entry
        _held += entry.nbytes
        _evict()
        del _inflight[key]
    future.set_result(entry)
    return entry


def _size(nbytes: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} B"


def _blank(algorithm) -> dict:
    """A candidate's record before assessment."""
    return {"name": algorithm.name, "supported": False, "reason": None, "predicted_s": None,
            "measured_s": None, "workspace_bytes": None, "error_bound": None,
            "deterministic": bool(algorithm.deterministic), "note": None}


def _assess(algorithm, spec: ConvSpec, settings: config.Settings) -> dict:
    """One candidate's record: support, predicted time, workspace, error bound, and why it is skipped."""
    cand = _blank(algorithm)
    try:
        cand["reason"] = algorithm.supports(spec)
        if cand["reason"] is not None:
            return cand
        workspace = int(algorithm.workspace_bytes(spec, settings.workspace_limit))
        bound = float(algorithm.error_bound(spec))
        predicted = cost_model.predict(algorithm, spec)
    except ValueError as exc:      # an algorithm that cannot even cost the spec does not support it
        cand["reason"] = f"{algorithm.name}: {exc}"
        return cand
    cand.update(supported=True, predicted_s=predicted, workspace_bytes=workspace, error_bound=bound)
    if workspace > settings.workspace_limit:
        cand["reason"] = f"workspace {_size(workspace)} > workspace_limit {_size(settings.workspace_limit)}"
    elif bound > settings.tolerance:
        cand["reason"] = f"error bound {bound:.1e} > tolerance {settings.tolerance:.1e}"
    elif settings.deterministic and not algorithm.deterministic:
        cand["reason"] = "not deterministic (deterministic=True)"
    elif settings.nonfinite_operands and not algorithm.local_nonfinite:
        cand["reason"] = "spreads NaN/Inf beyond the outputs the definition puts them in"
    return cand


def _assess_all(spec: ConvSpec, settings: config.Settings) -> list[dict]:
    """:func:`_assess` of every registered algorithm, in registry order."""
    return [_assess(algorithm, spec, settings) for algorithm in registry.algorithms()]


def _skip_note(cand: dict) -> str:
    reason = cand["reason"]
    return reason if reason.startswith(cand["name"]) else f"{cand['name']} skipped: {reason}"


def _seconds(value: float) -> str:
    return f"{value * 1e3:.3g} ms" if value >= 1e-4 else f"{value * 1e6:.3g} us"


def _explain(chosen: str, eligible: list[dict], skipped: list[dict], field: str) -> str:
    """The one-line human reason: winner vs runner-up on ``field``, then the skipped ones."""
    verb = "measured" if field == "measured_s" else "predicted"
    ranked = sorted((c for c in eligible if c[field] is not None), key=lambda c: c[field])
    parts = []
    winner = next((c for c in ranked if c["name"] == chosen), None)
    if winner is not None:
        rivals = [c for c in ranked if c["name"] != chosen][:2]
        vs = " vs " + ", ".join(f"{c['name']} {_seconds(c[field])}" for c in rivals) if rivals else " (only candidate)"
        parts.append(f"{chosen}: {verb} {_seconds(winner[field])}{vs}")
    return "; ".join(parts + [_skip_note(c) for c in skipped])


def _bucket_key(op: str, spec: ConvSpec, settings: config.Settings) -> str:
    """Wisdom key of a measured decision: the shape with its length replaced by its bucket."""
    bucket = round(BUCKETS_PER_OCTAVE * math.log2(spec.length))
    shape = spec.describe().replace(f" L{spec.length} ", f" Lb{bucket} ")
    tolerance = "inf" if math.isinf(settings.tolerance) else f"{settings.tolerance:.3g}"
    return (f"{op} {shape} ws{settings.workspace_limit} tol{tolerance} "
            f"det{int(settings.deterministic)} nonfinite{int(settings.nonfinite_operands)} t{THREADS}")


def _no_candidate(op: str, spec: ConvSpec, cands: list[dict]) -> ValueError:
    notes = "; ".join(_skip_note(c) for c in cands)
    hint = " (raise workspace_limit)" if any("workspace_limit" in (c["reason"] or "") for c in cands) else ""
    return ValueError(f"no algorithm can run {op} of {spec.describe()} under the current settings{hint}: {notes}")


def _reused(op: str, source: ConvSpec, spec: ConvSpec, settings: config.Settings):
    """The length bucket's measured decision, when its winner can run ``spec``:
    ``(candidates, name, None, reason, True)``, else None.

    Only the winner is assessed for the new length (support and workspace
    change with it); the other candidates are listed with the bucket's
    measured times and ``supported=None``: not assessed, because nothing is
    decided here.  This is what keeps a new length in a measured bucket cheap.
    """
    bucket = _bucket_key(op, source, settings)
    known = wisdom.lookup(bucket)
    if known is None or known["algorithm"] not in registry.names():
        return None
    winner = _assess(registry.get(known["algorithm"]), spec, settings)
    if winner["reason"] is not None:
        return None
    cands = []
    for algorithm in registry.algorithms():
        cand = winner if algorithm.name == winner["name"] else {
            **_blank(algorithm), "supported": None, "note": "not assessed: the bucket's measured decision was reused"}
        cand["measured_s"] = known["measured"].get(algorithm.name)
        cands.append(cand)
    shape = bucket.split(" ws")[0]
    return cands, winner["name"], None, f"{winner['name']}: measured decision of bucket {shape} reused", True


def _measure_choice(op, source: ConvSpec, lowering: Lowering, eligible: list[dict], settings, operands):
    """Measure-mode decision: ``(name, plan, reason)``; fills ``measured_s`` and stores it in wisdom.

    Candidates are timed best-predicted first; those predicted within
    :data:`LEADER_RATIO` of the best prediction are raced first, the rest
    only with the time left (:func:`lucid.algos.measure.time_plans`).
    """
    by_name = {c["name"]: c for c in eligible}
    spec = lowering.spec
    x, w = lowering.operands(*operands) if operands is not None else random_operands(spec)
    ranked = sorted(eligible, key=lambda c: c["predicted_s"])
    plans = {}
    for cand in ranked:
        try:
            plans[cand["name"]] = registry.get(cand["name"]).prepare(spec, settings.workspace_limit)
        except Exception as exc:     # a plan that cannot be built loses, with the reason recorded
            cand["measured_s"], cand["reason"] = math.inf, f"prepare failed: {type(exc).__name__}: {exc}"
    leaders = sum(c["predicted_s"] <= LEADER_RATIO * ranked[0]["predicted_s"] for c in ranked if c["name"] in plans)
    times, notes = time_plans(plans, x, w, settings.time_limit, leaders=leaders)
    for name, seconds in times.items():
        by_name[name]["measured_s"] = seconds
        if name in notes:
            by_name[name]["note"] = notes[name]
    finite = {n: t for n, t in times.items() if t is not None and math.isfinite(t)}
    if not finite:
        raise RuntimeError(f"every candidate failed while measuring {op} of {source.describe()}: {notes}")
    name = min(finite, key=finite.get)
    wisdom.store(_bucket_key(op, source, settings), name, times)
    return name, plans[name], _explain(name, eligible, [], "measured_s")


def _auto(op, source, lowering, settings, operands, cands=None):
    """``(candidates, name, plan or None, reason, reused?)`` of the best eligible
    candidate in the current mode (``cands``: the assessment, if already made)."""
    if settings.mode == "measure":
        reused = _reused(op, source, lowering.spec, settings)
        if reused is not None:
            return reused
    if cands is None:
        cands = _assess_all(lowering.spec, settings)
    eligible = [c for c in cands if c["reason"] is None]
    if not eligible:
        raise _no_candidate(op, source, cands)
    skipped = [c for c in cands if c["reason"] is not None]
    if settings.mode == "measure":
        name, plan, reason = _measure_choice(op, source, lowering, eligible, settings, operands)
        return cands, name, plan, reason + "".join(f"; {_skip_note(c)}" for c in skipped), False
    name = min(eligible, key=lambda c: c["predicted_s"])["name"]
    return cands, name, None, _explain(name, eligible, skipped, "predicted_s"), False


def _plan(key: tuple, operands: tuple | None) -> _Entry:
    """Decide, build and record the plan of ``key`` (under the planning lock)."""
    op, source, settings, threads = key
    started = time.perf_counter()
    lowering = lower(op, source)
    with PLANNING_LOCK:
        wisdom.auto_load()
        forced = settings.algorithm
        if forced == config.AUTO:
            cands, name, plan, reason, reused = _auto(op, source, lowering, settings, operands)
        else:
            cands = _assess_all(lowering.spec, settings)
            mine = next(c for c in cands if c["name"] == forced)
            if mine["reason"] is None:
                name, plan, reason, reused = forced, None, f"{forced}: forced", False
            elif op == "forward" and not settings.nonfinite_operands:
                raise ValueError(f"algorithm={forced!r} cannot run forward of {source.describe()}: {mine['reason']}")
            else:
                cands, name, plan, reason, reused = _auto(op, source, lowering, settings, operands, cands)
                reason = f"forced {forced} cannot serve {op} ({_skip_note(mine)}); fell back to {reason}"
        if plan is None:
            plan = registry.get(name).prepare(lowering.spec, settings.workspace_limit)
        if settings.nonfinite_operands:
            reason = f"operands hold NaN/Inf (check_finite=True): {reason}"
    records.add({
        "op": op, "key": f"{source.describe()} t{threads}", "spec": lowering.spec.describe(),
        "mode": "forced" if forced != config.AUTO else settings.mode, "algorithm": name, "reason": reason,
        "candidates": cands, "cache_hit": reused, "duration_s": time.perf_counter() - started,
        "settings": {"workspace_limit": settings.workspace_limit,
                     "tolerance": None if math.isinf(settings.tolerance) else settings.tolerance,
                     "deterministic": settings.deterministic, "time_limit": settings.time_limit},
    })
    return _Entry(plan, lowering)


wisdom.on_change(clear_plans)
