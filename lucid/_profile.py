"""Cheap per-op timers for ``lucid-bench --model --profile``: where a step's time goes, without cProfile.

While a :class:`OpProfile` is active (one per process, :func:`profiling`),
:func:`lucid.tensor.track` charges the time since the previous event to the
forward of the op it records (the op's own NumPy work and the Python between
ops), and the autograd engine times each node's backward rule.  Cost when
inactive: one global read per op; when active, one ``perf_counter`` per op.
"""
from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Iterator

#: The profile being recorded, or None (module state on purpose: it is a switch read on the hot path).
active: OpProfile | None = None


class OpProfile:
    """Seconds per op kind, forward and backward, and per named section (e.g. the optimizer)."""

    def __init__(self) -> None:
        self.forward_s: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.backward_s: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.sections_s: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()
        self._last = time.perf_counter()

    def mark(self) -> None:
        """Start charging forward time from now (call before a forward pass)."""
        self._last = time.perf_counter()

    def forward(self, op: str) -> None:
        """Charge the time since the last event to ``op``'s forward."""
        now = time.perf_counter()
        self.forward_s[op] += now - self._last
        self.calls[op] += 1
        self._last = now

    def backward(self, op: str, seconds: float) -> None:
        """Add one backward rule's ``seconds`` to ``op``."""
        self.backward_s[op] += seconds

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Time a block of code (a whole backward(), an optimizer step) under ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.sections_s[name] += time.perf_counter() - start
            self._last = time.perf_counter()


@contextlib.contextmanager
def profiling(profile: OpProfile) -> Iterator[OpProfile]:
    """Make ``profile`` the active one for the block (not re-entrant; one at a time)."""
    global active
    previous, active = active, profile
    profile.mark()
    try:
        yield profile
    finally:
        active = previous
