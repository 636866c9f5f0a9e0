"""Rules of the layers that are one NumPy op each: ``linear``, ``dropout`` and ``embedding``.

``linear``: ``y = x W^T + b`` over the last dimension; gradients ``dx = g W``,
``dW = g^T x``, ``db = sum g`` (one GEMM each, only those ``needs`` asks for).
``dropout``: ``y = x m / (1 - p)``, ``m ~ Bernoulli(1 - p)``; gradient
``g m / (1 - p)``.  Cost ``O(n)``: the mask comes from raw 32-bit words of
the generator (one word per element, 3.5x faster than drawing float32
uniforms), kept where the word is at least ``p * 2**32`` -- a keep
probability within ``2**-32`` of ``1 - p``, finer than a float32 uniform's
``2**-24`` -- and stored as one scaled array of the input's dtype.
"""
from __future__ import annotations

import numpy as np

from . import Rule
from ._blocks import ufunc


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> Rule:
    """``(y, backward)`` of ``y = x @ w.T + b`` for checked operands (``b`` may be None)."""
    out_features, in_features = w.shape
    y = np.matmul(x, w.T)
    if b is not None:
        y += b

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        g2 = g.reshape(-1, out_features)
        dx = np.matmul(g, w) if needs[0] else None
        dw = g2.T @ x.reshape(-1, in_features) if needs[1] else None
        if b is None:
            return dx, dw
        return dx, dw, (g2.sum(0) if needs[2] else None)
    return y, backward


def dropout(x: np.ndarray, p: float, generator: np.random.Generator) -> Rule:
    """``(y, backward)`` of dropout with probability ``0 < p <= 1`` (``p = 1``: zeros)."""
    if p == 1.0:
        factor = np.zeros(x.shape, x.dtype)
    else:
        words = generator.bit_generator.random_raw((x.size + 1) // 2).view(np.uint32)[:x.size].reshape(x.shape)
        factor = np.greater_equal(words, np.uint32(min(round(p * 2.0**32), 2**32 - 1))).astype(x.dtype)
        factor *= x.dtype.type(1.0 / (1.0 - p))
    return ufunc(np.multiply, x, factor), lambda g, needs: (ufunc(np.multiply, g, factor),)


def embedding(weight: np.ndarray, indices: np.ndarray, padding_idx: int | None, scale_grad_by_freq: bool) -> Rule:
    """``(y, backward)`` of ``y = weight[indices]`` (rows looked up; ``y`` has shape ``indices.shape + (D,)``).

    The gradient of ``weight`` adds each ``g`` row into the row it came from
    (``np.add.at``: repeated indices accumulate); the ``padding_idx`` row gets
    none, and with ``scale_grad_by_freq`` each contribution is divided by how
    often its index occurs in ``indices``.  Cost ``O(numel(y))`` each way.
    """
    flat = indices.reshape(-1)
    y = weight[indices]

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        rows = g.reshape(-1, weight.shape[1])
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=weight.shape[0])
            rows = rows / counts[flat][:, None]
        grad = np.zeros_like(weight)
        np.add.at(grad, flat, rows)
        if padding_idx is not None:
            grad[padding_idx] = 0
        return (grad,)
    return y, backward
