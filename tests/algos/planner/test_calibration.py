"""The cost model's fitting pipeline: grids, fit, regret, shipped constants, ``lucid-bench calibrate``."""
import json
import math

import numpy as np
import pytest

import lucid
from lucid import algos
from lucid.algos import registry
from lucid.algos.lowering import OPS
from lucid.algos.planner import calibration, cost_model, grids, regret
from lucid.algos.spec import ConvSpec
from lucid.bench import cli
from tests.planner_fakes import reset_planner


def test_grids_are_deterministic_disjoint_and_span_the_ranges():
    fit, test = grids.fit_grid(), grids.held_out()
    assert fit == grids.fit_grid() and test == grids.held_out()
    assert len(fit) == len(set(fit)) == grids.COUNT and len(test) == grids.COUNT
    assert not set(fit) & set(test)
    assert grids.grid(grids.FIT_SEED, 50) == fit[:50]
    for problems in (fit, test):
        specs = [spec for _, spec in problems]
        assert {op for op, _ in problems} == set(OPS)
        assert min(s.kernel_size for s in specs) == 1 and max(s.kernel_size for s in specs) >= 1025
        assert {s.stride for s in specs} == {1, 2, 3, 4}
        assert {1, 64} <= {s.dilation for s in specs}
        assert min(s.length for s in specs) < 128 and max(s.length for s in specs) > 32768
        assert {1, 64} <= {s.n for s in specs}
        kinds = {"depthwise" if s.groups == s.c_in > 1 else "grouped" if s.groups > 1 else "dense" for s in specs}
        assert kinds == {"dense", "grouped", "depthwise"}
    with pytest.raises(ValueError, match="count must be a positive int, got 0"):
        grids.grid(1, 0)


def test_fit_recovers_known_coefficients_per_algorithm_from_synthetic_timings():
    """Two algorithms with different true coefficients on shared problems, timed with 2 % noise."""
    rng = np.random.default_rng(1)
    truth = {"gemm": {"overhead": 2e-5, "float32_flops": 1e-11, "python_steps": 5e-6},
             "fourier": {"overhead": 1e-4, "float32_flops": 4e-11, "moved_bytes": 2e-10}}
    problems = []
    for flops, nbytes, steps in zip(10 ** rng.uniform(5, 9, 80), 10 ** rng.uniform(4, 8, 80),
                                    10 ** rng.uniform(0, 3, 80)):
        features = {"gemm": {"float32_flops": flops, "python_steps": steps},
                    "fourier": {"float32_flops": flops / 3, "moved_bytes": nbytes}}
        problems.append({name: (features[name], cost_model.predict_with(c, features[name])
                                * float(np.exp(rng.normal(0, 0.02)))) for name, c in truth.items()})
    fitted = cost_model.fit_problems(problems)
    for name, coefficients in truth.items():
        for key, value in coefficients.items():
            assert fitted[name][key] == pytest.approx(value, rel=0.1), (name, key)


def test_regret_and_summary_per_op_and_family():
    constants = {"a": {"overhead": 1.0}, "b": {"overhead": 2.0}}     # the model always picks a
    records = [{"op": "forward", "spec": {}, "times": {"a": 1.0, "b": 2.0}},
               {"op": "backward_data", "spec": {}, "times": {"a": 3.0, "b": 1.5}},
               {"op": "forward", "spec": {}, "times": {"a": 1.2, "b": 1.0}}]
    rows = regret.regrets(constants, records, lambda record: {name: {} for name in record["times"]})
    assert [r["regret"] for r in rows] == pytest.approx([1.0, 2.0, 1.2])
    s = regret.summary(rows)
    assert s["all"]["worst"] == 2.0 and s["all"]["over_1.15"] == 2
    assert s["all"]["geomean"] == pytest.approx((1.0 * 2.0 * 1.2) ** (1 / 3), abs=1e-4)
    assert s["per_op"]["forward"]["count"] == 2 and s["per_op"]["backward_data"]["worst"] == 2.0
    assert s["per_family"]["b"]["count"] == 2 and s["per_family"]["a"]["worst"] == 1.0
    assert regret.not_worse(s, s) and not regret.not_worse(regret.summary([]), s)


def test_shipped_constants_carry_their_provenance():
    constants, provenance = cost_model.shipped()
    assert {"direct", "im2col", "fft"} <= set(constants)
    assert {"machine", "date", "fit", "grid_seed", "problems", "samples", "fit_error", "held_out"} <= set(provenance)
    assert provenance["grid_seed"] == grids.FIT_SEED and provenance["problems"] >= 200
    assert set(provenance["fit_error"]) == set(constants)
    assert provenance["held_out"]["seed"] == grids.TEST_SEED
    assert all(v >= 0 and math.isfinite(v) for c in constants.values() for v in c.values())


#: The issue's misses (N, C_in, C_out, L, K, stride, padding, dilation, groups) where im2col was fastest.
#: Block-timed on this machine on 2026-12-03 (load average 5-7), im2col beat fft by 1.6x and 1.4x on
#: these two; on the other two, (1, 8, 8, 1000, 129, 1, 64, 1, 1) and (4, 16, 16, 1000, 33, 1, 16, 1, 1),
#: fft was 1.2-1.3x faster than im2col, so the model rightly prefers fft there.
ISSUE_MISSES = [(4, 8, 8, 4096, 33, 2, 16, 1, 4), (2, 16, 16, 2048, 65, 1, 512, 16, 4)]


