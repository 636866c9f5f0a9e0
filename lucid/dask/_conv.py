"""``lucid.dask.conv1d``: argument checks and the task graph (one task per output chunk)."""
from __future__ import annotations

import math
import os
from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .._errors import bad_type, bad_value, check_choice, check_path
from ..algos.planner import config
from ..factories import from_numpy
from ..nn import functional as F
from ..nn.conv import PADDING_MODES
from ..tensor import Tensor
from . import _tasks
from ._segments import Geometry, Take, block_slices, output_bounds, pieces

WHERE = "lucid.dask.conv1d"


def _operand(argument: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """A weight or bias (NumPy array or lucid Tensor of real numbers) as an array of ``dtype``."""
    data = value.data if isinstance(value, Tensor) else value
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "fiu":
        raise bad_type(WHERE, argument, "a NumPy array or lucid.Tensor of real numbers", value)
    return np.ascontiguousarray(data, dtype=dtype)


def _check_x(x: Any) -> da.Array:
    if not isinstance(x, da.Array):
        raise bad_type(WHERE, "x", "a dask.array.Array of shape (N, C_in, L)", x)
    if x.ndim != 3:
        raise bad_value(WHERE, "x", "a 3-D dask array (N, C_in, L)", x)
    if x.dtype not in (np.float32, np.float64):
        raise bad_type(WHERE, "x", "a float32 or float64 dask array", x)
    if any(math.isnan(c) for c in x.chunks[0] + x.chunks[2]):
        raise bad_value(WHERE, "x", "a dask array of known chunk sizes (call x.compute_chunk_sizes())", x)
    return x if len(x.chunks[1]) == 1 else x.rechunk({1: -1})


def _check_edges(geometry: Geometry) -> None:
    """The limits of :func:`lucid.nn.functional.pad` on the padding of a non-zeros ``padding_mode``."""
    limit = {"reflect": geometry.length - 1, "circular": geometry.length}.get(geometry.mode)
    if limit is not None and max(geometry.left, geometry.right) > limit:
        raise bad_value(WHERE, "padding", f"at most {limit} on each side for padding_mode={geometry.mode!r} and "
                        f"a signal of length {geometry.length}", (geometry.left, geometry.right))


def conv1d(x: da.Array, weight: Any, bias: Any = None, stride: int = 1, padding: int | str = 0, dilation: int = 1,
           groups: int = 1, padding_mode: str = "zeros", algorithm: str | None = None, *,
           wisdom: str | os.PathLike | None = None) -> da.Array:
    """1-D convolution of a chunked Dask array, lazily: :class:`lucid.nn.Conv1d` on each chunk and its halo.

    The result equals ``lucid.nn.Conv1d`` (with these settings and weights) on
    the whole ``x``: ``y[n, o, t] = b[o] + sum_{c, k} x_pad[n, g*C_in/groups + c,
    t*stride + k*dilation] * w[o, c, k]``, where ``x_pad`` is ``x`` padded
    with zeros or, for another ``padding_mode``, as :func:`lucid.nn.functional.pad`
    pads it.

    Parameters
    ----------
    x : dask.array.Array, shape (N, C_in, L), float32 or float64
        Chunked along N and L in any way (chunks shorter than the halo
        included); the channels are rechunked into one chunk if they are not.
    weight : numpy.ndarray or lucid.Tensor, shape (C_out, C_in // groups, K)
        Cast to ``x.dtype``, as is ``bias``.
    bias : numpy.ndarray or lucid.Tensor of shape (C_out,), optional
    stride, dilation, groups, padding :
        As for :func:`lucid.nn.functional.conv1d` (``padding`` an int, a 1-tuple,
        ``'same'`` or ``'valid'``).
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
        As for :class:`lucid.nn.Conv1d`; ``'reflect'`` pads at most ``L - 1``
        and ``'circular'`` at most ``L`` on each side.
    algorithm : str, optional
        Force an algorithm of :mod:`lucid.algos` in every task.
    wisdom : str or os.PathLike, optional (keyword only)
        A file of :func:`lucid.algos.save_wisdom` that each process running
        tasks loads once, before its first plan (``$LUCID_WISDOM``, when set in
        the workers' environment, is loaded by the planner itself).

    Returns
    -------
    dask.array.Array, shape (N, C_out, L_out), ``x.dtype``
        Chunked as ``x`` along N; along L one output chunk per input chunk,
        holding the outputs ``t`` with ``t*stride`` in that chunk (with
        ``padding='same'`` the output is chunked exactly as ``x``).

    Notes
    -----
    Each task reads its input chunk plus halos of ``dilation*(K-1)`` samples
    in all (gathered from as many neighbour chunks as needed, and from the far
    end of the signal for ``'reflect'`` / ``'circular'`` padding at the edges),
    so peak memory is a few chunks per worker thread; nothing is computed until
    the result is.  Each process plans once per segment shape (at most a few
    per chunking: the regular chunks, the first and the last) and caches the
    plan.  Cost: the chosen algorithm's on every segment, plus one copy of each
    chunk and its halo.  Invalid arguments raise TypeError / ValueError naming
    them, before any graph is built.

    Examples
    --------
    >>> import dask.array as da, numpy as np, lucid.dask
    >>> x = da.ones((1, 1, 10), chunks=(1, 1, 4))
    >>> lucid.dask.conv1d(x, np.ones((1, 1, 3)), padding=1).compute()[0, 0]
    array([2., 3., 3., 3., 3., 3., 3., 3., 3., 2.])
    """
    x = _check_x(x)
    w = _operand("weight", weight, x.dtype)
    b = None if bias is None else _operand("bias", bias, x.dtype)
    check_choice(WHERE, "padding_mode", padding_mode, PADDING_MODES)
    algorithm = None if algorithm is None else config.resolve("algorithm", algorithm)
    wisdom = None if wisdom is None else check_path(WHERE, "wisdom", wisdom)
    stand_in = from_numpy(np.broadcast_to(np.zeros((), x.dtype), x.shape))     # shape and dtype only, no memory
    spec = F.conv_spec(stand_in, from_numpy(w), None if b is None else from_numpy(b), stride, padding, dilation,
                       groups)
    left, right = spec.padding
    geometry = Geometry(spec.length, left, right, spec.stride, spec.span, padding_mode)
    _check_edges(geometry)
    return _graph(x, w, b, geometry, spec.dilation, spec.groups, algorithm, wisdom)


def _graph(x: da.Array, w: np.ndarray, b: np.ndarray | None, geometry: Geometry, dilation: int, groups: int,
           algorithm: str | None, wisdom: str | None) -> da.Array:
    """The lazy result: a weight key, a bias key and one convolve task per (batch chunk, output chunk)."""
    token = tokenize(x.name, w, b, geometry, dilation, groups, algorithm, wisdom)
    name, weight_key, bias_key = f"lucid-conv1d-{token}", f"lucid-conv1d-weight-{token}", f"lucid-conv1d-bias-{token}"
    graph: dict[Any, Any] = {weight_key: w}
    if b is not None:
        graph[bias_key] = b
    offsets = np.concatenate([[0], np.cumsum(x.chunks[2])])
    bounds = output_bounds(geometry, x.chunks[2])
    channels = x.shape[1]
    reads = [pieces(geometry, *geometry.reads(start, stop)) for start, stop in zip(bounds[:-1], bounds[1:])]
    for i, n in enumerate(x.chunks[0]):
        for j, needed in enumerate(reads):
            segment: list[tuple] = []
            for piece in needed:
                if isinstance(piece, Take):
                    parts = [(_tasks.window, (x.name, i, 0, block), lo, hi)
                             for block, lo, hi in block_slices(offsets, piece.lo, piece.hi)]
                    segment.append((_tasks.take, parts, piece.index))
                else:
                    segment.append((_tasks.zeros, n, channels, piece.count, x.dtype))
            graph[(name, i, 0, j)] = (_tasks.convolve, segment, weight_key, None if b is None else bias_key,
                                      geometry.stride, dilation, groups, algorithm, wisdom)
    layers = HighLevelGraph.from_collections(name, graph, dependencies=[x])  # type: ignore[list-item]
    out_chunks = (x.chunks[0], (w.shape[0],), tuple(np.diff(bounds).tolist()))
    return da.Array(layers, name, out_chunks, dtype=x.dtype)
