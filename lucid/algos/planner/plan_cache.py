"""The plan cache: a two-queue (2Q) cache bounded by plan count and by the bytes plans hold.

A plain LRU bounded by bytes fails both ways round: a loop over many shapes
(variable-length speech, a shape sweep) fills it with plans that are never used
again, and a model whose plans together exceed the bound evicts each plan just
before its next use and re-plans every step.  So, as in 2Q (Johnson & Shasha,
VLDB 1994) and segmented LRU:

* a new plan enters **probation**, bounded by ``probation_bytes`` (1/8 of the
  total by default): shapes seen once cannot pin more than that;
* a hit in probation promotes the plan to **protected**, bounded by the rest;
* a plan evicted from probation leaves its key in a **ghost** list (keys only,
  no memory); a miss on a ghost key is admitted straight to protected, so a
  training step larger than probation is promoted on its second step.

Eviction takes probation's least recently used plan first, then protected's;
the newest plan is always kept, whatever its size.  The class holds no lock:
the planner calls it under its cache lock.  Every operation is O(1) amortised
per plan evicted.
"""
from __future__ import annotations

import collections
import os
from collections.abc import Hashable
from typing import Any, NamedTuple

#: Default number of cached plans.
DEFAULT_CACHE_SIZE = 512
#: The default byte bound never exceeds this (it is 1/8 of the machine's or the
#: container's memory below 8 GiB).  The whole default suite, forward and both
#: backward passes of all 11 workloads, holds ~540 MB of plans (2026-12-03), so a
#: model of that size keeps every plan.
MAX_DEFAULT_CACHE_BYTES = 1 << 30
#: Share of the byte bound that plans used only once may hold.
PROBATION_SHARE = 8
#: Evicted bytes after which the C heap is trimmed (see :func:`lucid.allocator.release_to_os`).
TRIM_AFTER_BYTES = 64 << 20


