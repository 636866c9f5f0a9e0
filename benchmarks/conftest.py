"""Shared set-up of the pytest-benchmark suite: scaled workloads, markers, idle pause.

The workloads are :data:`lucid.suite.SUITE`; the heavy ones are scaled down
(batch first, then length, never below four receptive fields) to at most
:data:`FLOP_BUDGET` definition FLOPs per forward call, so the whole suite runs
within five minutes on two cores while keeping the channels, kernel size,
stride, dilation and groups that decide which algorithm wins.
"""
from __future__ import annotations

import dataclasses
import time

import pytest

from lucid.bench.measure import Case
from lucid.bench.timing import IDLE_S
from lucid.suite import Workload

#: Largest forward ``direct_flops`` of a benchmark workload.
FLOP_BUDGET = 3.0e8


def scaled(workload: Workload) -> Case:
    """The benchmark case of ``workload``: halve N, then L, until within :data:`FLOP_BUDGET`."""
    while workload.spec().direct_flops > FLOP_BUDGET:
        if workload.n > 1:
            workload = dataclasses.replace(workload, n=workload.n // 2)
        elif workload.length // 2 >= 4 * workload.spec().span:
            workload = dataclasses.replace(workload, length=workload.length // 2)
        else:
            break
    return Case.from_workload(workload)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "quick: the quick subset (workloads marked quick in lucid.suite)")


@pytest.fixture(autouse=True)
def _idle(request: pytest.FixtureRequest) -> None:
    """Pause before each timed benchmark so the previous one's BLAS threads stop spinning."""
    if not request.config.getoption("benchmark_disable", default=False):
        time.sleep(IDLE_S)
