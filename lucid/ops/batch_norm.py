r"""Batch normalisation: per-channel statistics over the batch and the length, the rule behind
``F.batch_norm`` (and ``F.instance_norm``, which is batch norm of a batch of one with ``N C`` channels).

The input ``(N, C)`` or ``(N, C, L)`` is viewed as ``R = N C`` rows of ``L``
samples (``L = 1`` for 2-D input); channel ``c`` owns the rows ``n C + c`` and
its ``M = N L`` samples.  Training mode normalises with the batch statistics,

.. math::

    \mu_c = \frac1M \sum x, \quad \sigma_c^2 = \frac1M \sum (x - \mu_c)^2 \text{ (biased)}, \quad
    \rho_c = (\sigma_c^2 + \epsilon)^{-1/2}, \quad y = (x - \mu_c) \rho_c w_c + b_c,

and with :math:`s_g = \sum g`, :math:`s_{gx} = \sum g (x - \mu_c)` per channel the gradients are

.. math::

    \frac{\partial L}{\partial x} = w \rho \Big(g - \frac{s_g}{M} - (x - \mu) \rho^2 \frac{s_{gx}}{M}\Big)
    = a\, g + k\, x + d, \qquad
    \frac{\partial L}{\partial w} = \rho\, s_{gx}, \qquad \frac{\partial L}{\partial b} = s_g

(``a = w rho``, ``k = -w rho^3 s_gx / M``, ``d = -k mu - a s_g / M`` per channel).
Evaluation mode uses given (running) statistics instead, so ``y`` is affine
per channel and ``dx = w rho g``.

**Passes.**  Forward: one fused read of ``x`` for each row's sum and sum of
squares, then ``y = A x + B`` (one read, one write).  Backward: one read of
``g`` and ``x`` for each row's ``sum g`` and ``sum g x``, then ``dx = a g + k
x + d`` (one read of each, one write).  Rows are combined per channel in
float64 about each row's own mean (Chan's formula), so the float32 sums
never cancel across rows; a row whose mean is large against its spread
(``m^2 > var``, where ``E[x^2] - m^2`` would lose digits) is summed again
centred on its mean, so the statistics are as accurate as a two-pass
computation whatever the offset.  The rows go in blocks of
:data:`CHUNK_BYTES` (a block's temporaries stay in L2), or, for large data,
in blocks of :data:`THREADED_CHUNK_BYTES` split over the cores (NumPy
releases the GIL).  Nothing of the data's size is saved but the input itself
(no normalised copy), and no float64 copy of the data is made.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..algos import _parallel
from . import Backward, Rule

#: Bytes of rows per block on one thread: a block and its scratch stay in L2 (256 KiB was fastest of
#: 16 KiB - 4 MiB for the (32, 64, 1024) float32 training step).
CHUNK_BYTES = 1 << 18
#: Bytes per block when the rows are split over threads: every NumPy call releases and re-takes the GIL,
#: so blocks must be large for two threads to overlap (one thread: 6.2 ms, two with 256 KiB blocks:
#: 6.6 ms, with 1-4 MiB blocks: 4.4-4.5 ms).  Threads are used from two such blocks of data on.
THREADED_CHUNK_BYTES = 1 << 21


def rows_view(x: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """``x`` of shape ``(N, C)`` or ``(N, C, L)`` as contiguous ``(N C, L)`` rows, and ``(N, C, L)``."""
    n, c = x.shape[:2]
    length = x.shape[2] if x.ndim == 3 else 1
    return np.ascontiguousarray(x).reshape(n * c, length), n, c, length


def _blocks(rows: np.ndarray, body: Callable[[int, int, np.ndarray], None]) -> None:
    """Call ``body(a, b, scratch)`` on consecutive blocks ``rows[a:b]``; ``scratch`` is a per-thread buffer of
    the block's shape.  Small data runs on this thread in :data:`CHUNK_BYTES` blocks; data of two
    :data:`THREADED_CHUNK_BYTES` blocks or more is split over the cores in blocks of that size."""
    count, length = rows.shape
    row_bytes = max(1, length * rows.itemsize)
    threaded = _parallel.get_num_threads() > 1 and count * row_bytes >= 2 * THREADED_CHUNK_BYTES
    step = max(1, (THREADED_CHUNK_BYTES if threaded else CHUNK_BYTES) // row_bytes)

    def run(lo: int, hi: int) -> None:
        scratch = np.empty((min(step, hi - lo), length), rows.dtype)
        for a in range(lo, hi, step):
            b = min(a + step, hi)
            body(a, b, scratch[:b - a])
    if threaded:
        _parallel.parallel_for(count, run, min_block=step)
    else:
        run(0, count)


def _per_row(values: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    """A per-channel ``(C,)`` vector repeated for every sample: one entry per row, shape ``(N C, 1)``."""
    return np.tile(np.asarray(values, dtype), n)[:, None]


def _scale_rows(block: np.ndarray, factor: np.ndarray, out: np.ndarray) -> None:
    """``out = block * factor`` for a ``(rows, 1)`` factor: einsum's loop, about 1.4x NumPy's broadcast multiply."""
    np.einsum("rl,r->rl", block, factor[:, 0], out=out)


def _affine(rows: np.ndarray, scale: np.ndarray, shift: np.ndarray, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """``scale_c rows + shift_c`` as a new array of ``shape`` that owns its memory (so the engine may
    take it over as a gradient without a copy).  One read, one write."""
    a, b = _per_row(scale, n, rows.dtype), _per_row(shift, n, rows.dtype)
    result = np.empty(shape, rows.dtype)
    out = result.reshape(rows.shape)

    def body(lo: int, hi: int, scratch: np.ndarray) -> None:
        _scale_rows(rows[lo:hi], a[lo:hi], out[lo:hi])
        np.add(out[lo:hi], b[lo:hi], out=out[lo:hi])
    _blocks(rows, body)
    return result


def _row_sums(rows: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``(sum other, sum other * rows)`` in float64 (accumulated in the data's dtype), one pass."""
    count = rows.shape[0]
    s, p = np.empty(count, rows.dtype), np.empty(count, rows.dtype)

    def body(lo: int, hi: int, scratch: np.ndarray) -> None:
        np.add.reduce(other[lo:hi], axis=1, out=s[lo:hi])
        np.einsum("rl,rl->r", other[lo:hi], rows[lo:hi], out=p[lo:hi])
    _blocks(rows, body)
    return s.astype(np.float64), p.astype(np.float64)


