"""lucid-bench: argument parsing, a quick run on a tiny shape (table, JSON, CSV), and bad arguments."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lucid import algos
from lucid.algos import registry
from lucid.bench import cli, plot, sweep
from lucid.suite import SUITE

OPS = ("forward", "backward_data", "backward_filter")
TINY = ["--quick", "--block", "0.002", "--shape", "2,4,6,32,3", "--padding", "same", "--peers", "none"]


def test_parser_reads_a_custom_shape():
    args = cli.build_parser().parse_args(["--shape", "2,4,6,32,4", "--padding", "same", "--dilation", "2",
                                          "--algorithms", "direct", "--backward"])
    assert args.shape == (2, 4, 6, 32, 4)
    assert args.padding == "same" and args.dilation == 2 and args.backward
    assert args.algorithms == ("direct",)
    (case,) = cli._cases(args)
    assert case.spec.padding == (3, 3)            # same: d*(K-1) = 6 split 3/3
    assert case.spec.l_out == 32 and case.spec.kernel_size == 4


def test_parser_same_padding_is_asymmetric_for_even_span():
    (case,) = cli._cases(cli.build_parser().parse_args(["--shape", "1,2,2,16,4", "--padding", "same"]))
    assert case.spec.padding == (1, 2) and case.spec.l_out == 16


def test_parser_defaults_run_the_whole_suite_and_quick_the_subset():
    assert [c.name for c in cli._cases(cli.build_parser().parse_args([]))] == [w.name for w in SUITE]
    quick = [c.name for c in cli._cases(cli.build_parser().parse_args(["--quick"]))]
    assert quick == [w.name for w in SUITE if w.quick] and 0 < len(quick) < len(SUITE)
    picked = cli._cases(cli.build_parser().parse_args(["--workload", "pointwise,dw_mamba_k4"]))
    assert [c.name for c in picked] == ["pointwise", "dw_mamba_k4"]


@pytest.mark.parametrize("argv, words", [
    (["--shape", "1,2,3"], "--shape"),
    (["--shape", "1,2,x,4,5"], "--shape"),
    (["--algorithms", "nope"], "--algorithms"),
    (["--peers", "matlab"], "--peers"),
    (["--workload", "nope"], "--workload"),
    (["--stride", "2"], "need --shape"),
    (["--shape", "1,3,4,16,3", "--groups", "2"], "groups=2"),
    (["--shape", "1,2,2,16,3", "--padding", "same", "--stride", "2"], "--padding same"),
    (["--shape", "1,2,2,16,3", "--padding", "wide"], "--padding"),
    (["--repeats", "0"], "--repeats"),
    (["--cap", "-1"], "--cap"),
    (["--dtype", "float16"], "--dtype"),
    (["--block", "0"], "--block"),
    (["--threads", "0"], "--threads"),
    (["--threads", "-2"], "--threads"),
    (["--threads", "two"], "--threads"),
    (["--threads", "4096", "--quick"], "--threads must be an int from 1 to"),
    (["--frobnicate"], "--frobnicate"),
])
def test_bad_arguments_give_one_line_and_status_2(capsys, argv, words):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("lucid-bench: error: ") and words in err


def test_help_documents_options_and_subcommands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("--quick", "--shape", "--backward", "--json", "--csv", "--plot", "--cap", "--peers", "--train",
                 "--threads", "--block",
                 "plans", "calibrate"):
        assert word in out


def _table_lines(out: str, op: str) -> list[str]:
    block = out.split(f"== custom {op}:")[1].split("\n\n")[0]
    return block.splitlines()[3:]


def test_quick_run_prints_tables_and_writes_json_and_csv(tmp_path, capsys):
    json_path, csv_path = tmp_path / "r.json", tmp_path / "r.csv"
    assert cli.main(TINY + ["--backward", "--repeats", "2", "--json", str(json_path),
                            "--csv", str(csv_path)]) == 0
    out, err = capsys.readouterr()
    assert "s  [1/1] custom forward: auto" in err
    summary = out.split("== summary (auto/best: ratio of medians; auto/peer: median of per-round ratios)\n")[1]
    summary = summary.split("\n\n")[0].splitlines()
    assert [line.split()[:2] for line in summary] == [["custom", op] for op in OPS]
    names = registry.names()
    spec = cli._cases(cli.build_parser().parse_args(TINY))[0].spec
    for op in OPS:
        lines = _table_lines(out, op)
        assert [line.split()[0] for line in lines] == [*names, f"auto→{algos.choose(spec, op=op)}"]
        assert sum(line.rstrip().endswith("*") for line in lines) == 1

    doc = json.loads(json_path.read_text())
    assert doc["fingerprint"] == json.loads(json.dumps(algos.fingerprint()))
    assert doc["command"].startswith("lucid-bench --quick --block 0.002 --shape 2,4,6,32,3")
    assert len(doc["load_average"]) == 3 and len(doc["load_average_before"]) == 3
    assert doc["created"].endswith("+00:00") and doc["train"] == []
    assert "block timing" in doc["method"] and "mmap threshold" in doc["method"]
    assert doc["threads"]["lucid_pool"] == len(doc["threads"]["affinity"]) >= 1
    rows = doc["rows"]
    assert len(rows) == 3 * (len(names) + 1)
    for op in OPS:
        mine = [r for r in rows if r["op"] == op]
        auto = next(r for r in mine if r["method"] == "auto")
        assert [r["method"] for r in mine if r["planner_pick"]] == [auto["ran"]]
        for r in mine:
            assert r["shape"] == "N2 C4->6 L32 K3 s1 p(1,1) d1 g1 float32"
            if r["status"] == "ok":
                assert r["error"] < 1e-5 and 0 < r["min_ms"] <= r["median_ms"] and r["repeats"] == 2
                assert r["vs_fastest"] >= 1.0 and r["gflops"] > 0 and r["vs_torch"] is None
                assert len(r["per_call_ms"]) == 2 and min(r["per_call_ms"]) == r["min_ms"]
                assert r["calls_per_block"] >= 1 and not r["capped"]
            else:
                assert r["reason"] and r["median_ms"] is None
        assert min(r["vs_fastest"] for r in mine if r["status"] == "ok") == 1.0

    with open(csv_path, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["method"] for r in table] == [r["method"] for r in rows]
    assert {f"fp_{key}" for key in doc["fingerprint"]} <= set(table[0])
    ran = next(i for i, r in enumerate(rows) if r["status"] == "ok")      # native algorithms skip forward
    assert float(table[ran]["median_ms"]) == pytest.approx(rows[ran]["median_ms"])
    assert json.loads(table[ran]["per_call_ms"]) == pytest.approx(rows[ran]["per_call_ms"])


def test_torch_peer_rows_agree_with_the_reference(capsys, tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "t.json"
    assert cli.main(TINY[:-2] + ["--peers", "torch", "--backward", "--repeats", "1", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    for op in OPS:
        lines = _table_lines(out, op)
        (line,) = [line for line in lines if line.startswith("torch")]
        assert float(line.split()[8]) < 1e-5 and line.split()[7] == "-"
    rows = json.loads(path.read_text())["rows"]
    torch = {r["op"]: r["median_ms"] for r in rows if r["method"] == "torch"}
    for row in rows:
        if row["status"] == "ok" and row["kind"] != "peer":      # one round: the ratio of the two blocks
            assert row["vs_torch"] == pytest.approx(row["median_ms"] / torch[row["op"]])


def test_absent_peer_is_a_skipped_row_not_an_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)      # import torch -> ImportError
    assert cli.main(TINY[:-2] + ["--peers", "torch", "--repeats", "1"]) == 0
    assert "torch        skipped: torch is not installed" in capsys.readouterr().out


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch, capsys, tmp_path):
    real = plot.importlib.util.find_spec
    monkeypatch.setattr(plot.importlib.util, "find_spec", lambda name: None if name == "matplotlib" else real(name))
    assert cli.main(TINY + ["--plot", str(tmp_path / "k.png")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'matplotlib>=3.5'" in err and "pip install -e '.[plot]'" in err


def test_sweep_rows_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    swept = sweep.run_sweep(["direct"], [], kernel_sizes=(1, 3), repeats=2, cap_s=1e-9)
    assert list(swept) == [1, 3]
    assert [r.method for r in swept[1]] == ["direct", "auto"]
    late = {r.method: r for r in swept[3]}
    assert late["direct"].status == "skipped" and "cap from K=1" in late["direct"].reason
    assert late["auto"].status == "ok"
    path = tmp_path / "sweep.png"
    plot.plot_sweep(swept, path, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run([sys.executable, "-m", "lucid.bench", "--shape", "1,1,1,8"], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 2 and done.stderr.startswith("lucid-bench: error: ")


def test_plans_without_a_file_plans_the_suite_now(capsys):
    assert cli.main(["plans"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{3 * len(SUITE)} planner decision(s)")
    for workload in SUITE:
        assert workload.spec().describe() in out


def test_plans_reads_exported_records_and_wisdom_files(tmp_path, capsys, planner_state):
    spec = cli._cases(cli.build_parser().parse_args(TINY))[0].spec
    algos.clear_records()
    with algos.use(mode="measure"):
        chosen = algos.choose(spec)
    records, wisdom = tmp_path / "records.json", tmp_path / "wisdom.json"
    algos.export_records(records)
    algos.save_wisdom(wisdom)
    assert cli.main(["plans", str(records)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 planner decision(s)") and "mode=measure" in out and f"-> {chosen}" in out
    assert cli.main(["plans", str(wisdom)]) == 0
    out = capsys.readouterr().out
    assert "measured decision(s)" in out and f"-> {chosen}" in out
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    assert cli.main(["plans", str(tmp_path / "other.json")]) == 2
    assert "neither a lucid wisdom file nor exported records" in capsys.readouterr().err


def test_calibrate_writes_a_wisdom_file(tmp_path, capsys, planner_state):
    path = tmp_path / "wisdom.json"
    assert cli.main(["calibrate", "--wisdom", str(path), "--budget", "0.5"]) == 0
    assert f"wisdom written to {path}" in capsys.readouterr().out
    assert json.loads(path.read_text())["format"] == "lucid-wisdom"
    assert cli.main(["calibrate", "--budget", "0"]) == 2
