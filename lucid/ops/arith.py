"""``+ - * / ** @`` and negation on arrays, with NumPy broadcasting and their gradients.

Operands that were broadcast get their gradient summed back to their own shape
with :func:`unbroadcast`.  Cost: one NumPy pass for the result and one or two
per operand gradient (matmul: two matrix products).
"""
from __future__ import annotations

import numpy as np

from . import Rule


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _matmul_grads(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of ``a @ b`` (1-D operands are promoted as ``np.matmul`` does)."""
    a2 = a if a.ndim > 1 else a[None, :]
    b2 = b if b.ndim > 1 else b[:, None]
    g2 = g if b.ndim > 1 else np.expand_dims(g, -1)
    g2 = g2 if a.ndim > 1 else np.expand_dims(g2, -2)
    ga = g2 @ np.swapaxes(b2, -1, -2)
    gb = np.swapaxes(a2, -1, -2) @ g2
    ga = ga if a.ndim > 1 else ga[..., 0, :]
    gb = gb if b.ndim > 1 else gb[..., :, 0]
    return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


FORWARD = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.true_divide,
           "Pow": np.power, "MatMul": np.matmul}


def binary(a: np.ndarray, b: np.ndarray, op: str, exponent_grad: bool = True) -> Rule:
    """``a <op> b`` for ``op`` in :data:`FORWARD`.

    Integer / integer division and powers that NumPy computes in float64 come
    out float32, as in PyTorch.  ``exponent_grad=False`` skips ``log(a)`` in the
    gradient of ``a ** b`` when the exponent needs no gradient (``a`` may be negative).
    """
    out = np.asarray(FORWARD[op](a, b))
    if out.dtype == np.float64 and np.float64 not in (a.dtype, b.dtype):
        out = out.astype(np.float32)

    def backward(g: np.ndarray):
        if op == "Add":
            return unbroadcast(g, a.shape), unbroadcast(g, b.shape)
        if op == "Sub":
            return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)
        if op == "Mul":
            return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)
        if op == "Div":
            return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)
        if op == "Pow":
            gb = unbroadcast(g * out * np.log(a), b.shape) if exponent_grad else None
            return unbroadcast(g * b * a ** (b - 1), a.shape), gb
        return _matmul_grads(g, a, b)
    return out, backward


def neg(a: np.ndarray) -> Rule:
    """``-a``; the gradient is ``-g``."""
    return -a, lambda g: (-g,)
