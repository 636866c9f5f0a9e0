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
float64.  Rows are independent, so both passes run over blocks of rows on
lucid's thread pool (:func:`lucid.ops._blocks.over_rows`).  The
per-channel sums make the backward PyTorch's (``ds``, ``db`` in its CPU
GroupNorm kernel): its accuracy degrades like PyTorch's when ``|mean| >>
std``.
"""
from __future__ import annotations

import numpy as np

from . import Rule
from ._blocks import over_rows


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
        y3 = np.empty_like(x3)
        mean, rstd = np.empty(rows, x.dtype), np.empty(rows, x.dtype)

        def forward_rows(lo: int, hi: int) -> None:
            xs, ys = x3[lo:hi], y3[lo:hi]
            mu = xs.mean(axis=(1, 2))
            np.subtract(xs, mu[:, None, None], out=ys)
            r = (1.0 / np.sqrt(np.einsum("rks,rks->r", ys, ys) / m + eps)).astype(x.dtype)
            mean[lo:hi], rstd[lo:hi] = mu, r
            ys *= (r[:, None] if w2 is None else r[:, None] * w2[lo:hi])[:, :, None]
            if b2 is not None:
                ys += b2[lo:hi, :, None]
        over_rows(rows, m, forward_rows)
        y = y3.reshape(x.shape)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        need_x, *need_params = needs
        need_w = weight is not None and need_params.pop(0)
        need_b = bias is not None and need_params.pop(0)
        if g.size == 0:
            return tuple(None if p is None else np.zeros_like(p) for p in (x, weight, bias) if p is not None)
        g3 = np.ascontiguousarray(g).reshape(groups_shape)
        s_g = np.empty((rows, channels), x.dtype)                  # per row and channel: sum g, sum g x
        s_gx = np.empty((rows, channels), x.dtype)
        dx3 = np.empty_like(x3) if need_x else None

        def backward_rows(lo: int, hi: int) -> None:
            gs, xs = g3[lo:hi], x3[lo:hi]
            sg, sgx = gs.sum(axis=2), np.einsum("rks,rks->rk", gs, xs)
            s_g[lo:hi], s_gx[lo:hi] = sg, sgx
            if dx3 is None:
                return
            r, mu = rstd[lo:hi], mean[lo:hi]
            ws = None if w2 is None else w2[lo:hi]
            wg = (sg if ws is None else ws * sg).sum(axis=1)
            m1 = wg / m
            m2 = r * ((sgx if ws is None else ws * sgx).sum(axis=1) - mu * wg) / m
            a = np.broadcast_to(r[:, None], sg.shape) if ws is None else r[:, None] * ws
            ds = dx3[lo:hi]                                        # r w g - r^2 m2 x + (r^2 m2 mu - r m1)
            np.multiply(xs, (-r * r * m2).astype(x.dtype)[:, None, None], out=ds)
            ds += (r * r * m2 * mu - r * m1).astype(x.dtype)[:, None, None]
            ds += np.multiply(gs, a[:, :, None])
        over_rows(rows, m, backward_rows)
        dx = None if dx3 is None else dx3.reshape(x.shape)
        dw = db = None
        if weight is not None and need_w:
            dw = _reduce_channels(rstd[:, None] * (s_gx - mean[:, None] * s_g), weight.shape)
        if bias is not None and need_b:
            db = _reduce_channels(s_g, bias.shape)
        return (dx,) + ((dw,) if weight is not None else ()) + ((db,) if bias is not None else ())
    return y, backward
