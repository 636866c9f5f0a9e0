"""Measure mode's stopwatch (lucid.algos.planner.stopwatch.time_plans) on plans with scripted run times.

Sleeps only ever overrun, so a plan scripted to sleep longer is reliably
timed slower; the tests assert orders and counts, never absolute times.
"""
import math
import statistics
import time

import numpy as np
import pytest

from lucid.algos.planner import stopwatch

X = W = np.zeros(1)


class Scripted:
    """A stand-in plan whose ``run`` sleeps the next of ``seconds`` (cycling) and logs its name."""

    def __init__(self, name, log, *seconds, fail=False):
        self.name, self.log, self.seconds, self.fail, self.runs = name, log, seconds, fail, 0

    def run(self, x, w):
        self.log.append(self.name)
        pause = self.seconds[self.runs % len(self.seconds)]
        self.runs += 1
        if self.fail:
            raise RuntimeError("scripted failure")
        time.sleep(pause)
        return x


def plans(log, **specs):
    return {name: Scripted(name, log, *spec) if isinstance(spec, tuple) else Scripted(name, log, spec)
            for name, spec in specs.items()}


def test_leaders_are_raced_before_the_long_shot_which_still_can_win():
    log = []
    # a and b sleep alike (only an overrun of half their time under load could prune one early)
    times, notes = stopwatch.time_plans(plans(log, a=0.02, b=0.02, c=0.002), X, W, 5.0, leaders=2)
    first_c = log.index("c")
    assert log[:4] == ["a", "a", "b", "b"]                       # warm-up + first timed run each
    assert log[:first_c].count("a") == log[:first_c].count("b") == 1 + stopwatch.MIN_SAMPLES
    assert min(times, key=times.get) == "c"
    assert notes["a"].startswith("pruned") and notes["b"].startswith("pruned")


def test_warm_up_is_not_counted_and_a_lone_candidate_runs_once():
    log = []
    times, _ = stopwatch.time_plans({"only": Scripted("only", log, 0.05, 0.002, 0.03)}, X, W, 5.0)
    assert log == ["only", "only"]          # a single candidate needs no race
    assert 0.002 <= times["only"] < 0.03


def test_median_decides_where_the_minimum_would_be_fooled_by_one_lucky_run():
    """``lucky`` has one fast run among slow ones: the minimum (calibration) prefers it,
    the median (measure mode) prefers the steadily faster ``steady`` (lucky's slow runs are
    4x steady's and its lucky run 2.5x faster: tens of ms of overrun on a loaded machine
    would be needed to change either verdict)."""
    def race(statistic):
        ps = {"lucky": Scripted("lucky", [], 0.0, 0.02, 0.2, 0.2), "steady": Scripted("steady", [], 0.05)}
        times, _ = stopwatch.time_plans(ps, X, W, 10.0, max_samples=5, statistic=statistic)
        return min(times, key=times.get)
    assert race(statistics.median) == "steady"
    assert race(min) == "lucky"


def test_one_slow_first_run_does_not_prune():
    log = []
    # b: warm-up, a stalled first run (2x a's time, past PRUNE but not PRUNE_FIRST, with 20 ms
    # of slack for the overruns of a loaded machine), then fast runs
    ps = {"a": Scripted("a", log, 0.02), "b": Scripted("b", log, 0.0, 0.04, *[0.002] * 8)}
    times, notes = stopwatch.time_plans(ps, X, W, 10.0, max_samples=5)
    assert "b" not in notes and min(times, key=times.get) == "b"


def test_equal_candidates_get_max_samples_each():
    log = []
    stopwatch.time_plans(plans(log, a=0.01, b=0.01), X, W, 10.0, max_samples=4)
    assert log.count("a") == log.count("b") == 5         # warm-up + 4


def test_out_of_time_only_the_first_is_timed():
    log = []
    times, notes = stopwatch.time_plans(plans(log, a=0.002, b=0.001), X, W, 0.0)
    assert log == ["a", "a"] and times["b"] is None and notes["b"] == "time limit reached"
    assert times["a"] >= 0.002


def test_a_failing_candidate_loses_with_its_error():
    log = []
    ps = plans(log, good=0.001)
    ps["bad"] = Scripted("bad", log, 0.0, fail=True)
    times, notes = stopwatch.time_plans(ps, X, W, 5.0)
    assert math.isinf(times["bad"]) and notes["bad"] == "failed: RuntimeError: scripted failure"
    assert math.isfinite(times["good"])


