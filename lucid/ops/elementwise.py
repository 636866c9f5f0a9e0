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
from scipy.special import erf, expit

from .._errors import bad_type, bad_value, check_choice
from . import Rule


def floating(x: np.ndarray) -> np.ndarray:
    """``x`` itself if floating point, else ``x`` as float32 (PyTorch's rule for exp, log, ...)."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def exp(x: np.ndarray) -> Rule:
    """``y = e**x``; ``dy/dx = y``."""
    y = np.exp(floating(x))
    return y, lambda g: (g * y,)


def log(x: np.ndarray) -> Rule:
    """``y = ln x`` (``nan`` below 0 and ``-inf`` at 0, silently, as PyTorch); ``dy/dx = 1/x``."""
    x = floating(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x)

    def backward(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / x,)
    return y, backward


def tanh(x: np.ndarray) -> Rule:
    """``y = tanh x``; ``dy/dx = 1 - y**2``."""
    y = np.tanh(floating(x))
    return y, lambda g: (g * (1 - y * y),)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e**-x)`` without overflow: ``scipy.special.expit``, one pass that evaluates
    ``1 / (1 + e**-x)`` for ``x >= 0`` and ``e**x / (1 + e**x)`` below."""
    return expit(x)


def sigmoid(x: np.ndarray) -> Rule:
    """``y = 1 / (1 + e**-x)``, never overflowing (see :func:`_sigmoid`); ``dy/dx = y (1 - y)``."""
    y = _sigmoid(floating(x))
    return y, lambda g: (g * y * (1 - y),)


def abs(x: np.ndarray) -> Rule:  # noqa: A001  (PyTorch's name)
    """``|x|``; the derivative is ``sign(x)`` (0 at 0, as PyTorch)."""
    return np.abs(x), lambda g: (g * np.sign(x),)


def sqrt(x: np.ndarray) -> Rule:
    """``y = sqrt(x)`` (``nan`` below 0); ``dy/dx = 1 / (2 y)`` (``inf`` at 0, as PyTorch)."""
    with np.errstate(invalid="ignore"):
        y = np.sqrt(floating(x))

    def backward(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / (2 * y),)
    return y, backward


def silu(x: np.ndarray) -> Rule:
    """``y = x sigmoid(x)``; ``dy/dx = s (1 + x (1 - s))`` with ``s = sigmoid(x)``."""
    x = floating(x)
    s = _sigmoid(x)
    return x * s, lambda g: (g * s * (1 + x * (1 - s)),)


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
        return x * cdf, lambda g: (g * (cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)),)
    t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))

    def backward(g):
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
    return np.where(linear, x, smooth), lambda g: (np.where(linear, g, g * _sigmoid(bx)),)


def relu(x: np.ndarray) -> Rule:
    """``max(x, 0)``; the derivative is 1 where ``x > 0``, else 0."""
    return np.maximum(x, 0), lambda g: (g * (x > 0),)
