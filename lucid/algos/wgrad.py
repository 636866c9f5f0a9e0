"""wgrad: the backward-filter problem natively, one GEMM per tap over blocks of the reduction.

The weight gradient of ``y = conv(x, w)`` (stride ``s``, dilation ``d``) is,
for every tap ``k``, one product reducing over the batch and the positions::

    dw[g*Cog + o, c, k] = sum_{n, t} dy[n, g*Cog + o, t] * x_pad[n, g*Cig + c, t*s + k*d]

The ``N x L_out`` reduction is cut into blocks (whole items or runs of
positions, about :data:`_BLOCK_COLUMNS` each); per block and tap one batched
matmul (over the block's items and the groups) multiplies
``dy[n, g, :, a:b]`` (``Cog x len``) by the transposed tap view of ``x``
(``len x Cig``), a view with unit column stride, so BLAS reads it in place:
for ``s = 1`` straight from ``x`` (no padded copy: tap ``k`` covers only the
positions whose input lies inside ``x``, as in direct's tap loop), for
``s > 1`` from one of ``s`` polyphase copies ``x[..., p::s]`` made once per
run in the caller's scratch.  The products are summed over the block's items
into the thread's partial sum of tap ``k``.  Blocks are shared over the pool
threads with single-threaded BLAS (``_gemm.run_in_slots``) and the partials
are added in slot order, so results are deterministic.  Depthwise layers
(``Cig = Cog = 1``) run the same code as batched dot products.

Compared with the lowering (a forward problem with ``L_out`` taps and ``K``
outputs), this reads ``x`` and ``dy`` where they are, with no transposing
copies, and keeps the GEMMs long (``len`` up to a whole item).

The definition multiplies the padding zeros by ``dy`` too: with a NaN/Inf in
``dy`` at a position a tap skips, ``0 * Inf = NaN`` reaches that tap of
``dw`` (as in PyTorch).  Only the skipped edge columns of ``dy`` are checked
(``O(N*C_out*padding)``), and the products are added only when one is not finite.

Cost: ``2*N*C_out*L_out*Cig*K`` FLOPs in ``K`` batched matmuls per block;
``x`` and ``dy`` are read once per tap (from cache within a block).
Workspace: the phases (``s > 1``: ``s*N*C_in*ceil(L/s)`` items), the partial
sums (``slots*K*C_out*Cig``), and per thread one block's products and their sum.
Error: dot products of length ``N*L_out``, bound ``2*u*sqrt(N*L_out)``.
"""
from __future__ import annotations

import math

import numpy as np

from ._gemm import Block, block_shape, matmul, position_blocks, run_in_slots, tap_ranges
from ._parallel import num_threads
from .base import DEFAULT_WORKSPACE_LIMIT, Algorithm, Layout, Plan, cost_features, thread_scratch, unit_roundoff
from .registry import register
from .spec import ConvSpec

#: Reduction columns (items x positions) of one block: long enough for an efficient GEMM,
#: short enough that a block's ``x`` and ``dy`` stay in cache across the taps (docs/tuning.md: wgrad block).
_BLOCK_COLUMNS = 2048
#: FLOPs from which the blocks are cut into at least one per pool thread (as direct's tap loop).
_SPLIT_FLOPS = 1 << 24
#: Input channels per group below which a tap's GEMM (``Cog x len x Cig``) is too skinny to
#: pay for reading ``dy`` once per tap, so the taps are gathered into columns instead
#: (docs/tuning.md: wgrad columns).
_COLUMNS_BELOW_CIG = 16


def strategy(spec: ConvSpec) -> str:
    """``"columns"`` (``Cig < 16`` and ``Cog > 1``: a block's taps copied into a
    ``Cig*K x len`` column matrix, one GEMM per block, ``dy`` read once) or
    ``"taps"`` (one GEMM per block and tap on views, no copy)."""
    return "columns" if spec.cig < _COLUMNS_BELOW_CIG and spec.cog > 1 else "taps"


