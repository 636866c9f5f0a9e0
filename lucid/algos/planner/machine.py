"""What a timing depends on: the machine and the library versions, as a small dict.

Wisdom files (:mod:`lucid.algos.planner.wisdom`) carry the fingerprint of the process
that wrote them; a process with another fingerprint ignores their entries,
because a measured decision or a fitted constant does not transfer across CPUs,
core counts or BLAS/FFTW builds.
"""
from __future__ import annotations

import functools
import hashlib
import platform

import numpy as np

from ..._version import __version__
from .._parallel import available_cores


def _cpu() -> tuple[str, str]:
    """CPU model name and a hash of its feature flags (from /proc/cpuinfo on Linux)."""
    found: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                found.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = found.get("model name") or platform.processor() or platform.machine()
    flags = " ".join(sorted((found.get("flags") or found.get("Features") or "").split()))
    return model, hashlib.sha256(flags.encode()).hexdigest()[:16]


def _blas() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except (TypeError, AttributeError, ValueError):
        return "unknown"


@functools.lru_cache(maxsize=1)
def _fingerprint() -> tuple[tuple[str, object], ...]:
    model, flags = _cpu()
    try:
        import pyfftw
        fftw = getattr(pyfftw, "__version__", None)
    except ImportError:
        fftw = None
    return tuple({
        "cpu": model,
        "cpu_flags": flags,
        "cores": available_cores(),
        "numpy": np.__version__,
        "blas": _blas(),
        "pyfftw": fftw,
        "lucid": __version__,
    }.items())


def fingerprint() -> dict:
    """The machine and software fingerprint of this process.

    Returns
    -------
    dict
        ``cpu`` (model name), ``cpu_flags`` (hash of the feature flags),
        ``cores`` (usable cores), ``numpy``, ``blas`` (name and version),
        ``pyfftw`` (its version, which pins the bundled FFTW) and ``lucid``.
        Computed once per process.

    Examples
    --------
    >>> sorted(fingerprint())
    ['blas', 'cores', 'cpu', 'cpu_flags', 'lucid', 'numpy', 'pyfftw']
    """
    return dict(_fingerprint())