def _centred_dots(rows: np.ndarray, other: np.ndarray | None, centre: np.ndarray, which: np.ndarray) -> np.ndarray:
    """``sum other * (rows - centre)`` (``other=None``: the rows centred themselves) for the rows ``which``,
    ``centre`` being rounded to the data's dtype (the caller corrects for the rounding)."""
    out = np.empty(which.size)
    step = max(1, CHUNK_BYTES // max(1, rows.shape[1] * rows.itemsize))
    for a in range(0, which.size, step):
        ids = which[a:a + step]
        centred = rows[ids]
        centred -= centre[ids].astype(rows.dtype)[:, None]
        out[a:a + step] = np.einsum("rl,rl->r", centred if other is None else other[ids], centred)
    return out


def _combine(row_sum: np.ndarray, row_dot: np.ndarray, row_mean: np.ndarray, mean: np.ndarray,
             n: int, c: int) -> np.ndarray:
    """Per channel ``sum over its rows of (row_dot + (row_mean - mean) row_sum)``: moves each row's sum,
    taken about its own mean, to the channel's mean."""
    return (row_dot + (row_mean - np.tile(mean, n)) * row_sum).reshape(n, c).sum(0)


class Stats:
    """The batch statistics of a forward pass, kept for the backward: per channel ``mean`` and biased
    ``var`` (float64 ``(C,)``), each row's mean and the rows whose offset needs centred sums."""

    def __init__(self, rows: np.ndarray, n: int, c: int) -> None:
        length = rows.shape[1]
        sums, squares = _row_sums(rows, rows)
        self.row_mean = sums / length
        m2 = squares - sums * self.row_mean                       # sum (x - m)^2, from E[x^2] - m^2
        self.offset = np.flatnonzero(self.row_mean ** 2 * length > m2)     # m^2 > var: cancellation
        if self.offset.size:                  # these rows again: exact mean, sum of squares about it
            exact = rows[self.offset].sum(axis=1, dtype=np.float64) / length
            self.row_mean[self.offset] = exact
            drift = length * (exact - exact.astype(rows.dtype))              # sum (x - centre used)
            m2[self.offset] = _centred_dots(rows, None, self.row_mean, self.offset) - drift * drift / length
        self.mean = self.row_mean.reshape(n, c).mean(0)
        d = self.row_mean - np.tile(self.mean, n)
        self.var = (m2 + length * d * d).reshape(n, c).sum(0) / (n * length)
        self.n, self.c = n, c

    def gradient_sums(self, rows: np.ndarray, g_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per channel ``(sum g, sum g (x - mean))`` in float64, each row's ``sum g x`` taken about its mean."""
        s_g, s_gx = _row_sums(rows, g_rows)
        s_gx -= self.row_mean * s_g
        if self.offset.size:
            centre = self.row_mean[self.offset]
            s_gx[self.offset] = (_centred_dots(rows, g_rows, self.row_mean, self.offset)
                                 + (centre.astype(rows.dtype) - centre) * s_g[self.offset])
        return s_g.reshape(self.n, self.c).sum(0), _combine(s_g, s_gx, self.row_mean, self.mean, self.n, self.c)


def train(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float,
          shape: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, Backward]:
    """``(y, mean, var, backward)`` of batch norm with the batch's statistics (training mode).

    ``mean`` and the biased ``var`` are float64 ``(C,)`` (for the running
    statistics); ``backward(g, needs)`` returns the gradients of ``(x, weight,
    bias)`` that ``needs`` asks for (``needs`` lists only the operands given).
    ``y`` and ``dx`` have ``shape`` (default ``x.shape``; the same elements).
    """
    shape = x.shape if shape is None else shape
    rows, n, c, length = rows_view(x)
    stats = Stats(rows, n, c)
    rstd = 1.0 / np.sqrt(stats.var + eps)
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    b = np.zeros(c) if bias is None else bias.astype(np.float64)
    scale = rstd * w
    y = _affine(rows, scale, b - stats.mean * scale, n, shape)
    count = n * length

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        need_x, *need_params = needs
        need_w = weight is not None and need_params.pop(0)
        need_b = bias is not None and need_params.pop(0)
        g_rows = np.ascontiguousarray(g).reshape(rows.shape)
        s_g, s_gx = stats.gradient_sums(rows, g_rows)
        dx = None
        if need_x:
            k = -scale * rstd * rstd * s_gx / count
            a, kr = _per_row(scale, n, x.dtype), _per_row(k, n, x.dtype)
            d = _per_row(-k * stats.mean - scale * s_g / count, n, x.dtype)
            dx = np.empty(shape, x.dtype)
            out_rows = dx.reshape(rows.shape)

            def body(lo: int, hi: int, scratch: np.ndarray) -> None:
                out = out_rows[lo:hi]
                _scale_rows(rows[lo:hi], kr[lo:hi], out)
                np.add(out, d[lo:hi], out=out)
                _scale_rows(g_rows[lo:hi], a[lo:hi], scratch)
                np.add(out, scratch, out=out)
            _blocks(rows, body)
        grads: tuple = (dx,)
        if weight is not None:
            grads += ((rstd * s_gx).astype(weight.dtype) if need_w else None,)
        if bias is not None:
            grads += (s_g.astype(bias.dtype) if need_b else None,)
        return grads
    return y, stats.mean, stats.var, backward


def evaluate(x: np.ndarray, mean: np.ndarray, var: np.ndarray, weight: np.ndarray | None,
             bias: np.ndarray | None, eps: float) -> Rule:
    """``(y, backward)`` of batch norm with fixed statistics ``mean``, ``var`` (evaluation mode).

    ``y = (x - mean) rho w + b`` is affine per channel: ``dx = rho w g``,
    ``dw = rho sum g (x - mean)``, ``db = sum g``.  Cost: one read of ``x`` and
    one write of ``y``; backward one more read of ``g`` (and of ``x`` for ``dw``).
    """
    rows, n, c, _ = rows_view(x)
    rstd = 1.0 / np.sqrt(np.asarray(var, np.float64) + eps)
    mu = np.asarray(mean, np.float64)
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    scale = rstd * w
    shift = (np.zeros(c) if bias is None else bias.astype(np.float64)) - mu * scale
    y = _affine(rows, scale, shift, n, x.shape)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        need_x, *need_params = needs
        need_w = weight is not None and need_params.pop(0)
        need_b = bias is not None and need_params.pop(0)
        g_rows = np.ascontiguousarray(g).reshape(rows.shape)
        grads: tuple = (_affine(g_rows, scale, np.zeros(c), n, x.shape) if need_x else None,)
        if need_w or need_b:
            s_g, s_gx = _row_sums(rows, g_rows)
            s_g, s_gx = s_g.reshape(n, c).sum(0), s_gx.reshape(n, c).sum(0) - mu * s_g.reshape(n, c).sum(0)
        if weight is not None:
            grads += ((rstd * s_gx).astype(weight.dtype) if need_w else None,)
        if bias is not None:
            grads += (s_g.astype(bias.dtype) if need_b else None,)
        return grads
    return y, backward


def instance_train(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                   eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, Backward]:
    """``(y, mean, var, backward)`` of instance norm: :func:`train` on ``x`` viewed as one sample of
    ``N C`` channels, ``weight`` and ``bias`` repeated per sample and their gradients summed back.
    ``mean`` and ``var`` are per instance, shape ``(N, C)``."""
    n, c = x.shape[:2]
    merged = x.reshape((1, n * c) + x.shape[2:])
    tiled = [None if v is None else np.tile(v, n) for v in (weight, bias)]
    y, mean, var, inner = train(merged, tiled[0], tiled[1], eps, x.shape)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        dx, *params = inner(g, needs)
        return (dx,) + tuple(None if p is None else np.asarray(p).reshape(n, c).sum(0) for p in params)
    return y, mean.reshape(n, c), var.reshape(n, c), backward
