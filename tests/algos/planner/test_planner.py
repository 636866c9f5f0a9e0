"""The planner: forced / heuristic / measured choice, constraints, caching, threads.

Runs against ``direct`` plus fake algorithms (tests/planner_fakes.py) whose
predictions, timings and failures the tests control.
"""
import dataclasses
import json
import threading

import numpy as np
import pytest
from helpers import operands
from planner_fakes import Fake, fakes, only_registered
from reference import conv1d_grads_ref, conv1d_ref

import lucid.algos as algos
from lucid.algos import planner
from lucid.algos.base import cost_features
from lucid.algos.planner import config, cost_model
from lucid.algos.spec import ConvSpec

SPEC = ConvSpec(2, 4, 6, 40, 3, 1, (1, 1), 1, 1, "float64")


@pytest.fixture(autouse=True)
def clean():
    """Only ``direct`` among the real algorithms, so outcomes do not depend on the cost model."""
    with only_registered("direct"):
        yield


def last():
    return algos.records()[-1]


def candidate(record, name):
    return next(c for c in record["candidates"] if c["name"] == name)


def test_heuristic_takes_least_predicted_and_result_is_correct():
    with fakes(Fake("slowfake", 5e-3), Fake("fastfake", 1e-6)), algos.use(mode="heuristic"):
        x, w = operands(SPEC)
        y = algos.execute("forward", SPEC, x, w)
        rec = last()
    np.testing.assert_allclose(y, conv1d_ref(x, w, padding=1), rtol=1e-12, atol=1e-12)
    assert rec["algorithm"] == "fastfake" and rec["mode"] == "heuristic" and not rec["cache_hit"]
    assert rec["reason"].startswith("fastfake: predicted")
    assert candidate(rec, "slowfake")["predicted_s"] == pytest.approx(5e-3)
    assert {"op", "key", "mode", "algorithm", "reason", "candidates", "cache_hit", "duration_s"} <= set(rec)
    json.dumps(algos.records())     # JSON-ready


def test_backward_ops_match_reference():
    x, w = operands(SPEC)
    dy = np.random.default_rng(1).standard_normal(SPEC.output_shape)
    dx_ref, dw_ref, _ = conv1d_grads_ref(x, w, dy, padding=1)
    np.testing.assert_allclose(algos.execute("backward_data", SPEC, dy, w), dx_ref, atol=1e-12)
    np.testing.assert_allclose(algos.execute("backward_filter", SPEC, dy, x), dw_ref, atol=1e-12)
    assert [r["op"] for r in algos.records()] == ["backward_data", "backward_filter"]


def test_cache_hit_records_nothing_and_operands_untouched():
    x, w = operands(SPEC)
    x0, w0 = x.copy(), w.copy()
    first = algos.execute("forward", SPEC, x, w)
    before = algos.cache_info()
    second = algos.execute("forward", SPEC, x, w)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    assert len(algos.records()) == 1
    assert algos.cache_info()["hits"] == before["hits"] + 1


def test_single_candidate_reason():
    with fakes(Fake("only"), only=True):
        assert algos.choose(SPEC) == "only"
        assert last()["reason"].endswith("(only candidate)")


def test_forced_unsupported_forward_raises_with_reason():
    with fakes(Fake("k1only", max_kernel=1)):
        with pytest.raises(ValueError, match="k1only: needs kernel_size <= 1, got 3"):
            algos.execute("forward", SPEC, *operands(SPEC), algorithm="k1only")


def test_unknown_algorithm_lists_valid_names():
    with pytest.raises(ValueError, match=r"algorithm must be one of \[.*'direct'.*got 'nope'"):
        algos.execute("forward", SPEC, *operands(SPEC), algorithm="nope")


def test_forced_backward_falls_back_and_says_so():
    # backward_filter's derived kernel is L_out = 40 taps: small-kernel fake cannot serve it
    with fakes(Fake("smallk", 1e-6, max_kernel=8)):
        x, w = operands(SPEC)
        dy = np.ones(SPEC.output_shape)
        with algos.use("smallk"):
            assert algos.choose(SPEC, "backward_data") == "smallk"
            dw = algos.execute("backward_filter", SPEC, dy, x)
        rec = last()
    assert rec["algorithm"] == "direct" and rec["mode"] == "forced"
    assert "forced smallk cannot serve backward_filter" in rec["reason"] and "fell back" in rec["reason"]
    np.testing.assert_allclose(dw, conv1d_grads_ref(x, w, dy, padding=1)[1], atol=1e-12)


