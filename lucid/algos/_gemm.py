"""Pieces shared by the GEMM-based algorithms (:mod:`direct`, :mod:`im2col`).

Both read the input through the same strided "tap view" (no copy), both cut
the ``N x L_out`` output positions into blocks the same way, and both reduce
each output with a dot product of length ``Cig*K``, so they share its error
bound.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._blas_threads import single_threaded
from ._parallel import num_threads, parallel_for, split
from .base import unit_roundoff
from .spec import ConvSpec

#: An output block ``(n0, n1, t0, t1)``: items ``n0:n1``, positions ``t0:t1``.
Block = tuple[int, int, int, int]
#: Work above this many bytes is cut into at least one block per pool thread,
#: so the pool, not OpenBLAS's threads, runs it in parallel (see run_in_slots).
SPLIT_BYTES = 1 << 20


#: OpenBLAS runs a GEMM with ``m*n*k`` at most this on the calling thread, larger ones on its own
#: threads (``SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD``, interface/gemm.c; docs/tuning.md:
#: winograd serial GEMMs).
BLAS_SERIAL_MNK = 65536 * 4


def blas_threaded_flops(flops: float, m: int, n: int, k: int, pooled: bool) -> float:
    """``flops`` if GEMMs of ``m x k`` by ``k x n`` run on OpenBLAS's own threads: outside the
    pool's single-threaded scope (``pooled`` False) and above :data:`BLAS_SERIAL_MNK`; else 0.
    Such GEMMs stall when other processes load the cores (docs/tuning.md: direct split)."""
    return float(flops) if not pooled and m * n * k > BLAS_SERIAL_MNK else 0.0


def tap_view(src: np.ndarray, stride: int, dilation: int, taps: int, positions: int) -> np.ndarray:
    """Strided view ``v[n, g, c, k, t] = src[n, g, c, t*stride + k*dilation]``.

    Parameters
    ----------
    src : ndarray, shape ``(n, groups, channels, length)``
        Padded input (or a window of it); any strides.
    stride, dilation : int
        Step between outputs and between taps, in samples.
    taps, positions : int
        ``K`` and ``L_out`` of the view; ``length`` must be at least
        ``stride*(positions-1) + dilation*(taps-1) + 1``.

    Returns
    -------
    ndarray, shape ``(n, groups, channels, taps, positions)``
        A read-only view (no copy, O(1)).  Copying it gives the im2col column
        matrix; slicing one tap gives the operand of direct's tap GEMM.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 1, 1, 8)
    >>> tap_view(x, stride=2, dilation=3, taps=2, positions=3)[0, 0, 0]
    array([[0., 2., 4.],
           [3., 5., 7.]])
    """
    needed = stride * (positions - 1) + dilation * (taps - 1) + 1
    if src.ndim != 4 or src.shape[3] < needed:
        raise ValueError(f"tap_view(): src must be 4-D with length >= {needed}, got shape {src.shape}")
    sn, sg, sc, sl = src.strides
    return as_strided(src, src.shape[:3] + (taps, positions), (sn, sg, sc, dilation * sl, stride * sl),
                      writeable=False)


def tap_ranges(spec: ConvSpec) -> list[tuple[int, int]]:
    """Per tap ``k``: the outputs ``[lo, hi)`` whose input ``t*s + k*d - left``
    lies inside ``x`` (outside it the padding contributes zeros, so the tap
    loop skips those products and needs no padded copy)."""
    left, s, d = spec.padding[0], spec.stride, spec.dilation
    return [(max(0, -(-(left - k * d) // s)), max(0, min(spec.l_out, (spec.length - 1 - k * d + left) // s + 1)))
            for k in range(spec.kernel_size)]


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, except that a reduction of length 1 (an
    outer product) is the broadcast ``a * b``: the same single products, but
    NumPy's matmul runs that case ~9x slower (docs/tuning.md: outer products)."""
    if a.shape[-1] == 1:
        return np.multiply(a, b, out=out)
    return np.matmul(a, b, out=out)


def even_block(total: int, most: int) -> int:
    """The smallest block size that needs no more blocks than ``most`` would.

    ``ceil(total / ceil(total / most))``: ``even_block(9, 4) == 3`` (three
    blocks of 3 rather than 4, 4, 1).  Returns 1 for an empty range.
    """
    if total < 1:
        return 1
    return -(-total // -(-total // max(1, most)))


def split_cap(total_bytes: int, most_bytes: int) -> int:
    """Bytes per block: at most ``most_bytes``, and at most a ``1/num_threads()`` share
    of ``total_bytes`` when that exceeds :data:`SPLIT_BYTES`."""
    return min(most_bytes, max(SPLIT_BYTES, -(-total_bytes // num_threads())))


def block_shape(n: int, l_out: int, columns: int, whole_items: bool) -> tuple[int, int]:
    """``(items, positions)`` of output blocks of about ``columns`` outputs each.

    Whole batch items when ``whole_items`` and at least two fit, else a run of
    at most ``columns`` positions of one item (cut evenly, see :func:`even_block`).
    """
    if whole_items and columns >= 2 * l_out:
        return even_block(n, columns // l_out), l_out
    return 1, even_block(l_out, columns)


def position_blocks(n: int, l_out: int, items: int, positions: int) -> list[Block]:
    """Blocks ``(n0, n1, t0, t1)`` covering the ``n x l_out`` outputs in row-major order.

    A block is ``items`` whole batch items (then ``positions`` should be
    ``l_out``) or a run of ``positions`` outputs of one item; the last block
    along each axis may be shorter.
    """
    return [(n0, min(n0 + items, n), t0, min(t0 + positions, l_out))
            for n0 in range(0, n, items) for t0 in range(0, l_out, positions)]


def run_in_slots(blocks: Sequence[tuple], slots: int, work: Callable[[int, tuple], None]) -> None:
    """Call ``work(slot, block)`` for every block, ``slots`` pool threads at a time.

    Each slot takes a contiguous share of ``blocks`` and may own buffers
    indexed by ``slot``.  With several slots the GEMMs inside run with
    single-threaded BLAS (see :mod:`lucid.algos._blas_threads`: the pool, not
    OpenBLAS, parallelises); with one slot everything runs on the caller and
    BLAS keeps its threads.
    """
    shares = split(len(blocks), slots)

    def body(lo: int, hi: int) -> None:
        for slot in range(lo, hi):
            first, last = shares[slot]
            for block in blocks[first:last]:
                work(slot, block)

    if len(shares) > 1:
        with single_threaded():
            parallel_for(len(shares), body)
    else:
        body(0, len(shares))


def dot_error_bound(spec: ConvSpec) -> float:
    """Normwise relative error bound of ``Cig*K``-long dot products in ``spec.dtype``.

    ``2 * u * sqrt(Cig*K)``: the probabilistic (square-root) growth model of
    recursive or blocked summation (Higham, *Accuracy and Stability*, 3.2, and
    Higham & Mary 2019); the worst case ``Cig*K*u`` is not seen in practice.
    Relative to the products' scale ``sqrt(sum of their squares)``, i.e. to
    ``||y||`` when the products do not cancel (under cancellation the plain
    relative error grows by that scale over ``||y||``, for any summation).
    """
    return 2.0 * unit_roundoff(spec) * float(np.sqrt(spec.cig * spec.kernel_size))