@pytest.mark.parametrize("shape", ISSUE_MISSES)
def test_the_issues_misses_are_predicted_in_im2col_s_favour(shape):
    n, c_in, c_out, length, k, stride, pad, dilation, groups = shape
    spec = ConvSpec(n, c_in, c_out, length, k, stride, (pad, pad), dilation, groups)
    predicted = {c.name: c.predicted_s for c in calibration.candidates("forward", spec)}
    assert predicted["im2col"] < predicted["fft"]


def _tiny_grids(monkeypatch):
    small = [("forward", ConvSpec(1, 4, 4, 256, k, 1, (k // 2, k // 2))) for k in (1, 3, 9, 33)]
    monkeypatch.setattr(grids, "fit_grid", lambda count=grids.COUNT: small * 3)
    monkeypatch.setattr(grids, "held_out", lambda count=grids.COUNT: small[::-1])


@pytest.mark.parametrize("better", [True, False])
def test_calibrate_installs_new_constants_only_when_not_worse_out_of_sample(tmp_path, monkeypatch, better):
    _tiny_grids(monkeypatch)
    monkeypatch.setattr(regret, "not_worse", lambda after, before: better)
    before = cost_model.constants()
    path = tmp_path / "w.json"
    try:
        result = algos.calibrate(path, budget_s=10.0)
        assert result["installed"] is better
        assert result["fit"]["direct"]["samples"] == 12
        assert result["before"]["all"]["count"] == result["after"]["all"]["count"] == 4
        assert set(result["provenance"]) >= {"machine", "date", "grid_seed", "problems", "fit_error", "held_out"}
        now = cost_model.constants()
        assert (now["direct"] == result["constants"]["direct"]) is better
        assert (now["direct"] == before["direct"]) is (not better)
        assert path.exists()
    finally:
        reset_planner()
    with pytest.raises(ValueError, match="budget_s must be a positive number of seconds, got 0"):
        algos.calibrate(budget_s=0)


def test_calibrate_command_states_regret_before_and_after(tmp_path, monkeypatch, capsys):
    _tiny_grids(monkeypatch)
    path = tmp_path / "w.json"
    try:
        assert cli.main(["calibrate", "--wisdom", str(path), "--budget", "10"]) == 0
    finally:
        reset_planner()
    out = capsys.readouterr().out
    assert "held-out regret before (4 problems): geomean" in out and "held-out regret after  (4 problems)" in out
    assert f"wisdom written to {path}" in out
    assert "fingerprint" in json.loads(path.read_text())


def test_time_problem_times_every_eligible_algorithm():
    spec = ConvSpec(2, 4, 4, 512, 3, 1, (1, 1))
    record = calibration.time_problem("backward_filter", spec, rounds=3)
    eligible = {c.name for c in calibration.candidates("backward_filter", spec)}
    assert set(record["times"]) == eligible and set(record["times"]) <= set(registry.names())
    assert all(t > 0 for t in record["times"].values())
    assert calibration.spec_of(json.loads(json.dumps(record))) == spec


def test_direct_and_im2col_report_their_real_blas_calls_and_threading():
    direct, im2col = registry.get("direct"), registry.get("im2col")
    depthwise = direct.layout(ConvSpec(2, 8, 8, 256, 5, 1, (2, 2), 1, 8)).features
    assert depthwise["gemm_calls"] == 0 and depthwise["blas_threaded_flops"] == 0
    positions = ConvSpec(3, 4, 6, 40, 33, 1, (0, 0), 1, 2)         # K > L_out: one GEMM per position and group
    features = direct.layout(positions).features
    assert features["gemm_calls"] == positions.l_out * 2
    assert features["blas_threaded_flops"] == 0                     # 3 x 2 x 66: OpenBLAS runs it serially
    assert features["gathered_bytes"] == 3 * 4 * 33 * positions.l_out * 4 and features["tap_read_bytes"] == 0
    big = ConvSpec(64, 64, 64, 40, 33, 1, (0, 0))                   # 64 x 64 x 2112 per GEMM: threaded
    assert direct.layout(big).features["blas_threaded_flops"] == direct.layout(big).features["float32_flops"]
    taps = ConvSpec(64, 64, 64, 4096, 3, 1, (1, 1))                 # many tap blocks: the pool runs them
    if lucid.get_num_threads() > 1:
        assert direct.layout(taps).features["blas_threaded_flops"] == 0
        assert im2col.layout(taps).features["blas_threaded_flops"] == 0
    tiny = im2col.layout(ConvSpec(1, 4, 4, 256, 3, 1, (1, 1)))      # one chunk, but OpenBLAS runs it serially
    assert tiny.detail.slots == 1 and tiny.features["blas_threaded_flops"] == 0
    lone = im2col.layout(ConvSpec(1, 128, 128, 256, 3, 1, (1, 1)))  # one chunk, 128 x 256 x 384: threaded
    assert lone.detail.slots == 1 and lone.features["blas_threaded_flops"] == lone.features["float32_flops"]
