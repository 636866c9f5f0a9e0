"""Fixtures of the benchmark-CLI tests."""
from __future__ import annotations

import pytest

from lucid import algos
from lucid.algos.planner import wisdom


@pytest.fixture
def planner_state():
    """Drop the wisdom (calibrated constants), plans and records a test made, so later tests see the
    shipped planner."""
    yield
    wisdom.forget()
    algos.clear_plans()
    algos.clear_records()
