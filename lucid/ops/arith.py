"""``+ - * / ** @`` and negation on arrays, with NumPy broadcasting and their gradients.

Operands that were broadcast get their gradient summed back to their own shape
with :func:`unbroadcast`.  Cost: one NumPy pass for the result and one or two
per operand gradient (matmul: two matrix products).
"""
from __future__ import annotations

import numpy as np

from . import Rule
from ._blocks import ufunc


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _matmul_grads(g: np.ndarray, a: np.ndarray, b: np.ndarray,
                  needs: tuple[bool, ...]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Gradients of ``a @ b`` that ``needs`` asks for (1-D operands are promoted as ``np.matmul`` does)."""
    a2 = a if a.ndim > 1 else a[None, :]
    b2 = b if b.ndim > 1 else b[:, None]
    g2 = g if b.ndim > 1 else np.expand_dims(g, -1)
    g2 = g2 if a.ndim > 1 else np.expand_dims(g2, -2)
    ga = gb = None
    if needs[0]:
        ga = g2 @ np.swapaxes(b2, -1, -2)
        ga = unbroadcast(ga if a.ndim > 1 else ga[..., 0, :], a.shape)
    if needs[1]:
        gb = np.swapaxes(a2, -1, -2) @ g2
        gb = unbroadcast(gb if b.ndim > 1 else gb[..., :, 0], b.shape)
    return ga, gb


FORWARD = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.true_divide,
           "Pow": np.power, "MatMul": np.matmul}


def binary(a: np.ndarray, b: np.ndarray, op: str, exponent_grad: bool = True) -> Rule:
    """``a <op> b`` for ``op`` in :data:`FORWARD`.

    Integer / integer division and powers that NumPy computes in float64 come
    out float32, as in PyTorch.  ``exponent_grad=False`` skips ``log(a)`` in the
    gradient of ``a ** b`` when the exponent needs no gradient (``a`` may be negative).
    The backward computes only the operands' gradients that ``needs`` asks for,
    each with one temporary at most.
    """
    out = np.asarray(FORWARD[op](a, b) if op == "MatMul" else ufunc(FORWARD[op], a, b))
    if out.dtype == np.float64 and np.float64 not in (a.dtype, b.dtype):
        out = out.astype(np.float32)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        need_a, need_b = needs
        if op == "Add":
            return (unbroadcast(g, a.shape) if need_a else None), (unbroadcast(g, b.shape) if need_b else None)
        if op == "Sub":
            return (unbroadcast(g, a.shape) if need_a else None), (unbroadcast(np.negative(g), b.shape)
                                                                    if need_b else None)
        if op == "Mul":
            return (unbroadcast(ufunc(np.multiply, g, b), a.shape) if need_a else None), \
                   (unbroadcast(ufunc(np.multiply, g, a), b.shape) if need_b else None)
        if op == "Div":
            ga = unbroadcast(np.divide(g, b), a.shape) if need_a else None
            if not need_b:
                return ga, None
            gb = np.multiply(g, out)                     # d(a/b)/db = -a/b**2 = -out/b, in one buffer
            np.divide(gb, b, out=gb)
            return ga, unbroadcast(np.negative(gb, out=gb), b.shape)
        if op == "Pow":
            gb = unbroadcast(g * out * np.log(a), b.shape) if need_b and exponent_grad else None
            return (unbroadcast(g * b * a ** (b - 1), a.shape) if need_a else None), gb
        ga, gb = _matmul_grads(g, a, b, needs)
        return ga, gb
    return out, backward


def neg(a: np.ndarray) -> Rule:
    """``-a``; the gradient is ``-g``."""
    return -a, lambda g, needs: (np.negative(g),)
