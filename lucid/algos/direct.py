"""direct: the definition, as a sum of GEMMs over kernel taps on strided views.

For each tap ``k`` the strided view ``x_pad[..., k*d : k*d + s*(Lout-1) + 1 : s]``
is multiplied by the weight slice ``w[..., k]`` and accumulated::

    y[n, g, :, :] += w[g, :, :, k] @ x_pad[n, g, :, k*d :: s][..., :Lout]

(one batched matmul per tap over batch and groups; no column buffer).  The
tap loop reads the unpadded ``x``: each tap is restricted to the outputs
whose input lies inside ``x`` (padding zeros contribute nothing), so it needs
no padded copy.  The output is cut into blocks of about
``_TAP_BLOCK_BYTES`` (whole items or runs of positions): tap 0 is written
straight into the block of a fresh ``np.empty`` output and every further tap
goes through a block-sized per-thread buffer (shared by every plan, see
``base.thread_scratch``) and is added while both are still in cache, so the
output is written once from memory's point of view (no zero fill, no
full-size temporaries).  With ``K = 1`` (pointwise) each thread's half of the
layer is one batched GEMM into the output.  The blocks are shared out over the pool threads (one tap
buffer each) with single-threaded BLAS (see ``_gemm.run_in_slots``).  When
the kernel is longer than the output (``K > Lout``, as in the backward-filter
problem whose "kernel" is ``dy``) it loops over output positions instead, each
one GEMM per group over ``Cig*K`` with the batch as its columns (so the
weight is read once per position, not once per batch item).  Depthwise layers (``Cig = Cog = 1``) use
shift-and-accumulate over row blocks on the thread pool.

Cost: ``2*N*C_out*Lout*Cig*K`` FLOPs and ``min(K, Lout)`` Python iterations
per block.  Workspace: the tap buffers when ``K > 1``; the padded input copy
(when padding is non-zero) and the window of the position loop; the padded
copy for depthwise layers, all borrowed per thread, so runs of one plan may
overlap.  Exact summation order per output is fixed, so results are
deterministic; error grows like ``Cig*K*u`` in the worst case (much less in
practice).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._gemm import (
    Block,
    blas_threaded_flops,
    block_shape,
    dot_error_bound,
    matmul,
    position_blocks,
    run_in_slots,
    split_cap,
    tap_ranges,
)
from ._parallel import num_threads
from .base import (
    DEFAULT_WORKSPACE_LIMIT,
    Algorithm,
    Layout,
    Plan,
    cost_features,
    padded_input,
    thread_scratch,
    ufunc_buffer_bytes,
)
from .registry import register
from .spec import ConvSpec

#: Rows of a depthwise block: ~64 KiB of float32 per tap slice keeps it in L2.
_DEPTHWISE_BLOCK_BYTES = 1 << 16
#: Output block of the tap loop (and tap buffer, per thread); docs/tuning.md: direct tap block.
_TAP_BLOCK_BYTES = 1 << 21
#: FLOPs from which the tap loop is cut into at least one block per pool thread
#: even when its output is small: a single block runs on the caller with
#: OpenBLAS's own threads, which stall under load (docs/tuning.md: direct split).
_SPLIT_FLOPS = 1 << 24


def strategy(spec: ConvSpec) -> str:
    """Direct's layout of ``spec``: ``"depthwise"`` (``Cig = Cog = 1``: shift and
    accumulate), ``"positions"`` (``K > L_out``: one GEMM per output position)
    or ``"taps"`` (the tap loop)."""
    if spec.cig == spec.cog == 1:
        return "depthwise"
    return "positions" if spec.kernel_size > spec.l_out else "taps"


def _tap_blocks(spec: ConvSpec) -> tuple[Block, ...]:
    """Output blocks of the tap loop: about ``_TAP_BLOCK_BYTES`` (no limit when
    ``K = 1``: nothing to accumulate), and at least one per thread when the
    output or the work (``_SPLIT_FLOPS``) is large."""
    column = spec.c_out * spec.itemsize
    total = spec.n * spec.l_out * column
    cap = split_cap(total, total if spec.kernel_size == 1 else _TAP_BLOCK_BYTES)
    if spec.direct_flops >= _SPLIT_FLOPS:
        cap = min(cap, -(-total // num_threads()))
    columns = max(1, cap // column)
    return tuple(position_blocks(spec.n, spec.l_out, *block_shape(spec.n, spec.l_out, columns, True)))


def _depthwise_blocks(spec: ConvSpec) -> list[tuple[int, int]]:
    """Row blocks ``(r0, r1)`` of the depthwise loop over the ``N*C`` rows."""
    rows = spec.n * spec.c_in
    block = max(1, _DEPTHWISE_BLOCK_BYTES // (spec.l_out * spec.itemsize))
    return [(r0, min(r0 + block, rows)) for r0 in range(0, rows, block)]


def _slots(blocks: Sequence) -> int:
    """Pool threads that run ``blocks`` (one tap buffer each)."""
    return max(1, min(num_threads(), len(blocks)))


def _buffer_shapes(spec: ConvSpec, blocks: tuple[Block, ...]) -> dict[str, tuple[int, ...]]:
    """Every buffer a run uses, by name; their sum is the workspace.

    ``xpad``: the padded input (the tap loop reads ``x`` itself, see
    :func:`~lucid.algos._gemm.tap_ranges`).  ``tap``: one output block per thread for taps
    ``1..K-1``.  ``cols``, ``res``: window and product of the position loop.
    ``dw``: one row block per thread for the depthwise taps ``1..K-1``.
    The per-thread ``tap`` and ``dw`` blocks are borrowed from
    :func:`~lucid.algos.base.thread_scratch` by each pool thread, the others by the calling thread.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    depthwise = spec.cig == spec.cog == 1
    if any(spec.padding) and (depthwise or spec.kernel_size > spec.l_out):
        shapes["xpad"] = (spec.n, spec.c_in, spec.l_padded)
    if depthwise:
        rows = _depthwise_blocks(spec)
        if spec.kernel_size > 1 and rows:
            shapes["dw"] = (_slots(rows), rows[0][1] - rows[0][0], spec.l_out)
        return shapes
    if spec.kernel_size > spec.l_out:
        shapes["cols"] = (spec.groups, spec.cig, spec.kernel_size, spec.n)
        shapes["res"] = (spec.groups, spec.cog, spec.n)
    elif spec.kernel_size > 1:
        largest = max(((n1 - n0) * (t1 - t0) for n0, n1, t0, t1 in blocks), default=0)
        shapes["tap"] = (_slots(blocks), largest * spec.c_out)
    return shapes


