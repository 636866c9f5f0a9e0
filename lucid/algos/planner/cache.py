"""The plan cache and the hot path: every convolution goes through :func:`execute`.

Every call resolves its settings (:func:`lucid.algos.planner.config.settings`,
one context-variable read) and looks up the plan for the key ``(op, spec,
settings, threads)`` in an LRU cache bounded by count and by the bytes its
plans hold (:func:`set_cache_size`, :meth:`~lucid.algos.base.Plan.held_bytes`).
On a miss :func:`lucid.algos.planner.decision.decide` decides, builds the
winner's plan and records the decision.

Concurrency: the cache is guarded by one lock held only for dictionary work;
a key being planned has a future that other callers of the same key wait on,
so nothing is planned twice; all plan creation and measuring is serialised by
one planning lock (FFTW's planner is not thread-safe, and concurrent timing
would be meaningless).  A run takes no lock here: each plan serialises its own
runs (its buffers are reused), so a cached call takes two locks in all (the
cache's and the plan's).  A cache hit costs a settings read, a dict lookup and
the operand re-layout of its op (see ``benchmarks/cached_call_overhead.py``).
"""
from __future__ import annotations

import collections
import threading
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..._errors import bad_type, check_int
from .._parallel import THREADS
from ..base import Plan
from ..lowering import Lowering, lower
from ..spec import ConvSpec
from . import config, wisdom
from .decision import Operands, decide

#: Default number of cached plans.
DEFAULT_CACHE_SIZE = 512
#: Default bound on the bytes the cached plans hold (:meth:`Plan.held_bytes`): an fft plan
#: keeps its buffers and kernel spectrum (10-350 MB on the suite), so a loop over many
#: lengths would otherwise keep gigabytes alive.
DEFAULT_CACHE_BYTES = 2 << 30


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


_cache: collections.OrderedDict[tuple, _Entry] = collections.OrderedDict()
_inflight: dict[tuple, Future] = {}
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


def cache_info() -> dict[str, Any]:
    """``{"hits", "misses", "size", "capacity", "bytes", "max_bytes"}`` of the plan cache."""
    with _cache_lock:
        return {**_stats, "size": len(_cache), "capacity": _capacity, "bytes": _held, "max_bytes": _max_bytes}


def _evict() -> None:
    """Drop least recently used plans beyond the count or byte bound (caller holds the lock)."""
    global _held
    while len(_cache) > _capacity or (_held > _max_bytes and len(_cache) > 1):
        _, entry = _cache.popitem(last=False)
        _held -= entry.nbytes


def _entry(key: tuple, operands: Operands | None) -> _Entry:
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
    assert future is not None
    if not owner:
        return future.result()
    try:
        op, spec, settings, threads = key
        lowering = lower(op, spec)
        entry = _Entry(decide(lowering, settings, threads, operands), lowering)
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


wisdom.on_change(clear_plans)
