"""Reductions: sum, mean, max / min, amax / amin, argmax / argmin, var, softmax and log_softmax, with
their gradients.

Each costs ``O(n)`` forward and backward for ``n`` input elements.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import bad_type, bad_value
from . import Rule
from .dims import check_dim, check_dims


def _check_keepdim(where: str, keepdim: Any) -> bool:
    if not isinstance(keepdim, (bool, np.bool_)):
        raise bad_type(where, "keepdim", "a bool", keepdim)
    return bool(keepdim)


def sum_mean(x: np.ndarray, dim: Any, keepdim: Any, op: str) -> Rule:
    """``x.sum`` (op ``"Sum"``) or ``x.mean`` (``"Mean"``) over ``dim`` (all dims when ``None``).

    The gradient is ``g`` broadcast back over the reduced axes (divided by the
    number of reduced elements for a mean).
    """
    where = op.lower()
    if op == "Mean" and x.dtype.kind != "f":
        raise bad_type("mean", "input", "a floating-point tensor", x)
    keepdim = _check_keepdim(where, keepdim)
    axes = check_dims(where, "dim", dim, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes])) if op == "Mean" else 1
    data = np.asarray(x.sum(axis=axes, keepdims=keepdim))
    if count != 1:
        data = data / count

    def backward(g, needs):
        g = g if keepdim else np.expand_dims(g, axes)
        return (np.broadcast_to(g / count if count != 1 else g, x.shape),)
    return data, backward


def _nonempty(where: str, x: np.ndarray, axes: tuple[int, ...]) -> None:
    if any(x.shape[a] == 0 for a in axes) or (not axes and x.size == 0):
        raise bad_value(where, "input", "non-empty in every reduced dimension", x)


def amax(x: np.ndarray, dim: Any = None, keepdim: Any = False, largest: bool = True) -> Rule:
    """The largest (``largest=False``: smallest) element over ``dim`` (every dim for ``None`` or ``()``),
    as ``torch.amax`` / ``torch.amin``.

    The gradient is shared evenly among the elements equal to the extremum
    (PyTorch's rule for ``amax`` and for ``max()`` / ``min()`` without a dim).
    """
    where = "amax" if largest else "amin"
    keepdim = _check_keepdim(where, keepdim)
    axes = check_dims(where, "dim", dim, x.ndim)
    _nonempty(where, x, axes)
    top = (np.max if largest else np.min)(x, axis=axes, keepdims=True)

    def backward(g, needs):
        ties = x == top
        with np.errstate(divide="ignore", invalid="ignore"):      # a NaN extremum has no ties: NaN gradient
            share = ties / ties.sum(axis=axes, keepdims=True)
        return ((g if keepdim else np.expand_dims(g, axes)) * share,)
    return np.asarray(top if keepdim else np.squeeze(top, axes)), backward


def max_dim(x: np.ndarray, dim: Any, keepdim: Any = False, largest: bool = True) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(values, indices, backward)`` of the maximum (``largest=False``: minimum) along ``dim``, as
    ``torch.max(x, dim)`` / ``torch.min(x, dim)``.

    ``indices`` (int64) is the first position of the extremum; the gradient
    goes to that position only, as in PyTorch.
    """
    where = "max" if largest else "min"
    keepdim = _check_keepdim(where, keepdim)
    axis = check_dim(where, "dim", dim, x.ndim)
    if x.ndim == 0:
        return x, np.zeros((), np.int64), lambda g, needs: (g,)
    _nonempty(where, x, (axis,))
    position = np.expand_dims((np.argmax if largest else np.argmin)(x, axis=axis), axis)
    values = np.take_along_axis(x, position, axis)

    def backward(g, needs):
        grad = np.zeros_like(x)
        np.put_along_axis(grad, position, g if keepdim else np.expand_dims(g, axis), axis)
        return (grad,)
    indices = position.astype(np.int64)
    if not keepdim:
        values, indices = np.squeeze(values, axis), np.squeeze(indices, axis)
    return values, indices, backward


def arg_extremum(x: np.ndarray, dim: Any = None, keepdim: Any = False, largest: bool = True) -> np.ndarray:
    """``torch.argmax`` / ``torch.argmin``: int64 position of the first extremum along ``dim``, or in the
    flattened tensor for ``dim=None`` (a 0-d result; ``keepdim`` then keeps every dim as size 1)."""
    where = "argmax" if largest else "argmin"
    keepdim = _check_keepdim(where, keepdim)
    find = np.argmax if largest else np.argmin
    if dim is None:
        _nonempty(where, x, ())
        flat = np.asarray(find(x), np.int64)
        return flat.reshape((1,) * x.ndim) if keepdim else flat
    axis = check_dim(where, "dim", dim, x.ndim)
    if x.ndim == 0:
        return np.zeros((), np.int64)
    _nonempty(where, x, (axis,))
    return np.asarray(find(x, axis=axis, keepdims=keepdim), np.int64)


def var(x: np.ndarray, dim: Any = None, correction: Any = 1, keepdim: Any = False) -> Rule:
    """``sum((x - mean)^2) / (n - correction)`` over ``dim`` (every dim for ``None``), as ``torch.var``;
    the gradient is ``g 2 (x - mean) / (n - correction)``.  ``n <= correction`` gives inf / NaN, as PyTorch."""
    if x.dtype.kind != "f":
        raise bad_type("var", "input", "a floating-point tensor", x)
    keepdim = _check_keepdim("var", keepdim)
    axes = check_dims("var", "dim", dim, x.ndim)
    if isinstance(correction, bool) or not isinstance(correction, (int, float, np.integer, np.floating)):
        raise bad_type("var", "correction", "a number (1: unbiased, 0: biased)", correction)
    count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    centred = x - x.mean(axis=axes, keepdims=True) if x.size else x
    denominator = x.dtype.type(max(count - correction, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray((centred * centred).sum(axis=axes, keepdims=keepdim) / denominator, x.dtype)

    def backward(g, needs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((g if keepdim else np.expand_dims(g, axes)) * (centred * (2 / denominator)),)
    return out, backward


def softmax(x: np.ndarray, dim: Any) -> Rule:
    """``y = e**(x - m) / sum(e**(x - m))`` along ``dim``, ``m`` the maximum (so no overflow).

    Gradient: ``y (g - sum(g y))`` along ``dim``.
    """
    axis = check_dim("softmax", "dim", dim, x.ndim)
    if x.dtype.kind != "f":
        raise bad_type("softmax", "input", "a floating-point tensor", x)
    if x.size == 0:
        return x.copy(), lambda g, needs: (g,)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return y, lambda g, needs: (y * (g - (g * y).sum(axis=axis, keepdims=True)),)


def log_softmax(x: np.ndarray, dim: Any) -> Rule:
    """``y = x - m - log(sum(e**(x - m)))`` along ``dim``, ``m`` the maximum (stable for any ``x``).

    Gradient: ``g - softmax(x) sum(g)`` along ``dim``.
    """
    axis = check_dim("log_softmax", "dim", dim, x.ndim)
    if x.dtype.kind != "f":
        raise bad_type("log_softmax", "input", "a floating-point tensor", x)
    if x.size == 0:
        return x.copy(), lambda g, needs: (g,)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return y, lambda g, needs: (g - np.exp(y) * g.sum(axis=axis, keepdims=True),)
