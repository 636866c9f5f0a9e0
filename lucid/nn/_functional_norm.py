r"""``F.layer_norm`` and ``F.group_norm``: each one fused op with its analytic backward.

Both standardise groups of elements and apply a per-element (LayerNorm) or
per-channel (GroupNorm) affine map.  Over a group of ``M`` elements:

.. math::

    \mu = \frac1M \sum x, \quad \sigma^2 = \frac1M \sum (x - \mu)^2 \text{ (biased)}, \quad
    r = (\sigma^2 + \epsilon)^{-1/2}, \quad \hat x = (x - \mu)\, r, \quad y = \hat x\, w + b

and, with :math:`\hat g = g\, w`, the gradients

.. math::

    \frac{\partial L}{\partial x} = r \left(\hat g - \overline{\hat g} - \hat x\, \overline{\hat g \hat x}\right),
    \quad \frac{\partial L}{\partial w} = \sum g\, \hat x, \quad \frac{\partial L}{\partial b} = \sum g

(bars: means over the group; the sums run over everything but ``w``'s own
axes).  One forward pass keeps ``x_hat`` and ``r``; the backward pass is a few
vectorised reductions, no graph of small ops.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import bad_type, bad_value, check_int
from ..tensor import Tensor, track
from ._checks import floating, optional_shaped, real


def _standardise(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x_hat, r)``: ``x`` centred and scaled over ``axes`` (``r`` keeps those axes as size 1)."""
    if x.size == 0:                                       # empty groups (or none): nothing to normalise
        return x.copy(), np.ones([1 if i in axes else n for i, n in enumerate(x.shape)], x.dtype)
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + np.asarray(eps, x.dtype))
    return centred * rstd, rstd


def _standardise_backward(g_hat: np.ndarray, x_hat: np.ndarray, rstd: np.ndarray,
                          axes: tuple[int, ...]) -> np.ndarray:
    """``dL/dx`` from ``dL/dx_hat`` (see the module docstring)."""
    if g_hat.size == 0:
        return np.zeros_like(g_hat)
    return rstd * (g_hat - g_hat.mean(axis=axes, keepdims=True)
                   - x_hat * np.mean(g_hat * x_hat, axis=axes, keepdims=True))


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
    axes = tuple(range(input.ndim - k, input.ndim))
    lead = tuple(range(input.ndim - k))
    x_hat, rstd = _standardise(input.data, axes, eps)
    return _affine(input, weight, bias, x_hat, rstd, (input.shape, axes), (shape, lead), "LayerNorm")


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
    channel = (1, c) + (1,) * (input.ndim - 2)            # a (C,) vector broadcast over (N, C, *)
    others = (0,) + tuple(range(2, input.ndim))
    grouped = (n, groups, c // groups * int(np.prod(input.shape[2:], dtype=np.int64)))
    x_hat, rstd = _standardise(input.data.reshape(grouped), (2,), eps)
    return _affine(input, weight, bias, x_hat.reshape(input.shape), rstd, (grouped, (2,)), (channel, others),
                   "GroupNorm")


def _affine(input: Tensor, weight: Tensor | None, bias: Tensor | None, x_hat: np.ndarray,  # noqa: A002
            rstd: np.ndarray, stats: tuple[tuple[int, ...], tuple[int, ...]],
            params: tuple[tuple[int, ...], tuple[int, ...]], op: str) -> Tensor:
    """``y = x_hat * weight + bias`` as one op with the analytic backward of the whole norm.

    ``x_hat`` (the input's shape) was standardised with ``rstd`` over ``stats = (shape,
    axes)``: reshaped to ``shape``, the statistics run over ``axes``.  ``params = (shape,
    axes)``: weight and bias broadcast as ``shape``, and their gradients sum over ``axes``.
    """
    (stats_shape, stats_axes), (param_shape, param_axes) = stats, params
    w = None if weight is None else weight.data.reshape(param_shape)
    y = x_hat * w if w is not None else x_hat.copy()
    if bias is not None:
        y += bias.data.reshape(param_shape)

    def backward(g: np.ndarray):
        dx = dw = db = None
        if input.requires_grad:
            g_hat = g * w if w is not None else g
            dx = _standardise_backward(g_hat.reshape(stats_shape), x_hat.reshape(stats_shape), rstd, stats_axes)
            dx = dx.reshape(input.shape)
        if weight is not None and weight.requires_grad:
            dw = (g * x_hat).sum(axis=param_axes).reshape(weight.shape)
        if bias is not None and bias.requires_grad:
            db = g.sum(axis=param_axes).reshape(bias.shape)
        return dx, dw, db

    parents = tuple(t for t in (input, weight, bias) if t is not None)
    return track(y, parents, _keep(backward, weight is not None, bias is not None), op)


def _keep(backward, has_weight: bool, has_bias: bool):
    """``backward`` returning one gradient per parent actually passed (input, [weight], [bias])."""
    def select(g: np.ndarray):
        dx, dw, db = backward(g)
        return (dx,) + ((dw,) if has_weight else ()) + ((db,) if has_bias else ())
    return select
