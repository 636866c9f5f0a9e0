"""col2im: the backward-data problem natively, one GEMM per block, then a scatter-add per tap.

The input gradient of ``y = conv(x, w)`` (stride ``s``, dilation ``d``, left
padding ``pl``) gathers, for every input sample, the products of the taps
that read it::

    cols[n, g, c, k, t] = sum_o w[g*Cog + o, c, k] * dy[n, g*Cog + o, t]
    dx[n, g*Cig + c, t*s + k*d - pl] += cols[n, g, c, k, t]      (inside x only)

The first line is one GEMM per group, ``w_g^T`` (``Cig*K x Cog``, a
transposed view of ``w``, no copy) by ``dy_g`` (``Cog x len``), with the
forward's FLOPs; the second is, per tap, one strided add of ``cols[..., k, :]``
into ``dx`` (the positions whose input lies in the padding are skipped, so
``dx`` is written in place with no padded copy).  Depthwise layers
(``Cig = Cog = 1``) make the GEMM an outer product, which
:func:`~lucid.algos._gemm.matmul` runs as a broadcast multiply; pointwise
layers (``K = 1``, stride 1, no padding) have ``cols = dx``: the GEMM writes
``dx`` in place and nothing is scattered.

Compared with the lowering (``dy`` upsampled by ``s`` into zeros, then a
stride-1 forward problem with ``C_in`` outputs), nothing is ``s`` times
longer and the GEMM's long side is ``N*L_out``, however few ``C_in`` are.

The ``N x L_out`` positions are cut into blocks (whole items or runs of one
item's positions) whose columns (``C_in*K x len``) stay in cache between the
GEMM and the scatter.  Threads own disjoint ranges of items (blocks of one
item share halo samples of ``dx`` when ``K*d > s``, so an item is never split
between threads); with one item, or small work, one slot runs them all and
BLAS keeps its own threads.  The order of every sum is fixed: deterministic.

A NaN/Inf of ``dy`` or ``w`` enters only the columns whose products contain
it, and each column lands in exactly one sample of ``dx``: ``local_nonfinite``.

Cost: ``2*N*C_out*L_out*Cig*K`` FLOPs (the GEMMs) plus ``N*C_in*K*L_out``
adds; ``python_steps`` blocks x (``K`` + 1).  Workspace: one block's columns
per thread, and the buffers of NumPy's iterator that the strided adds borrow
(``3 * np.getbufsize()`` elements).  Error: each ``dx`` sums ``Cog`` products per tap that reaches it,
bound ``2*u*sqrt(Cog*K)``.
"""
from __future__ import annotations

import math

import numpy as np

from ._gemm import Block, block_shape, matmul, position_blocks, run_in_slots, tap_ranges
from ._parallel import num_threads, split
from .base import DEFAULT_WORKSPACE_LIMIT, Algorithm, Layout, Plan, cost_features, thread_scratch, unit_roundoff
from .registry import register
from .spec import ConvSpec

#: Elements of one block's columns (``C_in*K x len``): a GEMM output that stays in cache
#: until its taps are scattered (256 KiB in float32).
_BLOCK_ELEMENTS = 1 << 16
#: Positions of a block at least (a GEMM long enough to be efficient) and at most.
_MIN_COLUMNS, _MAX_COLUMNS = 256, 4096
#: FLOPs from which the items are shared over the pool threads (as wgrad).
_SPLIT_FLOPS = 1 << 24


