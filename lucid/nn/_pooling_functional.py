"""``F.avg_pool1d`` and ``F.max_pool1d`` on ``(N, C, L)`` or unbatched ``(C, L)`` tensors.

The windows, maths and gradients are in :mod:`lucid.ops.pool`:
``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``.
``ceil_mode=True`` is refused with a ValueError rather than approximated.  The
arguments are checked on the Tensor before the array-level rule runs, so a
message names what the caller passed (a Tensor), not the array inside it.
"""
from __future__ import annotations

from typing import Any, cast

from .._errors import bad_type, bad_value
from ..ops import pool
from ..tensor import Tensor, apply


def _input(where: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise bad_type(where, "input", "a lucid.Tensor", value)
    if value.ndim not in (2, 3):
        raise bad_value(where, "input", "a 2-D (C, L) or 3-D (N, C, L) tensor", value)
    if value.data.dtype.kind != "f":
        raise bad_type(where, "input", "a float32 or float64 tensor", value)
    return value


def avg_pool1d(input: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean of each window of ``kernel_size`` samples, moved by ``stride`` (default ``kernel_size``).

    ``y[n, c, t] = sum_{j<k} x_pad[n, c, t s + j] / k`` with ``padding`` zeros on
    both sides (at most ``kernel_size / 2``); with ``count_include_pad=False``
    the divisor counts only real samples.  Cost ``O(N C L_out k)`` forward and backward.

    >>> import lucid, lucid.nn.functional as F
    >>> F.avg_pool1d(lucid.tensor([[1.0, 2.0, 3.0, 4.0]]), 2)
    tensor([[1.5000, 3.5000]])
    """
    x = _input("avg_pool1d", input)
    pool.pool_params("avg_pool1d", cast(Any, x), kernel_size, stride, padding, 1, ceil_mode)   # names the Tensor
    out, backward = pool.avg_pool1d(x.data, kernel_size, stride, padding, ceil_mode, count_include_pad)
    return apply((out, backward), (x,), "AvgPool1d")


def max_pool1d(input: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0,  # noqa: A002
               dilation: int = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Largest sample of each window of ``kernel_size`` taps ``dilation`` apart, moved by ``stride``
    (default ``kernel_size``), over the input padded with ``-inf`` (at most ``kernel_size / 2``).

    The gradient goes to the (first) maximum of each window, summed where windows
    overlap.  With ``return_indices=True`` returns ``(output, indices)``, indices
    (int64) into the input's last dimension.  Cost ``O(N C L_out k)`` forward,
    ``O(N C (L + L_out))`` backward.

    >>> import lucid, lucid.nn.functional as F
    >>> F.max_pool1d(lucid.tensor([[1.0, 5.0, 3.0, 4.0]]), 2)
    tensor([[5., 4.]])
    """
    x = _input("max_pool1d", input)
    pool.pool_params("max_pool1d", cast(Any, x), kernel_size, stride, padding, dilation, ceil_mode)  # names the Tensor
    if not isinstance(return_indices, bool):
        raise bad_type("max_pool1d", "return_indices", "a bool", return_indices)
    values, indices, backward = pool.max_pool1d(x.data, kernel_size, stride, padding, dilation, ceil_mode)
    out = apply((values, backward), (x,), "MaxPool1d")
    return (out, Tensor._wrap(indices)) if return_indices else out
