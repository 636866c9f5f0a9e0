"""Memory stays bounded under shape churn (issue #13), measured as the OS sees it (RSS).

Runs ``benchmarks/soak_memory.py`` in a fresh process (RSS is per process) on
250 random shapes, forward and both backward passes.  Before the fix this loop
reached 2.2 GB after 200 calls (a 2 GiB plan cache, evicted plans kept alive by
a reference cycle, the C heap never trimmed); the issue's bounds are 400 MB of
growth after the first 100 calls and 1.2 GB at the peak.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_random_shape_loop_keeps_rss_bounded(tmp_path):
    out = tmp_path / "soak.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak_memory.py"), "--calls", "250", "--no-oracle",
                    "--json", str(out)], check=True, env=env, capture_output=True, timeout=600)
    result = json.loads(out.read_text())
    assert result["rss_growth_after_first_100_mb"] <= 400, result["samples"]
    assert result["peak_rss_mb"] <= 1200, (result["samples"], result["largest_peak_step"])
    info = result["cache_info"]
    assert info["bytes"] <= info["max_bytes"] and info["probation"]["bytes"] <= info["probation"]["max_bytes"]
    assert sum(row["bytes"] for row in info["by_algorithm"].values()) == info["bytes"]
