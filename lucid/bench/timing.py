"""Timing several callables on a noisy, shared machine: interleaved calls or blocks.

:func:`block_timing` times blocks of back-to-back calls (how a layer is used;
see :mod:`lucid.bench.model_step`), :func:`interleaved` single calls.

Each method is called once to warm up (plans, FFTW wisdom, caches), then the
methods are timed in rounds — one call of every method per round, in a rotated
order — back to back, except for an idle pause after the methods named as
spinning (a peer like PyTorch, whose OpenMP workers keep spinning after a call
and would steal a core from the next one).  Interleaving spreads slow drifts
of the machine (other processes, frequency) over all methods alike; a pause
before every call makes calls slower and noisier (docs/tuning.md: bench
pauses).  The figure to trust is the median
of a method relative to its peers in the same run, never a lone absolute time.
"""
from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Pause after a spinning method's call or block, seconds (OpenMP/OpenBLAS workers spin ~0.1 s).
IDLE_S = 0.15
#: Size of the array allocated and freed first to raise glibc's mmap threshold (the maximum is 32 MiB).
WARM_BYTES = 64 << 20


@dataclass(frozen=True)
class Timing:
    """Timed calls of one method: all samples in seconds (at least one), plus the warm-up call."""

    samples: tuple[float, ...]
    warmup_s: float

    @property
    def median_s(self) -> float:
        """Median of the timed calls."""
        return statistics.median(self.samples)

    @property
    def min_s(self) -> float:
        """Fastest timed call."""
        return min(self.samples)


def clock(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time of one call of ``fn`` in seconds (``time.perf_counter``), and its result."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def interleaved(methods: Mapping[str, Callable[[], object]], repeats: int, *, cap_s: float = float("inf"),
                idle_s: float = IDLE_S, spinning: Collection[str] = (),
                on_warmup: Callable[[str, object], None] | None = None) -> dict[str, Timing]:
    """Time every method ``repeats`` times, interleaved, after one warm-up call each.

    Parameters
    ----------
    methods : mapping of name -> zero-argument callable
        The calls to compare; each must do the same work every time.
    repeats : int
        Timed rounds (at least 1).
    cap_s : float
        A method whose warm-up and first timed call both took longer than
        ``cap_s`` is timed in that round only, so a hopeless method costs two
        calls, not ``repeats + 1`` (two, because the warm-up includes planning
        and either call may have been slowed by another process).
    idle_s : float
        Sleep before a timed call that follows a call of a ``spinning`` method.
    spinning : collection of str
        Methods whose worker threads keep a core busy after they return.
    on_warmup : callable, optional
        Called as ``on_warmup(name, result)`` after each warm-up call, to check
        the result and report progress.

    Returns
    -------
    dict of name -> :class:`Timing`

    Notes
    -----
    Cost: ``sum(calls) * (repeats + 1) + idle_s * repeats * len(spinning)``.
    Round ``r`` starts at method ``r mod len(methods)`` so no method always
    follows the same neighbour.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    warm: dict[str, float] = {}
    for name, fn in methods.items():
        warm[name], value = clock(fn)
        if on_warmup is not None:
            on_warmup(name, value)
    samples: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    previous = names[-1]
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            if r > 0 and min(warm[name], samples[name][0]) > cap_s:
                continue
            if previous in spinning:
                time.sleep(idle_s)
            samples[name].append(clock(methods[name])[0])
            previous = name
    return {name: Timing(tuple(samples[name]), warm[name]) for name in names}


def raise_mmap_threshold(nbytes: int = WARM_BYTES) -> None:
    """Allocate, touch and free ``nbytes``: glibc then keeps mid-sized blocks on its heap (see the module doc)."""
    block = np.ones(nbytes // 8)
    del block


def block_timing(methods: dict[str, Callable[[], Any]], rounds: int, *, min_block_s: float = 0.05,
                 spinning: Sequence[str] = ("torch",), idle_s: float = IDLE_S, min_rounds: int = 5,
                 time_limit_s: float = math.inf) -> dict[str, dict[str, Any]]:
    """Per-call seconds of each method in each round, timed in blocks (see the module doc).

    The methods must be warm.  One untimed call each sizes the blocks.  After
    ``min_rounds`` rounds, no new round starts once ``time_limit_s`` have
    passed (the machine got slower than the warm-up promised).
    Returns ``{name: {"calls_per_block": int, "per_call_s": [one per round]}}``.
    """
    calls = {}
    for name, fn in methods.items():
        start = time.perf_counter()
        fn()
        calls[name] = max(1, math.ceil(min_block_s / max(time.perf_counter() - start, 1e-9)))
        if name in spinning:
            time.sleep(idle_s)
    per_call: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    start_all = time.perf_counter()
    for r in range(rounds):
        if r >= min_rounds and time.perf_counter() - start_all > time_limit_s:
            break
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn, n = methods[name], calls[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            per_call[name].append((time.perf_counter() - start) / n)
            if name in spinning:
                time.sleep(idle_s)
    return {name: {"calls_per_block": calls[name], "per_call_s": per_call[name]} for name in names}
