"""``F.layer_norm`` and ``F.group_norm``: argument checks, then the one rule
:func:`lucid.ops.norm.normalize` (maths, gradient and cost are stated there).

Both standardise groups of elements and apply a per-element (LayerNorm) or
per-channel (GroupNorm) affine map, as one op with an analytic backward.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import bad_type, bad_value, check_int
from ..ops import norm
from ..tensor import Tensor, apply
from ._checks import floating, optional_shaped, real


def normalized_shape_tuple(where: str, normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape`` (an int or a non-empty sequence of ints) as a tuple."""
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
        raise bad_type(where, "normalized_shape", "an int or a non-empty tuple of ints", normalized_shape)
    return tuple(check_int(where, "normalized_shape", n, 1) for n in normalized_shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions, as ``F.layer_norm``.

    Parameters
    ----------
    input : Tensor, shape (*, *normalized_shape), float32 or float64
    normalized_shape : int or tuple of int
        The trailing shape each group spans (``C`` for an ``(N, L, C)`` input).
    weight, bias : Tensor of shape ``normalized_shape``, optional
        Elementwise scale and shift (the input's dtype).
    eps : float, default 1e-5
        Added to the biased variance before the square root.

    Returns
    -------
    Tensor of the input's shape and dtype.  See the module docstring for the
    formulas; cost ``O(numel)`` each way.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.layer_norm(lucid.tensor([[1.0, 3.0]]), (2,), eps=0.0).tolist()
    [[-1.0, 1.0]]
    """
    where = "layer_norm"
    floating(where, "input", input)
    shape = normalized_shape_tuple(where, normalized_shape)
    k = len(shape)
    if input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise bad_value(where, "input", f"a tensor whose trailing dimensions are normalized_shape={shape}", input)
    optional_shaped(where, "weight", weight, shape, input)
    optional_shaped(where, "bias", bias, shape, input)
    eps = real(where, "eps", eps, 0.0)
    inner = int(np.prod(shape, dtype=np.int64))
    return _normalize(input, weight, bias, (input.data.size // inner if inner else 0, inner, 1), eps, "LayerNorm")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` channel groups of every sample, as ``F.group_norm``.

    Parameters
    ----------
    input : Tensor, shape (N, C, *), float32 or float64
    num_groups : int, positive, dividing C
        Each group spans ``C / num_groups`` channels and every position of them;
        ``1`` normalises each sample over all its channels (LayerNorm over
        (C, L)), ``C`` each channel separately (InstanceNorm).
    weight, bias : Tensor of shape (C,), optional
        Per-channel scale and shift (the input's dtype).
    eps : float, default 1e-5

    Returns
    -------
    Tensor of the input's shape and dtype.  See the module docstring for the
    formulas; cost ``O(numel)`` each way.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.group_norm(lucid.tensor([[[1.0, 3.0], [5.0, 7.0]]]), 2, eps=0.0).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    where = "group_norm"
    floating(where, "input", input)
    if input.ndim < 2:
        raise bad_value(where, "input", "a tensor of shape (N, C, *) with at least 2 dimensions", input)
    groups = check_int(where, "num_groups", num_groups, 1)
    n, c = input.shape[:2]
    if c % groups:
        raise bad_value(where, "num_groups", f"a divisor of the number of channels {c}", num_groups)
    optional_shaped(where, "weight", weight, (c,), input)
    optional_shaped(where, "bias", bias, (c,), input)
    eps = real(where, "eps", eps, 0.0)
    spatial = int(np.prod(input.shape[2:], dtype=np.int64))
    return _normalize(input, weight, bias, (n * groups, c // groups, spatial), eps, "GroupNorm")


def _normalize(input: Tensor, weight: Tensor | None, bias: Tensor | None,  # noqa: A002
               groups_shape: tuple[int, int, int], eps: float, op: str) -> Tensor:
    """Apply :func:`lucid.ops.norm.normalize` to the checked operands (weight and bias optional)."""
    parents = tuple(t for t in (input, weight, bias) if t is not None)
    rule = norm.normalize(input.data, groups_shape, None if weight is None else weight.data,
                          None if bias is None else bias.data, eps)
    return apply(rule, parents, op)
