"""A scope in which NumPy's OpenBLAS runs on the calling thread only.

For code that splits its GEMMs over the thread pool itself (im2col's chunks).
Measured on the 2-core dev machine (2026-11-26) under load from other
processes, 32 GEMMs of (256x768)@(768x512): 678 ms with OpenBLAS's 2 threads,
151 ms with 1 thread, 145 ms with 1 thread on each of the 2 pool threads --
OpenBLAS workers spin-wait and stall whenever one is descheduled.  Quiet, the
pool-split single-threaded GEMMs match OpenBLAS's own threading.

The count is process-wide, so the scope is reference-counted: the first thread
to enter sets 1, the last to leave restores the saved count; other BLAS calls
made meanwhile run single-threaded (still correct).  Without a NumPy OpenBLAS
that exports the setter, the scope does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from typing import Iterator

import numpy as np

#: (setter, getter) symbol pairs of the OpenBLAS builds NumPy wheels ship.
_SYMBOLS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
            ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
            ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
            ("openblas_set_num_threads", "openblas_get_num_threads"))
_lock = threading.Lock()
_depth = 0
_saved = 1


def _load_controls():
    """``(set, get)`` of the OpenBLAS bundled with NumPy, or None."""
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs", "*openblas*")
    for path in glob.glob(libs):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in _SYMBOLS:
            if hasattr(lib, setter) and hasattr(lib, getter):
                set_threads, get_threads = getattr(lib, setter), getattr(lib, getter)
                set_threads.argtypes, set_threads.restype = [ctypes.c_int], None
                get_threads.argtypes, get_threads.restype = [], ctypes.c_int
                return set_threads, get_threads
    return None


_controls = _load_controls()


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run the body with OpenBLAS limited to one thread (nestable, thread-safe).

    Cost: two library calls on the first entry and the last exit (~1 µs).
    """
    global _depth, _saved
    if _controls is None:
        yield
        return
    set_threads, get_threads = _controls
    with _lock:
        if _depth == 0:
            _saved = get_threads()
            set_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                set_threads(_saved)
