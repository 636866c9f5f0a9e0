"""lucid-bench writes files only where it is told to (issue #27).

Every command is run from an empty working directory, as a newcomer would from
a clone: nothing may appear there, nor in the repository's ``results/``.  Also:
``--model`` is in ``--help``, and the model bench flags PyTorch's thread stall.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lucid.bench import cli, model_step, scaling

RESULTS = Path(__file__).resolve().parents[2] / "results"
TINY = ["--quick", "--block", "0.002", "--shape", "2,4,6,32,3", "--peers", "none", "--repeats", "1"]


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    """An empty working directory; afterwards it must still be empty and results/ untouched."""
    results_before = _files(RESULTS) if RESULTS.is_dir() else {}
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert _files(tmp_path) == {}, "lucid-bench wrote into the working directory"
    assert (_files(RESULTS) if RESULTS.is_dir() else {}) == results_before, "lucid-bench wrote into results/"


def test_the_suite_run_writes_nothing_by_default(empty_cwd, capsys):
    assert cli.main(TINY + ["--algorithms", "direct"]) == 0
    assert "== custom forward" in capsys.readouterr().out


def test_the_model_bench_writes_nothing_by_default(empty_cwd, capsys):
    assert cli.main(["--model", "tcn", "--quick", "--peers", "none", "--rounds", "1", "--warmup", "1"]) == 0
    out, err = capsys.readouterr()
    assert "tcn training step" in out and "written to" not in err


def test_the_model_bench_writes_where_json_says(empty_cwd, capsys):
    target = empty_cwd / "sub" / "m.json"
    assert cli.main(["--model", "tcn", "--quick", "--peers", "none", "--rounds", "1", "--json", str(target)]) == 0
    assert target.is_file()
    target.unlink()
    target.parent.rmdir()


def test_scaling_writes_nothing_by_default(empty_cwd, monkeypatch, capsys):
    assert scaling.parse([], cli._Parser).json is None
    doc = {"rows": [{"case": "dense_k3_L4096", "forward_auto": {"ms": {"1": 2.0, "2": 1.0}, "speedup": {"2": 2.0}}}]}
    monkeypatch.setattr(scaling, "run", lambda *a, **k: doc)           # the pinned runs themselves take minutes
    assert cli.main(["scaling", "--workload", "dense_k3_L4096"]) == 0
    assert "x2.00" in capsys.readouterr().out


def test_calibrate_writes_no_wisdom_unless_told(empty_cwd, capsys, planner_state, monkeypatch):
    monkeypatch.setenv("LUCID_WISDOM", str(empty_cwd / "from-env.json"))
    assert cli.main(["calibrate", "--budget", "0.3", "--fit-problems", "4", "--test-problems", "3"]) == 0
    assert "wisdom not written (give --wisdom PATH to keep it)" in capsys.readouterr().out


def test_help_lists_model_among_the_options(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    options = out.split("options:", 1)[1]
    assert "--model {conformer,tcn,vocoder,wavenet}" in options
    assert "writes only where it is told to" in out


def _doc(torch_ms: float, one_thread_ms: float | None) -> dict:
    def timing(ms):
        return {"per_call_s": [ms / 1e3], "median_s": ms / 1e3, "min_s": ms / 1e3, "calls_per_block": 1}
    single = None if one_thread_ms is None else timing(one_thread_ms)
    return {"model": "tcn", "example": "examples/tcn_classifier.py", "dtype": "float32", "parameters": 10,
            "sizes": {}, "lucid": timing(2.0), "torch": timing(torch_ms), "ratio": 2.0 / torch_ms,
            "ratio_per_round": [2.0 / torch_ms], "ratio_of_minima": 2.0 / torch_ms, "threads": 2,
            "torch_1thread": single,
            "torch_thread_stall": None if single is None else torch_ms > model_step.STALL_RATIO * one_thread_ms,
            "ratio_vs_torch_1thread": None if single is None else 2.0 / one_thread_ms,
            "picks": [{"op": "forward", "shape": "N4 C4->4 L32 K3", "algorithm": "direct"}],
            "load_average_after": None}


def test_the_report_cautions_when_torch_threads_stall():
    text = model_step.format_report(_doc(torch_ms=300.0, one_thread_ms=3.0))
    assert "lucid / torch = 0.01" in text
    assert "torch at 1 thread  median       3.0 ms/step" in text and "lucid / torch at 1 thread = 0.67" in text
    caution = [line for line in text.splitlines() if line.startswith("CAUTION")]
    assert len(caution) == 1 and "2 threads (300.0 ms) is 100.0x its step at 1 thread (3.0 ms)" in caution[0]
    assert "N4 C4->4 L32 K3  direct / - / -" in text


def test_no_caution_when_the_threads_help():
    text = model_step.format_report(_doc(torch_ms=2.5, one_thread_ms=4.0))
    assert "torch at 1 thread" in text and "CAUTION" not in text
    assert "torch at 1 thread" not in model_step.format_report(_doc(torch_ms=2.5, one_thread_ms=None))


def test_the_model_bench_times_torch_at_one_thread_when_it_has_more(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(model_step, "threads", lambda: 2)
    before = torch.get_num_threads()
    doc = model_step.run("tcn", quick=True, rounds=1, warmup=1)
    assert torch.get_num_threads() == before
    single = doc["torch_1thread"]
    assert len(single["per_call_s"]) == model_step.ONE_THREAD_ROUNDS and single["median_s"] > 0
    assert doc["torch_thread_stall"] == (doc["torch"]["median_s"] > model_step.STALL_RATIO * single["median_s"])
    assert doc["ratio_vs_torch_1thread"] == pytest.approx(doc["lucid"]["median_s"] / single["median_s"])
    assert os.listdir(tmp_path) == []
