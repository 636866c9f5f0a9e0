"""Shape rules: reshape, indexing, transpose, permute, flatten, (un)squeeze, cat and stack.

Views cost ``O(1)`` forward; every gradient is the inverse rearrangement of
``g`` (``O(n)``).  A basic index (ints, slices, ``...``, ``None``) selects
each element at most once, so its gradient is a :class:`~lucid.ops.Scatter`
that the engine writes into the operand's gradient buffer; only an advanced
index, which may repeat positions, scatters with ``np.add.at``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .._errors import bad_type, bad_value, check_int
from . import Rule, Scatter
from .dims import check_dim, check_dims


def reshape(x: np.ndarray, shape: tuple[int, ...]) -> Rule:
    """``x`` with the same elements in ``shape`` (one ``-1`` is inferred)."""
    try:
        data = x.reshape(shape)
    except (ValueError, TypeError):
        raise bad_value("reshape", "shape", f"a shape with {x.size} elements", shape) from None
    return data, lambda g, needs: (g.reshape(x.shape),)


def _basic(key: Any) -> bool:
    """Whether ``key`` is a basic index (ints, slices, ``...``, ``None``): no position twice."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)) and not isinstance(k, bool)
               for k in parts)


def index(x: np.ndarray, key: Any) -> Rule:
    """``x[key]`` (NumPy indexing).

    The gradient puts ``g`` back at every selected position: a :class:`Scatter`
    for a basic index (a view forward, an assignment backward), ``np.add.at``
    into zeros for an advanced one (repeated positions accumulate).
    """
    shape, dtype = x.shape, x.dtype
    if _basic(key):
        return x[key], lambda g, needs: (Scatter(key, g),)

    def backward(g, needs):
        grad = np.zeros(shape, dtype)
        np.add.at(grad, key, g)
        return (grad,)
    return x[key], backward


