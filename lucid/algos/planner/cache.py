"""The plan cache and the hot path: every convolution goes through :func:`execute`.

Every call resolves its settings (:func:`lucid.algos.planner.config.settings`,
one context-variable read) and looks up the plan for the key ``(op, spec,
settings, threads)`` in a two-queue cache bounded by count and by the bytes
its plans hold (:mod:`lucid.algos.planner.plan_cache`, :func:`set_cache_size`,
:meth:`~lucid.algos.base.Plan.held_bytes`).  After every
:data:`~lucid.algos.planner.plan_cache.TRIM_AFTER_BYTES` of evicted plans, large
per-thread scratch is dropped and the C heap is trimmed, so the memory goes
back to the operating system.
On a miss :func:`lucid.algos.planner.decision.decide` decides, builds the
winner's plan and records the decision.

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

import threading
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..._errors import bad_type, check_int
from ...allocator import release_to_os
from .._parallel import THREADS
from ..base import Plan
from ..lowering import Lowering
from ..scratch import release_scratch, scratch_bytes
from ..spec import ConvSpec
from . import config, wisdom
from .decision import Operands, decide
from .plan_cache import TRIM_AFTER_BYTES, PlanCache


class _Entry:
    """A cached plan with the lowering around it."""

    __slots__ = ("plan", "lowering", "algorithm", "local_nonfinite", "nbytes")

    def __init__(self, plan: Plan, lowering: Lowering) -> None:
        self.plan, self.lowering = plan, lowering
        self.algorithm = plan.algorithm.name
        self.local_nonfinite = plan.algorithm.local_nonfinite
        self.nbytes = plan.held_bytes()

    def run(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The derived problem's raw output (before ``lowering.result``).

        NumPy's floating-point warnings are silenced: NaN/Inf operands are
        handled by :func:`execute`, as in PyTorch, without RuntimeWarnings.
        """
        with np.errstate(all="ignore"):
            return self.plan.run(*self.lowering.operands(a, b))


_cache = PlanCache()
_inflight: dict[tuple, Future] = {}
_cache_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def execute(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray, algorithm: str | None = None) -> np.ndarray:
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
    """Drop every cached plan (decisions in wisdom and records are kept) and give
    their memory back to the operating system."""
    with _cache_lock:
        _cache.clear()
        _cache.take_evicted_bytes()
    release_scratch()
    release_to_os()


def set_cache_size(n: int, max_bytes: int | None = None) -> None:
    """Keep at most ``n`` plans holding at most ``max_bytes`` together.

    Bytes are those of :meth:`~lucid.algos.base.Plan.held_bytes` (buffers and
    cached weight transforms).  ``max_bytes=None`` keeps the current bound; the
    default is :func:`~lucid.algos.planner.plan_cache.default_cache_bytes`: 1/8
    of the machine's (or the container's) memory, at most 1 GiB.  Plans used
    once may hold only 1/8 of it; :mod:`lucid.algos.planner.plan_cache` gives
    the eviction order.  The most recently used plan is always kept.
    """
    n = check_int("set_cache_size", "n", n, 1)
    max_bytes = None if max_bytes is None else check_int("set_cache_size", "max_bytes", max_bytes, 1)
    with _cache_lock:
        _cache.resize(n, _cache.max_bytes if max_bytes is None else max_bytes)
    _trim_if_due()


def cache_info() -> dict[str, Any]:
    """What the plan cache holds: ``hits``, ``misses``, ``size``, ``capacity``, ``bytes``,
    ``max_bytes``, its ``probation`` and ``protected`` segments, ``by_algorithm`` (plans
    and bytes per algorithm) and ``scratch_bytes`` (per-thread scratch of all threads)."""
    with _cache_lock:
        return {**_stats, **_cache.info(), "scratch_bytes": scratch_bytes()}


def _trim_if_due() -> None:
    """Once enough plan bytes were evicted, drop large scratch and trim the C heap (outside the lock)."""
    with _cache_lock:
        due = _cache.evicted_bytes >= TRIM_AFTER_BYTES
        if due:
            _cache.take_evicted_bytes()
    if due:
        release_scratch()
        release_to_os()


def _entry(key: tuple, operands: Operands | None) -> _Entry:
    """The cached entry of ``key``, planning it once if absent (other callers wait)."""
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None:
            _stats["hits"] += 1
            return entry
        future = _inflight.get(key)
        owner = future is None
        if owner:
            future = _inflight[key] = Future()
            _stats["misses"] += 1
    assert future is not None
    if not owner:
        return future.result()
    try:
        op, spec, settings, threads = key
        entry = _Entry(*decide(op, spec, settings, threads, operands))
    except BaseException as exc:
        with _cache_lock:
            del _inflight[key]
        future.set_exception(exc)
        raise
    with _cache_lock:
        _cache.put(key, entry, entry.nbytes, entry.algorithm)
        del _inflight[key]
    future.set_result(entry)
    _trim_if_due()
    return entry


wisdom.on_change(clear_plans)
