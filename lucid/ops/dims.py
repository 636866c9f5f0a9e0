"""Dimension arguments: ints (no bools), negative from the end, checked against the rank."""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from .._errors import bad_type, describe


class DimensionError(ValueError, IndexError):
    """A dimension out of range.  A ValueError, as every bad argument in lucid, and an IndexError,
    as PyTorch raises there, so either ``except`` catches it."""


def check_dim(where: str, argument: str, dim: Any, ndim: int, new: bool = False) -> int:
    """``dim`` normalised to ``0 <= dim < ndim`` (a 0-d tensor accepts -1 and 0, as in PyTorch).

    ``new=True`` checks the position of a dimension being inserted (unsqueeze,
    stack): ``-ndim-1 <= dim <= ndim``.

    >>> check_dim("transpose", "dim0", -1, 3)
    2
    """
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise bad_type(where, argument, "an int", dim)
    rank = ndim + 1 if new else max(ndim, 1)
    if not -rank <= int(dim) < rank:
        raise DimensionError(f"{where}(): {argument} must be in [{-rank}, {rank - 1}] (Dimension out of range) "
                             f"for a {ndim}-d tensor, got {describe(dim)}")
    return int(dim) % rank


def check_dims(where: str, argument: str, dims: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """An int, a sequence of ints or ``None`` (every dim) as sorted, distinct, normalised dims."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (tuple, list)):
        if not dims:
            return tuple(range(ndim))
        axes = [check_dim(where, argument, d, ndim) for d in dims]
    else:
        axes = [check_dim(where, argument, dims, ndim)]
    if len(set(axes)) != len(axes):
        raise DimensionError(f"{where}(): {argument} must not repeat a dimension, got {describe(dims)}")
    return tuple(sorted(axes)) if ndim else ()
