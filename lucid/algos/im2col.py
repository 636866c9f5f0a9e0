"""im2col: copy the strided windows into a column matrix, then one GEMM per group.

For group ``g`` the column matrix holds one column per output ``(n, t)`` and one
row per reduction index ``(c, k)``::

    cols[g][(c, k), (n, t)] = x_pad[n, g*Cig + c, t*s + k*d]
    y[n, g*Cog + o, t]      = (W[g] @ cols[g])[o, (n, t)],   W[g] = w[g*Cog:(g+1)*Cog].reshape(Cog, Cig*K)

The copy reads a strided view (:func:`~lucid.algos._gemm.tap_view`, no index
arrays) into a per-thread column buffer that every plan reuses
(:func:`~lucid.algos.base.thread_scratch`), so a new shape's first call
touches no fresh page unless it needs a larger buffer than any before it.
The matrix, ``Cig*K`` times bigger than the output positions it covers, is
processed in chunks (:class:`Chunking`) so the plan's workspace never exceeds
``workspace_limit``:

- columns are cut along ``N*L_out``: a run of positions of one batch item, or,
  when ``L_out < FOLD_BELOW``, several whole items folded into one wider GEMM
  (then the result goes through an accumulator and is scattered into ``y``);
- when even ``MIN_COLUMNS`` columns of full height do not fit (the
  backward-filter problem, whose "kernel" is ``L_out`` of the forward, under a
  small limit) the reduction axis is cut too, into blocks of channels (all taps)
  or of taps (one channel), and the partial products are accumulated.

A pointwise layer (``K = 1``, unit stride, no padding) needs no copy: its
column matrix is the input itself.

Cost: ``2*N*C_out*L_out*Cig*K`` FLOPs in BLAS, plus one copy of ``Cig*K``
values per output position (memory-bound, split over the thread pool) and, when
padded, one copy of the input windows.  Threads: with several column chunks
each pool thread runs a contiguous share of them (own buffers, so the
workspace is ``slots`` buffer sets) with single-threaded BLAS; a lone chunk
splits its copies over the pool and leaves the GEMM to BLAS's threads
(docs/tuning.md: BLAS threads).  Deterministic: the
chunking is fixed per shape.  Error: that of ``Cig*K``-long dot products.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._gemm import (
    blas_threaded_flops,
    block_shape,
    dot_error_bound,
    even_block,
    matmul,
    position_blocks,
    run_in_slots,
    split_cap,
    tap_view,
)
from ._parallel import num_threads, parallel_for
from .base import DEFAULT_WORKSPACE_LIMIT, Algorithm, Layout, Plan, cost_features, thread_scratch
from .registry import register
from .spec import ConvSpec

#: Column-buffer bytes aimed at per chunk (capped by the workspace limit); the GEMM
#: dominates, not the copy, and 16 MiB keeps backward-filter matrices (rows
#: ``N*L_out``) uncut along the reduction (docs/tuning.md: im2col chunk).
CHUNK_BYTES = 16 << 20
#: Outputs shorter than this fold several batch items into one GEMM.
FOLD_BELOW = 256
#: Fewest columns worth one GEMM; below it the reduction axis is cut instead.
MIN_COLUMNS = 64
#: Copies smaller than this per thread run inline (pool hand-off costs ~30 µs).
_PARALLEL_BYTES = 1 << 17


@dataclass(frozen=True)
class Chunking:
    """How one plan cuts the column matrix: ``items x positions`` columns by
    ``channels x taps`` rows (per group) at a time.

    ``items > 1`` only when whole items are folded (``positions == L_out``).
    """

    spec: ConvSpec
    items: int
    positions: int
    channels: int
    taps: int

    @property
    def folded(self) -> bool:
        """Several batch items share one GEMM (results go through ``acc``)."""
        return self.items > 1

    @property
    def in_place(self) -> bool:
        """The columns are the input itself (``K = 1``, unit stride, unpadded, unfolded)."""
        sp = self.spec
        return sp.kernel_size == 1 and sp.stride == 1 and not any(sp.padding) and not self.folded

    @property
    def row_blocks(self) -> int:
        """Number of reduction blocks (1 unless the reduction axis is cut)."""
        sp = self.spec
        return -(-sp.cig // self.channels) * -(-sp.kernel_size // self.taps)

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every buffer of one slot, by name."""
        sp = self.spec
        shapes: dict[str, tuple[int, ...]] = {} if self.in_place else {
            "cols": (sp.groups, self.channels, self.taps, self.items, self.positions)}
        if any(sp.padding):
            span = sp.stride * (self.positions - 1) + sp.dilation * (self.taps - 1) + 1
            shapes["window"] = (self.items, sp.groups, self.channels, span)
        if self.folded:
            shapes["acc"] = (sp.groups, sp.cog, self.items * self.positions)
        if self.row_blocks > 1:
            shapes["part"] = (sp.groups, sp.cog, self.items * self.positions)
        return shapes

    @property
    def slots(self) -> int:
        """Buffer sets: one per pool thread that runs chunks (1 when there is one chunk)."""
        sp = self.spec
        return max(1, min(num_threads(), -(-sp.n // self.items) * -(-sp.l_out // self.positions)))

    @property
    def workspace_bytes(self) -> int:
        """Bytes of all buffers of all slots together."""
        return self.slots * sum(math.prod(s) for s in self.buffer_shapes().values()) * self.spec.itemsize


def _fit(spec: ConvSpec, target: int) -> Chunking:
    """The chunking whose column buffer is about ``target`` bytes (at least one column)."""
    per_row = spec.groups * spec.itemsize
    rows = max(1, target // (per_row * max(1, min(spec.n * spec.l_out, MIN_COLUMNS))))
    if rows >= spec.cig * spec.kernel_size:
        channels, taps = spec.cig, spec.kernel_size
    elif rows >= spec.kernel_size:
        channels, taps = even_block(spec.cig, rows // spec.kernel_size), spec.kernel_size
    else:
        channels, taps = 1, even_block(spec.kernel_size, rows)
    columns = max(1, target // (per_row * channels * taps))
    items, positions = block_shape(spec.n, spec.l_out, columns, spec.l_out < FOLD_BELOW)
    return Chunking(spec, items, positions, channels, taps)


def chunking(spec: ConvSpec, workspace_limit: int) -> Chunking | None:
    """The largest chunking up to :data:`CHUNK_BYTES` whose workspace fits the limit;
    None when even one column of one reduction block does not fit.

    Matrices over ``SPLIT_BYTES`` get at least one chunk per pool thread, so
    the pool, not OpenBLAS's threads, parallelises their GEMMs.
    """
    whole = spec.groups * spec.cig * spec.kernel_size * spec.n * spec.l_out * spec.itemsize
    target = split_cap(whole, min(workspace_limit, CHUNK_BYTES))
    while True:
        chunks = _fit(spec, target)
        if chunks.workspace_bytes <= workspace_limit:
            return chunks
        if target == 0:
            return None
        target //= 2


def _copy(dst: np.ndarray, src: np.ndarray, pooled: bool) -> None:
    """``dst[...] = src``; when ``pooled``, split over the pool along the first
    axis that has work for every thread."""
    if not pooled:
        np.copyto(dst, src)
        return
    axis = next((i for i, e in enumerate(dst.shape) if e >= num_threads()), 0)
    lead = (slice(None),) * axis
    block = max(1, _PARALLEL_BYTES * dst.shape[axis] // max(1, dst.nbytes))

    def body(lo: int, hi: int) -> None:
        np.copyto(dst[lead + (slice(lo, hi),)], src[lead + (slice(lo, hi),)])

    parallel_for(dst.shape[axis], body, min_block=block)


class Im2colPlan(Plan):
    """Per-shape state of :class:`Im2col`: the chunking and chunk lists (buffers are per thread).

    With several column chunks, each pool thread (slot) runs its run of chunks
    with single-threaded BLAS; a lone chunk uses the pool for its copies and
    BLAS threads for its GEMM.  Every buffer is per-thread scratch, so
    threads share the plan and run it concurrently.
    """

    def __init__(self, algorithm: Im2col, spec: ConvSpec, chunks: Chunking) -> None:
        super().__init__(algorithm, spec)
        self.chunks = chunks
        sp, ch = spec, chunks
        self._columns = position_blocks(sp.n, sp.l_out, ch.items, ch.positions)
        self._rows = [(c0, min(c0 + ch.channels, sp.cig), k0, min(k0 + ch.taps, sp.kernel_size))
                      for c0 in range(0, sp.cig, ch.channels) for k0 in range(0, sp.kernel_size, ch.taps)]

    def _buffer(self, name: str, *shape: int) -> np.ndarray:
        """This thread's ``name`` buffer (:func:`~lucid.algos.base.thread_scratch`) as ``shape``."""
        return thread_scratch(f"im2col.{name}", math.prod(shape), self.spec.np_dtype).reshape(shape)

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        sp = self.spec
        y = np.empty(sp.output_shape, sp.np_dtype)
        operands = (x.reshape(sp.n, sp.groups, sp.cig, sp.length),
                    np.ascontiguousarray(w).reshape(sp.groups, sp.cog, sp.cig, sp.kernel_size),
                    y.reshape(sp.n, sp.groups, sp.cog, sp.l_out))
        run_in_slots(self._columns, self.chunks.slots, lambda slot, block: self._chunk(*operands, *block))
        return y

    def _chunk(self, x4, w4, y4, n0: int, n1: int, l0: int, l1: int) -> None:
        """Columns ``(n0:n1, l0:l1)``: gather and multiply every reduction block."""
        sp = self.spec
        m = (n1 - n0) * (l1 - l0)
        out = self._buffer("acc", sp.groups, sp.cog, m) if self.chunks.folded else y4[n0, :, :, l0:l1]
        for i, (c0, c1, k0, k1) in enumerate(self._rows):
            cols = self._gather(x4[n0:n1, :, c0:c1], l0, l1, k0, k1)
            wg = w4[:, :, c0:c1, k0:k1].reshape(sp.groups, sp.cog, -1)
            if i == 0:
                matmul(wg, cols, out=out)
            else:
                part = self._buffer("part", sp.groups, sp.cog, m)
                matmul(wg, cols, out=part)
                out += part
        if self.chunks.folded:
            y4[n0:n1] = out.reshape(sp.groups, sp.cog, n1 - n0, sp.l_out).transpose(2, 0, 1, 3)

    def _gather(self, xs: np.ndarray, l0: int, l1: int, k0: int, k1: int) -> np.ndarray:
        """The column block of input rows ``xs`` (items, groups, channels, L), as ``(G, rows, cols)``."""
        sp = self.spec
        if self.chunks.in_place:
            return xs[0, :, :, l0:l1]
        s, d = sp.stride, sp.dilation
        start = l0 * s + k0 * d
        span = s * (l1 - l0 - 1) + d * (k1 - k0 - 1) + 1
        src = self._window(xs, start, span) if any(sp.padding) else xs[..., start:start + span]
        view = tap_view(src, s, d, k1 - k0, l1 - l0).transpose(1, 2, 3, 0, 4)
        cols = self._buffer("cols", *view.shape)
        _copy(cols, view, pooled=self.chunks.slots == 1)
        return cols.reshape(sp.groups, -1, view.shape[3] * view.shape[4])

    def _window(self, xs: np.ndarray, start: int, span: int) -> np.ndarray:
        """Padded samples ``start:start+span`` of ``xs``, zeros outside the input."""
        a = start - self.spec.padding[0]
        lo = min(max(a, 0), a + span)
        hi = max(min(a + span, self.spec.length), lo)
        win = self._buffer("window", *xs.shape[:3], span)
        win[..., :lo - a] = 0
        win[..., hi - a:] = 0
        _copy(win[..., lo - a:hi - a], xs[..., lo:hi], pooled=self.chunks.slots == 1)
        return win


class Im2col(Algorithm):
    """Column matrix plus one GEMM per group, chunked to a workspace limit.  Serves every spec."""

    name = "im2col"

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout:
        """The largest :func:`chunking` within ``workspace_limit`` (when even the
        smallest exceeds it, that floor).  FLOPs: the GEMMs plus one add per
        output for every extra reduction block; ``python_steps`` counts one
        gather and GEMM per column chunk and reduction block, ``gemm_calls``
        one BLAS call per group of each step, ``blas_threaded_flops`` all
        FLOPs when a lone chunk's GEMMs run on OpenBLAS's own threads
        (:func:`~lucid.algos._gemm.blas_threaded_flops`)."""
        chunks = chunking(spec, workspace_limit) or _fit(spec, 0)
        flops = spec.direct_flops + (chunks.row_blocks - 1) * spec.n * spec.c_out * spec.l_out
        steps = -(-spec.n // chunks.items) * -(-spec.l_out // chunks.positions) * chunks.row_blocks
        features = cost_features(spec, flops, chunks.workspace_bytes, python_steps=steps,
                                 gemm_calls=steps * spec.groups)
        columns, rows = chunks.items * chunks.positions, chunks.channels * chunks.taps
        features["blas_threaded_flops"] = blas_threaded_flops(features["float32_flops"], spec.cog, columns, rows,
                                                              pooled=chunks.slots > 1)
        return Layout(spec, workspace_limit, chunks.workspace_bytes, flops, dot_error_bound(spec), features,
                      detail=chunks)

    def build(self, layout: Layout) -> Im2colPlan:
        return Im2colPlan(self, layout.spec, layout.detail)


register(Im2col())
