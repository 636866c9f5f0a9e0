"""Split a pass over independent rows across lucid's thread pool.

NumPy's ufuncs and reductions release the GIL, so rows that do not depend on
each other (the groups of a norm) can be processed by every core, as
PyTorch's CPU kernels do with their OpenMP threads.  Blocks hold at least
:data:`MIN_BLOCK_ELEMENTS` elements, so small tensors run inline, paying
nothing for the pool.
"""
from __future__ import annotations

from collections.abc import Callable

from ..algos._parallel import parallel_for

#: Elements a block must hold before a pass is split (below it, the pool's ~30 us hand-off costs
#: more than a second core saves on a memory-bound pass).
MIN_BLOCK_ELEMENTS = 1 << 17


def over_rows(rows: int, row_elements: int, body: Callable[[int, int], None]) -> None:
    """Run ``body(lo, hi)`` over blocks of ``range(rows)``, split over the pool's threads when each
    block holds at least :data:`MIN_BLOCK_ELEMENTS` elements (``row_elements`` per row)."""
    parallel_for(rows, body, min_block=max(1, -(-MIN_BLOCK_ELEMENTS // max(row_elements, 1))))
