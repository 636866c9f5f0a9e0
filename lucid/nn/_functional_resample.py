"""``F.interpolate`` (1-D: nearest, nearest-exact, linear, area), ``F.adaptive_avg_pool1d`` and
``F.adaptive_max_pool1d``: argument checks as PyTorch's, then the rules of :mod:`lucid.ops.resample`
and :mod:`lucid.ops.pool` (index rules, gradients and costs are stated there)."""
from __future__ import annotations

import math
import numbers
from typing import Any

from .._errors import bad_type, bad_value, check_choice, check_int
from ..ops import pool, resample
from ..tensor import Tensor, apply
from ._checks import floating

MODES = ("nearest", "nearest-exact", "linear", "area")


def _length_input(where: str, input: Any, ranks: tuple[int, ...], shape: str) -> Tensor:  # noqa: A002
    floating(where, "input", input)
    if input.ndim not in ranks:
        raise bad_value(where, "input", f"a {shape} tensor", input)
    return input


def _output_size(where: str, output_size: Any, length: int) -> int:
    """An int or a 1-tuple (``None`` inside keeps the input's length), as PyTorch's adaptive pools."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 1:
            raise bad_value(where, "output_size", "an int or a 1-tuple", output_size)
        output_size = length if output_size[0] is None else output_size[0]
    return check_int(where, "output_size", output_size, 0)


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:  # noqa: A002
    """Average over ``output_size`` windows covering the last dimension, as ``F.adaptive_avg_pool1d``.

    Window ``i`` spans ``[floor(i L / L_out), ceil((i + 1) L / L_out))``; ``output_size=1``
    is global average pooling.  Input ``(N, C, L)`` or ``(C, L)``.

    >>> import lucid, lucid.nn.functional as F
    >>> F.adaptive_avg_pool1d(lucid.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2).tolist()
    [[2.0, 4.0]]
    """
    where = "adaptive_avg_pool1d"
    x = _length_input(where, input, (2, 3), "2-D (C, L) or 3-D (N, C, L)")
    out = _output_size(where, output_size, x.shape[-1])
    if x.shape[-1] == 0:
        raise bad_value(where, "input", "a tensor with a non-empty last dimension", x)
    return apply(resample.apply_matrix(x.data, resample.average_matrix(x.shape[-1], out, x.data.dtype)), (x,),
                 "AdaptiveAvgPool1d")


def adaptive_max_pool1d(input: Tensor, output_size: int | tuple[int],  # noqa: A002
                        return_indices: bool = False) -> Any:
    """Maximum over ``output_size`` adaptive windows of the last dimension, as ``F.adaptive_max_pool1d``;
    with ``return_indices`` also the int64 positions of the maxima.

    >>> import lucid, lucid.nn.functional as F
    >>> F.adaptive_max_pool1d(lucid.tensor([[1.0, 5.0, 3.0, 4.0]]), 2).tolist()
    [[5.0, 4.0]]
    """
    where = "adaptive_max_pool1d"
    x = _length_input(where, input, (2, 3), "2-D (C, L) or 3-D (N, C, L)")
    out = _output_size(where, output_size, x.shape[-1])
    if not isinstance(return_indices, bool):
        raise bad_type(where, "return_indices", "a bool", return_indices)
    if x.shape[-1] == 0:
        raise bad_value(where, "input", "a tensor with a non-empty last dimension", x)
    values, indices, backward = pool.adaptive_max_pool1d(x.data, out)
    result = apply((values, backward), (x,), "AdaptiveMaxPool1d")
    return (result, Tensor._wrap(indices)) if return_indices else result


def _single(where: str, argument: str, value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise bad_value(where, argument, "a number or a 1-tuple (lucid interpolates 3-D (N, C, L) input)",
                            value)
        return value[0]
    return value


def interpolate(input: Tensor, size: int | tuple[int, ...] | None = None,  # noqa: A002
                scale_factor: float | tuple[float, ...] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample the last dimension of an ``(N, C, L)`` tensor, as ``torch.nn.functional.interpolate``.

    Parameters
    ----------
    input : Tensor, shape (N, C, L), float32 or float64
    size : int or 1-tuple, optional
        ``L_out``; exactly one of ``size`` and ``scale_factor`` is given.
    scale_factor : float or 1-tuple, optional
        ``L_out = floor(L * scale_factor)``; the index rules use ``1 / scale_factor``
        unless ``recompute_scale_factor=True`` (then ``L / L_out``), as in PyTorch.
    mode : {'nearest', 'nearest-exact', 'linear', 'area'}
        ``'area'`` is :func:`adaptive_avg_pool1d`.  Modes of 2-D and 3-D data
        (bilinear, bicubic, trilinear) are refused.
    align_corners : bool, optional
        Linear only (default False): map the end samples onto each other.
    recompute_scale_factor : bool, optional
    antialias : bool, default False
        Must be False (PyTorch antialiases only bilinear and bicubic).

    Returns
    -------
    Tensor of shape (N, C, L_out).  See :mod:`lucid.ops.resample` for the
    index rules and the gradient.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.interpolate(lucid.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> F.interpolate(lucid.tensor([[[1.0, 2.0]]]), size=4, mode="linear").tolist()
    [[[1.0, 1.25, 1.75, 2.0]]]
    """
    where = "interpolate"
    x = _length_input(where, input, (3,), "3-D (N, C, L) (lucid resamples one spatial dimension)")
    mode = check_choice(where, "mode", mode, MODES)
    if mode != "linear" and align_corners is not None:
        raise bad_value(where, "align_corners", "None unless mode='linear' (only interpolating modes align "
                        "corners)", align_corners)
    align = bool(align_corners) if align_corners is not None else False
    if antialias:
        raise bad_value(where, "antialias", "False (antialiasing applies to bilinear and bicubic only)", antialias)
    length = x.shape[-1]
    if (size is None) == (scale_factor is None):
        raise bad_value(where, "size", "given exactly when scale_factor is not (one of them)", size)
    scale: float | None = None
    if size is not None:
        out = check_int(where, "size", _single(where, "size", size), 1)
        if recompute_scale_factor:
            raise bad_value(where, "recompute_scale_factor", "None or False with an explicit size", True)
    else:
        factor = _single(where, "scale_factor", scale_factor)
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not float(factor) > 0:
            raise bad_value(where, "scale_factor", "a positive number", scale_factor)
        out = int(math.floor(float(length) * float(factor)))
        if out < 1:
            raise bad_value(where, "scale_factor", f"large enough for at least one output sample from L={length}",
                            scale_factor)
        scale = None if recompute_scale_factor or mode == "area" else float(factor)
    if length == 0:
        raise bad_value(where, "input", "a tensor with a non-empty last dimension", x)
    if mode == "area":
        return adaptive_avg_pool1d(x, out)
    if mode == "linear":
        matrix = resample.linear_matrix(length, out, scale, align, x.data.dtype)
        return apply(resample.apply_matrix(x.data, matrix), (x,), "UpsampleLinear1d")
    index = resample.nearest_index(length, out, scale, mode == "nearest-exact", x.data.dtype)
    return apply(resample.gather(x.data, index), (x,), "UpsampleNearest1d")
