"""Hostile wisdom files: each warns exactly once, applies nothing, crashes nothing; concurrent saves merge.

Extends tests/test_wisdom.py (round trip, merge, fingerprint, a few malformed
strings) with the issue's full list: truncated files, wrong version and
fingerprint, entries naming unknown algorithms or absurd values (negative,
NaN, infinite or huge times, wrong types), a 50 MB file, a directory, a path
under a file, a permission error, binary data, deep nesting -- and two
processes saving to one path at once.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
from planner_fakes import reset_planner

import lucid.algos as algos
from lucid.algos.planner import cost_model, wisdom
from lucid.algos.spec import ConvSpec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PROBES = [ConvSpec(1, 2, 2, 100, 3, 1, (1, 1)), ConvSpec(2, 8, 8, 1000, 31, 1, (15, 15)),
          ConvSpec(1, 4, 4, 500, 3, 2, (0, 0), 2, 2, "float64")]
KNOWN_KEY = "forward N1 C2->2 Lb27 K3 s1 p(1,1) d1 g1 float32 ws0 tolinf det0 t2"


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.delenv("LUCID_WISDOM", raising=False)
    reset_planner()
    yield
    reset_planner()


def valid(**changes) -> dict:
    """A well-formed wisdom payload of this machine with one decision, then ``changes`` applied."""
    payload = {"format": wisdom.FORMAT, "version": wisdom.VERSION, "fingerprint": algos.fingerprint(),
               "decisions": {"file-key": {"algorithm": "direct", "measured": {"direct": 1e-4, "fft": 2e-4}}},
               "calibration": None}
    payload.update(changes)
    return payload


def decision(**measured_or_algorithm) -> dict:
    entry = {"algorithm": "direct", "measured": {"direct": 1e-4}}
    entry.update(measured_or_algorithm)
    return valid(decisions={"file-key": entry})


def text(payload) -> bytes:
    return json.dumps(payload).encode()


def state() -> tuple:
    """Everything a load could change, plus the planner's decisions on a few shapes."""
    return (wisdom.DEFAULT.decisions(), wisdom.DEFAULT.calibration(), copy.deepcopy(cost_model.constants()),
            [algos.choose(spec, op) for spec in PROBES for op in ("forward", "backward_filter")])


# name -> the file's bytes, or a function making them (the 50 MB one is built only when its case runs)
HOSTILE = {
    "malformed json": b'{"format": "lucid-wisdom", "version": 1,,}',
    "truncated": text(valid())[:-40],
    "empty file": b"",
    "json null": b"null",
    "json number": b"42",
    "wrong version": text(valid(version=1)),      # format 1: features under their old names
    "version as string": text(valid(version="1")),
    "wrong format tag": text(valid(format="fftw-wisdom")),
    "wrong fingerprint": text(valid(fingerprint={"cpu": "a toaster"})),
    "fingerprint not an object": text(valid(fingerprint=["cpu"])),
    "decisions a list": text(valid(decisions=[["k", "direct"]])),
    "unknown algorithm": text(decision(algorithm="quantum", measured={"quantum": 1e-4})),
    "unknown algorithm only in timings": text(decision(measured={"direct": 1e-4, "abacus": 3.0})),
    "negative time": text(decision(measured={"direct": -1e-4})),
    "NaN time": b'{"format": "lucid-wisdom", "version": 2, "fingerprint": FP, "calibration": null, '
                b'"decisions": {"file-key": {"algorithm": "direct", "measured": {"direct": NaN}}}}',
    "infinite time": b'{"format": "lucid-wisdom", "version": 2, "fingerprint": FP, "calibration": null, '
                     b'"decisions": {"file-key": {"algorithm": "direct", "measured": {"direct": 1e999}}}}',
    "huge time": text(decision(measured={"direct": 1e300})),
    "time as string": text(decision(measured={"direct": "fast"})),
    "time as bool": text(decision(measured={"direct": True})),
    "algorithm as int": text(decision(algorithm=3)),
    "calibration negative": text(valid(calibration={"constants": {"direct": {"overhead": -1.0}}, "provenance": {}})),
    "calibration string": text(valid(calibration="fast")),
    "binary": bytes(range(256)) * 64,
    "utf-16": json.dumps(valid()).encode("utf-16"),
    "deeply nested": b"[" * 200_000 + b"]" * 200_000,
    "huge 50 MB array": lambda: b"[" + b",".join([b'"' + b"x" * 1000 + b'"'] * 50_000) + b"]",
}


