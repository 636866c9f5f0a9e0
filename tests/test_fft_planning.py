"""FFTW planning is counted: a cached fft plan is planned once when built, re-planned once with
FFTW_MEASURE after ``MEASURE_AFTER`` runs, and never again however often it runs.

Planted bug this catches (issue #17): re-planning with FFTW_MEASURE on every run after the 8th
(correct results, silently slow).  Tested from outside: ``pyfftw.FFTW`` construction is wrapped.
"""
from __future__ import annotations

import numpy as np
import pyfftw
import pytest

import lucid
import lucid.algos
import lucid.nn.functional as F
from lucid.algos import fft as fft_module

RUNS = 40


@pytest.fixture
def fftw_constructions(monkeypatch):
    """A list that gets one entry (the flags) per ``pyfftw.FFTW`` plan built while the test runs."""
    calls: list[tuple[str, ...]] = []
    real = pyfftw.FFTW

    def counting(*args, **kwargs):
        calls.append(tuple(kwargs.get("flags", ())))
        return real(*args, **kwargs)
    monkeypatch.setattr(pyfftw, "FFTW", counting)
    return calls


def _counts_per_run(run, calls) -> list[int]:
    counts = []
    for _ in range(RUNS):
        run()
        counts.append(len(calls))
    return counts


def _assert_planned_once_then_measured_once(counts: list[int], built: int) -> None:
    after = fft_module.MEASURE_AFTER
    assert built > 0, "the wrapper saw no FFTW plan being built"
    assert counts[after - 2] == built, f"plans built during the first {after - 1} runs: {counts[:after]}"
    assert counts[after - 1] > built, "no FFTW_MEASURE re-plan after MEASURE_AFTER runs"
    assert counts[after - 1] - built <= built, "the re-plan built more plans than the plan has"
    assert counts[-1] == counts[after - 1], (
        f"FFTW plans built on runs after the re-plan (counts per run {counts}): a cached plan must not "
        "re-plan again")


def test_fft_plan_replans_exactly_once(fftw_constructions):
    spec = lucid.algos.ConvSpec(2, 3, 4, 300, 9, 1, (4, 4), 1, 1, "float64")
    plan = lucid.algos.get("fft").prepare(spec, 1 << 28)
    built = len(fftw_constructions)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 300)), rng.standard_normal((4, 3, 9))
    first = plan.run(x, w)
    counts = [len(fftw_constructions)] + _counts_per_run(lambda: plan.run(x, w), fftw_constructions)[:-1]
    _assert_planned_once_then_measured_once(counts, built)
    np.testing.assert_allclose(plan.run(x, w), first, rtol=1e-10, atol=1e-12)


def test_conv1d_through_the_plan_cache_replans_exactly_once(fftw_constructions):
    lucid.algos.clear_plans()
    x = lucid.randn(1, 2, 500, dtype="float64")
    w = lucid.randn(2, 2, 33, dtype="float64")
    with lucid.no_grad():
        counts = _counts_per_run(lambda: F.conv1d(x, w, padding=16, algorithm="fft"), fftw_constructions)
    built = counts[0]
    _assert_planned_once_then_measured_once(counts, built)
