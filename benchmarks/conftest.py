"""Shared set-up of the pytest-benchmark suite: the ``quick`` marker and the idle pause."""
from __future__ import annotations

import time

import pytest

from lucid.bench.timing import IDLE_S


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "quick: the quick subset (workloads marked quick in lucid.suite)")


@pytest.fixture(autouse=True)
def _idle(request: pytest.FixtureRequest) -> None:
    """Pause before each timed benchmark so the previous one's BLAS threads stop spinning."""
    if not request.config.getoption("benchmark_disable", default=False):
        time.sleep(IDLE_S)
