"""A scope in which the BLAS libraries of the process run on the calling thread only.

For code that splits its GEMMs over the thread pool itself (im2col's chunks,
fft's mixing): OpenBLAS workers spin-wait and stall whenever one is
descheduled (docs/tuning.md: BLAS threads).  The libraries are
found and driven by :mod:`threadpoolctl`; its controller is created once, at
import (after NumPy and SciPy have loaded their BLAS).

The count is process-wide, so the scope is reference-counted: the first thread
to enter sets 1, the last to leave restores the saved counts; other BLAS calls
made meanwhile run single-threaded (still correct).  The plans enter it on the
thread that calls them, never on pool threads.  Without a BLAS that
threadpoolctl can drive, the scope does nothing.

Caveat: threadpoolctl's public setter lets only one Python thread ever change
a pthreads OpenBLAS (the first to do so; others are silently ignored), which
would leave the count at 1 when the last thread out is another one.  The scope
therefore calls the controller's unguarded setter where it has one.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np  # noqa: F401  (loads NumPy's BLAS before the controller looks for it)
import scipy.linalg  # noqa: F401  (and SciPy's)
from threadpoolctl import ThreadpoolController

#: threadpoolctl's handles of the BLAS libraries loaded at import (found once: ~6 ms).
_LIBRARIES = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()


def _set(library, count: int) -> None:
    """Set ``library``'s thread count from whichever thread calls (see the caveat above)."""
    getattr(library, "_real_set_num_threads", library.set_num_threads)(count)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run the body with every BLAS library limited to one thread (nestable, thread-safe).

    Cost: one get and one set per library on the first entry and one set per
    library on the last exit (threadpoolctl's ctypes calls, about 4 µs per
    library per enter/exit pair); nested or overlapping entries cost a lock.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = tuple(library.num_threads for library in _LIBRARIES)
            for library in _LIBRARIES:
                _set(library, 1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for library, count in zip(_LIBRARIES, _saved):
                    _set(library, count)
