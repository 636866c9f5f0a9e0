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
    if padding == "causal":                       # Keras's rule: all of it on the left
        return dilation * (kernel_size - 1), 0
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


def _grad_operands(x, w, dy, padding, dilation, padding_mode):
    """float64 operands, ``src[j]`` (the input sample padded position ``j`` copies, -1 for
    a zero; found by padding an index ramp) and the padded input."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    length = x.shape[-1]
    left, right = _pad_amounts(padding, length, w.shape[-1], dilation)
    ramp = np.arange(1, length + 1, dtype=np.float64)[None, :]
    src = np.rint(pad_ref(ramp, left, right, padding_mode)[0]).astype(int) - 1
    return x, w, dy, src, pad_ref(x, left, right, padding_mode)


def conv1d_grads_ref(x, w, dy, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """Exact ``(dx, dw, db)`` of ``sum(dy * conv1d_ref(x, w, b))`` by the chain rule, term by term."""
    x, w, dy, src, xp = _grad_operands(x, w, dy, padding, dilation, padding_mode)
    n_batch = x.shape[0]
    c_out, cig, kernel_size = w.shape
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


def conv1d_ref_taps(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """The same definition as :func:`conv1d_ref`, looping over (output channel, input channel, tap)
    and vectorised only over batch and time, for the larger shapes of the fuzz tests."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    c_out, cig, kernel_size = w.shape
    left, right = _pad_amounts(padding, x.shape[-1], kernel_size, dilation)
    xp = pad_ref(x, left, right, padding_mode) if (left or right) else x
    l_out = (xp.shape[-1] - dilation * (kernel_size - 1) - 1) // stride + 1
    cog = c_out // groups
    y = np.zeros((x.shape[0], c_out, l_out))
    last = stride * (l_out - 1) + 1
    for o in range(c_out):
        g = o // cog
        for c in range(cig):
            for k in range(kernel_size):
                y[:, o, :] += w[o, c, k] * xp[:, g * cig + c, k * dilation:k * dilation + last:stride]
        if b is not None:
            y[:, o, :] += b[o]
    return y


def conv1d_grads_ref_taps(x, w, dy, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """``(dx, dw, db)`` by the chain rule over the loops of :func:`conv1d_ref_taps`.

    Padding is differentiated by padding an index ramp: each padded position
    knows which input sample (if any) it copies.
    """
    x, w, dy, src, xp = _grad_operands(x, w, dy, padding, dilation, padding_mode)
    c_out, cig, kernel_size = w.shape
    cog = c_out // groups
    l_out = dy.shape[-1]
    last = stride * (l_out - 1) + 1
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for o in range(c_out):
        g = o // cog
        for c in range(cig):
            for k in range(kernel_size):
                window = slice(k * dilation, k * dilation + last, stride)
                dw[o, c, k] = np.sum(dy[:, o, :] * xp[:, g * cig + c, window])
                dxp[:, g * cig + c, window] += dy[:, o, :] * w[o, c, k]
    dx = np.zeros_like(x)
    for j in np.nonzero(src >= 0)[0]:
        dx[:, :, src[j]] += dxp[:, :, j]
    return dx, dw, dy.sum(axis=(0, 2))


def conv_transpose1d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed convolution by its scatter definition: every input sample ``x[n, c, i]`` adds
    ``x * w[c, o, k]`` to output ``i*stride + k*dilation - padding`` of channel ``g*Cog + o`` (``g`` the
    group of ``c``), when that index lies in ``[0, L_out)``; plain float64 loops, vectorised over batch only."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    c_in, length = x.shape[1], x.shape[2]
    cog, kernel_size = w.shape[1], w.shape[2]
    cig = c_in // groups
    l_out = (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    y = np.zeros((x.shape[0], cog * groups, l_out))
    for c in range(c_in):
        g = c // cig
        for i in range(length):
            for o in range(cog):
                for k in range(kernel_size):
                    j = i * stride + k * dilation - padding
                    if 0 <= j < l_out:
                        y[:, g * cog + o, j] += x[:, c, i] * w[c, o, k]
    if b is not None:
        y += np.asarray(b, dtype=np.float64)[None, :, None]
    return y