def test_workspace_limit_skips_and_names_the_setting():
    with fakes(Fake("hungry", 1e-9, workspace=1 << 40)):
        assert algos.choose(SPEC) == "direct"
        assert "workspace 1024.0 GiB > workspace_limit" in candidate(last(), "hungry")["reason"]
        assert "hungry skipped: workspace" in last()["reason"]
        with algos.use(workspace_limit=0), pytest.raises(ValueError, match="workspace_limit"):
            algos.choose(SPEC)
        with pytest.raises(ValueError, match="workspace_limit"):
            algos.choose(SPEC, algorithm="hungry")


def test_tolerance_and_deterministic_filters():
    with fakes(Fake("sloppy", 1e-9, bound=1e-3), Fake("racy", 2e-9, deterministic=False)):
        assert algos.choose(SPEC) == "sloppy"
        with algos.use(tolerance=1e-6):
            assert algos.choose(SPEC) == "racy"
            assert "error bound 1.0e-03 > tolerance" in candidate(last(), "sloppy")["reason"]
            with algos.use(deterministic=True):
                assert algos.choose(SPEC) == "direct"
                assert "not deterministic" in candidate(last(), "racy")["reason"]


def test_measure_mode_picks_fastest_measured_not_predicted():
    with fakes(Fake("predictedfast", 1e-9, sleep_s=0.01), Fake("quick", 1.0)):
        with algos.use(mode="measure"):
            chosen = algos.choose(SPEC)
        rec = last()
    assert chosen in ("direct", "quick") and rec["algorithm"] == chosen and rec["mode"] == "measure"
    assert candidate(rec, "predictedfast")["measured_s"] >= 0.01
    assert "measured" in rec["reason"]


def test_measure_failure_is_recorded_not_raised():
    with fakes(Fake("broken", 1e-9, fail=True)):
        with algos.use(mode="measure"):
            assert algos.choose(SPEC) == "direct"
        cand = candidate(last(), "broken")
    assert cand["measured_s"] is None and "failed: RuntimeError: broken broke" in cand["note"]


def test_measure_time_limit_keeps_best_so_far():
    with fakes(Fake("first", 1e-9, sleep_s=0.05), Fake("second", 1e-8)):
        with algos.use(mode="measure", time_limit=0.01):
            assert algos.choose(SPEC) == "first"   # only the best-predicted got timed
        rec = last()
    assert candidate(rec, "second")["measured_s"] is None
    assert candidate(rec, "second")["note"] == "time limit reached"


def test_measured_decision_reused_across_length_bucket():
    with fakes(Fake("fastest", 1e-9)) as (fake,):
        with algos.use(mode="measure"):
            algos.choose(SPEC)
            runs = fake.runs
            near = ConvSpec(2, 4, 6, 41, 3, 1, (1, 1), 1, 1, "float64")
            far = ConvSpec(2, 4, 6, 80, 3, 1, (1, 1), 1, 1, "float64")
            chosen = algos.choose(near)
            assert fake.runs == runs      # nothing timed for the nearby length
            assert last()["cache_hit"] and "reused" in last()["reason"]
            algos.choose(far)
            assert not last()["cache_hit"]
        assert chosen == algos.records()[0]["algorithm"]


def test_reused_bucket_decision_assesses_only_the_winner():
    with fakes(Fake("fastest", 1e-9), Fake("other", 1e-3, sleep_s=0.002), only=True):
        with algos.use(mode="measure"):
            algos.choose(SPEC)
            measured = candidate(last(), "other")["measured_s"]
            algos.choose(ConvSpec(2, 4, 6, 41, 3, 1, (1, 1), 1, 1, "float64"))
        rec = last()
    assert rec["cache_hit"] and rec["algorithm"] == "fastest" and "Lb21" in rec["reason"]
    winner, other = candidate(rec, "fastest"), candidate(rec, "other")
    assert winner["supported"] is True and winner["predicted_s"] == pytest.approx(1e-9)
    assert winner["measured_s"] is not None
    assert other["supported"] is None and other["predicted_s"] is None and other["measured_s"] == measured >= 0.002
    assert other["note"] == "not assessed: the bucket's measured decision was reused"


def test_bucket_winner_that_cannot_run_the_new_length_is_measured_again():
    with fakes(Fake("short", 1e-9, max_length=40), Fake("long", 1e-3, sleep_s=0.002), only=True):
        with algos.use(mode="measure"):
            assert algos.choose(SPEC) == "short"
            assert algos.choose(ConvSpec(2, 4, 6, 41, 3, 1, (1, 1), 1, 1, "float64")) == "long"
        rec = last()
    assert not rec["cache_hit"] and "needs length <= 40" in candidate(rec, "short")["reason"]
    assert candidate(rec, "long")["measured_s"] >= 0.002


