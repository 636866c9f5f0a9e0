"""An independent, deliberately plain float64 oracle for 1-D convolution.

Loops straight over the definition of the seed page (cross-correlation with
stride, zero padding, dilation and groups); no NumPy tricks beyond indexing, so
it shares no code path with lucid.  Gradients come from the same definition
(exact, by accumulating each product's partial derivatives) and, for spot
checks, from central finite differences of :func:`conv1d_ref`.
"""
from __future__ import annotations

import numpy as np


def _pad_amounts(padding, length, kernel_size, dilation):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = dilation * (kernel_size - 1)
        return total // 2, total - total // 2
    return padding, padding


def pad_ref(x, left, right, mode="zeros"):
    """Pad the last axis of ``x`` (float64 copy) by hand, index by index."""
    x = np.asarray(x, dtype=np.float64)
    length = x.shape[-1]
    out = np.zeros(x.shape[:-1] + (length + left + right,))
    for j in range(length + left + right):
        i = j - left
        if 0 <= i < length:
            out[..., j] = x[..., i]
        elif mode == "zeros":
            continue
        elif mode == "reflect":
            while i < 0 or i >= length:
                i = -i if i < 0 else 2 * (length - 1) - i
            out[..., j] = x[..., i]
        elif mode == "replicate":
            out[..., j] = x[..., min(max(i, 0), length - 1)]
        elif mode == "circular":
            out[..., j] = x[..., i % length]
        else:
            raise ValueError(mode)
    return out


def conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """``y[n, o, t] = b[o] + sum_{c, k} x_pad[n, g*Cig + c, t*s + k*d] * w[o, c, k]``, o in group g."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n_batch, c_in, length = x.shape
    c_out, cig, kernel_size = w.shape
    left, right = _pad_amounts(padding, length, kernel_size, dilation)
    xp = pad_ref(x, left, right, padding_mode)
    l_out = (xp.shape[-1] - dilation * (kernel_size - 1) - 1) // stride + 1
    cog = c_out // groups
    y = np.zeros((n_batch, c_out, l_out))
    for n in range(n_batch):
        for o in range(c_out):
            g = o // cog
            for t in range(l_out):
                acc = 0.0 if b is None else float(b[o])
                for c in range(cig):
                    for k in range(kernel_size):
                        acc += xp[n, g * cig + c, t * stride + k * dilation] * w[o, c, k]
                y[n, o, t] = acc
    return y


def conv1d_grads_ref(x, w, dy, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """Exact ``(dx, dw, db)`` of ``sum(dy * conv1d_ref(x, w, b))`` by the chain rule, term by term."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    n_batch, c_in, length = x.shape
    c_out, cig, kernel_size = w.shape
    left, right = _pad_amounts(padding, length, kernel_size, dilation)
    # Which input sample each padded position copies (or None for a zero).
    source = np.arange(length, dtype=np.float64)[None, :]
    src = pad_ref(source + 1.0, left, right, padding_mode)[0].astype(int) - 1
    if padding_mode == "zeros":
        src = np.array([j - left if 0 <= j - left < length else -1 for j in range(length + left + right)])
    xp = pad_ref(x, left, right, padding_mode)
    cog = c_out // groups
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros(c_out)
    for n in range(n_batch):
        for o in range(c_out):
            g = o // cog
            for t in range(dy.shape[-1]):
                db[o] += dy[n, o, t]
                for c in range(cig):
                    for k in range(kernel_size):
                        j = t * stride + k * dilation
                        dw[o, c, k] += dy[n, o, t] * xp[n, g * cig + c, j]
                        if src[j] >= 0:
                            dx[n, g * cig + c, src[j]] += dy[n, o, t] * w[o, c, k]
    return dx, dw, db


def finite_difference(f, a, eps=1e-6):
    """Central differences of scalar ``f`` with respect to every element of ``a``."""
    a = np.array(a, dtype=np.float64)
    grad = np.zeros_like(a)
    flat, gflat = a.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        hi = f(a)
        flat[i] = keep - eps
        lo = f(a)
        flat[i] = keep
        gflat[i] = (hi - lo) / (2 * eps)
    return grad
