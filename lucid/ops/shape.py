"""Shape rules: reshape, indexing, transpose, permute, flatten, (un)squeeze, cat and stack.

Views cost ``O(1)`` forward; every gradient is the inverse rearrangement of
``g`` (``O(n)``), except indexing, which scatters ``g`` back with
``np.add.at`` so that repeated indices accumulate.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import bad_type, bad_value
from . import Rule
from .dims import check_dim, check_dims


def reshape(x: np.ndarray, shape: tuple[int, ...]) -> Rule:
    """``x`` with the same elements in ``shape`` (one ``-1`` is inferred)."""
    try:
        data = x.reshape(shape)
    except (ValueError, TypeError):
        raise bad_value("reshape", "shape", f"a shape with {x.size} elements", shape) from None
    return data, lambda g: (g.reshape(x.shape),)


def index(x: np.ndarray, key: Any) -> Rule:
    """``x[key]`` (NumPy indexing); the gradient adds ``g`` back at every selected position."""
    def backward(g):
        grad = np.zeros_like(x)
        np.add.at(grad, key, g)
        return (grad,)
    return x[key], backward


def transpose(x: np.ndarray, dim0: Any, dim1: Any) -> Rule:
    """``x`` with dimensions ``dim0`` and ``dim1`` swapped (a view)."""
    a, b = check_dim("transpose", "dim0", dim0, x.ndim), check_dim("transpose", "dim1", dim1, x.ndim)
    if x.ndim == 0:
        return x, lambda g: (g,)
    return np.swapaxes(x, a, b), lambda g: (np.swapaxes(g, a, b),)


def permute(x: np.ndarray, dims: Sequence[Any]) -> Rule:
    """``x`` with its dimensions reordered: result dim ``i`` is input dim ``dims[i]`` (a view)."""
    if not isinstance(dims, (tuple, list)):
        raise bad_type("permute", "dims", "a sequence of ints", dims)
    axes = [check_dim("permute", "dims", d, x.ndim) for d in dims]
    if len(axes) != x.ndim or sorted(axes) != list(range(x.ndim)):
        raise bad_value("permute", "dims", f"a permutation of the {x.ndim} dimensions", tuple(dims))
    if x.ndim == 0:
        return x, lambda g: (g,)
    inverse = tuple(int(i) for i in np.argsort(axes))
    return np.transpose(x, axes), lambda g: (np.transpose(g, inverse),)


def flatten(x: np.ndarray, start_dim: Any = 0, end_dim: Any = -1) -> Rule:
    """``x`` with dims ``start_dim..end_dim`` (inclusive) merged into one; a 0-d tensor becomes 1-d."""
    start = check_dim("flatten", "start_dim", start_dim, x.ndim)
    end = check_dim("flatten", "end_dim", end_dim, x.ndim)
    if start > end:
        raise bad_value("flatten", "start_dim", f"at most end_dim={end_dim} (after wrapping negative dims)",
                        start_dim)
    if x.ndim == 0:
        return reshape(x, (1,))
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def unsqueeze(x: np.ndarray, dim: Any) -> Rule:
    """``x`` with a new dimension of size 1 at ``dim`` (``-ndim-1 <= dim <= ndim``)."""
    axis = check_dim("unsqueeze", "dim", dim, x.ndim, new=True)
    return np.expand_dims(x, axis), lambda g: (np.squeeze(g, axis),)


def squeeze(x: np.ndarray, dim: Any = None) -> Rule:
    """``x`` without its size-1 dimensions (all, or those among ``dim``; others in ``dim`` are kept,
    as in PyTorch)."""
    axes = check_dims("squeeze", "dim", dim, x.ndim)
    axes = tuple(a for a in axes if x.shape[a] == 1)
    return np.squeeze(x, axes), lambda g: (g.reshape(x.shape),)


def _result_dtype(arrays: Sequence[np.ndarray]) -> np.dtype:
    kind = np.result_type(*arrays)
    if kind == np.float64 and not any(a.dtype == np.float64 for a in arrays):
        return np.dtype(np.float32)             # int64 with float32: float32, as in PyTorch
    return kind


def _check_sequence(where: str, arrays: Sequence[np.ndarray]) -> None:
    if not arrays:
        raise bad_value(where, "tensors", "a non-empty sequence of tensors", arrays)


def cat(arrays: Sequence[np.ndarray], dim: Any = 0) -> Rule:
    """Join ``arrays`` along the existing dimension ``dim``; all other sizes must agree.

    Mixed dtypes promote as in PyTorch.  The gradient is ``g`` split back at the
    joins.  Cost: one copy of the result.
    """
    _check_sequence("cat", arrays)
    ndim = arrays[0].ndim
    if ndim == 0:
        raise bad_value("cat", "tensors", "tensors of at least one dimension (zero-dimensional tensors cannot "
                        "be concatenated)", arrays[0])
    axis = check_dim("cat", "dim", dim, ndim)
    for i, a in enumerate(arrays):
        if a.ndim != ndim or a.shape[:axis] + a.shape[axis + 1:] != arrays[0].shape[:axis] + arrays[0].shape[axis + 1:]:
            raise bad_value("cat", f"tensors[{i}]", f"of shape {arrays[0].shape} except in dim {axis}", a)
    out = np.concatenate(arrays, axis=axis).astype(_result_dtype(arrays), copy=False)
    bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
    return out, lambda g: tuple(np.split(g, bounds, axis=axis))


def stack(arrays: Sequence[np.ndarray], dim: Any = 0) -> Rule:
    """Join equal-shaped ``arrays`` along a new dimension ``dim``; the gradient is ``g`` unstacked."""
    _check_sequence("stack", arrays)
    axis = check_dim("stack", "dim", dim, arrays[0].ndim, new=True)
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise bad_value("stack", f"tensors[{i}]", f"of shape {arrays[0].shape} (the shape of tensors[0])", a)
    out = np.stack(arrays, axis=axis).astype(_result_dtype(arrays), copy=False)
    return out, lambda g: tuple(np.moveaxis(g, axis, 0))