def test_nonfinite_replan_keeps_its_own_bucket():
    """A re-plan for NaN operands (which excludes spreading algorithms) must not
    overwrite the bucket's decision for ordinary operands."""
    with fakes(Fake("spready", 1e-9, local_nonfinite=False), Fake("careful", 1e-3, sleep_s=0.002), only=True):
        x, w = operands(SPEC)
        with algos.use(mode="measure"):
            algos.execute("forward", SPEC, x, w)
            assert last()["algorithm"] == "spready"
            x[0, 0, 5] = np.nan
            algos.execute("forward", SPEC, x, w)
            assert last()["algorithm"] == "careful" and "NaN/Inf" in last()["reason"]
            assert algos.choose(ConvSpec(2, 4, 6, 41, 3, 1, (1, 1), 1, 1, "float64")) == "spready"
            assert last()["cache_hit"]


def test_lru_eviction_and_clear():
    algos.set_cache_size(2)
    try:
        for length in (10, 20, 30):
            algos.choose(ConvSpec(1, 1, 1, length, 3))
        assert algos.cache_info()["size"] == 2
        algos.choose(ConvSpec(1, 1, 1, 10, 3))       # evicted: planned again
        assert len(algos.records()) == 4
        algos.clear_plans()
        assert algos.cache_info()["size"] == 0
    finally:
        algos.set_cache_size(planner.DEFAULT_CACHE_SIZE)
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        algos.set_cache_size(0)


def test_cache_is_bounded_by_the_bytes_its_plans_hold():
    mib = 1 << 20
    with fakes(Fake("heavy", 1e-9, holds=4 * mib)):
        algos.set_cache_size(100, max_bytes=80 * mib)          # plans used once: 10 MiB of it
        try:
            for length in range(20, 26):
                algos.choose(ConvSpec(1, 1, 1, length, 3))
            info = algos.cache_info()
            assert info["size"] == 2 and 8 * mib <= info["bytes"] <= 10 * mib and info["max_bytes"] == 80 * mib
            algos.choose(ConvSpec(1, 1, 1, 24, 3))             # still cached: no new decision
            assert len(algos.records()) == 6
            algos.set_cache_size(100, max_bytes=mib)            # smaller than one plan: the newest stays
            assert algos.cache_info()["size"] == 1
            algos.clear_plans()
            assert algos.cache_info()["bytes"] == 0
        finally:
            algos.set_cache_size(planner.DEFAULT_CACHE_SIZE, max_bytes=planner.default_cache_bytes())


def test_concurrent_first_calls_plan_once():
    with fakes(Fake("slowplan", 1e-9, prepare_s=0.05)) as (fake,):
        x, w = operands(SPEC)
        results, errors = [], []

        def call():
            try:
                results.append(algos.execute("forward", SPEC, x, w))
            except Exception as exc:   # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and fake.prepares == 1 and len(algos.records()) == 1
    expected = conv1d_ref(x, w, padding=1)
    for y in results:
        np.testing.assert_allclose(y, expected, atol=1e-12)


def test_failed_planning_is_not_cached_and_reraises_for_waiters():
    with fakes(Fake("k1", max_kernel=1)):
        for _ in range(2):
            with pytest.raises(ValueError, match="k1: needs kernel_size"):
                algos.choose(SPEC, algorithm="k1")
        assert algos.cache_info()["size"] == 0


def test_argument_beats_scope_beats_environment(monkeypatch):
    with fakes(Fake("envalgo"), Fake("scopealgo")):
        monkeypatch.setenv("LUCID_CONV_ALGO", "envalgo")
        config.reload()
        assert algos.choose(SPEC) == "envalgo"
        with algos.use("scopealgo"):
            assert algos.choose(SPEC) == "scopealgo"
            assert algos.choose(SPEC, algorithm="direct") == "direct"


def test_new_algorithm_without_constants_gets_generic_prediction():
    class Fifth(Fake):
        def features(self, spec):
            return cost_features(spec, spec.direct_flops, self.workspace)

    fifth = Fifth("fifth")
    small, large = (fifth.layout(spec).features for spec in (SPEC, dataclasses.replace(SPEC, length=4000)))
    assert cost_model.predict("fifth", small) == cost_model.predict_with(cost_model.GENERIC, small) > 0
    assert cost_model.predict("fifth", large) > cost_model.predict("fifth", small)     # it prices the work
