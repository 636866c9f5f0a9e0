"""Decision records: fields, report, export, clear and the verbose log."""
import json
import logging

import pytest
from planner_fakes import Fake, fakes, only_registered

import lucid.algos as algos
from lucid.algos.planner import history as records_module
from lucid.algos.spec import ConvSpec

SPEC = ConvSpec(1, 2, 2, 64, 5, 1, (2, 2))
CANDIDATE_KEYS = {"name", "supported", "reason", "predicted_s", "measured_s", "workspace_bytes", "error_bound"}


@pytest.fixture(autouse=True)
def clean():
    """Only ``direct`` among the real algorithms, so outcomes do not depend on the cost model."""
    with only_registered("direct"):
        yield


def test_record_fields_and_candidates():
    with fakes(Fake("k3", max_kernel=3), Fake("wide", 1e-9, workspace=1 << 40)):
        algos.choose(SPEC)
        (rec,) = algos.records()
    assert rec["op"] == "forward" and rec["key"].startswith(SPEC.describe())
    assert rec["mode"] == "heuristic" and rec["algorithm"] == "direct" and rec["cache_hit"] is False
    assert rec["duration_s"] > 0
    by_name = {c["name"]: c for c in rec["candidates"]}
    assert set(by_name) == {"direct", "k3", "wide"} or {"direct", "k3", "wide"} <= set(by_name)
    assert all(CANDIDATE_KEYS <= set(c) for c in rec["candidates"])
    assert by_name["k3"]["supported"] is False and "needs kernel_size <= 3, got 5" in by_name["k3"]["reason"]
    assert by_name["wide"]["supported"] is True and "workspace_limit" in by_name["wide"]["reason"]
    assert by_name["direct"]["reason"] is None and by_name["direct"]["predicted_s"] > 0
    assert "k3" not in rec["reason"]
    assert "wide skipped: workspace" in rec["reason"]
    assert rec["not_applicable"] == "k3: needs kernel_size <= 3, got 5"


def test_records_are_copies_and_clear():
    algos.choose(SPEC)
    algos.records()[0]["algorithm"] = "tampered"
    assert algos.records()[0]["algorithm"] == "direct"
    algos.clear_records()
    assert algos.records() == []


def test_report_is_a_table_of_decisions():
    with fakes(Fake("k3", max_kernel=3)):
        algos.choose(SPEC)
        text = algos.report()
    assert text.splitlines()[0] == "1 planner decision(s)"
    assert "-> direct" in text and "reason: direct: predicted" in text
    assert " *direct" in text and "  not applicable: k3: needs kernel_size <= 3, got 5" in text
    assert text.count("needs kernel_size") == 1
    assert algos.report([]) == "0 planner decision(s)"


def test_report_of_a_reused_bucket_decision_marks_what_was_not_assessed():
    with fakes(Fake("quick", 1e-9), Fake("slow", 1e-3, sleep_s=0.002), only=True):
        with algos.use(mode="measure"):
            algos.choose(SPEC)
            algos.choose(ConvSpec(1, 2, 2, 65, 5, 1, (2, 2)))
        reused = algos.report(algos.records()[-1:])
    assert "-> quick (reused)" in reused
    slow = next(line for line in reused.splitlines() if line.startswith("  slow"))
    name, predicted, measured, unit, workspace, bound = slow.split()[:6]
    assert (predicted, unit, workspace, bound) == ("-", "ms", "-", "-") and float(measured) >= 2
    assert slow.endswith("not assessed: the bucket's measured decision was reused")


def test_export_records_writes_json(tmp_path):
    algos.choose(SPEC)
    path = tmp_path / "records.json"
    algos.export_records(path)
    data = json.loads(path.read_text())
    assert data == algos.records() and data[0]["algorithm"] == "direct"


def test_failed_measurement_exports_as_null(tmp_path):
    with fakes(Fake("broken", 1e-9, fail=True)):
        with algos.use(mode="measure"):
            algos.choose(SPEC)
        algos.export_records(tmp_path / "r.json")
    (rec,) = json.loads((tmp_path / "r.json").read_text())
    assert next(c for c in rec["candidates"] if c["name"] == "broken")["measured_s"] is None


def test_verbose_logs_each_new_decision(monkeypatch, caplog):
    monkeypatch.setenv("LUCID_VERBOSE", "1")
    monkeypatch.setattr(records_module, "_verbose_handler", None)
    logger = logging.getLogger("lucid.algos")
    before = list(logger.handlers)
    try:
        with caplog.at_level(logging.INFO, logger="lucid.algos"):
            algos.choose(SPEC)
            algos.choose(SPEC)      # cache hit: not a new decision
        lines = [r.getMessage() for r in caplog.records if r.name == "lucid.algos"]
        assert len(lines) == 1 and lines[0].startswith("forward,N1 C2->2 L64 K5") and ",direct," in lines[0]
        assert len(logger.handlers) == len(before) + 1
    finally:
        for handler in logger.handlers[len(before):]:
            logger.removeHandler(handler)

