"""``lucid-bench --threads N``: run the comparison on N cores, for lucid and PyTorch alike.

lucid sizes its thread pool, FFTW's threads and its parallel splits from the
cores the process may run on (:func:`lucid.get_num_threads`, read once
at import from ``os.sched_getaffinity``), and the plan cache keys plans on it.
So the honest way to give lucid N threads is the one ``taskset`` uses: run the
benchmark in a process pinned to N cores.  :func:`run_pinned` starts
``python -m lucid.bench`` with the same arguments in a child whose affinity is
the first N cores of this process's (set between fork and exec, so lucid,
NumPy's OpenBLAS and PyTorch all start on N cores); the child sees it already
runs on N cores and benchmarks in-process.  PyTorch gets
``torch.set_num_threads(lucid.get_num_threads())``, i.e. N, as everywhere in ``lucid-bench``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..algos import _parallel


def allowed_cores() -> list[int]:
    """The cores this process may run on, sorted (all of ``os.cpu_count()`` without ``sched_getaffinity``)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def cores_for(n: int) -> list[int]:
    """The first ``n`` allowed cores; ValueError naming ``--threads`` unless ``1 <= n <= len(allowed)``."""
    allowed = allowed_cores()
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(allowed):
        raise ValueError(f"--threads must be an int from 1 to {len(allowed)} (the cores this process may run on), "
                         f"got {n!r}")
    return allowed[:n]


def runs_on(n: int) -> bool:
    """Whether this process already runs on exactly ``n`` cores with a pool of ``n`` threads."""
    return len(allowed_cores()) == n and _parallel.get_num_threads() == n


def run_pinned(n: int, argv: Sequence[str]) -> int:
    """Run ``python -m lucid.bench *argv`` pinned to the first ``n`` cores; return its exit status.

    The child imports the same ``lucid`` (its folder leads ``PYTHONPATH``)
    and inherits stdout and stderr.  Raises ValueError for a bad ``n``.
    """
    chosen = cores_for(n)
    if not hasattr(os, "sched_setaffinity"):
        raise ValueError("--threads needs os.sched_setaffinity (Linux)")
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([sys.executable, "-m", "lucid.bench", *argv], env=env, check=False,
                          preexec_fn=lambda: os.sched_setaffinity(0, chosen)).returncode


def describe() -> dict:
    """The thread counts of this process: affinity, lucid's pool, PyTorch (when imported) and the BLAS libraries."""
    from ..algos import _blas_threads

    torch = sys.modules.get("torch")
    return {"affinity": allowed_cores(), "lucid_pool": _parallel.get_num_threads(),
            "torch": torch.get_num_threads() if torch is not None else None,
            "blas": [library.num_threads for library in _blas_threads._LIBRARIES]}
