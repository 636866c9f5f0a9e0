"""lucid.set_num_threads / get_num_threads: the pool's size, plans keyed by it, bad values named."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import num_threads, operands
from planner_fakes import reset_planner
from reference import conv1d_ref

import lucid
import lucid.algos as algos
from lucid.algos import _parallel
from lucid.algos.spec import ConvSpec

SPEC = ConvSpec(4, 4, 4, 512, 3, 1, (1, 1), 1, 1, "float64")


def test_default_is_the_cores_this_process_may_run_on():
    assert lucid.get_num_threads() == _parallel.available_cores() >= 1


@pytest.mark.parametrize("n", [1, 3])
def test_plans_are_made_per_thread_count_and_results_stay_correct(n):
    reset_planner()
    x, w = operands(SPEC)
    want = conv1d_ref(x, w, padding=1)
    with algos.use("direct"):
        np.testing.assert_allclose(algos.execute("forward", SPEC, x, w), want, rtol=1e-12, atol=1e-12)
        with num_threads(n):
            assert lucid.get_num_threads() == n
            np.testing.assert_allclose(algos.execute("forward", SPEC, x, w), want, rtol=1e-12, atol=1e-12)
            assert algos.records()[-1]["key"].endswith(f" t{n}")
            blocks = _parallel.split(100)
            assert len(blocks) == min(n, 100) and blocks[0][0] == 0 and blocks[-1][1] == 100
    assert algos.cache_info()["size"] == 2        # one plan per thread count
    reset_planner()


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", None, True])
def test_bad_counts_name_the_argument(bad):
    with pytest.raises((TypeError, ValueError), match="set_num_threads"):
        lucid.set_num_threads(bad)
