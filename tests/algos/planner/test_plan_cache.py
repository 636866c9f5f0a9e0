"""The two-queue plan cache (lucid.algos.planner.plan_cache)."""
from __future__ import annotations

from lucid.algos.planner import plan_cache
from lucid.algos.planner.plan_cache import PlanCache

MB = 1 << 20


def fill(cache: PlanCache, keys, nbytes=MB, label="fft"):
    for key in keys:
        if cache.get(key) is None:
            cache.put(key, f"plan {key}", nbytes, label)


def test_shapes_seen_once_hold_at_most_the_probation_share():
    cache = PlanCache(capacity=1000, max_bytes=80 * MB)              # probation: 10 MB
    fill(cache, range(100))
    info = cache.info()
    assert info["bytes"] == 10 * MB and info["probation"]["plans"] == 10 and info["protected"]["plans"] == 0
    assert cache.get(99) == "plan 99" and cache.get(0) is None       # LRU order: the oldest went first


def test_a_working_set_larger_than_probation_is_kept_from_its_second_step_on():
    """A 'training step' of 30 plans (30 MB) against a 10 MB probation: the second step
    re-plans what probation dropped and admits it to protected; the third step only hits."""
    cache = PlanCache(capacity=1000, max_bytes=80 * MB)
    misses = []
    for _ in range(3):
        before = cache.info()["size"]
        missing = [k for k in range(30) if cache.get(k) is None]
        fill(cache, missing)
        misses.append(len(missing))
        assert cache.info()["size"] >= before
    assert misses[0] == 30 and misses[2] == 0
    assert cache.info()["protected"]["plans"] == 30


def test_total_bound_evicts_protected_least_recently_used_and_keeps_the_newest():
    cache = PlanCache(capacity=1000, max_bytes=16 * MB)
    for key in range(4):                                              # promote 4 x 4 MB
        cache.put(key, key, 4 * MB, "direct")
        cache.get(key)
    assert cache.info()["protected"]["bytes"] == 16 * MB
    cache.put("huge", "huge", 64 * MB, "fft")                          # bigger than everything: kept alone
    info = cache.info()
    assert info["size"] == 1 and cache.get("huge") == "huge"
    assert cache.take_evicted_bytes() == 16 * MB and cache.take_evicted_bytes() == 0


def test_count_bound_and_resize():
    cache = PlanCache(capacity=3, max_bytes=1 << 40)
    fill(cache, range(5), nbytes=0)
    assert len(cache) == 3
    cache.resize(1, 1 << 40)
    assert len(cache) == 1


def test_info_accounts_bytes_per_algorithm():
    cache = PlanCache(capacity=10, max_bytes=1 << 30)
    cache.put("a", 1, 3 * MB, "fft")
    cache.put("b", 2, 1 * MB, "direct")
    cache.put("c", 3, 2 * MB, "fft")
    assert cache.info()["by_algorithm"] == {"direct": {"plans": 1, "bytes": MB}, "fft": {"plans": 2, "bytes": 5 * MB}}
    cache.clear()
    assert cache.info()["size"] == 0 and cache.take_evicted_bytes() == 6 * MB


def test_default_byte_bound_is_an_eighth_of_memory_capped_at_a_gibibyte(monkeypatch):
    monkeypatch.setattr(plan_cache, "memory_limit", lambda: 4 << 30)
    assert plan_cache.default_cache_bytes() == 512 * MB
    monkeypatch.setattr(plan_cache, "memory_limit", lambda: 64 << 30)
    assert plan_cache.default_cache_bytes() == 1 << 30
    monkeypatch.setattr(plan_cache, "memory_limit", lambda: None)
    assert plan_cache.default_cache_bytes() == 1 << 30
    assert plan_cache.memory_limit() is None or plan_cache.memory_limit() > 0


