"""Online races: the planner times its top candidates on real calls and keeps the fastest.

Fake algorithms (tests/planner_fakes.py) of known speeds: each computes the true
result through ``direct`` and sleeps for a set time, so which one is faster is
certain; the cost model's predictions put them within the race ratio.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import operands
from planner_fakes import Fake, fakes, reset_planner
from reference import conv1d_ref

import lucid.algos as algos
from lucid.algos.planner import config
from lucid.algos.planner import race as race_module
from lucid.algos.spec import ConvSpec

SPEC = ConvSpec(2, 3, 4, 60, 3, 1, (1, 1), 1, 1, "float64")


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    """Online mode for the whole process (threads included: the environment, not a scope), a fresh planner."""
    monkeypatch.setenv("LUCID_PLANNER", "online")
    config.reload()
    reset_planner()
    yield
    reset_planner()
    monkeypatch.delenv("LUCID_PLANNER")
    config.reload()


def calls(n: int, spec: ConvSpec = SPEC, **settings) -> np.ndarray:
    """``n`` forward calls of ``spec``; each result checked against the float64 loop oracle."""
    x, w = operands(spec)
    want = conv1d_ref(x, w, stride=spec.stride, padding=spec.padding[0], dilation=spec.dilation)
    with algos.use(**settings):
        for _ in range(n):
            np.testing.assert_allclose(algos.execute("forward", spec, x, w), want, rtol=1e-12, atol=1e-12)
    return want


def verdicts() -> list[dict]:
    return [r for r in algos.records() if r["race"] and r["race"]["verdict"]]


def test_race_picks_the_faster_and_drops_a_clear_loser_early():
    # the model prefers "slow" (predicted 1 ms) but "fast" (1.4 ms predicted) is 8x faster on real calls
    with fakes(Fake("slow", 1e-3, sleep_s=8e-3), Fake("fast", 1.4e-3, sleep_s=1e-3), only=True) as (slow, fast):
        calls(12)
        (record,) = verdicts()
        race = record["race"]
        assert record["algorithm"] == "fast" and record["mode"] == "online"
        assert race["winner"] == "fast" and race["verdict"] == "only survivor"
        assert "slow" in race["dropped"] and race["calls"] <= 6        # warm-up round, one or two timed rounds
        assert race["medians_s"]["slow"] > 2 * race["medians_s"]["fast"]
        assert race["candidates"] == ["slow", "fast"] and race["medians_s"]["fast"] is not None
        slow_runs = slow.runs
        calls(5)
        assert slow.runs == slow_runs and algos.choose(SPEC) == "fast"   # the winner serves the key alone
        assert algos.cache_info()["by_algorithm"].keys() == {"fast"} and algos.cache_info()["races"] == 0
        started = [r for r in algos.records() if r["race"] and r["race"]["verdict"] is None]
        assert len(started) == 1 and started[0]["reason"].startswith("racing slow, fast")


def test_close_candidates_are_told_apart_with_paired_rounds():
    with fakes(Fake("a", 1e-3, sleep_s=4e-3), Fake("b", 1.1e-3, sleep_s=2e-3), only=True):
        calls(60)
        (record,) = verdicts()
    assert record["algorithm"] == "b" and record["race"]["verdict"] in ("separated", "only survivor")


def test_no_race_when_the_runner_up_is_far_behind_in_prediction():
    with fakes(Fake("lead", 1e-4, sleep_s=2e-3), Fake("far", 1e-3, sleep_s=0.0), only=True) as (lead, far):
        calls(10)
        assert far.runs == 0 and not any(r["race"] for r in algos.records())


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_deterministic_mode_never_races(how, monkeypatch):
    settings = {"deterministic": True} if how == "argument" else {}
    if how == "environment":
        monkeypatch.setenv("LUCID_DETERMINISTIC", "1")
        algos.planner.config.reload()
    with fakes(Fake("slow", 1e-3, sleep_s=3e-3), Fake("fast", 1.4e-3), only=True) as (slow, fast):
        calls(20, **settings)
        assert fast.runs == 0 and slow.runs == 20
        assert not any(r["race"] for r in algos.records())
        x, w = operands(SPEC)
        with algos.use(**settings):
            first = algos.execute("forward", SPEC, x, w)
            assert all(np.array_equal(first, algos.execute("forward", SPEC, x, w)) for _ in range(5))


def test_concurrent_callers_share_the_race_and_all_get_correct_results():
    with fakes(Fake("slow", 1e-3, sleep_s=3e-3), Fake("mid", 1.2e-3, sleep_s=2e-3), Fake("fast", 1.4e-3, sleep_s=5e-4),
               only=True):
        x, w = operands(SPEC)
        want = conv1d_ref(x, w, padding=1)
        bad, errors = [], []

        def worker() -> None:
            try:
                for _ in range(40):
                    y = algos.execute("forward", SPEC, x, w)
                    if not np.allclose(y, want, rtol=1e-12, atol=1e-12):
                        bad.append(y)
            except Exception as exc:      # reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors and not bad
        assert len([r for r in algos.records() if r["race"] and r["race"]["verdict"] is None]) == 1   # one race
        (record,) = verdicts()
        assert record["algorithm"] == "fast"
        assert algos.cache_info()["by_algorithm"].keys() == {"fast"}


def test_winner_is_saved_to_wisdom_and_used_after_reload_in_the_default_mode(tmp_path):
    path = tmp_path / "wisdom.json"
    with fakes(Fake("slow", 1e-3, sleep_s=6e-3), Fake("fast", 1.4e-3, sleep_s=5e-4), only=True) as (slow, fast):
        calls(20)
        assert verdicts()[0]["algorithm"] == "fast"
        algos.save_wisdom(path)
        reset_planner()
        assert algos.load_wisdom(path) == 1
        runs = slow.runs
        calls(5)
        assert slow.runs == runs
        (record,) = algos.records()
        assert record["mode"] == "online" and record["algorithm"] == "fast" and record["cache_hit"] is True
        assert "decision of bucket" in record["reason"] and record["race"] is None
        with algos.use(mode="heuristic"):       # every mode uses it...
            assert algos.choose(SPEC) == "fast"
        with algos.use("slow"):                 # ...but a forced algorithm
            assert algos.choose(SPEC) == "slow"


@pytest.mark.parametrize("error", [MemoryError("no room"), RuntimeError("FFTW planner failed")],
                         ids=["MemoryError", "FFTW error"])
def test_a_candidate_that_fails_to_build_leaves_the_race_and_the_cache_consistent(error):
    broken = Fake("broken", 1.2e-3, fail_build=error)
    with fakes(Fake("lead", 1e-3, sleep_s=1e-3), broken, Fake("third", 1.4e-3, sleep_s=4e-3), only=True):
        calls(30)
        (record,) = verdicts()
        assert record["algorithm"] == "lead"
        assert "plan failed to build" in record["race"]["dropped"]["broken"]
        assert type(error).__name__ in record["race"]["dropped"]["broken"]
        info = algos.cache_info()
        assert info["size"] == 1 and info["by_algorithm"].keys() == {"lead"} and info["races"] == 0
        calls(3)


def test_a_run_that_raises_is_not_a_sample_and_leaves_the_race():
    flaky = Fake("flaky", 1.2e-3)
    with fakes(Fake("lead", 1e-3, sleep_s=1e-3), flaky, only=True):
        flaky.fail = True
        x, w = operands(SPEC)
        with pytest.raises(RuntimeError, match="flaky broke"):
            for _ in range(3):
                algos.execute("forward", SPEC, x, w)
        calls(3)
        (record,) = verdicts()
        assert record["algorithm"] == "lead" and record["race"]["samples"]["flaky"] == 0
        assert "raised RuntimeError" in record["race"]["dropped"]["flaky"]


def test_lengths_of_one_bucket_share_a_race_and_a_new_length_builds_only_the_winner():
    with fakes(Fake("slow", 1e-3, sleep_s=4e-3), Fake("fast", 1.4e-3, sleep_s=5e-4), only=True) as (slow, fast):
        for length in [*range(400, 440), *range(400, 440)]:          # all in one bucket (within 2**(1/4))
            calls(1, ConvSpec(1, 2, 2, length, 3, 1, (1, 1), 1, 1, "float64"))
        (record,) = verdicts()
        assert record["algorithm"] == "fast" and record["race"]["lengths"] > 1, record["race"]
        prepares = slow.prepares
        calls(1, ConvSpec(1, 2, 2, 445, 3, 1, (1, 1), 1, 1, "float64"))
        assert slow.prepares == prepares
        assert algos.records()[-1]["cache_hit"] is True


def test_race_budget_ends_an_undecidable_race():
    with fakes(Fake("a", 1e-3, sleep_s=1e-3), Fake("b", 1.0e-3, sleep_s=1e-3), only=True):
        calls(race_module.MAX_CALLS + 5)
        (record,) = verdicts()
    assert record["race"]["verdict"] in ("tie", "budget", "separated", "only survivor")
    assert record["race"]["calls"] <= race_module.MAX_CALLS


def test_backward_filter_lists_inapplicable_candidates_once_in_terms_of_the_layer():
    """wgrad-style layers: backward_filter lowers to a forward problem whose kernel is the output
    length; a K=2 layer's record must not say "needs kernel_size in 2..5, got 1024"."""
    spec = ConvSpec(4, 8, 8, 1025, 2, 1, (0, 0), 1, 1)
    with algos.use(mode="heuristic"):
        algos.choose(spec, "backward_filter")
    (rec,) = algos.records()
    text = algos.report()
    assert "got 1024" not in rec["reason"] and "got 1024" not in str(rec["not_applicable"]) and "got 1024" not in text
    assert "winograd, winograd4, winograd6: cannot run the forward problem backward_filter lowers to (N8 C4->8 " \
        in rec["not_applicable"]
    assert "col2im: solves backward_data only, not backward_filter" in rec["not_applicable"]
    assert text.count("winograd4") == 1 and text.count("col2im") == 1      # once, compactly
    assert "col2im" not in rec["reason"] and "winograd" not in rec["reason"]


def test_a_challenger_holding_much_more_workspace_than_the_leader_is_not_raced():
    with fakes(Fake("lead", 1e-3, sleep_s=2e-3, workspace=1 << 20), Fake("hungry", 1.2e-3, workspace=100 << 20),
               Fake("lean", 1.4e-3, sleep_s=5e-4), only=True) as (lead, hungry, lean):
        calls(12)
        assert hungry.prepares == 0 and hungry.runs == 0
        (record,) = verdicts()
        assert record["race"]["candidates"] == ["lead", "lean"] and record["algorithm"] == "lean"
