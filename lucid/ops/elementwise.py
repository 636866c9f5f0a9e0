"""Elementwise functions and activations on arrays, with their derivatives.

Every rule costs ``O(n)`` for ``n`` elements, forward and backward, and keeps
the input's floating dtype (integer inputs are computed in float32, as
PyTorch does; ``abs`` keeps integers).  Where a textbook formula overflows,
a stable form is used and named in the docstring.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy.special import erf

from .._errors import bad_type, bad_value, check_choice
from . import Rule
from ._blocks import Split, ufunc
from .dims import check_dim


def floating(x: np.ndarray) -> np.ndarray:
    """``x`` itself if floating point, else ``x`` as float32 (PyTorch's rule for exp, log, ...)."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def exp(x: np.ndarray) -> Rule:
    """``y = e**x``; ``dy/dx = y``."""
    y = ufunc(np.exp, floating(x))
    return y, lambda g, needs: (ufunc(np.multiply, g, y),)


def log(x: np.ndarray) -> Rule:
    """``y = ln x`` (``nan`` below 0 and ``-inf`` at 0, silently, as PyTorch); ``dy/dx = 1/x``."""
    x = floating(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x)

    def backward(g, needs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.divide(g, x),)
    return y, backward


def tanh(x: np.ndarray) -> Rule:
    """``y = tanh x``; ``dy/dx = 1 - y**2`` (one buffer, three in-place passes per block)."""
    y = ufunc(np.tanh, floating(x))

    def backward(g, needs):
        d = np.empty(y.shape, np.result_type(g, y))
        split = Split(y.shape)

        def body(lo: int, hi: int) -> None:
            part = split.part(d, lo, hi)
            np.multiply(split.part(y, lo, hi), split.part(y, lo, hi), out=part)
            np.subtract(1, part, out=part)
            np.multiply(split.part(g, lo, hi), part, out=part)
        split.run(body)
        return (d,)
    return y, backward


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e**-x)`` in one buffer (PyTorch's formula; relative accuracy kept for ``x << 0``).

    ``e**-x`` overflows to ``inf`` for ``x`` below about -88 (float32), giving
    exactly 0, the rounded answer; the warning is silenced.  Four in-place
    passes, several times faster than ``scipy.special.expit`` on float32.
    """
    y = np.empty(x.shape, x.dtype)
    split = Split(x.shape)

    def body(lo: int, hi: int) -> None:
        part = split.part(y, lo, hi)
        np.negative(split.part(x, lo, hi), out=part)
        with np.errstate(over="ignore"):
            np.exp(part, out=part)
        np.add(part, 1, out=part)
        np.reciprocal(part, out=part)
    split.run(body)
    return y


def _sigmoid_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``g y (1 - y)`` in one buffer."""
    d = np.empty(y.shape, np.result_type(g, y))
    split = Split(y.shape)

    def body(lo: int, hi: int) -> None:
        part, yp = split.part(d, lo, hi), split.part(y, lo, hi)
        np.subtract(1, yp, out=part)
        np.multiply(part, yp, out=part)
        np.multiply(part, split.part(g, lo, hi), out=part)
    split.run(body)
    return d


def sigmoid(x: np.ndarray) -> Rule:
    """``y = 1 / (1 + e**-x)``, never overflowing (see :func:`_sigmoid`); ``dy/dx = y (1 - y)``."""
    y = _sigmoid(floating(x))
    return y, lambda g, needs: (_sigmoid_grad(g, y),)


def abs(x: np.ndarray) -> Rule:  # noqa: A001  (PyTorch's name)
    """``|x|``; the derivative is ``sign(x)`` (0 at 0, as PyTorch)."""
    return np.abs(x), lambda g, needs: (np.multiply(g, np.sign(x)),)


def sqrt(x: np.ndarray) -> Rule:
    """``y = sqrt(x)`` (``nan`` below 0); ``dy/dx = 1 / (2 y)`` (``inf`` at 0, as PyTorch)."""
    with np.errstate(invalid="ignore"):
        y = np.sqrt(floating(x))

    def backward(g, needs):
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.multiply(y, 2)
            return (np.divide(g, d, out=d),)
    return y, backward


def silu(x: np.ndarray) -> Rule:
    """``y = x sigmoid(x)``; ``dy/dx = s (1 + x (1 - s))`` with ``s = sigmoid(x)``."""
    x = floating(x)
    s = _sigmoid(x)

    def backward(g, needs):
        d = np.empty(s.shape, np.result_type(g, s))
        split = Split(s.shape)

        def body(lo: int, hi: int) -> None:      # s (1 + x (1 - s)) g, in one buffer
            part, sp = split.part(d, lo, hi), split.part(s, lo, hi)
            np.subtract(1, sp, out=part)
            np.multiply(part, split.part(x, lo, hi), out=part)
            np.add(part, 1, out=part)
            np.multiply(part, sp, out=part)
            np.multiply(part, split.part(g, lo, hi), out=part)
        split.run(body)
        return (d,)
    return ufunc(np.multiply, x, s), backward


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x: np.ndarray, approximate: Any = "none") -> Rule:
    """Gaussian error linear unit, ``x Phi(x)``, exact or with PyTorch's tanh approximation.

    ``'none'``: ``y = x/2 (1 + erf(x/sqrt 2))``, ``dy/dx = Phi(x) + x phi(x)``.
    ``'tanh'``: ``y = x/2 (1 + tanh u)``, ``u = sqrt(2/pi) (x + 0.044715 x**3)``,
    ``dy/dx = (1 + t)/2 + x/2 (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 x**2)`` with ``t = tanh u``.
    """
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    x = floating(x)
    if approximate == "none":
        cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
        return x * cdf, lambda g, needs: (g * (cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)),)
    t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))

    def backward(g, needs):
        du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)
    return 0.5 * x * (1 + t), backward


