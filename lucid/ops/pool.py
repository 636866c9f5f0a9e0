"""1-D average and max pooling over the last axis, on strided windows (no loop over elements).

Both take ``x`` of shape ``(..., L)`` and slide a window of ``kernel_size``
taps (spaced ``dilation`` apart for max pooling) by ``stride`` over ``x``
padded by ``padding`` on both sides, giving
``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``
outputs.  Cost: ``O(n_out * kernel_size)`` forward; backward
``O(n_out * kernel_size)`` (average) or ``O(n + n_out)`` (max).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._errors import bad_type, bad_value, check_int
from . import Rule
from .resample import adaptive_windows


def _single(where: str, argument: str, value: Any, minimum: int) -> int:
    """An int that PyTorch also accepts as a 1-tuple, e.g. ``kernel_size=(3,)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise bad_value(where, argument, "an int or a 1-tuple of int", value)
        value = value[0]
    return check_int(where, argument, value, minimum)


def pool_params(where: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                ceil_mode: Any) -> tuple[int, int, int, int, int]:
    """Checked ``(kernel_size, stride, padding, dilation, L_out)``; ``stride=None`` means ``kernel_size``."""
    k = _single(where, "kernel_size", kernel_size, 1)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _single(where, "stride", stride, 1)
    p = _single(where, "padding", padding, 0)
    d = _single(where, "dilation", dilation, 1)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise bad_type(where, "ceil_mode", "a bool", ceil_mode)
    if ceil_mode:
        raise bad_value(where, "ceil_mode", "False (ceil_mode=True is not supported by lucid)", ceil_mode)
    if 2 * p > k:
        raise bad_value(where, "padding", f"at most half of kernel_size={k}", p)
    span = d * (k - 1) + 1
    length = x.shape[-1]
    if length + 2 * p < span:
        raise bad_value(where, "input", f"at least {span - 2 * p} samples long (a window spans {span} and "
                        f"padding adds {2 * p})", x)
    return k, s, p, d, (length + 2 * p - span) // s + 1


def _padded(x: np.ndarray, p: int, value: float) -> np.ndarray:
    """``x`` with ``p`` copies of ``value`` on both ends of its last axis."""
    if not p:
        return x
    out = np.full(x.shape[:-1] + (x.shape[-1] + 2 * p,), value, dtype=x.dtype)
    out[..., p:-p] = x
    return out


def avg_pool1d(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: Any = False,
               count_include_pad: Any = True) -> Rule:
    """``y[..., t] = sum(x_pad[..., t s : t s + k]) / divisor``, the divisor being ``k``, or with
    ``count_include_pad=False`` the number of real (unpadded) samples in the window.

    The gradient spreads ``g / divisor`` evenly over each window.
    """
    k, s, p, _, l_out = pool_params("avg_pool1d", x, kernel_size, stride, padding, 1, ceil_mode)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise bad_type("avg_pool1d", "count_include_pad", "a bool", count_include_pad)
    length = x.shape[-1]
    xp = _padded(x, p, 0.0)
    windows = sliding_window_view(xp, k, axis=-1)[..., ::s, :]
    divisor: Any = k
    if not count_include_pad and p:
        start = np.arange(l_out) * s
        divisor = (np.minimum(start + k, p + length) - np.maximum(start, p)).astype(x.dtype)
    y = windows.sum(axis=-1) / divisor

    def backward(g, needs):
        share = g / divisor
        grad = np.zeros_like(xp)
        last = s * (l_out - 1) + 1
        for j in range(k):                      # one strided add per tap, not per element
            grad[..., j:j + last:s] += share
        return (grad[..., p:p + length],)
    return y, backward


def max_pool1d(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: Any = False) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(values, indices, backward)``: ``y[..., t] = max_j x_pad[..., t s + j d]`` over ``j < k``,
    padding being ``-inf``.

    ``indices`` (int64) are positions in the unpadded last axis, the first
    maximum of each window (the last NaN if there is one, as PyTorch's CPU kernel);
    the gradient goes to those positions (summed where windows overlap).
    """
    k, s, p, d, l_out = pool_params("max_pool1d", x, kernel_size, stride, padding, dilation, ceil_mode)
    if x.dtype.kind != "f":
        raise bad_type("max_pool1d", "input", "a floating-point tensor", x)
    length = x.shape[-1]
    xp = _padded(x, p, -np.inf)
    last = s * (l_out - 1) + 1
    values = xp[..., 0:last:s].copy()
    taps = np.zeros(values.shape, dtype=np.int64)
    for j in range(1, k):                       # one strided pass per tap, not per element
        candidate = xp[..., j * d:j * d + last:s]
        better = candidate > values
        better |= np.isnan(candidate)           # PyTorch's rule: a NaN wins, the last one
        np.maximum(values, candidate, out=values)
        np.putmask(taps, better, j)
    indices = np.clip(np.arange(l_out) * s + taps * d - p, 0, length - 1)

    def backward(g, needs):
        rows = int(np.prod(x.shape[:-1], dtype=np.int64))
        flat = (np.arange(rows)[:, None] * length + indices.reshape(rows, l_out)).ravel()
        grad = np.bincount(flat, weights=g.reshape(-1), minlength=rows * length)
        return (grad.reshape(x.shape).astype(x.dtype, copy=False),)
    return values, indices, backward


def adaptive_max_pool1d(x: np.ndarray, output_size: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(values, indices, backward)`` of the maximum over each adaptive window
    ``[floor(i L / L_out), ceil((i + 1) L / L_out))`` of the last axis (PyTorch's windows).

    ``indices`` (int64) are positions in the last axis, the first maximum of
    each window (the last NaN if there is one, as PyTorch's CPU kernel); the
    gradient goes to those positions.  Cost ``O(L_out * max window)``, looping
    over the windows or over the taps, whichever are fewer.
    """
    length = x.shape[-1]
    start, end = adaptive_windows(length, output_size)
    counts = end - start
    width = int(counts.max()) if output_size else 0
    lead = x.shape[:-1]
    values = np.empty(lead + (output_size,), x.dtype)
    indices = np.empty(lead + (output_size,), np.int64)
    if output_size <= width:                         # few windows: one argmax per window
        for i, (a, b) in enumerate(zip(start, end)):
            segment = x[..., a:b]
            where = np.argmax(segment, axis=-1)
            nan = np.isnan(segment)
            last_nan = (b - a - 1) - np.argmax(nan[..., ::-1], axis=-1)
            where = np.where(nan.any(axis=-1), last_nan, where)
            indices[..., i] = a + where
            values[..., i] = np.take_along_axis(segment, where[..., None], axis=-1)[..., 0]
    else:                                            # narrow windows: one strided pass per tap
        values[...] = x[..., start]
        taps = np.zeros(values.shape, dtype=np.int64)
        for j in range(1, width):
            valid = j < counts
            candidate = np.where(valid, x[..., np.minimum(start + j, length - 1)], -np.inf)
            better = (candidate > values) | (np.isnan(candidate) & valid)
            np.copyto(values, candidate, where=better)
            np.putmask(taps, better, j)
        indices[...] = start + taps

    def backward(g, needs):
        rows = int(np.prod(lead, dtype=np.int64))
        flat = (np.arange(rows)[:, None] * length + indices.reshape(rows, output_size)).ravel()
        grad = np.bincount(flat, weights=g.reshape(-1), minlength=rows * length)
        return (grad.reshape(x.shape).astype(x.dtype, copy=False),)
    return values, indices, backward
