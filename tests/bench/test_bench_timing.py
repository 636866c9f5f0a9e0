"""Interleaved timing: warm-up first, rotated rounds, the per-call cap, medians."""
from __future__ import annotations

import time

import pytest

from lucid.bench import timing as timing_module
from lucid.bench.timing import Timing, interleaved


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