def _real(where: str, argument: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise bad_type(where, argument, "a real number", value)
    return float(value)


def softplus(x: np.ndarray, beta: Any = 1.0, threshold: Any = 20.0) -> Rule:
    """``y = log(1 + e**(beta x)) / beta``, and ``y = x`` where ``beta x > threshold`` (PyTorch's rule).

    Computed as ``(max(bx, 0) + log1p(e**-|bx|)) / beta``, which cannot
    overflow.  ``dy/dx = sigmoid(beta x)``, and 1 above the threshold.
    ``beta`` must be non-zero (PyTorch returns ``inf`` for 0).
    """
    beta, threshold = _real("softplus", "beta", beta), _real("softplus", "threshold", threshold)
    if beta == 0:
        raise bad_value("softplus", "beta", "a non-zero real number", beta)
    x = floating(x)
    bx = x * np.asarray(beta, x.dtype)
    linear = bx > threshold
    smooth = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / np.asarray(beta, x.dtype)
    return np.where(linear, x, smooth), lambda g, needs: (np.where(linear, g, g * _sigmoid(bx)),)


def relu(x: np.ndarray) -> Rule:
    """``max(x, 0)``; the derivative is 1 where ``x > 0``, else 0 (read from the output, so the
    input need not be kept)."""
    y = ufunc(np.maximum, x, 0)
    return y, lambda g, needs: (ufunc(np.multiply, g, ufunc(np.greater, y, 0)),)


def leaky_relu(x: np.ndarray, negative_slope: Any = 0.01) -> Rule:
    """``y = x`` where ``x > 0``, else ``negative_slope * x``; ``dy/dx`` is 1 where ``x > 0``, else
    ``negative_slope`` (at 0 too, as PyTorch).  Keeps a boolean mask, not the input.  Any real slope
    (negative, or above 1) is accepted, as in PyTorch.
    """
    slope = _real("leaky_relu", "negative_slope", negative_slope)
    x = floating(x)
    positive = x > 0
    y = np.multiply(x, np.asarray(slope, x.dtype))
    np.copyto(y, x, where=positive)

    def backward(g, needs):
        d = np.multiply(g, np.asarray(slope, g.dtype))
        np.copyto(d, g, where=positive)
        return (d,)
    return y, backward


def glu(x: np.ndarray, dim: Any = -1) -> Rule:
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``x`` along ``dim``.

    One op: the halves are views, and the gradient is written into one buffer of
    ``x``'s shape: ``da = g s``, ``db = g a s (1 - s)`` with ``s = sigmoid(b)``.
    Cost ``O(n)`` each way; ``x.shape[dim]`` must be even, as in PyTorch.
    """
    axis = check_dim("glu", "dim", dim, x.ndim)
    if x.ndim == 0 or x.shape[axis] % 2:
        raise bad_value("glu", "input", f"a tensor whose size in dim {dim} is even (it is split in halves)", x)
    x = floating(x)
    half = x.shape[axis] // 2
    lead = (slice(None),) * axis
    first, second = lead + (slice(0, half),), lead + (slice(half, None),)
    a = x[first]
    s = _sigmoid(x[second])

    def backward(g, needs):
        grad = np.empty(x.shape, np.result_type(g, x))
        da, db = grad[first], grad[second]
        split = Split(s.shape)

        def body(lo: int, hi: int) -> None:
            sp, gp, part = split.part(s, lo, hi), split.part(g, lo, hi), split.part(db, lo, hi)
            np.multiply(gp, sp, out=split.part(da, lo, hi))
            np.subtract(1, sp, out=part)
            np.multiply(part, sp, out=part)
            np.multiply(part, split.part(a, lo, hi), out=part)
            np.multiply(part, gp, out=part)
        split.run(body)
        return (grad,)
    return ufunc(np.multiply, a, s), backward


def elu(x: np.ndarray, alpha: Any = 1.0) -> Rule:
    """``y = x`` for ``x > 0``, else ``alpha (e^x - 1)`` (``expm1``); ``dy/dx = 1`` or ``alpha e^x``."""
    alpha = _real("elu", "alpha", alpha)
    x = floating(x)
    positive = x > 0
    y = np.where(positive, x, alpha * np.expm1(np.minimum(x, 0)))
    return y, lambda g, needs: (np.where(positive, g, g * alpha * np.exp(np.minimum(x, 0))),)


def prelu(x: np.ndarray, weight: np.ndarray) -> Rule:
    """``y = x`` for ``x > 0``, else ``w x`` with ``w`` per channel (dim 1) or one shared value.

    Gradients: ``dx = g`` or ``g w``; ``dw = sum g x`` over the non-positive
    elements of each channel.  ``weight`` is already checked (1 or ``C`` entries).
    """
    shape = [1] * x.ndim
    if weight.size > 1:
        shape[1] = weight.size
    w = weight.reshape(shape) if x.ndim else weight.reshape(())
    positive = x > 0
    y = np.where(positive, x, w * x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        dx = np.where(positive, g, g * w) if needs[0] else None
        dw = None
        if needs[1]:
            contribution = np.where(positive, 0, g * x)
            axes = tuple(a for a in range(x.ndim) if not (weight.size > 1 and a == 1))
            dw = contribution.sum(axis=axes).reshape(weight.shape).astype(weight.dtype)
        return dx, dw
    return y, backward
