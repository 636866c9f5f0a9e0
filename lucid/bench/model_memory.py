"""Peak resident memory of one training step, per side, each measured in a process of its own.

In one process the two sides would share glibc's heap (memory one freed is
reused by the other without touching the OS), so each side runs in a fresh
child: it builds the model and its batch, resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``, value 5: VmHWM := VmRSS), runs the warm-up steps
and one more, and reads VmHWM.  Reported: the RSS before the first step, the
peak over the steps, and their difference -- the memory training needs above
the libraries, the model and the data (activations, gradients, optimizer
state, temporaries, plans), which is what compares fairly: the absolute peak
also counts the libraries (PyTorch's alone are a few hundred MB).  The
difference does not depend on whether freed memory is returned to the OS
between steps (:mod:`lucid.allocator`): the peak is reached inside a step.
Linux only.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def available() -> bool:
    """Whether this system can reset and read the peak RSS (Linux's /proc)."""
    return _STATUS.exists() and _CLEAR_REFS.exists()


def _status_mb(field: str) -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in {_STATUS}")


def reset_peak() -> float:
    """Reset the peak-RSS mark to the current RSS; return the current RSS in MB."""
    _CLEAR_REFS.write_text("5")
    return _status_mb("VmRSS")


def peak_mb() -> float:
    """The peak RSS since the last :func:`reset_peak` (MB)."""
    return _status_mb("VmHWM")


def measure(step: Any, steps: int = 3) -> dict[str, float]:
    """Reset the peak mark, run ``step()`` ``steps`` times, read the peak."""
    before = reset_peak()
    for _ in range(steps):
        step()
    peak = peak_mb()
    return {"rss_before_mb": round(before, 1), "peak_mb": round(peak, 1), "step_mb": round(peak - before, 1)}


def in_child(model: str, side: str, quick: bool) -> dict[str, Any]:
    """:func:`measure` of ``side``'s step of ``model`` in a fresh Python process (or why not)."""
    if not available():
        return {"skipped": "needs Linux /proc/self/clear_refs"}
    code = (f"import json; from lucid.bench.model_zoo import rss_child; "
            f"print(json.dumps(rss_child({model!r}, {side!r}, {quick!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return {"skipped": f"child failed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])
