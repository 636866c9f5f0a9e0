"""lucid-bench --threads N: N validated against the allowed cores, the run pinned to N cores."""
from __future__ import annotations

import importlib.util
import json

import pytest
from helpers import num_threads

import lucid
from lucid.bench import cli, pinning, scaling


@pytest.mark.parametrize("bad", [0, -1, 4097, True, 1.0, "2"])
def test_bad_thread_counts_name_the_option(monkeypatch, bad):
    monkeypatch.setattr(pinning, "allowed_cores", lambda: list(range(4096)))
    with pytest.raises(ValueError, match="--threads must be an int from 1 to 4096"):
        pinning.cores_for(bad)


def test_the_first_n_allowed_cores_are_chosen(monkeypatch):
    monkeypatch.setattr(pinning, "allowed_cores", lambda: [3, 5, 8, 9] + list(range(16, 76)))
    assert pinning.cores_for(1) == [3]
    assert pinning.cores_for(16) == [3, 5, 8, 9, *range(16, 28)]
    assert len(pinning.cores_for(64)) == 64


def test_runs_on_needs_both_affinity_and_pool():
    n = len(pinning.allowed_cores())
    assert pinning.runs_on(n) == (lucid.get_num_threads() == n)
    with num_threads(n + 1):
        assert not pinning.runs_on(n)


def test_threads_one_runs_pinned_to_one_core(tmp_path, capsys):
    peer = "torch" if importlib.util.find_spec("torch") else "none"
    path = tmp_path / "one.json"
    argv = ["--threads", "1", "--quick", "--block", "0.002", "--repeats", "1", "--shape", "1,2,2,16,3",
            "--algorithms", "direct", "--peers", peer, "--json", str(path)]
    assert cli.main(argv) == 0
    threads = json.loads(path.read_text())["threads"]
    assert len(threads["affinity"]) == 1 and threads["lucid_pool"] == 1
    assert threads["torch"] == (1 if peer == "torch" else None)
    assert all(count == 1 for count in threads["blas"])


@pytest.mark.parametrize("argv, words", [
    (["--threads", "1"], "at least two distinct counts"),
    (["--threads", "1,1"], "at least two distinct counts"),
    (["--threads", "1,x"], "comma-separated ints"),
    (["--threads", "1,4097"], "--threads must be an int from 1 to"),
    (["--workload", "nope"], "--workload must be among"),
    (["--passes", "0"], "--passes must be positive"),
])
def test_scaling_bad_arguments_give_one_line_and_status_2(capsys, argv, words):
    assert cli.main(["scaling", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lucid-bench: error: ") and words in err


def test_scaling_combines_pinned_runs_into_speedups(tmp_path, capsys, monkeypatch):
    if len(pinning.allowed_cores()) < 2:
        pytest.skip("needs two cores")
    monkeypatch.setattr(scaling, "child_argv", lambda t, w, r, b, path: [
        "--threads", str(t), "--quick", "--block", "0.002", "--repeats", "1", "--shape", "1,2,2,16,3",
        "--algorithms", "none", "--peers", "none", "--train", "--json", path])
    path = tmp_path / "s.json"
    assert cli.main(["scaling", "--workload", "pointwise", "--passes", "2", "--json", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert doc["threads"] == [1, 2] and [len(doc["runs"][t]) for t in ("1", "2")] == [2, 2]
    assert [len(run["threads"]["affinity"]) for run in doc["runs"]["1"]] == [1, 1]
    (row,) = doc["rows"]
    assert row["case"] == "custom" and set(row) == {"case", "forward_auto", "train_auto"}
    runs_ms = [next(r["median_ms"] for r in run["rows"] if r["method"] == "auto") for run in doc["runs"]["1"]]
    assert row["forward_auto"]["ms"]["1"] == pytest.approx(sum(runs_ms) / 2)     # median of two passes
    for key in ("forward_auto", "train_auto"):
        ms = row[key]["ms"]
        assert row[key]["speedup"]["2"] == pytest.approx(ms["1"] / ms["2"])
    assert "scaling 1 -> 2 threads" in capsys.readouterr().out
