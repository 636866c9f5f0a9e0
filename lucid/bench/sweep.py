"""The kernel-size sweep behind ``lucid-bench --plot``: one fixed shape, K = 1 … 2049.

A dense layer (N=1, C 32→32, L=8192, no padding) is timed at each kernel size
for every algorithm, ``auto`` and the torch peer (SciPy's broadcast form is
not a contender on dense layers), so the crossovers (Winograd at K=3,
im2col/direct for short kernels, FFT for long ones) show on one plot.  A
method over the cap (see :func:`lucid.bench.timing.block_timing`) is timed once
at that K and dropped for the larger ones (its cost only grows with K).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..algos.spec import ConvSpec
from .cases import Case, Row, measure

KERNEL_SIZES = (1, 2, 3, 5, 9, 17, 33, 65, 129, 257, 513, 1025, 2049)
#: Peers worth a line on the plot.
PEERS = ("torch",)
#: Seconds per call above which a method leaves the sweep.
CAP_S = 0.5
#: (N, C_in, C_out, L) of the sweep.
SHAPE = (1, 32, 32, 8192)


def sweep_case(kernel_size: int, dtype: str = "float32") -> Case:
    """The sweep's case at ``kernel_size``."""
    n, c_in, c_out, length = SHAPE
    return Case(f"sweep_k{kernel_size}", ConvSpec(n, c_in, c_out, length, kernel_size, dtype=dtype), 0)


def run_sweep(algorithms: Sequence[str], peers: Sequence[str], *, kernel_sizes: Sequence[int] = KERNEL_SIZES,
              repeats: int = 3, cap_s: float = CAP_S, dtype: str = "float32",
              progress: Callable[[str], None] | None = None) -> dict[int, list[Row]]:
    """Forward rows of every method at every kernel size (see the module docstring).

    ``algorithms`` are forced one by one beside ``auto``; of ``peers`` only
    those in :data:`PEERS` are timed.  Returns kernel size -> rows; a dropped
    method gets a skipped row naming the kernel size where it crossed the cap.
    """
    rows: dict[int, list[Row]] = {}
    dropped: dict[str, int] = {}
    for k in kernel_sizes:
        case = sweep_case(k, dtype)
        keep = [name for name in algorithms if name not in dropped]
        found = measure(case, algorithms=keep, peers=[p for p in peers if p in PEERS and p not in dropped],
                        repeats=repeats, cap_s=cap_s,
                        progress=None if progress is None else _prefixed(progress, f"K={k} "))
        for row in found:
            if row.kind != "auto" and row.capped:
                dropped[row.method] = k
        rows[k] = found + [Row(case.name, case.spec.describe(), "forward", name,
                               "peer" if name in PEERS else "algorithm", "", "skipped",
                               f"slower than the {cap_s:g} s cap from K={at}")
                           for name, at in dropped.items() if at != k]
    return rows


def _prefixed(progress: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    """``progress`` with ``prefix`` before every message."""
    return lambda message: progress(prefix + message)
