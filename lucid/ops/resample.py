r"""Resampling along the last axis: nearest and linear interpolation (``F.interpolate``) and adaptive
average pooling, as linear maps ``y = x W^T`` with a sparse ``(L_out, L)`` matrix ``W``.

Index rules are PyTorch's (``aten/src/ATen/native/UpSample.h``), computed in
the data's float dtype as PyTorch does:

* nearest: ``src = min(floor(dst * s), L - 1)`` with ``s = 1 / scale_factor`` if
  a scale factor is given, else ``L / L_out``; nearest-exact: ``floor((dst + 0.5) s)``;
* linear: ``src = max(s (dst + 0.5) - 0.5, 0)`` (or ``dst (L - 1) / (L_out - 1)``
  with ``align_corners``), ``i0 = floor(src)``, ``i1 = min(i0 + 1, L - 1)``,
  ``y = (1 - lambda) x[i0] + lambda x[i1]`` with ``lambda = src - i0``;
* adaptive average: window ``[floor(i L / L_out), ceil((i + 1) L / L_out))``.

The gradient of ``y = x W^T`` is ``g W``: each input sample collects the
weighted output gradients that read it.  Cost: ``O(numel(x) + numel(y))`` each
way (a gather forward for nearest; sparse products otherwise).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from . import Rule


def nearest_index(length: int, out: int, scale: float | None, exact: bool, dtype: np.dtype) -> np.ndarray:
    """Source index of each output sample for mode ``'nearest'`` (or ``'nearest-exact'``)."""
    if out == length and not exact:
        return np.arange(out)
    kind = np.float32                                  # PyTorch computes nearest indices in float
    s = kind(1.0 / scale) if scale is not None and scale > 0 else kind(length) / kind(out)
    dst = np.arange(out, dtype=kind)
    if exact:
        dst = dst + kind(0.5)
    return np.minimum(np.floor(dst * s).astype(np.int64), length - 1)


def linear_matrix(length: int, out: int, scale: float | None, align_corners: bool, dtype: np.dtype):
    """The ``(out, length)`` sparse matrix of linear interpolation (two entries per row).

    The scale is rounded to the data's dtype and ``s (dst + 0.5) - 0.5`` is
    rounded once (a fused multiply-add, as PyTorch's compiled kernel), which
    reproduces PyTorch's float32 weights exactly.
    """
    kind = np.dtype(dtype).type
    if align_corners:
        s = kind(length - 1) / kind(out - 1) if out > 1 else kind(0)
    else:
        s = kind(1.0 / scale) if scale is not None and scale > 0 else kind(length) / kind(out)
    dst = np.arange(out, dtype=np.float64)
    exact = np.float64(s) * dst if align_corners else np.float64(s) * (dst + 0.5) - 0.5
    src = np.maximum(exact.astype(kind), kind(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), length - 1)
    lam = np.clip(src - i0.astype(kind), kind(0), kind(1))
    i1 = i0 + (i0 < length - 1)
    rows = np.repeat(np.arange(out), 2)
    cols = np.stack([i0, i1], axis=1).ravel()
    vals = np.stack([kind(1) - lam, lam], axis=1).ravel()
    return sparse.csr_matrix((vals, (rows, cols)), shape=(out, length), dtype=dtype)


def adaptive_windows(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of each of ``out`` adaptive-pooling windows over ``length`` samples (PyTorch's)."""
    i = np.arange(out)
    return (i * length) // out, -((-(i + 1) * length) // out)


def average_matrix(length: int, out: int, dtype: np.dtype):
    """The ``(out, length)`` sparse matrix of adaptive average pooling (``1 / count`` over each window)."""
    start, end = adaptive_windows(length, out)
    counts = end - start
    rows = np.repeat(np.arange(out), counts)
    cols = np.concatenate([np.arange(a, b) for a, b in zip(start, end)]) if out else np.zeros(0, np.int64)
    vals = np.repeat(1.0 / counts, counts)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(out, length), dtype=dtype)


def apply_matrix(x: np.ndarray, matrix) -> Rule:
    """``y[..., i] = sum_j W[i, j] x[..., j]`` along the last axis; gradient ``g W``."""
    out, length = matrix.shape
    rows = int(math.prod(x.shape[:-1]))
    x2 = np.ascontiguousarray(x).reshape(rows, length)
    y = np.ascontiguousarray((matrix @ x2.T).T, dtype=x.dtype).reshape(x.shape[:-1] + (out,))

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        g2 = np.ascontiguousarray(g).reshape(rows, out)
        return (np.ascontiguousarray((matrix.T @ g2.T).T, dtype=x.dtype).reshape(x.shape),)
    return y, backward


def gather(x: np.ndarray, index: np.ndarray) -> Rule:
    """``y[..., i] = x[..., index[i]]``; the gradient sums ``g`` back onto each source (``np.bincount``)."""
    length = x.shape[-1]
    y = np.take(x, index, axis=-1)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        rows = int(math.prod(x.shape[:-1]))
        flat = (np.arange(rows)[:, None] * length + index[None, :]).ravel()
        grad = np.bincount(flat, weights=g.reshape(-1), minlength=rows * length)
        return (grad.reshape(x.shape).astype(x.dtype, copy=False),)
    return y, backward
