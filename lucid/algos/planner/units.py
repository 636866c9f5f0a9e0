"""Seconds and bytes as people read them: the one formatter of the planner, its
records and ``lucid-bench``.

>>> seconds(0.00042), seconds(1.5), size(3 << 20), size(None)
('420 us', '1.5 s', '3.0 MiB', '-')
"""
from __future__ import annotations

import math

_TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("us", 1e-6))
_SIZE_UNITS = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def seconds(value: float | None) -> str:
    """``value`` seconds with three significant digits in s, ms or us; ``-`` for None
    (not timed), ``inf`` for a failed candidate."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    unit, scale = next(((u, s) for u, s in _TIME_UNITS if value >= s), _TIME_UNITS[-1])
    return f"{value / scale:.3g} {unit}"


def size(nbytes: float | None) -> str:
    """``nbytes`` in GiB, MiB or KiB with one decimal, or whole bytes; ``-`` for None."""
    if nbytes is None:
        return "-"
    unit, scale = next(((u, s) for u, s in _SIZE_UNITS if nbytes >= s), ("B", 1))
    return f"{int(nbytes)} B" if scale == 1 else f"{nbytes / scale:.1f} {unit}"
