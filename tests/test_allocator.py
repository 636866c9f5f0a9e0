"""lucid.allocator: freed arrays are reused without page faults, and memory goes back on demand.

Each case runs in a fresh interpreter, because the allocator's settings are
process-wide and the parent's heap holds the test suite's own history.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator (Linux)")

_CHILD = """
import json, resource, numpy as np
import lucid
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
steps = []
for _ in range(4):                       # a 'training step': allocate and free 16 arrays of 8 MiB
    before = faults()
    arrays = [np.ones(2**21, np.float32) for _ in range(16)]
    del arrays
    steps.append(faults() - before)
held = rss_mb()
trimmed = lucid.allocator.release_to_os()
print(json.dumps({"faults": steps, "held_mb": held, "after_trim_mb": rss_mb(), "trimmed": trimmed}))
"""


def _child(keep: str) -> dict:
    env = {**os.environ, "LUCID_KEEP_FREED_MEMORY": keep}
    done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_freed_memory_is_reused_without_faults_and_released_on_demand():
    kept = _child("1")
    if not kept["trimmed"]:
        pytest.skip("not glibc: lucid.allocator is a no-op here")
    first = kept["faults"][0]                                      # the first step maps its memory (the kernel
    assert first > 1000                                             # may map several pages per fault)
    assert max(kept["faults"][1:]) < first // 20                    # later steps reuse it
    assert kept["held_mb"] > 100 and kept["after_trim_mb"] < kept["held_mb"] - 100


def test_the_environment_switch_restores_glibcs_default():
    default = _child("0")
    if not default["trimmed"]:
        pytest.skip("not glibc")
    assert min(default["faults"][1:]) > default["faults"][0] // 2   # every step faults its memory in again
