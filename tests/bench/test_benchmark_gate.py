"""The pytest-benchmark regression gate catches an injected slowdown and passes unmodified code.

A tiny benchmark (``conv1d`` forced to ``direct`` on a small shape) is saved
as a baseline in a temporary storage, then compared with
``--benchmark-compare-fail=median:25%`` twice in fresh pytest processes:
once with the direct algorithm's plans patched to sleep 20 ms per call (the
gate must fail), once unmodified (the gate must pass).  The benchmark body
sleeps 20 ms itself, a stable floor that keeps the unmodified comparison far
inside 25 % on a shared, noisy machine while the injection doubles the median.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pytest_benchmark")

ROOT = Path(__file__).resolve().parents[2]
GATE = ["--benchmark-compare=0001", "--benchmark-compare-fail=median:25%"]

CONFTEST = '''
import os
import time

from lucid.algos import registry

DELAY = float(os.environ.get("GATE_SLEEP_S", "0"))
if DELAY:
    algo = registry.get("direct")
    build = algo.build

    def slow_build(layout):
        plan = build(layout)
        run = plan.run

        def run_slowly(x, w):
            time.sleep(DELAY)
            return run(x, w)
        plan.run = run_slowly
        return plan
    algo.build = slow_build
'''

BENCH = '''
import time

import numpy as np

import lucid
import lucid.nn.functional as F


def test_tiny_direct(benchmark):
    rng = np.random.default_rng(0)
    x = lucid.from_numpy(rng.standard_normal((2, 8, 256)).astype(np.float32))
    w = lucid.from_numpy(rng.standard_normal((8, 8, 3)).astype(np.float32))

    def body():
        time.sleep(0.02)                      # stable floor: see the module docstring
        return F.conv1d(x, w, padding=1, algorithm="direct")
    y = benchmark(body)
    assert y.shape == (2, 8, 256)
'''


def _pytest(tmp_path: Path, *args: str, sleep: float = 0.0) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GATE_SLEEP_S": str(sleep)}
    return subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "bench"), "-q", "-p", "no:cacheprovider",
                           f"--benchmark-storage=file://{tmp_path / 'storage'}", "--benchmark-max-time=0.3", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_gate_fails_on_injected_slowdown_and_passes_unmodified(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tmp_path / "bench" / "test_tiny.py").write_text(textwrap.dedent(BENCH))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")

    saved = _pytest(tmp_path, "--benchmark-save=baseline")
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert len(list((tmp_path / "storage").rglob("0001_baseline.json"))) == 1

    slowed = _pytest(tmp_path, *GATE, sleep=0.02)
    assert slowed.returncode != 0, slowed.stdout
    assert "Performance has regressed" in slowed.stdout + slowed.stderr
    assert "test_tiny_direct" in slowed.stdout + slowed.stderr

    unmodified = _pytest(tmp_path, *GATE)
    assert unmodified.returncode == 0, unmodified.stdout + unmodified.stderr