def split_sizes(where: str, x: np.ndarray, split_size_or_sections: Any, dim: Any) -> tuple[int, list[int]]:
    """``(axis, sizes)`` for ``split``: pieces of one size (the last may be smaller) or the listed sizes."""
    axis = check_dim(where, "dim", dim, x.ndim)
    if x.ndim == 0:
        raise bad_value(where, "input", "a tensor with at least one dimension", x)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [check_int(where, "split_size_or_sections", k, 0) for k in split_size_or_sections]
        if sum(sizes) != n:
            raise bad_value(where, "split_size_or_sections", f"sizes summing to the size {n} of dim {axis}",
                            tuple(split_size_or_sections))
        return axis, sizes
    size = check_int(where, "split_size_or_sections", split_size_or_sections, 1)
    return axis, [size] * (n // size) + ([n % size] if n % size or n == 0 else [])


def chunk_sizes(x: np.ndarray, chunks: Any, dim: Any) -> tuple[int, list[int]]:
    """``(axis, sizes)`` for ``chunk``: pieces of ``ceil(n / chunks)`` elements, as PyTorch."""
    chunks = check_int("chunk", "chunks", chunks, 1)
    axis = check_dim("chunk", "dim", dim, x.ndim)
    if x.ndim == 0:
        raise bad_value("chunk", "input", "a tensor with at least one dimension", x)
    n = x.shape[axis]
    return split_sizes("chunk", x, max(-(-n // chunks), 1), axis)


def split(x: np.ndarray, sizes: Sequence[int], axis: int) -> list[Rule]:
    """``x`` cut along ``axis`` into consecutive pieces of ``sizes``, each a view with a
    :class:`Scatter` gradient (so the pieces' gradients land in one buffer, no zeros per piece)."""
    starts = np.cumsum([0, *sizes[:-1]])
    lead = (slice(None),) * axis
    return [index(x, lead + (slice(int(a), int(a) + int(n)),)) for a, n in zip(starts, sizes)]


def transpose(x: np.ndarray, dim0: Any, dim1: Any) -> Rule:
    """``x`` with dimensions ``dim0`` and ``dim1`` swapped (a view)."""
    a, b = check_dim("transpose", "dim0", dim0, x.ndim), check_dim("transpose", "dim1", dim1, x.ndim)
    if x.ndim == 0:
        return x, lambda g, needs: (g,)
    return np.swapaxes(x, a, b), lambda g, needs: (np.swapaxes(g, a, b),)


def permute(x: np.ndarray, dims: Sequence[Any]) -> Rule:
    """``x`` with its dimensions reordered: result dim ``i`` is input dim ``dims[i]`` (a view)."""
    if not isinstance(dims, (tuple, list)):
        raise bad_type("permute", "dims", "a sequence of ints", dims)
    axes = [check_dim("permute", "dims", d, x.ndim) for d in dims]
    if len(axes) != x.ndim or sorted(axes) != list(range(x.ndim)):
        raise bad_value("permute", "dims", f"a permutation of the {x.ndim} dimensions", tuple(dims))
    if x.ndim == 0:
        return x, lambda g, needs: (g,)
    inverse = tuple(int(i) for i in np.argsort(axes))
    return np.transpose(x, axes), lambda g, needs: (np.transpose(g, inverse),)


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
    return np.expand_dims(x, axis), lambda g, needs: (np.squeeze(g, axis),)


def squeeze(x: np.ndarray, dim: Any = None) -> Rule:
    """``x`` without its size-1 dimensions (all, or those among ``dim``; others in ``dim`` are kept,
    as in PyTorch)."""
    axes = check_dims("squeeze", "dim", dim, x.ndim)
    axes = tuple(a for a in axes if x.shape[a] == 1)
    return np.squeeze(x, axes), lambda g, needs: (g.reshape(x.shape),)


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
    return out, lambda g, needs: tuple(part if need else None for part, need in zip(np.split(g, bounds, axis=axis),
                                                                                   needs))


def stack(arrays: Sequence[np.ndarray], dim: Any = 0) -> Rule:
    """Join equal-shaped ``arrays`` along a new dimension ``dim``; the gradient is ``g`` unstacked."""
    _check_sequence("stack", arrays)
    axis = check_dim("stack", "dim", dim, arrays[0].ndim, new=True)
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise bad_value("stack", f"tensors[{i}]", f"of shape {arrays[0].shape} (the shape of tensors[0])", a)
    out = np.stack(arrays, axis=axis).astype(_result_dtype(arrays), copy=False)
    return out, lambda g, needs: tuple(np.moveaxis(g, axis, 0))



_NUMPY_PAD: dict[str, Literal["reflect", "edge", "wrap"]] = {"reflect": "reflect", "replicate": "edge",
                                                             "circular": "wrap"}


def pad_axis(x: np.ndarray, axis: int, left: int, right: int, mode: str, value: float) -> Rule:
    """``x`` padded by ``left``/``right`` samples along ``axis`` (checked amounts), as ``F.pad`` does per dim.

    ``'constant'`` fills ``value`` (one allocation, the copy written once, not
    ``np.pad``'s general path); its gradient is a view of ``g``.  ``'reflect'``,
    ``'replicate'`` and ``'circular'`` gather source positions; their gradient
    adds the border copies back onto the samples they came from.
    """
    size = x.shape[axis]
    lead = (slice(None),) * axis
    inner = lead + (slice(left, left + size),)
    if mode == "constant":
        shape = x.shape[:axis] + (size + left + right,) + x.shape[axis + 1:]
        out = np.empty(shape, x.dtype)
        out[lead + (slice(0, left),)] = value
        out[lead + (slice(left + size, None),)] = value
        out[inner] = x
        return out, lambda g, needs: (g[inner],)
    source = np.pad(np.arange(size), (left, right), mode=_NUMPY_PAD[mode])
    border = np.r_[0:left, left + size:left + size + right]

    def backward(g, needs):
        moved = np.moveaxis(g, axis, 0)
        grad = moved[left:left + size].copy()
        np.add.at(grad, source[border], moved[border])
        return (np.moveaxis(grad, 0, axis),)
    return np.take(x, source, axis=axis), backward
