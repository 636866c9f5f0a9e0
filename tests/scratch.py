"""How much per-thread scratch (lucid.algos.base.thread_scratch) one run of a plan borrows."""
from __future__ import annotations

import threading

import numpy as np

from lucid.algos import base


def scratch_of_run(monkeypatch, module, plan, *operands) -> tuple[int, np.ndarray]:
    """Scratch bytes one ``plan.run(*operands)`` borrows through ``module.thread_scratch``
    (the largest request per thread and buffer name, summed over both), and its output."""
    largest, lock = {}, threading.Lock()

    def recording(name, count, dtype):
        with lock:
            key = (threading.get_ident(), name)
            largest[key] = max(largest.get(key, 0), count * np.dtype(dtype).itemsize)
        return base.thread_scratch(name, count, dtype)

    monkeypatch.setattr(module, "thread_scratch", recording)
    try:
        y = plan.run(*operands)
    finally:
        monkeypatch.undo()
    return sum(largest.values()), y
