"""Block and interleaved timing: warm-up, sizing, rotated rounds, the cap, pauses, per-round ratios."""
from __future__ import annotations

import time

import pytest

from lucid.bench import timing as timing_module
from lucid.bench.timing import Timing, block_timing, interleaved, round_ratios


def test_rounds_are_interleaved_and_rotated_after_one_warmup_each():
    calls: list[str] = []
    methods = {name: (lambda name=name: calls.append(name) or name) for name in "abc"}
    seen: list[tuple[str, object]] = []
    timings = interleaved(methods, 3, idle_s=0.0, on_warmup=lambda name, value: seen.append((name, value)))
    assert seen == [("a", "a"), ("b", "b"), ("c", "c")]
    assert calls == list("abc" + "abc" + "bca" + "cab")
    assert all(len(t.samples) == 3 for t in timings.values())


def test_a_method_over_the_cap_is_timed_once():
    methods = {"slow": lambda: time.sleep(0.02), "fast": lambda: None}
    timings = interleaved(methods, 4, cap_s=0.01, idle_s=0.0)
    assert len(timings["slow"].samples) == 1 and timings["slow"].median_s >= 0.02
    assert len(timings["fast"].samples) == 4


def test_median_and_min_of_the_samples():
    timing = Timing((0.3, 0.1, 0.2, 0.9), warmup_s=5.0)
    assert timing.median_s == pytest.approx(0.25) and timing.min_s == 0.1


def test_repeats_must_be_positive():
    with pytest.raises(ValueError, match="repeats must be a positive int, got 0"):
        interleaved({"a": lambda: None}, 0)
    with pytest.raises(ValueError, match="rounds must be a positive int, got 0"):
        block_timing({"a": lambda: None}, 0)


def test_idle_pause_only_after_spinning_methods(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(timing_module.time, "sleep", slept.append)
    methods = {name: (lambda: None) for name in ("lucid", "torch", "other")}
    interleaved(methods, 3, idle_s=0.5, spinning=["torch"])
    # warm-ups lucid torch other, then rounds lucid torch other | torch other lucid |
    # other lucid torch: a pause before each timed call that follows a torch call
    assert slept == [0.5, 0.5]
    slept.clear()
    interleaved(methods, 3, idle_s=0.5)
    assert slept == []


def test_block_timing_rotates_the_order_after_two_sizing_calls_each():
    calls: list[str] = []
    methods = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    timed = block_timing(methods, 4, min_block_s=0.0, spinning=(), idle_s=0)
    assert [len(t["per_call_s"]) for t in timed.values()] == [4, 4, 4]
    assert calls == list("aabbcc" + "abc" + "bca" + "cab" + "abc")
    assert all(t["calls_per_block"] == 1 and not t["capped"] for t in timed.values())


def test_block_timing_sizes_blocks_to_the_least_duration():
    counts = {"fast": 0, "slow": 0}

    def call(name: str, seconds: float):
        def run() -> None:
            counts[name] += 1
            time.sleep(seconds)
        return run
    timed = block_timing({"fast": call("fast", 0.002), "slow": call("slow", 0.02)}, 2, min_block_s=0.02,
                         spinning=(), idle_s=0)
    fast, slow = timed["fast"], timed["slow"]
    assert 2 <= fast["calls_per_block"] <= 10 and slow["calls_per_block"] == 1
    assert counts == {"fast": 2 + 2 * fast["calls_per_block"], "slow": 2 + 2}
    assert all(0.002 <= t < 0.02 for t in fast["per_call_s"]) and all(t >= 0.02 for t in slow["per_call_s"])


def test_block_timing_times_a_method_over_the_cap_by_its_sizing_calls_only():
    counts = {"slow": 0}

    def slow() -> None:
        counts["slow"] += 1
        time.sleep(0.02)
    timed = block_timing({"slow": slow, "fast": lambda: None}, 3, min_block_s=0.0, cap_s=0.01, spinning=(),
                         idle_s=0)
    assert timed["slow"]["capped"] and counts["slow"] == 2          # two sizing calls over the cap
    assert len(timed["slow"]["per_call_s"]) == 1 and timed["slow"]["per_call_s"][0] >= 0.02
    assert len(timed["fast"]["per_call_s"]) == 3 and not timed["fast"]["capped"]


def test_block_timing_pauses_after_every_spinning_block(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(timing_module.time, "sleep", slept.append)
    block_timing({"lucid": lambda: None, "torch": lambda: None}, 3, min_block_s=0.0, idle_s=0.5)
    assert slept == [0.5] * (1 + 3)          # after torch's sizing calls, then after each of its 3 blocks


def test_block_timing_stops_starting_rounds_after_the_time_limit():
    timed = block_timing({"a": lambda: None}, 20, min_block_s=0.0, spinning=(), min_rounds=3, time_limit_s=0.0)
    assert len(timed["a"]["per_call_s"]) == 3


def test_round_ratios_is_the_median_of_per_round_ratios():
    # per-round ratios 0.5, 0.5, 4 -> median 0.5, while the ratio of medians is 2 / 2 = 1
    assert round_ratios([1.0, 2.0, 8.0], [2.0, 4.0, 2.0]) == pytest.approx(0.5)
    assert round_ratios([3.0], [1.0, 2.0, 4.0]) == pytest.approx(1.5)      # capped: ratio of medians


def test_a_slow_warmup_and_one_slow_sizing_call_cap_a_method():
    counts = {"slow": 0, "spiky": 0}

    def slow() -> None:
        counts["slow"] += 1
        time.sleep(0.02)

    def spiky() -> None:                 # slow warm-up (one-time costs), then fast
        counts["spiky"] += 1
    timed = block_timing({"slow": slow, "spiky": spiky}, 3, min_block_s=0.0, cap_s=0.01, spinning=(), idle_s=0,
                         warmup_s={"slow": 2.5, "spiky": 2.5})
    assert timed["slow"]["capped"] and counts["slow"] == 1 and timed["slow"]["per_call_s"][0] >= 0.02
    assert not timed["spiky"]["capped"] and len(timed["spiky"]["per_call_s"]) == 3 and counts["spiky"] == 2 + 3
