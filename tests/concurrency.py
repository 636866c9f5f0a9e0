"""Shared check: one plan run from several threads gives exactly its sequential results."""
from __future__ import annotations

import threading

import numpy as np


def assert_concurrent_runs_match(plan, cases, rounds: int = 20) -> None:
    """Run ``plan`` on each ``(x, w)`` of ``cases`` from its own thread ``rounds`` times;
    every result must equal the sequential one bitwise (plans own their buffers)."""
    wants = [plan.run(x, w) for x, w in cases]
    mismatches: list[bool] = []

    def worker(i: int) -> None:
        for _ in range(rounds):
            mismatches.append(not np.array_equal(plan.run(*cases[i]), wants[i]))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(mismatches) == rounds * len(cases) and not any(mismatches)
