r"""Normalisation over groups of elements with a per-channel affine map: the rule behind
``F.layer_norm`` and ``F.group_norm`` (and any norm that standardises rows of a 3-D view).

The input is viewed as ``(R, K, S)``: ``R`` independent groups (rows), each of
``K`` channels of ``S`` elements; a group of ``M = K S`` elements is
standardised and channel ``k`` of row ``r`` gets scale ``w[r, k]`` and shift
``b[r, k]``:

.. math::

    \mu = \frac1M \sum x, \quad \sigma^2 = \frac1M \sum (x - \mu)^2 \text{ (biased)}, \quad
    \rho = (\sigma^2 + \epsilon)^{-1/2}, \quad y = (x - \mu)\, \rho\, w + b.

GroupNorm on ``(N, C, L)`` is ``R = N G``, ``K = C / G``, ``S = L``;
LayerNorm over the last dims is ``R`` = the leading elements, ``K`` = the
normalised elements, ``S = 1``.  With per-channel sums of the incoming
gradient, :math:`s_g[r,k] = \sum_s g` and :math:`s_{gx}[r,k] = \sum_s g x`,
the group means :math:`m_1 = \frac1M \sum_k w\, s_g` and
:math:`m_2 = \frac{\rho}{M} \sum_k w (s_{gx} - \mu s_g)` give

.. math::

    \frac{\partial L}{\partial x} = \rho w\, g - \rho^2 m_2\, x + (\rho^2 m_2 \mu - \rho m_1),
    \qquad \frac{\partial L}{\partial w} = \rho (s_{gx} - \mu s_g), \qquad \frac{\partial L}{\partial b} = s_g

summed over the rows that share a channel.  Cost: forward one mean, one
subtraction, one sum of squares and two in-place affine passes over the data
(one output buffer, no normalised copy saved); backward two reductions and
four passes (one output buffer, one temporary).  Nothing is computed in
float64 beyond ``(R, K)``-sized statistics.
"""
from __future__ import annotations

import numpy as np

from . import Rule


def _channels(v: np.ndarray | None, rows: int, channels: int) -> np.ndarray | None:
    """A weight or bias of ``c = (groups per sample) * channels`` entries as ``(rows, channels)`` (tiled)."""
    if v is None:
        return None
    per_sample = v.reshape(-1, channels)
    return np.broadcast_to(per_sample[None], (rows // per_sample.shape[0],) + per_sample.shape).reshape(rows,
                                                                                                       channels)


def _reduce_channels(v: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An ``(R, K)`` per-row-channel gradient summed over the rows that share a parameter of ``shape``."""
    size = int(np.prod(shape, dtype=np.int64))
    return v.reshape(-1, size).sum(0).reshape(shape)


def normalize(x: np.ndarray, groups_shape: tuple[int, int, int], weight: np.ndarray | None,
              bias: np.ndarray | None, eps: float) -> Rule:
    """``(y, backward)`` of the normalisation in the module docstring.

    ``x`` (any shape) is viewed as ``groups_shape = (R, K, S)``; ``weight`` and
    ``bias`` (or ``None``) hold ``K`` or ``groups * K`` entries (GroupNorm's
    ``C``), repeated over the rows.  ``backward(g, needs)`` returns the gradients
    of ``(x, weight, bias)`` that ``needs`` asks for (``needs`` lists only the
    operands given).
    """
    rows, channels, size = groups_shape
    x3 = np.ascontiguousarray(x).reshape(groups_shape)
    m = channels * size
    w2, b2 = _channels(weight, rows, channels), _channels(bias, rows, channels)
    if x.size == 0:
        y = x.astype(x.dtype, copy=True)
        mean = np.zeros(rows, x.dtype)
        rstd = np.ones(rows, x.dtype)
    else:
        mean = x3.mean(axis=(1, 2))
        y3 = np.subtract(x3, mean[:, None, None])
        var = np.einsum("rks,rks->r", y3, y3) / m
        rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        scale = rstd[:, None] if w2 is None else rstd[:, None] * w2
        y3 *= scale[:, :, None]
        if b2 is not None:
            y3 += b2[:, :, None]
        y = y3.reshape(x.shape)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        need_x, *need_params = needs
        need_w = weight is not None and need_params.pop(0)
        need_b = bias is not None and need_params.pop(0)
        if g.size == 0:
            return tuple(None if p is None else np.zeros_like(p) for p in (x, weight, bias) if p is not None)
        g3 = np.ascontiguousarray(g).reshape(groups_shape)
        s_g = g3.sum(axis=2)                                       # (R, K)
        s_gx = np.einsum("rks,rks->rk", g3, x3) if (need_x or need_w) else None
        dx = dw = db = None
        if need_x:
            assert s_gx is not None
            wg = s_g if w2 is None else w2 * s_g
            wgx = s_gx if w2 is None else w2 * s_gx
            m1 = wg.sum(axis=1) / m
            m2 = rstd * (wgx.sum(axis=1) - mean * wg.sum(axis=1)) / m
            a = np.broadcast_to(rstd[:, None], s_g.shape) if w2 is None else rstd[:, None] * w2
            b = -rstd * rstd * m2
            c = (rstd * rstd * m2 * mean - rstd * m1).astype(x.dtype)
            dx3 = np.multiply(x3, b.astype(x.dtype)[:, None, None])
            dx3 += c[:, None, None]
            tmp = np.multiply(g3, a[:, :, None])
            dx3 += tmp
            dx = dx3.reshape(x.shape)
        if need_w:
            assert weight is not None and s_gx is not None
            dw = _reduce_channels(rstd[:, None] * (s_gx - mean[:, None] * s_g), weight.shape)
        if need_b:
            assert bias is not None
            db = _reduce_channels(s_g, bias.shape)
        return (dx,) + ((dw,) if weight is not None else ()) + ((db,) if bias is not None else ())
    return y, backward
