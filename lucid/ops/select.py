r"""Comparisons, logic, ``where``, ``clamp``, ``maximum`` / ``minimum``, ``clone`` and casts on arrays.

Comparisons and logical operators return bool arrays and have no gradient
(as in PyTorch).  The differentiable rules route ``g`` by a mask, as PyTorch's
formulas do:

* ``where(c, a, b)``: ``da = g [c]``, ``db = g [not c]``;
* ``clamp(x, lo, hi) = min(max(x, lo), hi)``: ``dx = g [lo <= x <= hi]``,
  ``dlo = g [x < lo and lo < hi]``, ``dhi = g [x > hi or hi < lo]``
  (``clamp_backward_min_max``);
* ``maximum(a, b)``: ``g`` to the larger, halved between equal operands.

Broadcast operands get their gradient summed back to their shape.  Cost
``O(n)`` each way.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import bad_type
from . import Rule
from .arith import unbroadcast

COMPARISONS = {"Eq": np.equal, "Ne": np.not_equal, "Lt": np.less, "Le": np.less_equal, "Gt": np.greater,
               "Ge": np.greater_equal}
LOGICAL = {"And": np.bitwise_and, "Or": np.bitwise_or, "Xor": np.bitwise_xor}


def _no_gradient(g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    return tuple(None for _ in needs)


def compare(a: np.ndarray, b: np.ndarray, op: str) -> Rule:
    """``a <op> b`` elementwise (broadcast) as a bool array; no gradient."""
    return np.asarray(COMPARISONS[op](a, b)), _no_gradient


def logical(a: np.ndarray, b: np.ndarray | None, op: str) -> Rule:
    """``a & b``, ``a | b``, ``a ^ b`` (bitwise on integers, logical on bools) or ``~a`` (``op="Not"``)."""
    for value in (a, b):
        if value is not None and value.dtype.kind not in "biu":
            raise bad_type(op.lower(), "input", "a bool or integer tensor", value)
    if b is None:
        return np.asarray(np.invert(a)), _no_gradient
    return np.asarray(LOGICAL[op](a, b)), _no_gradient


def _float32_unless_float64(out: np.ndarray, *operands: np.ndarray) -> np.ndarray:
    """NumPy's float64 result of integer / float32 operands as float32, as PyTorch promotes."""
    if out.dtype == np.float64 and not any(o.dtype == np.float64 for o in operands):
        return out.astype(np.float32)
    return out


def where(condition: np.ndarray, a: np.ndarray, b: np.ndarray) -> Rule:
    """``a`` where ``condition`` else ``b`` (all three broadcast); gradients of ``(a, b)``."""
    if condition.dtype != np.bool_:
        raise bad_type("where", "condition", "a bool tensor (e.g. x > 0)", condition)
    out = _float32_unless_float64(np.asarray(np.where(condition, a, b)), a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        zero = np.zeros((), g.dtype)
        return (unbroadcast(np.where(condition, g, zero), a.shape) if needs[0] else None,
                unbroadcast(np.where(condition, zero, g), b.shape) if needs[1] else None)
    return out, backward


def clamp(x: np.ndarray, low: np.ndarray | None, high: np.ndarray | None) -> Rule:
    """``min(max(x, low), high)`` (either bound may be None); gradients of ``(x, low, high)`` for the
    bounds given, PyTorch's masks (module docstring).  NaN in ``x`` stays NaN."""
    out = x
    if low is not None:
        out = np.maximum(out, low)
    if high is not None:
        out = np.minimum(out, high)
    operands = tuple(v for v in (x, low, high) if v is not None)
    out = _float32_unless_float64(np.asarray(out), *operands)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        zero = np.zeros((), g.dtype)
        keep = np.ones(x.shape, bool)
        if low is not None:
            keep = keep & (x >= low)
        if high is not None:
            keep = keep & (x <= high)
        grads: list[Any] = [unbroadcast(np.where(keep, g, zero), x.shape) if needs[0] else None]
        position = 1
        if low is not None:
            if needs[position]:
                mask = (x < low) & (low < high) if high is not None else x < low
                grads.append(unbroadcast(np.where(mask, g, zero), low.shape))
            else:
                grads.append(None)
            position += 1
        if high is not None:
            if needs[position]:
                mask = (x > high) | (high < low) if low is not None else x > high
                grads.append(unbroadcast(np.where(mask, g, zero), high.shape))
            else:
                grads.append(None)
        return tuple(grads)
    return out, backward


def extremum(a: np.ndarray, b: np.ndarray, largest: bool) -> Rule:
    """``maximum(a, b)`` (``largest``) or ``minimum``; the gradient goes to the chosen operand, half to each
    where they are equal (PyTorch's rule); NaN propagates."""
    out = _float32_unless_float64(np.asarray((np.maximum if largest else np.minimum)(a, b)), a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        wins = a > b if largest else a < b
        share = np.where(a == b, 0.5, wins.astype(g.dtype)).astype(g.dtype)
        return (unbroadcast(g * share, a.shape) if needs[0] else None,
                unbroadcast(g * (1 - share), b.shape) if needs[1] else None)
    return out, backward


def clone(x: np.ndarray) -> Rule:
    """A copy of ``x``; the gradient is ``g``."""
    return np.array(x, copy=True), lambda g, needs: (g,)


def cast(x: np.ndarray, kind: np.dtype) -> Rule:
    """``x`` converted to ``kind`` (always a new array); the gradient is ``g`` converted back (floats only)."""
    return x.astype(kind), lambda g, needs: (g.astype(x.dtype) if x.dtype.kind == "f" else None,)