def _special(kind: str, tmp_path, monkeypatch) -> str:
    if kind == "directory":
        (tmp_path / "dir.json").mkdir()
        return str(tmp_path / "dir.json")
    if kind == "path under a file":
        (tmp_path / "plain").write_text("x")
        return str(tmp_path / "plain" / "w.json")
    # root ignores chmod 000, so deny reading the way an unreadable file would: open raises
    path = tmp_path / "locked.json"
    path.write_bytes(text(valid()))

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(wisdom, "open", denied, raising=False)
    return str(path)


@pytest.mark.parametrize("kind", list(HOSTILE) + ["directory", "path under a file", "permission denied"])
def test_hostile_file_warns_once_and_changes_nothing(kind, tmp_path, monkeypatch):
    wisdom.store(KNOWN_KEY, "direct", {"direct": 1e-5, "im2col": 2e-5})
    before = state()
    if kind in HOSTILE:
        path = str(tmp_path / "w.json")
        content = HOSTILE[kind]() if callable(HOSTILE[kind]) else HOSTILE[kind]
        content = content.replace(b"FP", json.dumps(algos.fingerprint()).encode())
        with open(path, "wb") as handle:
            handle.write(content)
    else:
        path = _special(kind, tmp_path, monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        applied = algos.load_wisdom(path)
    monkeypatch.undo()
    messages = [str(w.message) for w in caught]
    assert len(caught) == 1, f"{kind}: expected exactly one warning, got {messages}"
    assert issubclass(caught[0].category, RuntimeWarning) and "wisdom" in messages[0], messages
    assert applied == 0
    assert wisdom.lookup("file-key") is None, f"{kind}: an entry of the bad file was applied"
    assert state() == before, f"{kind}: the planner's state changed"


def test_saving_over_a_hostile_file_replaces_it_with_a_valid_one(tmp_path):
    path = tmp_path / "w.json"
    path.write_bytes(HOSTILE["truncated"])
    wisdom.store(KNOWN_KEY, "direct", {"direct": 1e-5})
    with pytest.warns(RuntimeWarning, match="ignoring wisdom file"):
        algos.save_wisdom(path)
    saved = json.loads(path.read_text())
    assert set(saved["decisions"]) == {KNOWN_KEY}
    reset_planner()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert algos.load_wisdom(path) == 1


SAVER = textwrap.dedent("""
    import os, sys, time
    import lucid.algos as algos
    from lucid.algos.spec import ConvSpec
    path, c_in, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with algos.use(mode="measure", time_limit=0.02):
        for i in range(rounds):
            algos.choose(ConvSpec(1, c_in, i + 1, 64, 3, 1, (1, 1)))   # a new measured decision
            open(f"{path}.r{i}.{c_in}", "w").close()                   # then both save at the same moment
            while not all(os.path.exists(f"{path}.r{i}.{c}") for c in (1, 2)):
                time.sleep(0.0005)
            algos.save_wisdom(path)
""")


def test_two_processes_saving_at_once_keep_both_sets(tmp_path):
    path, shapes = tmp_path / "shared.json", 12
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("LUCID_WISDOM", None)
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(c_in), str(shapes)], env=env,
                              stderr=subprocess.PIPE, text=True) for c_in in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "Warning" not in err, err
    saved = json.loads(path.read_text())
    keys = list(saved["decisions"])
    for c_in in (1, 2):
        mine = [k for k in keys if f" C{c_in}->" in k]
        assert len(mine) == shapes, f"process C_in={c_in}: {len(mine)} of {shapes} measured entries survived"
    leftovers = sorted(p.name for p in tmp_path.iterdir()     # the file, its lock and the test's markers stay
                       if p.name != "shared.json" and not p.name.startswith("shared.json."))
    assert leftovers == [], f"temporary files left behind: {leftovers}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert algos.load_wisdom(path) == 2 * shapes
