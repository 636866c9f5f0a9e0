"""A tiny shared thread pool for memory-bound NumPy passes.

NumPy ufuncs and BLAS calls release the GIL, so splitting a pass over blocks of
the batch or of tiles lets every core work.  One pool serves the whole process.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Worker threads: the cores this process may run on.
THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="lucid")
    return _pool


def split(total: int, parts: int = THREADS) -> list[tuple[int, int]]:
    """Split ``range(total)`` into at most ``parts`` contiguous ``(lo, hi)`` blocks."""
    parts = max(1, min(parts, total))
    bounds = [total * i // parts for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def parallel_for(total: int, body: Callable[[int, int], None], min_block: int = 1) -> None:
    """Run ``body(lo, hi)`` over blocks of ``range(total)`` on the shared pool.

    Runs inline when there is one block (small ``total`` or one core), so the
    pool costs nothing on small problems.  Exceptions propagate to the caller.
    """
    blocks = split(total, min(THREADS, max(1, total // max(1, min_block))))
    if len(blocks) <= 1:
        for lo, hi in blocks:
            body(lo, hi)
        return
    futures = [_executor().submit(body, lo, hi) for lo, hi in blocks[1:]]
    body(*blocks[0])
    for future in futures:
        future.result()
