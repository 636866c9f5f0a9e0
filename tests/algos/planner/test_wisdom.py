"""Wisdom files: round trip, merge, atomicity, fingerprint check, robustness; calibration."""
import json
import os
import warnings

import pytest
from planner_fakes import Fake, fakes, only_registered, reset_planner

import lucid.algos as algos
from lucid.algos.planner import cost_model, wisdom
from lucid.algos.spec import ConvSpec

SPEC = ConvSpec(1, 2, 2, 100, 3, 1, (1, 1))


@pytest.fixture(autouse=True)
def clean():
    """Only ``direct`` among the real algorithms, so outcomes do not depend on the cost model."""
    with only_registered("direct"):
        yield


def measured():
    """Choose for SPEC in measure mode."""
    with algos.use(mode="measure"):
        return algos.choose(SPEC)


def test_round_trip_reuses_measured_decision(tmp_path):
    path = tmp_path / "w.json"
    with fakes(Fake("fake", 1e-9)) as (fake,):
        chosen = measured()
        algos.save_wisdom(path)
        reset_planner()
        assert wisdom.lookup(next(iter(json.loads(path.read_text())["decisions"]))) is None
        assert algos.load_wisdom(path) == 1
        runs = fake.runs
        assert measured() == chosen and fake.runs == runs        # nothing timed again
        assert algos.records()[-1]["cache_hit"] is True
    data = json.loads(path.read_text())
    assert data["format"] == "lucid-wisdom" and data["fingerprint"] == algos.fingerprint()


def test_save_merges_with_disk_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "w.json"
    wisdom.store("a", "direct", {"direct": 1.0})
    algos.save_wisdom(path)
    reset_planner()
    wisdom.store("b", "direct", {"direct": 2.0})
    algos.save_wisdom(path)
    assert set(json.loads(path.read_text())["decisions"]) == {"a", "b"}
    assert sorted(os.listdir(tmp_path)) == ["w.json", "w.json.lock"]     # no temporary files left


def test_other_fingerprint_ignored_with_one_warning(tmp_path):
    path = tmp_path / "w.json"
    wisdom.store("k", "direct", {"direct": 1.0})
    algos.save_wisdom(path)
    data = json.loads(path.read_text())
    data["fingerprint"]["cpu"] = "some other cpu"
    path.write_text(json.dumps(data))
    reset_planner()
    with pytest.warns(RuntimeWarning, match="another machine"):
        assert algos.load_wisdom(path) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert algos.load_wisdom(path) == 0
    assert wisdom.lookup("k") is None


@pytest.mark.parametrize("content", [
    "{not json", '{"format": "lucid-wisdom", "version": 1, "fingerprint": {}, "decisions": {"k": {"algo', "[]",
    '{"format": "lucid-wisdom", "version": 99}', '{"format": "other"}',
    '{"__class__": "os.system", "args": ["echo pwned"]}', "\x80\x81 binary",
])
def test_malformed_file_warns_and_applies_nothing(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.warns(RuntimeWarning, match="ignoring wisdom file"):
        assert algos.load_wisdom(path) == 0


def test_half_bad_file_is_not_half_applied(tmp_path):
    path = tmp_path / "w.json"
    decisions = {"good": {"algorithm": "direct", "measured": {"direct": 1.0}},
                 "bad": {"algorithm": "direct", "measured": {"direct": "fast"}}}
    path.write_text(json.dumps({"format": "lucid-wisdom", "version": wisdom.VERSION, "fingerprint": algos.fingerprint(),
                                "decisions": decisions, "calibration": None}))
    with pytest.warns(RuntimeWarning, match="decision 'bad' is malformed"):
        algos.load_wisdom(path)
    assert wisdom.lookup("good") is None


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_paths_warn(tmp_path, kind):
    path = tmp_path / "w"
    if kind == "directory":
        path.mkdir()
    with pytest.warns(RuntimeWarning, match="ignoring wisdom file"):
        assert algos.load_wisdom(path) == 0


def test_autoload_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "w.json"
    wisdom.store("auto-key", "direct", {"direct": 1.0})
    algos.save_wisdom(path)
    reset_planner()
    monkeypatch.setenv("LUCID_WISDOM", str(path))
    algos.choose(SPEC)
    assert wisdom.lookup("auto-key") is not None


def test_fit_recovers_known_coefficients():
    truth = {"overhead": 1e-5, "flops": 2e-11, "bytes": 1e-10}
    samples = [({"flops": f, "bytes": b}, truth["overhead"] + truth["flops"] * f + truth["bytes"] * b)
               for f in (1e5, 1e7, 1e9) for b in (1e3, 1e6, 1e8)]
    fitted = cost_model.fit(samples)
    for key, value in truth.items():
        assert fitted[key] == pytest.approx(value, rel=1e-3)


def test_joint_fit_ranks_algorithms_despite_per_problem_load():
    """Each problem's timings are inflated by a random load factor; the ranking survives."""
    import numpy as np
    rng = np.random.default_rng(0)
    truth = {"gemm": {"overhead": 2e-5, "flops": 2e-11}, "fourier": {"overhead": 1e-4, "bytes": 1e-9}}
    problems = []
    for flops, nbytes in zip(10 ** rng.uniform(5, 9, 60), 10 ** rng.uniform(4, 7, 60)):
        load = float(rng.choice([1.0, 1.0, 3.0, 8.0]))
        features = {"flops": flops, "bytes": nbytes}
        problems.append({name: (features, load * cost_model.predict_with(c, features))
                         for name, c in truth.items()})
    fitted = cost_model.fit_problems(problems)
    for features, _ in (p["gemm"] for p in problems):
        want = cost_model.predict_with(truth["gemm"], features) < cost_model.predict_with(truth["fourier"], features)
        got = cost_model.predict_with(fitted["gemm"], features) < cost_model.predict_with(fitted["fourier"], features)
        assert want == got


def test_fingerprint_fields():
    fp = algos.fingerprint()
    assert {"cpu", "cpu_flags", "cores", "numpy", "blas", "pyfftw", "lucid"} <= set(fp)
    assert fp["cores"] >= 1
