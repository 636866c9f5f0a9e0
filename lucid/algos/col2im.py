"""col2im: the backward-data problem natively, by GEMMs over blocks, in one of two layouts.

The input gradient of ``y = conv(x, w)`` (stride ``s``, dilation ``d``, left
padding ``pl``) gathers, for every input sample, the products of the taps
that read it::

    cols[n, g, c, k, t] = sum_o w[g*Cog + o, c, k] * dy[n, g*Cog + o, t]
    dx[n, g*Cig + c, t*s + k*d - pl] += cols[n, g, c, k, t]      (inside x only)

It is also the transposed convolution ``conv_transpose1d(dy, w)``.  Two layouts
(:func:`strategy`):

**taps.**  The first line is one GEMM per group, ``w_g^T`` (``Cig*K x Cog``, a
transposed view of ``w``, no copy) by ``dy_g`` (``Cog x len``), with the
forward's FLOPs; the second is, per tap, one strided add of ``cols[..., k, :]``
into ``dx`` (the positions whose input lies in the padding are skipped, so
``dx`` is written in place with no padded copy).  Depthwise layers
(``Cig = Cog = 1``) make the GEMM an outer product, which
:func:`~lucid.algos._gemm.matmul` runs as a broadcast multiply; pointwise
layers (``K = 1``, stride 1, no padding) have ``cols = dx``: the GEMM writes
``dx`` in place and nothing is scattered (``in_place``).  A block of several
items shorter than 256 positions runs one GEMM over all of them (their ``dy``
copied side by side), not a thin one per item.

**phases.**  Tap ``k`` lands at padded position ``t*s + k*d = (t + q)*s + r``
with ``q = k*d // s`` and ``r = k*d % s``: seen as rows of ``s`` samples, the
output row ``u`` sums ``Q = (K-1)*d // s + 1`` shifted copies of ``dy``::

    dx_rows[n, g, u, c, r] = sum_{q, o} dy[n, g*Cog + o, u - q] * W[g, o, q, c, r]

with ``W[g, o, q, c, r] = w[g*Cog + o, c, k]`` where ``k*d = q*s + r`` (zero where
no tap lands).  So one GEMM per block, ``dy`` stacked with its ``Q`` shifts
(``rows x Cog*Q``) by ``W`` (``Cog*Q x Cig*s``), computes the overlap-add
itself: no scatter-add at all, only a copy of the rows into ``dx`` (none when
``Cig = 1``) and a crop of the padding (none without padding when ``K*d`` is a
multiple of ``s``).  Where the per-tap scatter runs ``K`` strided adds per
block (the iSTFT-like synthesis, K=512 at stride 128: 512 adds of 400 samples),
this runs ``Q`` copies of ``dy`` and one GEMM.  It multiplies ``Q*s`` weights
per output instead of ``K`` (the zeros of ``W``), so it is taken for stride >= 2
with little waste, a GEMM wide enough (``Cig*s``) and enough rows to amortise
re-laying out the weight (cached by value for inference).

Compared with the lowering (``dy`` upsampled by ``s`` into zeros, then a
stride-1 forward problem with ``C_in`` outputs), nothing is ``s`` times
longer and the GEMM's long side is ``N*L_out`` (or ``N*rows``), however few ``C_in`` are.

The ``N x L_out`` positions (or ``N x rows``) are cut into blocks (whole items
or runs of one item's positions) whose columns stay in cache between the GEMM
and the scatter or copy.  Threads own disjoint ranges of items (blocks of one
item share halo samples of ``dx`` when ``K*d > s``, so an item is never split
between threads); with one item, or small work, one slot runs them all and
BLAS keeps its own threads.  The order of every sum is fixed: deterministic.

A NaN/Inf of ``dy`` or ``w`` enters only the columns whose products contain
it, and each column lands in exactly one sample of ``dx``: ``local_nonfinite``.
The phase GEMM also multiplies its zero weights and the zeros stacked past the
ends of ``dy`` (``0 * Inf = NaN``), so its plan checks its ``dx`` (one dot
product) and, when that holds NaN/Inf and an operand does, computes it again
in the taps layout (:meth:`Col2imPlan.run`).

Cost: ``2*N*C_out*L_out*Cig*K`` FLOPs (the GEMMs) plus ``N*C_in*K*L_out``
adds (taps), or ``Q*s/K`` times those FLOPs and no adds (phases);
``python_steps`` blocks x (``K`` + 1) or x (``Q`` + 2).  Workspace: one block's
columns (or stacked ``dy`` and rows) per thread, the buffers of NumPy's
iterator that the strided adds borrow (``3 * np.getbufsize()`` elements), and
for phases the padded rows (unless they are ``dx``) and the cached weight.
Error: each ``dx`` sums ``Cog`` products per tap that reaches it, bound
``2*u*sqrt(Cog*K)``.
"""
from __future__ import annotations

