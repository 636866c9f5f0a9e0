"""Cross-validation of the cost-model fit, and the fitting script's offline mode (no timing)."""
import dataclasses
import importlib.util
import json
import pathlib

import numpy as np
import pytest

from lucid.algos.planner import calibration, cost_model, grids
from lucid.algos.spec import ConvSpec

ROOT = pathlib.Path(__file__).resolve().parents[3]

#: Two synthetic algorithms: "gemm" wins small problems, "fourier" (a large fixed cost, cheap work) big ones.
TRUTH = {"gemm": {"overhead": 1e-5, "float32_flops": 1e-10}, "fourier": {"overhead": 2e-4, "float32_flops": 1e-11}}


def _synthetic_records(count: int, noise: float) -> list[dict]:
    rng = np.random.default_rng(3)
    records = []
    for i, flops in enumerate(10 ** rng.uniform(4, 8, count)):
        times = {name: cost_model.predict_with(c, {"float32_flops": flops}) * float(np.exp(rng.normal(0, noise)))
                 for name, c in TRUTH.items()}
        records.append({"id": i, "op": "forward", "spec": {}, "flops": float(flops), "times": times})
    return records


@pytest.fixture
def synthetic_features(monkeypatch):
    monkeypatch.setattr(calibration, "features",
                        lambda record: {name: {"float32_flops": record["flops"]} for name in record["times"]})


def test_folds_partition_the_records_evenly_and_follow_the_seed():
    parts = calibration.folds(23, 5, seed=4)
    flat = sorted(i for part in parts for i in part)
    assert flat == list(range(23))
    assert sorted(len(p) for p in parts) == [4, 4, 5, 5, 5]
    assert parts == calibration.folds(23, 5, seed=4) and parts != calibration.folds(23, 5, seed=5)


def test_cross_validation_recovers_a_known_ranking_out_of_sample(synthetic_features):
    """The crossover of the two true models is at 2.1e6 FLOPs; with 1 % timing noise every
    out-of-fold pick must be the fastest or within a few per cent of it (near the crossover)."""
    summary = calibration.cross_validate(_synthetic_records(60, 0.01), k=5)
    assert summary["all"]["count"] == 60
    assert summary["all"]["worst"] < 1.05 and summary["all"]["geomean"] < 1.005


def test_cross_validation_never_fits_on_the_fold_it_judges(synthetic_features, monkeypatch):
    records = _synthetic_records(30, 0.05)
    seen: list[set[int]] = []
    real = calibration.fit_records

    def spy(fitting, start=None):
        seen.append({r["id"] for r in fitting})
        return real(fitting, start)

    monkeypatch.setattr(calibration, "fit_records", spy)
    calibration.cross_validate(records, k=3, seed=7)
    held = [set(part) for part in calibration.folds(30, 3, seed=7)]
    assert seen == [set(range(30)) - part for part in held]


def _script():
    spec = importlib.util.spec_from_file_location("fit_cost_model", ROOT / "benchmarks" / "fit_cost_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_offline_script_fits_on_fit_and_suite_problems_only_and_never_times(tmp_path, monkeypatch):
    def problems(seed: int) -> list[grids.Problem]:
        return [("forward", ConvSpec(1, 2, 2, 1000 * seed + 64 * i, 3, 1, (1, 1))) for i in range(1, 7)]

    fit, suite, test = problems(1), problems(2)[:3], problems(3)
    monkeypatch.setattr(grids, "fit_grid", lambda count=grids.COUNT: fit)
    monkeypatch.setattr(grids, "suite", lambda: suite)
    monkeypatch.setattr(grids, "held_out", lambda count=grids.COUNT, skip=0: test)

    def record(op, spec):
        names = [c.name for c in calibration.candidates(op, spec)]
        return {"op": op, "spec": dataclasses.asdict(spec), "passes": 2, "hopeless": [],
                "times": {name: 1e-4 * (1 + i) * spec.length / 1000 for i, name in enumerate(names)}}

    def untimed(*args, **kwargs):
        raise AssertionError("--offline timed a problem")

    judged: list[list[dict]] = []
    monkeypatch.setattr(calibration, "time_problem", untimed)
    monkeypatch.setattr(calibration, "cross_validate",
                        lambda records, k: judged.append(records) or {"all": {}, "per_op": {}})
    timings, out = tmp_path / "timings.json", tmp_path / "regret.json"
    cached = {"fit": [record(*p) for p in fit], "suite": [record(*p) for p in suite],
              "test": [record(*p) for p in test]}
    timings.write_text(text := json.dumps({"grids": cached}))
    script = _script()
    assert script.main(["--offline", "--no-write", "--timings", str(timings), "--out", str(out)]) == 0
    lengths = [r["spec"]["length"] for r in judged[0]]
    assert lengths == [s.length for _, s in fit + suite]
    assert not set(lengths) & {s.length for _, s in test}
    assert json.loads(out.read_text())["provenance"]["cross_validation"]["folds"] == 5
    assert timings.read_text() == text          # offline: the cache is not rewritten
    cached["fit"].pop()
    timings.write_text(json.dumps({"grids": cached}))
    with pytest.raises(SystemExit, match="--offline: fit problem forward .* needs timing"):
        script.main(["--offline", "--no-write", "--timings", str(timings), "--out", str(out)])
