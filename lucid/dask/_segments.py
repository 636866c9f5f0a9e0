"""Which input samples each output chunk of a chunked convolution reads (pure index arithmetic, no dask).

The convolution of a signal of length ``L`` padded by ``(left, right)`` is
``y[t] = sum_k w[k] x_pad[t*s + k*d]``, ``0 <= t < L_out``: output ``t`` reads
the padded window ``[t*s, t*s + span)``, ``span = d*(K-1) + 1``.

Output chunks follow the input chunks: the output chunk of input chunk ``j``
holds the ``t`` with ``b_j <= t*s < b_{j+1}`` (``b_j`` the chunk edges; stride
alignment: the first such ``t`` is ``ceil(b_j / s)``), so with ``'same'``
padding the output is chunked exactly as the input.  An output chunk reads one
contiguous range of the signal, ``[t0*s - left, (t1-1)*s + span - left)``:
its chunk, a left halo of ``left`` samples and a right halo of
``span - 1 - left``, gathered from as many neighbour chunks as the halos
cover.  Input chunks that hold no ``t*s`` (shorter than the stride) add no
output chunk; the last output chunk holds every ``t`` from its first to
``L_out - 1``.

Positions outside ``[0, L)`` are the padding.  ``'zeros'`` reads zeros;
``'reflect'``, ``'replicate'`` and ``'circular'`` read the sample
:func:`lucid.nn.functional.pad` puts there, which for ``'reflect'`` and
``'circular'`` may lie at the far end of the signal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Geometry:
    """The signal length, its padding and the receptive field of one output sample."""

    length: int
    left: int
    right: int
    stride: int
    span: int
    mode: str

    @property
    def out_length(self) -> int:
        """``L_out = (L + left + right - span) // stride + 1``."""
        return (self.length + self.left + self.right - self.span) // self.stride + 1

    def reads(self, start: int, stop: int) -> tuple[int, int]:
        """The signal range ``[a, b)`` (may reach into the padding) that outputs ``[start, stop)`` read."""
        return start * self.stride - self.left, (stop - 1) * self.stride + self.span - self.left

    def source(self, positions: np.ndarray) -> np.ndarray:
        """The signal index each padding position (outside ``[0, L)``) copies, as ``F.pad`` does."""
        last = self.length - 1
        if self.mode == "reflect":
            return np.where(positions < 0, -positions, 2 * last - positions)
        if self.mode == "replicate":
            return np.clip(positions, 0, last)
        return positions % self.length                    # circular


def output_bounds(geometry: Geometry, chunks: tuple[int, ...]) -> list[int]:
    """Edges ``[0, ..., L_out]`` of the output chunks of input chunks ``chunks``; no empty chunk."""
    edges = np.cumsum(chunks)[:-1]
    firsts = -(-edges // geometry.stride)                  # ceil: the first t with t*s in each chunk
    inner = {int(t) for t in firsts if 0 < t < geometry.out_length}
    return [0, *sorted(inner), geometry.out_length]


@dataclass(frozen=True)
class Zeros:
    """``count`` zero samples (``'zeros'`` padding)."""

    count: int


@dataclass(frozen=True)
class Take:
    """Signal samples ``[lo, hi)``, then ``index`` into them (``None``: all, in order)."""

    lo: int
    hi: int
    index: np.ndarray | None = None


def pieces(geometry: Geometry, a: int, b: int) -> list[Zeros | Take]:
    """The samples at positions ``[a, b)`` of the padded signal, left to right, as pieces to gather."""
    out: list[Zeros | Take] = []
    n = geometry.length
    for lo, hi in ((a, min(b, 0)), (max(a, 0), min(b, n)), (max(a, n), b)):
        if lo >= hi:
            continue
        if 0 <= lo and hi <= n:
            out.append(Take(lo, hi))
        elif geometry.mode == "zeros":
            out.append(Zeros(hi - lo))
        else:
            index = geometry.source(np.arange(lo, hi))
            first = int(index.min())
            out.append(Take(first, int(index.max()) + 1, index - first))
    return out


def block_slices(offsets: np.ndarray, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """``(block, start, stop)`` local slices covering signal ``[lo, hi)``; ``offsets`` are the chunk edges."""
    first = int(np.searchsorted(offsets, lo, side="right")) - 1
    out = []
    for block in range(first, len(offsets) - 1):
        start, stop = int(offsets[block]), int(offsets[block + 1])
        if start >= hi:
            break
        if stop > lo:
            out.append((block, max(lo, start) - start, min(hi, stop) - start))
    return out
