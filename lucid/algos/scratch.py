"""Per-thread scratch: the temporary buffers of a run, borrowed instead of owned by plans.

Each thread keeps one buffer per name, so a new shape's plan neither
allocates nor page-faults its scratch (docs/tuning.md: thread scratch), and
the plan cache does not hold a copy per shape.  Bounded three ways, so a thread does not keep its high-water
mark forever:

* a buffer **shrinks** when the largest of its last :data:`SHRINK_AFTER`
  requests needed less than 1/:data:`SHRINK_RATIO` of it (above
  :data:`SHRINK_FLOOR`), to that largest request; a run whose blocks ask for
  different sizes, or alternating large and small shapes, do not thrash;
* :func:`release_scratch` drops every thread's buffers above the floor (the
  planner calls it when it returns evicted plans' memory to the OS); a thread
  in the middle of a run keeps the views it holds, so this is safe at any time;
* :func:`scratch_bytes` reports the total over live threads (``cache_info()``).

Cost of a request: two dict look-ups and a view.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

#: A buffer at least this many times larger than the request counts as too large.
SHRINK_RATIO = 4
#: ... for this many requests in a row before it is shrunk.
SHRINK_AFTER = 8
#: Buffers up to this size are never shrunk or released (not worth a page fault).
SHRINK_FLOOR = 1 << 20


class _Store:
    """One thread's buffers and, per name, the requests of the current window: ``[count, largest]``."""

    __slots__ = ("buffers", "windows", "__weakref__")

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}
        self.windows: dict[str, list[int]] = {}


_local = threading.local()
_stores: weakref.WeakSet[_Store] = weakref.WeakSet()      # every live thread's store
_stores_lock = threading.Lock()


def _store() -> _Store:
    store = getattr(_local, "store", None)
    if store is None:
        store = _local.store = _Store()
        with _stores_lock:
            _stores.add(store)
    return store


def thread_scratch(name: str, count: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D buffer of ``count`` items of ``dtype``, private to the calling thread.

    The contents are valid until the calling thread's next request of the same
    ``name``.  Workspace accounting is unchanged: plans still report this
    scratch, and no run borrows more than its plan reports.
    """
    nbytes = count * np.dtype(dtype).itemsize
    store = _store()
    buffer = store.buffers.get(name)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = store.buffers[name] = np.empty(nbytes, np.uint8)
        store.windows[name] = [0, 0]
    elif buffer.nbytes > SHRINK_FLOOR:
        window = store.windows.setdefault(name, [0, 0])
        window[0] += 1
        window[1] = max(window[1], nbytes)
        if window[0] >= SHRINK_AFTER:
            if window[1] * SHRINK_RATIO < buffer.nbytes:
                buffer = store.buffers[name] = np.empty(window[1], np.uint8)
            window[0] = window[1] = 0
    return buffer[:nbytes].view(dtype)


def release_scratch(above: int = SHRINK_FLOOR) -> None:
    """Drop every thread's scratch buffers larger than ``above`` bytes (they are re-made on demand)."""
    with _stores_lock:
        stores = list(_stores)
    for store in stores:
        for name, buffer in list(store.buffers.items()):
            if buffer.nbytes > above:
                store.buffers.pop(name, None)


def scratch_bytes() -> int:
    """Bytes of scratch held by all live threads."""
    with _stores_lock:
        stores = list(_stores)
    return sum(b.nbytes for store in stores for b in list(store.buffers.values()))