import math

import numpy as np

from ._gemm import Block, block_shape, matmul, position_blocks, run_in_slots, tap_ranges
from ._parallel import num_threads, split
from .base import (
    DEFAULT_WORKSPACE_LIMIT,
    Algorithm,
    Layout,
    Plan,
    WeightCache,
    cost_features,
    thread_scratch,
    unit_roundoff,
)
from .registry import register
from .spec import ConvSpec

#: Elements of one block's columns (``C_in*K x len``): a GEMM output that stays in cache
#: until its taps are scattered (256 KiB in float32).
_BLOCK_ELEMENTS = 1 << 16
#: Positions of a block at least (a GEMM long enough to be efficient) and at most.
_MIN_COLUMNS, _MAX_COLUMNS = 256, 4096
#: FLOPs from which the items are shared over the pool threads (as wgrad).
_SPLIT_FLOPS = 1 << 24
#: Most multiplications of the phase GEMM per product of the definition (``Q*s / K``, its zero weights);
#: this and the two below: docs/tuning.md: col2im phases.
_MAX_PHASE_WASTE = 1.25
#: Fewest columns (``Cig*s``) of the phase GEMM (:func:`strategy`): a thinner one starves BLAS.
_MIN_PHASE_WIDTH = 32
#: Fewest output rows (``N * rows``) of the phase GEMM: it re-lays out the weight on every
#: call (``Cout * Cig * Q*s`` copies), which fewer rows do not amortise.
_MIN_PHASE_ROWS = 512