def memory_limit() -> int | None:
    """Bytes of memory this process may use: physical memory, or the cgroup v2
    limit (``/sys/fs/cgroup/memory.max``) of its container when smaller.  None when unknown."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            text = f.read().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    return min(limits) if limits else None


def default_cache_bytes() -> int:
    """The default byte bound: 1/8 of :func:`memory_limit`, at most :data:`MAX_DEFAULT_CACHE_BYTES`
    (1 GiB on this 24 GiB machine, 512 MiB in a 4 GiB container)."""
    limit = memory_limit()
    return MAX_DEFAULT_CACHE_BYTES if limit is None else max(64 << 20, min(MAX_DEFAULT_CACHE_BYTES, limit // 8))


class Cached(NamedTuple):
    """One cached value with the bytes it holds and a label to account them by (the algorithm)."""

    value: Any
    nbytes: int
    label: str


class PlanCache:
    """A 2Q cache of plans; see the module docstring.

    Parameters
    ----------
    capacity : int
        Most plans kept (both segments together).
    max_bytes : int
        Most bytes the plans hold together; ``max_bytes // PROBATION_SHARE`` of
        them for plans used once.
    """

    def __init__(self, capacity: int = DEFAULT_CACHE_SIZE, max_bytes: int | None = None) -> None:
        self._probation: collections.OrderedDict[Hashable, Cached] = collections.OrderedDict()
        self._protected: collections.OrderedDict[Hashable, Cached] = collections.OrderedDict()
        self._ghosts: collections.OrderedDict[Hashable, None] = collections.OrderedDict()
        self._bytes = {"probation": 0, "protected": 0}
        self.capacity = capacity
        self.max_bytes = default_cache_bytes() if max_bytes is None else max_bytes
        self.evicted_bytes = 0          # since the last :meth:`take_evicted_bytes`
        self._last: Hashable | None = None      # the most recently used key, never evicted

    def __len__(self) -> int:
        return len(self._probation) + len(self._protected)

    @property
    def probation_bytes(self) -> int:
        """The bound of the probation segment."""
        return self.max_bytes // PROBATION_SHARE

    def get(self, key: Hashable) -> Any:
        """The value of ``key`` or None; a hit in probation promotes it to protected."""
        item = self._protected.get(key)
        if item is not None:
            self._protected.move_to_end(key)
            self._last = key
            return item.value
        item = self._probation.pop(key, None)
        if item is None:
            return None
        self._bytes["probation"] -= item.nbytes
        self._insert("protected", key, item)
        return item.value

    def put(self, key: Hashable, value: Any, nbytes: int, label: str) -> None:
        """Add a new plan (to protected if ``key`` was recently evicted from probation) and evict."""
        segment = "protected" if self._ghosts.pop(key, 0) is None else "probation"
        self._insert(segment, key, Cached(value, nbytes, label))

    def replace(self, key: Hashable, value: Any, nbytes: int, label: str) -> None:
        """Put ``value`` in place of ``key``'s value, in its segment (a plain put if absent)."""
        for segment in ("probation", "protected"):
            old = getattr(self, "_" + segment).pop(key, None)
            if old is not None:
                self._bytes[segment] -= old.nbytes
                self._insert(segment, key, Cached(value, nbytes, label))
                return
        self.put(key, value, nbytes, label)

    def peek(self, key: Hashable) -> Any:
        """The value of ``key`` or None, without touching the recency order."""
        item = self._protected.get(key) or self._probation.get(key)
        return None if item is None else item.value

    def _insert(self, segment: str, key: Hashable, item: Cached) -> None:
        getattr(self, "_" + segment)[key] = item
        self._bytes[segment] += item.nbytes
        self._last = key
        self._evict()

    def _victim(self, segment: str) -> Hashable | None:
        """The least recently used key of ``segment`` other than the most recently used one."""
        for key in getattr(self, "_" + segment):
            if key != self._last:
                return key
        return None

    def _evict(self) -> None:
        while True:
            total = self._bytes["probation"] + self._bytes["protected"]
            over = len(self) > self.capacity or total > self.max_bytes
            for segment, needed in (("probation", over or self._bytes["probation"] > self.probation_bytes),
                                    ("protected", over)):
                key = self._victim(segment) if needed else None
                if key is not None:
                    self._drop(segment, key)
                    break
            else:
                return

    def _drop(self, segment: str, key: Hashable) -> None:
        item = getattr(self, "_" + segment).pop(key)
        self._bytes[segment] -= item.nbytes
        self.evicted_bytes += item.nbytes
        if segment == "probation":
            self._ghosts[key] = None
            while len(self._ghosts) > self.capacity:
                self._ghosts.popitem(last=False)

    def values(self) -> list[Any]:
        """Every cached value, probation's first, each in least-recently-used order."""
        return [item.value for segment in (self._probation, self._protected) for item in segment.values()]

    def resize(self, capacity: int, max_bytes: int) -> None:
        """New bounds, evicting at once what exceeds them."""
        self.capacity, self.max_bytes = capacity, max_bytes
        self._evict()

    def clear(self) -> None:
        """Drop every plan and ghost."""
        for segment in ("probation", "protected"):
            for item in getattr(self, "_" + segment).values():
                self.evicted_bytes += item.nbytes
            getattr(self, "_" + segment).clear()
            self._bytes[segment] = 0
        self._ghosts.clear()

    def take_evicted_bytes(self) -> int:
        """Bytes evicted since the last call (and reset the count)."""
        evicted, self.evicted_bytes = self.evicted_bytes, 0
        return evicted

    def info(self) -> dict:
        """Sizes and bounds, with plans and bytes per label (algorithm)."""
        by_label: dict[str, dict[str, int]] = {}
        for segment in (self._probation, self._protected):
            for item in segment.values():
                row = by_label.setdefault(item.label, {"plans": 0, "bytes": 0})
                row["plans"] += 1
                row["bytes"] += item.nbytes
        return {"size": len(self), "capacity": self.capacity,
                "bytes": self._bytes["probation"] + self._bytes["protected"], "max_bytes": self.max_bytes,
                "probation": {"plans": len(self._probation), "bytes": self._bytes["probation"],
                              "max_bytes": self.probation_bytes},
                "protected": {"plans": len(self._protected), "bytes": self._bytes["protected"]},
                "by_algorithm": dict(sorted(by_label.items()))}


