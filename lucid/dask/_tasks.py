"""What one task of :func:`lucid.dask.conv1d` runs, in whatever process holds the blocks (no dask here).

A task gathers its padded input segment from block slices and padding
pieces, then convolves it with :func:`lucid.nn.functional.conv1d` at
``padding=0``: lucid's planner chooses and caches a plan per segment shape
in this process, as for any call.  A wisdom file named by the caller is
loaded once per process, before the first plan.
"""
from __future__ import annotations

import threading

import numpy as np

from ..algos.planner.wisdom import load_wisdom
from ..factories import from_numpy
from ..nn import functional as F

_wisdom_lock = threading.Lock()
_wisdom_loaded: set[str] = set()


def window(block: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``block[..., start:stop]`` (a view)."""
    return block[..., start:stop]


def zeros(n: int, channels: int, count: int, dtype: np.dtype) -> np.ndarray:
    """``count`` samples of zero padding for ``n`` signals of ``channels`` channels."""
    return np.zeros((n, channels, count), dtype)


def take(parts: list[np.ndarray], index: np.ndarray | None) -> np.ndarray:
    """The samples ``parts`` joined along the last axis, then ``index``-ed (``None``: as they are)."""
    joined = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
    return joined if index is None else joined[..., index]


def load_wisdom_once(path: str) -> None:
    """Load the wisdom file ``path`` into this process the first time it is named (thread-safe)."""
    with _wisdom_lock:
        if path in _wisdom_loaded:
            return
        _wisdom_loaded.add(path)
        load_wisdom(path)


def convolve(pieces: list[np.ndarray], weight: np.ndarray, bias: np.ndarray | None, stride: int, dilation: int,
             groups: int, algorithm: str | None, wisdom: str | None) -> np.ndarray:
    """``conv1d`` with ``padding=0`` of the segment ``pieces`` joined along the last axis."""
    if wisdom is not None:
        load_wisdom_once(wisdom)
    segment = take(pieces, None)
    y = F.conv1d(from_numpy(np.ascontiguousarray(segment)), from_numpy(weight),
                 None if bias is None else from_numpy(bias), stride, 0, dilation, groups, algorithm=algorithm)
    return y.data