def _blocks(spec: ConvSpec) -> tuple[Block, ...]:
    """Blocks ``(n0, n1, t0, t1)`` of the ``N x L_out`` reduction (:data:`_BLOCK_COLUMNS`
    columns each, and at least one per thread when the work exceeds :data:`_SPLIT_FLOPS`)."""
    columns = _BLOCK_COLUMNS
    if spec.direct_flops >= _SPLIT_FLOPS:
        columns = min(columns, -(-spec.n * spec.l_out // num_threads()))
    return tuple(position_blocks(spec.n, spec.l_out, *block_shape(spec.n, spec.l_out, max(1, columns), True)))


def _slots(blocks: tuple[Block, ...]) -> int:
    """Pool threads that run ``blocks`` (one partial sum each)."""
    return max(1, min(num_threads(), len(blocks)))


def _phase_shape(spec: ConvSpec) -> tuple[int, ...]:
    """``(s, N, G, Cig, ceil(L/s))``: the polyphase copies of ``x`` (stride > 1 only)."""
    return (spec.stride, spec.n, spec.groups, spec.cig, -(-spec.length // spec.stride))


def _workspace(spec: ConvSpec, kind: str, blocks: tuple[Block, ...]) -> int:
    """Bytes of the phases, the partial sums and, per thread, a block's products (and their
    sum) and, for ``"columns"``, its column matrix."""
    items = max((n1 - n0 for n0, n1, _, _ in blocks), default=0)
    width = spec.cig * (spec.kernel_size if kind == "columns" else 1)
    per_thread = spec.kernel_size * spec.c_out * spec.cig + (items + 1) * spec.c_out * width
    if kind == "columns":
        per_thread += items * spec.c_in * spec.kernel_size * max((t1 - t0 for _, _, t0, t1 in blocks), default=0)
    count = (math.prod(_phase_shape(spec)) if spec.stride > 1 else 0) + _slots(blocks) * per_thread
    return count * spec.itemsize


class WgradPlan(Plan):
    """Per-shape state of :class:`Wgrad`: its strategy, the reduction blocks and, per tap, its
    positions ``[lo, hi)``, phase ``p`` and phase offset ``q`` (input ``t*s + k*d - left``
    is sample ``t + q`` of phase ``p``)."""

    def __init__(self, algorithm: Wgrad, layout: Layout) -> None:
        spec = layout.spec
        super().__init__(algorithm, spec)
        self._strategy, self._blocks = layout.detail
        offsets = [k * spec.dilation - spec.padding[0] for k in range(spec.kernel_size)]
        self._taps = [(lo, hi, off % spec.stride, off // spec.stride)
                      for (lo, hi), off in zip(tap_ranges(spec), offsets)]

    def _phases(self, x: np.ndarray) -> np.ndarray:
        """``x`` as ``(s, N, G, Cig, .)``: itself when ``s = 1``, else its polyphase copies in scratch."""
        sp = self.spec
        xg = x.reshape(sp.n, sp.groups, sp.cig, sp.length)
        if sp.stride == 1:
            return xg[None]
        shape = _phase_shape(sp)
        phases = thread_scratch("wgrad.phases", math.prod(shape), sp.np_dtype).reshape(shape)
        for p in range(sp.stride):
            part = xg[..., p::sp.stride]
            phases[p, ..., :part.shape[-1]] = part
        return phases

    def run(self, dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``dw`` (``C_out x Cig x K``) from ``dy`` (``N x C_out x L_out``) and ``x`` (``N x C_in x L``)."""
        sp = self.spec
        g, cog, cig, kk, dtype = sp.groups, sp.cog, sp.cig, sp.kernel_size, sp.np_dtype
        dyg = dy.reshape(sp.n, g, cog, sp.l_out)
        phases = self._phases(x)
        slots = _slots(self._blocks)
        if self._strategy == "taps":
            partial = np.zeros((slots, kk, g, cog, cig), dtype)
        else:
            partial = np.zeros((slots, g, cog, cig * kk), dtype)

        def taps(slot: int, bounds: Block) -> None:
            n0, n1, t0, t1 = bounds
            for k, (lo, hi, p, q) in enumerate(self._taps):
                a, b = max(t0, lo), min(t1, hi)
                if a < b:
                    src = phases[p, n0:n1, :, :, a + q:b + q].swapaxes(-1, -2)
                    partial[slot, k] += _summed(dyg[n0:n1, :, :, a:b], src, dtype)

        def columns(slot: int, bounds: Block) -> None:
            n0, n1, t0, t1 = bounds
            cols = thread_scratch("wgrad.columns", (n1 - n0) * g * cig * kk * (t1 - t0), dtype).reshape(
                n1 - n0, g, cig, kk, t1 - t0)
            for k, (lo, hi, p, q) in enumerate(self._taps):
                a, b = min(max(t0, lo), t1), max(min(t1, hi), t0)
                cols[..., k, :a - t0] = 0
                cols[..., k, max(a, b) - t0:] = 0
                if a < b:
                    cols[..., k, a - t0:b - t0] = phases[p, n0:n1, :, :, a + q:b + q]
            src = cols.reshape(n1 - n0, g, cig * kk, t1 - t0).swapaxes(-1, -2)
            partial[slot] += _summed(dyg[n0:n1, :, :, t0:t1], src, dtype)

        run_in_slots(self._blocks, slots, taps if self._strategy == "taps" else columns)
        dw = np.add.reduce(partial, axis=0)
        if self._strategy == "taps":
            dw = np.ascontiguousarray(dw.transpose(1, 2, 3, 0))
        dw = dw.reshape(sp.weight_shape)
        self._padding_products(dy, dw)
        return dw

    def _padding_products(self, dy: np.ndarray, dw: np.ndarray) -> None:
        """Add the skipped ``0 * dy`` products of each tap (NaN where ``dy`` is NaN/Inf)
        to ``dw``, when the skipped columns of ``dy`` are not all finite."""
        first = max(lo for lo, _, _, _ in self._taps)
        last = min(hi for _, hi, _, _ in self._taps)
        if np.isfinite(dy[..., :first]).all() and np.isfinite(dy[..., max(first, last):]).all():
            return
        for k, (lo, hi, _, _) in enumerate(self._taps):
            skipped = np.ones(self.spec.l_out, bool)
            skipped[lo:hi] = False
            dw[:, :, k] += (dy[..., skipped] * 0).sum(axis=(0, 2))[:, None]      # 0 or NaN per output channel


def _summed(a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``sum_n a[n] @ b[n]`` over the leading (items) axis, the products in per-thread scratch."""
    shape = a.shape[:-1] + b.shape[-1:]
    products = thread_scratch("wgrad.products", math.prod(shape), dtype).reshape(shape)
    return matmul(a, b, out=products).sum(axis=0)


class Wgrad(Algorithm):
    """Backward-filter natively: per-tap GEMMs over blocks of ``N x L_out`` (module docstring).

    Solves only ``backward_filter`` specs (``ops``); its plan's ``run`` takes
    ``(dy, x)`` and returns ``dw``.  One layout per spec, whatever the limit.
    """

    name = "wgrad"
    ops = ("backward_filter",)

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """``python_steps``: blocks x taps (plus the ``s`` phase copies); ``gemm_calls``:
        the matrix products, one per item and group of a block and tap (``"taps"``) or
        of a block (``"columns"``)."""
        if spec.op != "backward_filter":
            return f"wgrad: solves backward_filter only, not {spec.op}"
        kind, blocks = strategy(spec), _blocks(spec)
        workspace = _workspace(spec, kind, blocks)
        steps = len(blocks) * spec.kernel_size + (spec.stride if spec.stride > 1 else 0)
        calls = sum(n1 - n0 for n0, n1, _, _ in blocks) * spec.groups * (spec.kernel_size if kind == "taps" else 1)
        bound = 2.0 * unit_roundoff(spec) * math.sqrt(max(1, spec.n * spec.l_out))
        return Layout(spec, workspace_limit, workspace, spec.direct_flops, bound,
                      cost_features(spec, spec.direct_flops, workspace, python_steps=steps, gemm_calls=calls),
                      detail=(kind, blocks), weight_varies=True)

    def build(self, layout: Layout) -> WgradPlan:
        return WgradPlan(self, layout)


register(Wgrad())