def _shares(spec: ConvSpec) -> tuple[tuple[Block, ...], ...]:
    """Per thread, its blocks ``(n0, n1, t0, t1)``: the threads own disjoint item ranges."""
    columns = min(_MAX_COLUMNS, max(_MIN_COLUMNS, _BLOCK_ELEMENTS // (spec.c_in * spec.kernel_size)))
    slots = min(num_threads(), spec.n) if spec.direct_flops >= _SPLIT_FLOPS else 1
    shares = []
    for lo, hi in split(spec.n, slots):
        items, positions = block_shape(hi - lo, spec.l_out, columns, True)
        shares.append(tuple((lo + n0, lo + n1, t0, t1)
                            for n0, n1, t0, t1 in position_blocks(hi - lo, spec.l_out, items, positions)))
    return tuple(shares)


def _in_place(spec: ConvSpec) -> bool:
    """True when the columns are ``dx`` itself (``K = 1``, stride 1, no padding): the GEMM
    writes into ``dx`` and there is nothing to scatter."""
    return spec.kernel_size == 1 and spec.stride == 1 and spec.padding == (0, 0)


def _columns(spec: ConvSpec, block: Block) -> int:
    """Elements of the columns of ``block`` (none when :func:`_in_place`)."""
    n0, n1, t0, t1 = block
    return 0 if _in_place(spec) else (n1 - n0) * spec.c_in * spec.kernel_size * (t1 - t0)


class Col2imPlan(Plan):
    """Per-shape state of :class:`Col2im`: the threads' blocks and, per tap, its positions
    ``[lo, hi)`` inside ``x`` and its offset (position ``t`` lands on sample ``t*s + offset``)."""

    def __init__(self, algorithm: Col2im, layout: Layout) -> None:
        spec = layout.spec
        super().__init__(algorithm, spec)
        self._shares = layout.detail
        self._taps = [(lo, hi, k * spec.dilation - spec.padding[0])
                      for k, (lo, hi) in enumerate(tap_ranges(spec))]
        self._in_place = _in_place(spec)

    def run(self, dy: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``dx`` (``N x C_in x L``) from ``dy`` (``N x C_out x L_out``) and ``w`` (``C_out x Cig x K``)."""
        sp = self.spec
        g, cig, kk, s, dtype = sp.groups, sp.cig, sp.kernel_size, sp.stride, sp.np_dtype
        dyg = dy.reshape(sp.n, g, sp.cog, sp.l_out)
        wt = w.reshape(g, sp.cog, cig * kk).swapaxes(-1, -2)          # (G, Cig*K, Cog), a view
        dx = (np.empty if self._in_place else np.zeros)(sp.input_shape, dtype)
        dxg = dx.reshape(sp.n, g, cig, sp.length)

        def blocks(_slot: int, share: tuple[Block, ...]) -> None:
            for block in share:
                n0, n1, t0, t1 = block
                if self._in_place:
                    matmul(wt, dyg[n0:n1, :, :, t0:t1], out=dxg[n0:n1, :, :, t0:t1])
                    continue
                cols = thread_scratch("col2im.columns", _columns(sp, block), dtype).reshape(
                    n1 - n0, g, cig * kk, t1 - t0)
                cols = matmul(wt, dyg[n0:n1, :, :, t0:t1], out=cols).reshape(n1 - n0, g, cig, kk, t1 - t0)
                for k, (lo, hi, offset) in enumerate(self._taps):
                    a, b = max(t0, lo), min(t1, hi)
                    if a < b:
                        start = a * s + offset
                        dxg[n0:n1, :, :, start:start + (b - a - 1) * s + 1:s] += cols[..., k, a - t0:b - t0]

        run_in_slots(self._shares, len(self._shares), blocks)
        return dx


class Col2im(Algorithm):
    """Backward-data natively: a GEMM per block, then a strided scatter-add per tap (module docstring).

    Solves only ``backward_data`` specs (``ops``); its plan's ``run`` takes
    ``(dy, w)`` and returns ``dx``.  One layout per spec, whatever the limit.
    """

    name = "col2im"
    ops = ("backward_data",)

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """``flops``: the GEMMs plus the ``N*C_in*K*L_out`` scatter adds; ``python_steps``:
        blocks x (``K`` taps + the GEMM); ``gemm_calls``: one per item and group of a block
        (NumPy's batched matmul); ``tap_read_bytes``: the scatter reads the columns and reads
        and writes ``dx`` once per tap."""
        if spec.op != "backward_data":
            return f"col2im: solves backward_data only, not {spec.op}"
        shares = _shares(spec)
        blocks = [block for share in shares for block in share]
        in_place = _in_place(spec)
        per_thread = max(_columns(spec, block) for block in blocks) + (0 if in_place else 3 * np.getbufsize())
        workspace = len(shares) * per_thread * spec.itemsize
        adds = 0 if in_place else spec.n * spec.c_in * spec.kernel_size * spec.l_out
        flops = spec.direct_flops + adds
        steps = len(blocks) * (1 if in_place else spec.kernel_size + 1)
        calls = sum(n1 - n0 for n0, n1, _, _ in blocks) * spec.groups
        bound = 2.0 * unit_roundoff(spec) * math.sqrt(spec.cog * spec.kernel_size)
        return Layout(spec, workspace_limit, workspace, flops, bound,
                      cost_features(spec, flops, workspace, python_steps=steps, gemm_calls=calls,
                                    tap_read_bytes=3.0 * adds * spec.itemsize),
                      detail=shares)

    def build(self, layout: Layout) -> Col2imPlan:
        return Col2imPlan(self, layout)


register(Col2im())