#: Buffers of :func:`_buffer_shapes` borrowed per thread rather than owned by the plan.
_PER_THREAD = ("tap", "dw")


def _transient_bytes(spec: ConvSpec, blocks: tuple[Block, ...]) -> int:
    """NumPy's ufunc buffers of the strided ``out += tap`` accumulation, per
    tap-loop thread (see :func:`~lucid.algos.base.ufunc_buffer_bytes`)."""
    if spec.cig == spec.cog == 1 or not 1 < spec.kernel_size <= spec.l_out:
        return 0
    return _slots(blocks) * ufunc_buffer_bytes(spec)


class DirectPlan(Plan):
    """Per-shape state of :class:`Direct`: its buffers and output blocks."""

    def __init__(self, algorithm: Direct, layout: Layout) -> None:
        spec = layout.spec
        super().__init__(algorithm, spec)
        self._strategy, blocks = layout.detail
        self._caller_buffers = {k: shape for k, shape in _buffer_shapes(spec, blocks).items()
                                if k not in _PER_THREAD}
        self._blocks = list(blocks)
        self._ranges = tap_ranges(spec) if self._strategy == "taps" else []

    def _buffer(self, name: str) -> np.ndarray:
        """The calling thread's ``name`` buffer (:func:`~lucid.algos.base.thread_scratch`), borrowed
        per run, so concurrent runs of one plan never share it."""
        shape = self._caller_buffers[name]
        return thread_scratch(f"direct.{name}", math.prod(shape), self.spec.np_dtype).reshape(shape)

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        if self._strategy == "taps":
            return self._tap_run(x, w)
        xp = padded_input(self.spec, x, self._buffer("xpad") if "xpad" in self._caller_buffers else None)
        if self._strategy == "depthwise":
            return self._depthwise_run(xp, w)
        return self._position_run(xp, w)

    def _tap_run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Tap loop on the unpadded ``x``: tap ``k`` covers outputs ``_ranges[k]``
        of each block; the first tap that covers any of a block writes it (and
        zeros the rest), later ones go through the tap buffer and are added."""
        sp = self.spec
        g, s, d, left = sp.groups, sp.stride, sp.dilation, sp.padding[0]
        xg = x.reshape(sp.n, g, sp.cig, sp.length)
        wk = np.ascontiguousarray(w.reshape(g, sp.cog, sp.cig, sp.kernel_size).transpose(3, 0, 1, 2))
        y = np.empty((sp.n, g, sp.cog, sp.l_out), sp.np_dtype)

        def block(slot: int, bounds: Block) -> None:
            n0, n1, t0, t1 = bounds
            out = y[n0:n1, :, :, t0:t1]
            written = False
            for k, (lo, hi) in enumerate(self._ranges):
                a, b = max(t0, lo), min(t1, hi)
                if a >= b:
                    continue
                start = a * s + k * d - left
                src = xg[n0:n1, :, :, start:start + s * (b - a - 1) + 1:s]
                if not written:
                    out[..., :a - t0] = 0
                    out[..., b - t0:] = 0
                    matmul(wk[k], src, out=out[..., a - t0:b - t0])
                    written = True
                else:
                    shape = out[..., :b - a].shape
                    tap = thread_scratch("direct.tap", math.prod(shape), sp.np_dtype).reshape(shape)
                    matmul(wk[k], src, out=tap)
                    out[..., a - t0:b - t0] += tap
            if not written:
                out[...] = 0

        run_in_slots(self._blocks, _slots(self._blocks), block)
        if any(sp.padding) and not np.isfinite(wk).all():
            self._padding_products(wk, y)
        return y.reshape(sp.output_shape)

    def _padding_products(self, wk: np.ndarray, y: np.ndarray) -> None:
        """Add the skipped ``0 * w`` products, which are NaN where ``w`` is NaN/Inf.

        The definition multiplies the padding zeros too (IEEE: ``0 * Inf = NaN``),
        as PyTorch does; only a non-finite weight makes that visible, so this
        ``O(C_out * Cig * K + outputs)`` pass runs only then.
        """
        for k, (lo, hi) in enumerate(self._ranges):
            zero_products = (wk[k] * 0).sum(axis=-1)[None, :, :, None]    # (1, g, Cog, 1): 0 or NaN
            y[..., :lo] += zero_products
            y[..., hi:] += zero_products

    def _position_run(self, xp: np.ndarray, w: np.ndarray) -> np.ndarray:
        sp = self.spec
        g, kk = sp.groups, sp.kernel_size
        xg = xp.reshape(sp.n, g, sp.cig, sp.l_padded)
        wg = w.reshape(g, sp.cog, sp.cig * kk)
        y = np.empty((sp.n, g, sp.cog, sp.l_out), sp.np_dtype)
        cols, res = self._buffer("cols"), self._buffer("res")
        for t in range(sp.l_out):
            start = t * sp.stride
            np.copyto(cols, xg[:, :, :, start:start + sp.span:sp.dilation].transpose(1, 2, 3, 0))
            np.matmul(wg, cols.reshape(g, sp.cig * kk, sp.n), out=res)
            y[:, :, :, t] = res.transpose(2, 0, 1)
        return y.reshape(sp.output_shape)

    def _depthwise_run(self, xp: np.ndarray, w: np.ndarray) -> np.ndarray:
        sp = self.spec
        rows, lo, s, d = sp.n * sp.c_in, sp.l_out, sp.stride, sp.dilation
        xr = xp.reshape(rows, sp.l_padded)
        wr = np.broadcast_to(w.reshape(1, sp.c_in, sp.kernel_size),
                             (sp.n, sp.c_in, sp.kernel_size)).reshape(rows, sp.kernel_size)
        y = np.empty((rows, lo), sp.np_dtype)
        blocks = _depthwise_blocks(sp)

        def body(slot: int, bounds: tuple[int, int]) -> None:
            b0, b1 = bounds
            out = y[b0:b1]
            np.multiply(xr[b0:b1, 0:s * (lo - 1) + 1:s], wr[b0:b1, 0:1], out=out)
            for k in range(1, sp.kernel_size):
                t = thread_scratch("direct.depthwise", (b1 - b0) * lo, sp.np_dtype).reshape(b1 - b0, lo)
                start = k * d
                np.multiply(xr[b0:b1, start:start + s * (lo - 1) + 1:s], wr[b0:b1, k:k + 1], out=t)
                out += t

        run_in_slots(blocks, _slots(blocks), body)
        return y.reshape(sp.output_shape)


class Direct(Algorithm):
    """The definition: tap-wise GEMMs on strided views.  Serves every spec.

    Its layouts are its three strategies (:func:`strategy`): the tap loop,
    the position loop (``K > L_out``) and the depthwise loop; none chunks, so
    a layout's workspace is also its floor, whatever the limit.
    """

    name = "direct"

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout:
        """Workspace: every buffer of :func:`_buffer_shapes` and the transient
        ufunc buffers (:func:`_transient_bytes`).  ``python_steps`` counts the
        loop's iterations: blocks x taps of the tap or depthwise loop, or
        ``L_out`` of the position loop; ``gemm_calls`` the BLAS calls of each
        (``N * groups`` per tap step, ``groups`` per position, none for the
        elementwise depthwise loop); ``gathered_bytes`` the input the position
        loop copies into its transposed window (a strided, cache-hostile
        gather; the tap loops' streaming reads stay ``tap_read_bytes``);
        ``blas_threaded_flops`` the FLOPs whose GEMMs run on OpenBLAS's own
        threads (:func:`~lucid.algos._gemm.blas_threaded_flops`).  FLOPs and
        tap reads of the tap loop count only the products it executes (it
        skips those that fall in the padding)."""
        kind = strategy(spec)
        blocks = _tap_blocks(spec) if kind == "taps" else ()
        workspace = sum(math.prod(shape) for shape in _buffer_shapes(spec, blocks).values()) * spec.itemsize \
            + _transient_bytes(spec, blocks)
        flops, taps = spec.direct_flops, spec.n * spec.c_in * spec.kernel_size * spec.l_out * spec.itemsize
        if kind == "taps":      # the tap loop skips the products that fall in the padding
            valid = sum(max(0, hi - lo) for lo, hi in tap_ranges(spec))
            flops, taps = 2.0 * spec.n * spec.c_out * spec.cig * valid, spec.n * spec.c_in * valid * spec.itemsize
        if kind == "depthwise":
            steps, calls, gemm, gathered = len(_depthwise_blocks(spec)) * spec.kernel_size, 0, (0, 0, 0), 0
        elif kind == "positions":
            steps, calls = spec.l_out, spec.l_out * spec.groups
            gemm, gathered = (spec.cog, spec.n, spec.cig * spec.kernel_size), taps
        else:
            steps = max(1, len(blocks)) * spec.kernel_size
            calls, gathered = steps * spec.n * spec.groups, 0
            gemm = (spec.cog, max((t1 - t0 for _, _, t0, t1 in blocks), default=0), spec.cig)
        features = cost_features(spec, flops, workspace, python_steps=steps, gemm_calls=calls,
                                 tap_read_bytes=taps - gathered)
        features["gathered_bytes"] = float(gathered)
        features["blas_threaded_flops"] = blas_threaded_flops(features["float32_flops"], *gemm,
                                                              pooled=kind == "taps" and _slots(blocks) > 1)
        return Layout(spec, workspace_limit, workspace, flops, dot_error_bound(spec), features,
                      detail=(kind, blocks))

    def build(self, layout: Layout) -> DirectPlan:
        return DirectPlan(self, layout)


register(Direct())
