"""Split a pass over independent rows, or over the elements of an elementwise op, across lucid's thread pool.

NumPy's ufuncs and reductions release the GIL, so rows that do not depend on
each other (the groups of a norm) can be processed by every core, as
PyTorch's CPU kernels do with their OpenMP threads.  Blocks hold at least
:data:`MIN_BLOCK_ELEMENTS` elements, so small tensors run inline, paying
nothing for the pool.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..algos._parallel import parallel_for

#: Elements a block must hold before a pass is split (below it, the pool's ~30 us hand-off costs
#: more than a second core saves on a memory-bound pass).
MIN_BLOCK_ELEMENTS = 1 << 17


def over_rows(rows: int, row_elements: int, body: Callable[[int, int], None]) -> None:
    """Run ``body(lo, hi)`` over blocks of ``range(rows)``, split over the pool's threads when each
    block holds at least :data:`MIN_BLOCK_ELEMENTS` elements (``row_elements`` per row)."""
    parallel_for(rows, body, min_block=max(1, -(-MIN_BLOCK_ELEMENTS // max(row_elements, 1))))


class Split:
    """Blocks of an elementwise pass over ``shape``: along its first axis longer than 1, whose slices
    are views of any operand (contiguous or not, e.g. the two halves of a gate).

    ``part(a, lo, hi)`` is operand ``a``'s share of the block ``[lo, hi)`` of that
    axis (``a`` itself where it broadcasts along it); :meth:`run` calls
    ``body(lo, hi)`` over the blocks, on the pool when they are large enough.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.axis = next((i for i, n in enumerate(shape) if n > 1), None)
        self.size = int(np.prod(shape, dtype=np.int64))

    def part(self, a: Any, lo: int, hi: int) -> Any:
        if self.axis is None or not isinstance(a, np.ndarray):
            return a
        index = self.axis - (len(self.shape) - a.ndim)
        if index < 0 or a.shape[index] == 1:
            return a
        return a[(slice(None),) * index + (slice(lo, hi),)]

    def run(self, body: Callable[[int, int], None]) -> None:
        if self.axis is None or self.size < 2 * MIN_BLOCK_ELEMENTS:
            body(0, self.shape[self.axis] if self.axis is not None else 1)
            return
        rows = self.shape[self.axis]
        parallel_for(rows, body, min_block=max(1, -(-MIN_BLOCK_ELEMENTS * rows // self.size)))


def ufunc(func: np.ufunc, *operands: Any, out: np.ndarray | None = None) -> np.ndarray:
    """``func(*operands, out=out)``, split over the pool's threads when large (see :class:`Split`).

    Same result, element for element: each element is computed by the same
    ufunc loop, only perhaps by another thread.
    """
    shape = np.broadcast_shapes(*(np.shape(a) for a in operands))
    split = Split(shape)
    if split.axis is None or split.size < 2 * MIN_BLOCK_ELEMENTS:
        return func(*operands, out=out) if out is not None else func(*operands)
    if out is None:
        out = np.empty(shape, func(*(np.ravel(a)[:1] if isinstance(a, np.ndarray) else a for a in operands)).dtype)
    target = out

    def body(lo: int, hi: int) -> None:
        func(*(split.part(a, lo, hi) for a in operands), out=split.part(target, lo, hi))
    split.run(body)
    return out
