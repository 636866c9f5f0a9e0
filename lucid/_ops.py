"""The arithmetic behind :class:`~lucid.tensor.Tensor`'s operators, with their gradients.

Each operation computes its result with NumPy and hands :func:`~lucid.tensor.track`
a closure mapping the result's gradient to its operands' gradients; operands
that were broadcast get their gradient summed back with :func:`unbroadcast`.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from ._errors import bad_type
from .tensor import Tensor, track


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _axes(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    rank = max(ndim, 1)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                             f"but got {d!r})")
    return tuple(sorted({int(d) % rank for d in dims})) if ndim else ()


def reduce(x: Tensor, dim: int | Sequence[int] | None, keepdim: bool, op: str) -> Tensor:
    """``x.sum`` (op ``"Sum"``) or ``x.mean`` (``"Mean"``) over ``dim``.

    The gradient is ``g`` broadcast back over the reduced axes (divided by the
    number of reduced elements for a mean).
    """
    if op == "Mean" and x.data.dtype.kind != "f":
        raise bad_type("mean", "input", "a floating-point tensor", x)
    axes = _axes(dim, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes])) if op == "Mean" else 1
    data = np.asarray(x.data.sum(axis=axes, keepdims=keepdim))
    if count != 1:
        data = data / count

    def backward(g):
        g = g if keepdim else np.expand_dims(g, axes)
        return (np.broadcast_to(g / count if count != 1 else g, x.shape),)
    return track(data, (x,), backward, op)


def _operand(value: Any, like: np.ndarray) -> Tensor:
    """``value`` as a Tensor; Python scalars take the other operand's dtype (floats
    next to an integer tensor become float32)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, complex):
        scalar_float = isinstance(value, float) or (isinstance(value, np.generic) and value.dtype.kind == "f")
        kind = np.float32 if scalar_float and like.dtype.kind != "f" else like.dtype
        return Tensor._wrap(np.asarray(value, dtype=kind))
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(f"unsupported operand type for a lucid.Tensor operation: {type(value).__name__}")


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


def binary(left: Any, right: Any, op: str) -> Tensor:
    """``left <op> right`` with NumPy broadcasting and its backward closure."""
    like = left._data if isinstance(left, Tensor) else right._data
    try:
        x, y = _operand(left, like), _operand(right, like)
    except TypeError:
        return NotImplemented
    a, b = x._data, y._data
    out = _FORWARD[op](a, b)
    if out.dtype == np.float64 and np.float64 not in (a.dtype, b.dtype):
        out = out.astype(np.float32)        # int / int and friends: float32, as in PyTorch

    def backward(g):
        if op == "Add":
            return unbroadcast(g, a.shape), unbroadcast(g, b.shape)
        if op == "Sub":
            return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)
        if op == "Mul":
            return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)
        if op == "Div":
            return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)
        if op == "Pow":
            gb = unbroadcast(g * out * np.log(a), b.shape) if y.requires_grad else None
            return unbroadcast(g * b * a ** (b - 1), a.shape), gb
        return _matmul_grads(g, a, b)
    return track(np.asarray(out), (x, y), backward, op)


_FORWARD = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.true_divide,
            "Pow": np.power, "MatMul": np.matmul}