def _shares(spec: ConvSpec, phases: bool = False) -> tuple[tuple[Block, ...], ...]:
    """Per thread, its blocks ``(n0, n1, t0, t1)``: the threads own disjoint item ranges.

    The positions are the ``L_out`` columns of the tap scatter (a column is ``C_in*K``
    elements), or the :func:`_rows` of the phase GEMM (a row is ``C_in*s`` outputs).
    """
    total, width = (_rows(spec), spec.c_in * spec.stride) if phases else (spec.l_out, spec.c_in * spec.kernel_size)
    columns = min(_MAX_COLUMNS, max(_MIN_COLUMNS, _BLOCK_ELEMENTS // width))
    slots = min(num_threads(), spec.n) if spec.direct_flops >= _SPLIT_FLOPS else 1
    shares = []
    for lo, hi in split(spec.n, slots):
        items, positions = block_shape(hi - lo, total, columns, True)
        shares.append(tuple((lo + n0, lo + n1, t0, t1)
                            for n0, n1, t0, t1 in position_blocks(hi - lo, total, items, positions)))
    return tuple(shares)


def _phase_count(spec: ConvSpec) -> int:
    """``Q = (K-1)*d // s + 1``: the rows of ``s`` samples one input column's taps reach."""
    return (spec.kernel_size - 1) * spec.dilation // spec.stride + 1


def _rows(spec: ConvSpec) -> int:
    """Rows of ``s`` samples of the phase GEMM's output: every position ``(t + q)*s + r``, and
    the crop ``[pl, pl + L)`` inside them."""
    return max(spec.l_out + _phase_count(spec) - 1, -(-(spec.padding[0] + spec.length) // spec.stride))


def strategy(spec: ConvSpec) -> str:
    """col2im's layout of ``spec``: ``"in_place"`` (the GEMM writes ``dx``), ``"phases"`` (the
    phase GEMM, module docstring) or ``"taps"`` (a GEMM, then a scatter-add per tap).

    Phases when the stride is at least 2 and the phase weight wastes little
    (``Q*s <= 5/4 K``, :data:`_MAX_PHASE_WASTE`: dilation 1 and ``K`` near a multiple of ``s``), its
    GEMM has at least :data:`_MIN_PHASE_WIDTH` columns (``Cig*s``; Conv-TasNet's
    decoder, ``Cig = 1, s = 8``, stays on taps) and at least :data:`_MIN_PHASE_ROWS` rows
    per weight row it re-lays out (``N*rows``; HiFi-GAN's first up-sampling, ``N*rows = 260``
    against a weight of 2 M elements, stays on taps).
    """
    if _in_place(spec):
        return "in_place"
    q, s = _phase_count(spec), spec.stride
    if s >= 2 and q * s <= _MAX_PHASE_WASTE * spec.kernel_size and spec.cig * s >= _MIN_PHASE_WIDTH \
            and spec.n * _rows(spec) >= _MIN_PHASE_ROWS:
        return "phases"
    return "taps"


def _in_place(spec: ConvSpec) -> bool:
    """True when the columns are ``dx`` itself (``K = 1``, stride 1, no padding): the GEMM
    writes into ``dx`` and there is nothing to scatter."""
    return spec.kernel_size == 1 and spec.stride == 1 and spec.padding == (0, 0)


def _columns(spec: ConvSpec, block: Block, layout: str) -> int:
    """Elements of the per-thread scratch of ``block``: the columns (taps), or the stacked
    ``dy`` and, unless ``Cig = 1`` (the GEMM writes the buffer), the GEMM's output (phases)."""
    n0, n1, t0, t1 = block
    if layout == "phases":
        out = 0 if spec.cig == 1 else spec.c_in * spec.stride
        return (n1 - n0) * (t1 - t0) * (spec.c_out * _phase_count(spec) + out)
    return 0 if layout == "in_place" else (n1 - n0) * spec.c_in * spec.kernel_size * (t1 - t0)


def _items(spec: ConvSpec, block: Block) -> int:
    """Elements of ``dy`` copied side by side when the taps layout's block holds several items shorter
    than :data:`_MIN_COLUMNS` (HiFi-GAN's first up-sampling, 64 positions): one GEMM ``N = items x
    positions`` wide instead of one per item (20 % faster there); 0 otherwise."""
    n0, n1, t0, t1 = block
    return spec.groups * spec.cog * (n1 - n0) * (t1 - t0) if n1 - n0 > 1 and t1 - t0 < _MIN_COLUMNS \
        and spec.cog > 1 else 0


def _buffer_is_dx(spec: ConvSpec) -> bool:
    """True when the phase GEMM's output rows are ``dx`` itself: no left padding and exactly
    ``L`` samples (dilation 1, ``K`` a multiple of ``s``, no padding: Demucs, Conv-TasNet, iSTFT)."""
    return spec.padding[0] == 0 and _rows(spec) * spec.stride == spec.length


def _phase_weight(spec: ConvSpec, w: np.ndarray) -> np.ndarray:
    """The weight of the phase GEMM, ``(G, Cog*Q, Cig*s)``: ``[g, o*Q + q, c*s + r] = w[g*Cog + o, c, k]``
    for the tap ``k`` with ``k*d = q*s + r``, zero where no tap lands (a fresh array).  With dilation 1
    tap ``k`` is sample ``k`` of ``Q*s``: one transposing copy of the zero-extended weight."""
    g, cog, cig, k, s, q = spec.groups, spec.cog, spec.cig, spec.kernel_size, spec.stride, _phase_count(spec)
    if spec.dilation == 1:
        taps = w.reshape(g, cog, cig, k)
        if k < q * s:
            taps = np.concatenate([taps, np.zeros((g, cog, cig, q * s - k), w.dtype)], axis=-1)
        out = np.empty((g, cog, q, cig, s), w.dtype)
        np.copyto(out, taps.reshape(g, cog, cig, q, s).transpose(0, 1, 3, 2, 4))
        return out.reshape(g, cog * q, cig * s)
    positions = np.arange(k) * spec.dilation
    out = np.zeros((g, cog, q, cig, s), w.dtype)
    out[:, :, positions // s, :, positions % s] = w.reshape(g, cog, cig, k).transpose(3, 0, 1, 2)
    return out.reshape(g, cog * q, cig * s)


def _copy_rows(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` for views whose last axis (a row of ``s`` samples) is contiguous in both and
    whose other axes are transposed: rows shorter than 64 bytes are copied as 8- (or 4-) byte words,
    one word of the row at a time, so NumPy's inner loop runs along the long axes, not along a
    row of a few samples (HiFi-GAN's stride 2: 7x faster).  A bitwise copy either way."""
    row = dst.shape[-1] * dst.itemsize
    if row >= 64:
        np.copyto(dst, src)
        return
    word = np.uint64 if row % 8 == 0 else np.uint32
    dst_words, src_words = dst.view(word), src.view(word)
    for j in range(dst_words.shape[-1]):
        np.copyto(dst_words[..., j], src_words[..., j])


class Col2imPlan(Plan):
    """Per-shape state of :class:`Col2im`: the threads' blocks, its strategy and, per tap, its positions
    ``[lo, hi)`` inside ``x`` and its offset (position ``t`` lands on sample ``t*s + offset``); the
    phase GEMM's weight is cached per weight value (:class:`~lucid.algos.base.WeightCache`)."""

    def __init__(self, algorithm: Col2im, layout: Layout) -> None:
        spec = layout.spec
        super().__init__(algorithm, spec)
        self._shares, self._strategy = layout.detail
        self._taps = [(lo, hi, k * spec.dilation - spec.padding[0])
                      for k, (lo, hi) in enumerate(tap_ranges(spec))]
        self._weights = WeightCache(enabled=self._strategy == "phases")
        self._tap_shares: tuple[tuple[Block, ...], ...] | None = None     # for a non-finite re-run

    def run(self, dy: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``dx`` (``N x C_in x L``) from ``dy`` (``N x C_out x L_out``) and ``w`` (``C_out x Cig x K``).

        The phase GEMM multiplies zeros the definition does not (its zero weights, the shifts
        of ``dy`` past its ends), so a NaN/Inf operand could reach samples the definition
        keeps finite: when its ``dx`` holds NaN/Inf (one dot product finds out) and an
        operand does, the taps layout computes it again, keeping ``local_nonfinite``.
        """
        if self._strategy == "phases":
            dx = self._run_phases(dy, w)
            flat = dx.reshape(-1)
            if np.isfinite(np.dot(flat, flat)) or (np.isfinite(dy).all() and np.isfinite(w).all()):
                return dx
            if self._tap_shares is None:
                self._tap_shares = _shares(self.spec)
            return self._run_taps(dy, w, self._tap_shares, "taps")
        return self._run_taps(dy, w, self._shares, self._strategy)

    def _run_taps(self, dy: np.ndarray, w: np.ndarray, shares: tuple[tuple[Block, ...], ...],
                  layout: str) -> np.ndarray:
        """The taps (or in-place) layout over the blocks ``shares``."""
        sp = self.spec
        g, cig, kk, s, dtype = sp.groups, sp.cig, sp.kernel_size, sp.stride, sp.np_dtype
        in_place = layout == "in_place"
        dyg = dy.reshape(sp.n, g, sp.cog, sp.l_out)
        wt = w.reshape(g, sp.cog, cig * kk).swapaxes(-1, -2)          # (G, Cig*K, Cog), a view
        dx = (np.empty if in_place else np.zeros)(sp.input_shape, dtype)
        dxg = dx.reshape(sp.n, g, cig, sp.length)

        def blocks(_slot: int, share: tuple[Block, ...]) -> None:
            for block in share:
                n0, n1, t0, t1 = block
                if in_place:
                    matmul(wt, dyg[n0:n1, :, :, t0:t1], out=dxg[n0:n1, :, :, t0:t1])
                    continue
                nb, tb = n1 - n0, t1 - t0
                scratch = thread_scratch("col2im.columns", _columns(sp, block, "taps"), dtype)
                if _items(sp, block):          # short items: one GEMM over them all, their dy side by side
                    rhs = thread_scratch("col2im.items", _items(sp, block), dtype).reshape(g, sp.cog, nb, tb)
                    np.copyto(rhs, dyg[n0:n1, :, :, t0:t1].transpose(1, 2, 0, 3))
                    cols = np.matmul(wt, rhs.reshape(g, sp.cog, nb * tb), out=scratch.reshape(g, cig * kk, nb * tb))
                    cols = cols.reshape(g, cig, kk, nb, tb).transpose(3, 0, 1, 2, 4)       # (nb, G, Cig, K, T)
                else:
                    cols = matmul(wt, dyg[n0:n1, :, :, t0:t1], out=scratch.reshape(nb, g, cig * kk, tb))
                    cols = cols.reshape(nb, g, cig, kk, tb)
                for k, (lo, hi, offset) in enumerate(self._taps):
                    a, b = max(t0, lo), min(t1, hi)
                    if a < b:
                        start = a * s + offset
                        dxg[n0:n1, :, :, start:start + (b - a - 1) * s + 1:s] += cols[..., k, a - t0:b - t0]

        run_in_slots(shares, len(shares), blocks)
        return dx

    def _run_phases(self, dy: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The phase GEMM: per block of rows ``u0:u1``, ``dy`` stacked with its ``Q`` shifts, times the
        phase weight, written as rows of ``s`` samples of a padded buffer, cropped to ``dx``."""
        sp = self.spec
        g, cog, cig, s, dtype = sp.groups, sp.cog, sp.cig, sp.stride, sp.np_dtype
        q_count, rows = _phase_count(sp), _rows(sp)
        weight = self._weights.get(w, lambda v: _phase_weight(sp, v))           # (G, Cog*Q, Cig*s)
        dyg = dy.reshape(sp.n, g, cog, sp.l_out)
        buffer = np.empty((sp.n, sp.c_in, rows * s), dtype)
        grid = buffer.reshape(sp.n, g, cig, rows, s)

        def blocks(_slot: int, share: tuple[Block, ...]) -> None:
            for block in share:
                n0, n1, u0, u1 = block
                nb, ub = n1 - n0, u1 - u0
                scratch = thread_scratch("col2im.phases", _columns(sp, block, "phases"), dtype)
                stack = scratch[:nb * g * cog * q_count * ub].reshape(nb, g, cog, q_count, ub)
                for q in range(q_count):              # stack[..., o, q, u - u0] = dy[..., o, u - q]
                    a, b = max(u0 - q, 0), min(u1 - q, sp.l_out)
                    dst = stack[:, :, :, q]
                    if a >= b:
                        dst.fill(0)
                        continue
                    dst[..., :a + q - u0] = 0
                    dst[..., a + q - u0:b + q - u0] = dyg[n0:n1, :, :, a:b]
                    dst[..., b + q - u0:] = 0
                lhs = stack.reshape(nb, g, cog * q_count, ub).swapaxes(-1, -2)        # (nb, G, ub, Cog*Q)
                if cig == 1:
                    np.matmul(lhs, weight, out=grid[n0:n1, :, 0, u0:u1])
                    continue
                out = scratch[stack.size:stack.size + nb * g * ub * cig * s].reshape(nb, g, ub, cig * s)
                np.matmul(lhs, weight, out=out)
                _copy_rows(grid[n0:n1, :, :, u0:u1], out.reshape(nb, g, ub, cig, s).transpose(0, 1, 3, 2, 4))

        run_in_slots(self._shares, len(self._shares), blocks)
        if _buffer_is_dx(sp):
            return buffer
        left = sp.padding[0]
        return np.ascontiguousarray(buffer[:, :, left:left + sp.length])


class Col2im(Algorithm):
    """Backward-data natively: a GEMM per block, then a strided scatter-add per tap (module docstring).

    Solves only ``backward_data`` specs (``ops``); its plan's ``run`` takes
    ``(dy, w)`` and returns ``dx``.  One layout per spec, whatever the limit.
    """

    name = "col2im"
    ops = ("backward_data",)

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """Taps: ``flops`` the GEMMs plus the ``N*C_in*K*L_out`` scatter adds; ``python_steps``
        blocks x (``K`` taps + the GEMM); ``tap_read_bytes``: the scatter reads the columns and
        reads and writes ``dx`` once per tap.  Phases: ``flops`` the phase GEMM's (``Q*s/K`` times
        the forward's: its zero weights are multiplied too), ``python_steps`` blocks x (``Q`` shifts
        + the GEMM + the copy out), moved bytes also the stacked ``dy``, the output copy (``Cig >
        1``), the crop and the weight re-layout, workspace also the padded buffer (unless it is
        ``dx``) and the cached phase weight.  ``gemm_calls``: one per item and group of a block."""
        if spec.op != "backward_data":
            return f"col2im: solves backward_data only, not {spec.op}"
        layout = strategy(spec)
        phases = layout == "phases"
        shares = _shares(spec, phases)
        blocks = [block for share in shares for block in share]
        per_thread = max(_columns(spec, block, layout) + (_items(spec, block) if layout == "taps" else 0)
                         for block in blocks)
        per_thread += 0 if layout == "in_place" else 3 * np.getbufsize()
        workspace = len(shares) * per_thread
        steps = len(blocks) * (1 if layout == "in_place" else spec.kernel_size + 1)
        flops = spec.direct_flops + (0 if layout == "in_place" else spec.n * spec.c_in * spec.kernel_size * spec.l_out)
        tap_bytes = 3.0 * (flops - spec.direct_flops) * spec.itemsize
        moved = 0
        if phases:
            q, rows = _phase_count(spec), _rows(spec)
            weight = spec.c_out * spec.cig * q * spec.stride
            buffer = 0 if _buffer_is_dx(spec) else spec.n * spec.c_in * rows * spec.stride
            workspace += buffer + 2 * weight
            flops = spec.direct_flops * q * spec.stride / spec.kernel_size
            steps = len(blocks) * (q + 2)
            tap_bytes = 0.0
            moved = 2 * (q * spec.n * spec.c_out * rows + weight + buffer
                         + (spec.n * spec.c_in * rows * spec.stride if spec.cig > 1 else 0))
        calls = sum(n1 - n0 for n0, n1, _, _ in blocks) * spec.groups
        bound = 2.0 * unit_roundoff(spec) * math.sqrt(spec.cog * spec.kernel_size)
        features = cost_features(spec, flops, workspace * spec.itemsize, python_steps=steps, gemm_calls=calls,
                                 tap_read_bytes=tap_bytes)
        features["moved_bytes"] += moved * spec.itemsize
        return Layout(spec, workspace_limit, workspace * spec.itemsize, flops, bound, features,
                      detail=(shares, layout))

    def build(self, layout: Layout) -> Col2imPlan:
        return Col2imPlan(self, layout)


register(Col2im())
