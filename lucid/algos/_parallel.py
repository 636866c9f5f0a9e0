"""A tiny shared thread pool for memory-bound NumPy passes, and lucid's thread count.

NumPy ufuncs and BLAS calls release the GIL, so splitting a pass over blocks of
the batch or of tiles lets every core work.  One pool serves the whole process;
its size is :func:`get_num_threads` (the cores this process may run on, unless
:func:`set_num_threads` says otherwise, as ``torch.set_num_threads`` does).
Plans split their work for the count in force when they were built, and the
planner keys its plans by it, so a change takes effect on the next new plan.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .._errors import check_int


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class _Pool:
    """The thread count and the executor sized for it (created on first use, replaced on a change)."""

    def __init__(self) -> None:
        self.threads = available_cores()
        self.executor: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="lucid")
            return self.executor

    def resize(self, threads: int) -> None:
        """Use ``threads`` from now on; the old executor is dropped, not shut down, so a pass
        that already holds it finishes there (its idle workers exit once it is collected)."""
        with self.lock:
            if threads != self.threads:
                self.threads, self.executor = threads, None


_POOL = _Pool()


def get_num_threads() -> int:
    """The number of threads lucid's convolutions split their work over.

    Examples
    --------
    >>> import lucid
    >>> lucid.get_num_threads() >= 1
    True
    """
    return _POOL.threads


def set_num_threads(n: int) -> None:
    """Split convolutions over ``n`` threads from now on (like ``torch.set_num_threads``).

    Parameters
    ----------
    n : int
        Threads, at least 1.  The default is the number of cores the process may
        run on (its CPU affinity).

    Notes
    -----
    Plans are built for a thread count and cached per count, so plans and
    planner decisions made under another count are not reused; wisdom keeps
    decisions per count too.  BLAS libraries keep their own thread settings.
    """
    _POOL.resize(check_int("set_num_threads", "n", n, 1))


#: Old spelling of :func:`get_num_threads`, for algorithms' default arguments.
num_threads = get_num_threads


def split(total: int, parts: int | None = None) -> list[tuple[int, int]]:
    """Split ``range(total)`` into at most ``parts`` (default: the thread count) contiguous ``(lo, hi)`` blocks."""
    parts = max(1, min(get_num_threads() if parts is None else parts, total))
    bounds = [total * i // parts for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def parallel_for(total: int, body: Callable[[int, int], None], min_block: int = 1) -> None:
    """Run ``body(lo, hi)`` over blocks of ``range(total)`` on the shared pool.

    Runs inline when there is one block (small ``total`` or one thread), so the
    pool costs nothing on small problems.  Exceptions propagate to the caller.
    """
    blocks = split(total, min(get_num_threads(), max(1, total // max(1, min_block))))
    if len(blocks) <= 1:
        for lo, hi in blocks:
            body(lo, hi)
        return
    executor = _POOL.get()
    futures = [executor.submit(body, lo, hi) for lo, hi in blocks[1:]]
    body(*blocks[0])
    for future in futures:
        future.result()
