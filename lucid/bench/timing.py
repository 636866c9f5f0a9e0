"""Timing several callables on a noisy, shared machine: blocks of calls, or single calls interleaved.

:func:`block_timing` times blocks of back-to-back calls of one method (how a
layer is used: ``lucid-bench``, ``lucid-bench --model``), :func:`interleaved`
single calls (the planner-regret harness).

Each method is called once to warm up (plans, FFTW wisdom, caches), then the
methods are timed in rounds — one block (or call) of every method per round,
in a rotated order — back to back, except for an idle pause after the methods
named as spinning (a peer like PyTorch, whose OpenMP workers keep spinning
after a call and would steal a core from the next one).  Interleaving spreads
slow drifts of the machine (other processes, frequency) over all methods
alike; a pause before every call makes calls slower and noisier (docs/tuning.md:
bench pauses).  The figure to trust is a method's time relative to its peers
in the same round (the median of per-round ratios), never a lone absolute time.

Allocator state.  glibc serves blocks from 128 KiB up to its dynamic mmap
threshold with fresh mmaps, so every call that allocates such an output
page-faults it; once the process frees an mmapped block larger than the
threshold, the threshold rises (to at most 32 MiB) and those blocks come from
the heap, already mapped.  PyTorch's CPU tensors and NumPy's arrays both use
glibc's malloc, so whichever side runs after some large free is measured warm
and the other cold (torch's dense_k3_L4096 forward: 12 ms cold, 5.4 ms warm).
:func:`raise_mmap_threshold` allocates, touches and frees :data:`WARM_BYTES`
(64 MiB) first, which puts the threshold at its maximum for every method of
the process before anything is timed.
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
                 time_limit_s: float = math.inf, cap_s: float = math.inf,
                 warmup_s: Mapping[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """Per-call seconds of each method in each round, timed in blocks (see the module doc).

    Parameters
    ----------
    methods : dict of name -> zero-argument callable
        Warm calls to compare (call each once first); each does the same work every time.
    rounds : int
        Rounds to time (at least 1); each times one block of every method, the
        order rotated by one method per round.
    min_block_s : float
        A block is ``ceil(min_block_s / t)`` back-to-back calls, ``t`` being the
        faster of (usually) two sizing calls per method; its per-call time is
        the block's time / calls.
    spinning, idle_s : sequence of str, float
        Sleep ``idle_s`` after every block (and sizing call) of these methods.
    min_rounds, time_limit_s : int, float
        After ``min_rounds`` rounds, no new round starts once ``time_limit_s``
        have passed (the machine got slower than the warm-up promised).
    cap_s, warmup_s : float, mapping of name -> seconds, optional
        A method two of whose calls took longer than ``cap_s`` (its warm-up
        call ``warmup_s[name]`` counts; planning included) gets no blocks: its
        faster sizing call is its only sample (``capped``).  A hopeless method
        (direct at K=1025) then costs one sizing call after its warm-up, not
        ``rounds`` blocks, while one slow call (a spike of the shared machine)
        caps nothing.

    Returns
    -------
    dict of name -> ``{"calls_per_block": int, "per_call_s": [one per round], "capped": bool}``

    Notes
    -----
    Cost: about ``rounds * max(min_block_s, t)`` per method plus
    ``idle_s * rounds * len(spinning)``.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be a positive int, got {rounds!r}")
    calls: dict[str, int] = {}
    per_call: dict[str, list[float]] = {name: [] for name in methods}
    capped: dict[str, dict[str, Any]] = {}
    for name, fn in methods.items():
        over = int((warmup_s or {}).get(name, 0.0) > cap_s)
        sizing: list[float] = []
        while len(sizing) < 2 and over < 2:     # two sizing calls, or until two calls exceeded the cap
            sizing.append(clock(fn)[0])
            over += sizing[-1] > cap_s
        calls[name] = max(1, math.ceil(min_block_s / max(min(sizing), 1e-9)))
        if name in spinning:
            time.sleep(idle_s)
        if over >= 2:
            capped[name] = capped_timing(min(sizing))
    names = [name for name in methods if name not in capped]
    start_all = time.perf_counter()
    for r in range(rounds if names else 0):
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
    return {name: capped.get(name) or {"calls_per_block": calls[name], "per_call_s": per_call[name], "capped": False}
            for name in methods}


def capped_timing(seconds: float) -> dict[str, Any]:
    """A :func:`block_timing` entry for a method timed by one call of ``seconds`` only (``capped``)."""
    return {"calls_per_block": 1, "per_call_s": [seconds], "capped": True}


def round_ratios(mine: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of per-round ratios ``mine[r] / theirs[r]`` of two :func:`block_timing` series.

    When either side was capped (one sample), rounds do not pair up and the
    ratio of medians is returned instead.
    """
    if len(mine) == len(theirs) > 1:
        return statistics.median(a / b for a, b in zip(mine, theirs))
    return statistics.median(mine) / statistics.median(theirs)