@pytest.mark.parametrize("leaders", [0, 1, 3])
def test_every_candidate_is_timed_when_time_allows(leaders):
    log = []
    times, _ = stopwatch.time_plans(plans(log, a=0.001, b=0.0011, c=0.0012), X, W, 5.0, leaders=leaders)
    assert all(t is not None and math.isfinite(t) for t in times.values())


def test_compare_calls_overlapping_noise_a_tie_and_a_clear_gap_separated():
    rng = np.random.default_rng(0)
    base = 1e-3 * np.exp(rng.normal(0, 0.01, 30))
    same = base * np.exp(rng.normal(0, 0.01, 30))               # equal speed, 1 % noise each
    tie = stopwatch.compare(base, same)
    assert not tie.separated and tie.resolved and "over 30 rounds" in tie.describe()
    gap = stopwatch.compare(base[:6], 1.08 * base[:6] * np.exp(rng.normal(0, 0.01, 6)))
    assert gap.separated and gap.resolved and gap.ratio == pytest.approx(1.08, rel=0.02)


def test_round_count_rule_keeps_going_until_a_5_percent_gap_would_show():
    rng = np.random.default_rng(1)
    noisy = [1e-3 * np.exp(rng.normal(0, 0.08, 40)) for _ in range(2)]     # 8 % noise per round
    few = stopwatch.compare(noisy[0][:5], noisy[1][:5])
    assert not few.resolved                   # too few rounds to tell a 5 % difference from noise
    many = stopwatch.compare(noisy[0], noisy[1])
    assert many.half_width < few.half_width
    assert not stopwatch.compare([1e-3], [2e-3]).resolved          # one round never resolves
    assert not stopwatch.compare([1e-3] * 4, [2e-3] * 4).resolved  # nor fewer than MIN_ROUNDS


class Clock:
    """A fake ``time`` module for the stopwatch: plans advance it instead of sleeping."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


class Ticking:
    """A plan that takes ``seconds * noise`` of fake time per run (noise log-normal, seeded) and counts runs."""

    def __init__(self, clock, seconds, noise=0.01, seed=0):
        self.clock, self.seconds, self.runs = clock, seconds, 0
        self.rng = np.random.default_rng(seed)
        self.noise = noise

    def run(self, x, w):
        self.runs += 1
        self.clock.now += self.seconds * float(np.exp(self.rng.normal(0, self.noise)))
        return x


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(stopwatch, "time", fake)
    return fake


def test_resolving_race_records_a_tie_and_no_tie_for_a_clear_gap(clock):
    ps = {"a": Ticking(clock, 0.003, seed=1), "b": Ticking(clock, 0.003, seed=2)}
    _, notes = stopwatch.time_plans(ps, X, W, 10.0, min_block_s=0.006, resolve=True)
    tied = [note for note in notes.values() if note.startswith("tie with")]
    assert len(tied) == 1 and "rounds" in tied[0] and "time limit" not in tied[0], notes
    ps = {"a": Ticking(clock, 0.00324, seed=3), "b": Ticking(clock, 0.003, seed=4)}       # 8 % apart
    times, notes = stopwatch.time_plans(ps, X, W, 10.0, min_block_s=0.006, resolve=True)
    assert min(times, key=times.get) == "b" and not any(n.startswith("tie") for n in notes.values())
    assert ps["a"].runs < 2 + 2 * (stopwatch.MIN_ROUNDS + 2)              # stopped once separated


def test_blocks_run_back_to_back_runs_sized_from_the_first(clock):
    ps = {"a": Ticking(clock, 0.001, noise=0.0), "b": Ticking(clock, 0.001, noise=0.0)}
    stopwatch.time_plans(ps, X, W, 10.0, max_samples=3, min_block_s=0.0045)
    assert ps["a"].runs == ps["b"].runs == 2 + 2 * 5      # warm-up, first run, then 2 rounds of 5-run blocks


def test_a_race_cut_by_the_time_limit_says_its_tie_is_unresolved(clock):
    ps = {"a": Ticking(clock, 0.01, noise=0.05, seed=5), "b": Ticking(clock, 0.01, noise=0.05, seed=6)}
    _, notes = stopwatch.time_plans(ps, X, W, 0.1, min_block_s=0.01, resolve=True)
    tied = [note for note in notes.values() if note.startswith("tie with")]
    assert len(tied) == 1 and "time limit reached before a 5 % gap could be ruled out" in tied[0]
