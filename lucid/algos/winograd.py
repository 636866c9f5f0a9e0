"""winograd: the Winograd family F(m, r) (Lavin & Gray) over cache-sized boxes of tiles.

A tile of F(m, r) turns ``alpha = m + r - 1`` inputs ``v_i = x[p + i*D]``
(``D`` the dilation) into the ``m`` outputs ``z[p + j*D]``::

    z = A^T [ (G w) * (B^T v) ]

so ``alpha`` multiplications replace ``m*r``.  The transforms are generated
from Toom-Cook points (:mod:`lucid.algos._winograd_transforms`), one set per
``(m, r, dtype)``, and applied as small GEMMs over each box (``V = B^T X``,
``Y = A^T M``: faster in NumPy than passes over their sparse +-1/+-2
structure, docs/tuning.md: winograd transforms).  Summed over input channels the
products become ``alpha`` GEMMs per block of tiles: ``M_i = U_i @ V_i`` with
``U_i = (G w)_i`` of shape ``(Cog, Cig)`` per group (batched over groups; an
elementwise product for depthwise) and ``V_i`` of shape ``(Cig, tiles)``.
One algorithm is registered per tile size ``m`` in :data:`TILES`
(``winograd`` is F(2, r), ``winograd4`` F(4, r), ...), each serving
``r = kernel_size`` in 2..5, so the planner sees every tile size as a
candidate with its own error bound and lets the tolerance decide.

**Dilation.**  With the input cut into chunks of ``D`` samples, tile ``(b, q)``
reads chunks ``m*b .. m*b + alpha - 1`` at offset ``q`` and writes output
chunks ``m*b .. m*b + m - 1``: the ``D`` interleaved phases are independent
unit-dilation problems, all served by one strided view, so dilation costs
nothing extra.

**Stride (polyphase).**  With ``g = gcd(s, d)``, ``s' = s/g``, ``d' = d/g``
only every ``g``-th input sample is read.  Tap ``k`` reads phase ``k mod s'``
at offset ``d' * (k // s')``, so stacking the ``min(s', K)`` phases as
channels gives a unit-stride problem at ``D = d'`` with kernels of
``r = ceil(K/s')`` taps (phase ``c`` holds taps ``c, c + s', ...``, zero
padded): ``s'`` times the channels and ``1/s'`` of the taps, without
discarded outputs or a subsampling pass (``D = 1`` when ``r = 1``).  Phase
``p`` of the stacked input is ``x_pad[s*m + d*k_p]`` (``k_p`` its first
tap), gathered once per call into a per-thread buffer
(:func:`~lucid.algos.base.thread_scratch`) that also holds the zero padding
and the zero tail of the last tile.

**Blocking and threads.**  Tiles ``(n, b, q)`` are cut into boxes of about
``_BLOCK_BYTES`` of transform data; each box runs input transform -> GEMMs
-> output transform while it is in L2; the 2 pool threads pull boxes from a
shared queue, each with its own buffers.  With ``D = 1`` the stacked input
keeps the ``m`` chunk residues apart (each tile input is a contiguous row)
and the output GEMM writes ``y`` itself; otherwise the input is in position
order (outputs into ``y`` directly for runs of ``_OUTPUT_RUN`` tiles, else via
a scratch block, the last tile row cropped).  BLAS runs single-threaded on
each pool thread.  Cost, workspace and accuracy: :meth:`Winograd.layout`;
the kernel transform is cached per weight (value-checked).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._blas_threads import single_threaded
from ._gemm import matmul
from ._parallel import num_threads, parallel_for
from ._winograd_tiles import boxes, edge, gemm_in_chunks
from ._winograd_transforms import amplification, transform_arrays
from .base import (
    DEFAULT_WORKSPACE_LIMIT,
    Algorithm,
    Layout,
    Plan,
    WeightCache,
    cost_features,
    thread_scratch,
    ufunc_buffer_bytes,
    unit_roundoff,
)
from .registry import register
from .spec import ConvSpec

#: Tile sizes ``m`` registered (one algorithm each); F(m, r) for every ``r`` in :data:`KERNEL_SIZES`.
TILES = (2, 4, 6)
#: Kernel sizes served.
KERNEL_SIZES = range(2, 6)
#: Transform data per box (V and M blocks), about the per-core L2 (docs/tuning.md: winograd box).
_BLOCK_BYTES = 1024 * 1024
#: Dilation below which the stacked input keeps chunk residues apart and tiles rows-innermost;
#: from it on, position order (docs/tuning.md: winograd position order).
_CONTIGUOUS_RUN = 2
#: Tiles per run from which the output GEMM writes ``y`` directly (one GEMM per channel, item and tile row;
#: shorter runs go through a scratch block: the GEMMs would be too many and too small).
_OUTPUT_RUN = 64
#: OpenBLAS runs a GEMM on the calling thread when ``m*n*k <= 65536 * 4``
#: (docs/tuning.md: winograd serial GEMMs).
_BLAS_SERIAL_MNK = 65536 * 4
#: Constant of the normwise error bound ``c * u * sqrt(r * Cig') * amplification(m, r)``,
#: direct's (docs/tuning.md: winograd error).
_ERROR_CONSTANT = 2.0


@dataclass(frozen=True)
class _Layout:
    """The unit-stride problem a spec reduces to, its tile and its blocking.

    ``phases`` lists ``(k_p, taps)`` per stacked phase: the input offset is
    ``d*k_p`` and ``taps`` maps original tap ``k`` to position ``j`` in the
    padded kernel of ``r`` taps.  ``dil`` is the reduced dilation ``D``;
    ``rows`` the tile rows ``nb`` (each ``m*D`` outputs); ``tile`` the tiles per box.
    """

    m: int
    r: int
    phases: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]
    dil: int
    rows: int
    tile: int
    slots: int

    @property
    def alpha(self) -> int:
        """Inputs per tile, ``m + r - 1``."""
        return self.m + self.r - 1

    @property
    def groups_of_rows(self) -> int:
        """Rows of ``m`` chunks in the stacked input: ``rows`` plus those the last tile reads beyond."""
        return self.rows + -(-(self.r - 1) // self.m)

    @property
    def width(self) -> int:
        """Stacked input length ``m * groups_of_rows * D``."""
        return self.m * self.groups_of_rows * self.dil


def _phases(spec: ConvSpec) -> tuple[tuple, int, int]:
    """Polyphase split of the taps: ``((k_p, ((k, j), ...)), ...)``, ``D`` and ``r``."""
    g = math.gcd(spec.stride, spec.dilation)
    s, d, k = spec.stride // g, spec.dilation // g, spec.kernel_size
    r = -(-k // s)
    phases = tuple((c, tuple((t, (t - c) // s) for t in range(c, k, s))) for c in range(min(s, k)))
    return phases, (d if r > 1 else 1), r


def _sizes(spec: ConvSpec, m: int, phases: tuple, dil: int, r: int) -> tuple[int, int]:
    """Bytes of the fixed buffers (stacked input, U, weight key) and per tile per slot."""
    p, it, alpha = len(phases), spec.itemsize, m + r - 1
    rows = -(-spec.l_out // (m * dil))
    width = m * (rows + -(-(r - 1) // m)) * dil
    fixed = (spec.n * p * spec.c_in * width + alpha * spec.c_out * p * spec.cig
             + spec.kernel_size * spec.c_out * spec.cig) * it
    # X (then Y), V and M
    per_tile = (max(alpha * p * spec.c_in, m * spec.c_out) + alpha * (p * spec.c_in + spec.c_out)) * it
    return fixed, per_tile


def _layout(spec: ConvSpec, m: int, workspace_limit: int) -> _Layout:
    """Choose the reduction and the box size within ``workspace_limit`` bytes."""
    phases, dil, r = _phases(spec)
    rows = -(-spec.l_out // (m * dil))
    fixed, per_tile = _sizes(spec, m, phases, dil, r)
    total = spec.n * rows * dil
    slots = min(num_threads(), total)
    cache_tiles = _BLOCK_BYTES // per_tile
    limit_tiles = (workspace_limit - fixed - slots * ufunc_buffer_bytes(spec)) // (slots * per_tile)
    tile = max(1, min(cache_tiles, limit_tiles, -(-total // slots)))
    return _Layout(m, r, phases, dil, rows, tile, slots)


class WinogradPlan(Plan):
    """Per-shape state of :class:`Winograd`: layout, boxes, transform programs and the kernel cache.

    ``run`` takes no lock (the kernel transform is published atomically by its
    weight cache), so threads share a plan and run it concurrently; inside,
    the boxes are split over the thread pool, each thread with its own box
    buffer (V, M, spare and output rows).  That buffer and the stacked input
    are borrowed from :func:`~lucid.algos.base.thread_scratch` (shared by
    every plan, so a new shape touches no fresh pages); the kernel transform
    ``U`` is held by the weight cache, fresh for each new weight.
    """

    def __init__(self, algorithm: Winograd, spec: ConvSpec, layout: _Layout, weight_varies: bool = False) -> None:
        super().__init__(algorithm, spec)
        self.layout = layout
        sp, lay = spec, layout
        self._cin = len(lay.phases) * sp.c_in
        self._g = transform_arrays(lay.m, lay.r, "float64")[1]
        # Stacked input: tile rows b innermost for short dilations, phase-major with
        # the m chunk residues apart (lane (q, e) holds x_pad[(m*r + e)*D + q]),
        # so every transform pass reads contiguous runs; else position order.
        self._rows_inner = lay.dil < _CONTIGUOUS_RUN
        lanes, self._step = (lay.m * lay.dil, lay.m * lay.dil) if self._rows_inner else (1, 1)
        self._xs_shape = (sp.n, sp.groups, len(lay.phases), sp.cig, lanes, lay.width // lanes)
        self._boxes = boxes(sp.n, lay.rows, lay.dil, lay.tile)
        self._box_size = lay.tile * (max(lay.alpha * self._cin, lay.m * sp.c_out) + lay.alpha * (self._cin + sp.c_out))
        self._at, _, self._bt = transform_arrays(lay.m, lay.r, sp.dtype)
        self._slots = min(lay.slots, len(self._boxes))
        self._full_rows = sp.l_out // (lay.m * lay.dil)
        self._depthwise = self._cin == sp.groups and sp.cog == 1
        self._chunk = max(1, _BLAS_SERIAL_MNK // (sp.cog * (self._cin // sp.groups)))
        # Tile order in V and M, axes of (C, n, b, q): q innermost or b innermost.
        self._order = (0, 3, 1, 2) if self._rows_inner else (0, 1, 2, 3)
        self._logical = tuple(int(a) for a in np.argsort(self._order))
        self._cache = WeightCache(enabled=not weight_varies)

    def _kernel_transform(self, w: np.ndarray) -> np.ndarray:
        """``U = G w'`` of shape ``(alpha, groups, Cog, Cig')`` for the phase-stacked kernel ``w'``.

        Formed in float64 and rounded once; fresh, so that concurrent runs of
        the plan keep the transform they read (see :class:`~lucid.algos.base.WeightCache`).
        """
        sp, lay = self.spec, self.layout
        wp = np.zeros((sp.c_out, len(lay.phases), sp.cig, lay.r))
        for p, (_, taps) in enumerate(lay.phases):
            for k, j in taps:
                wp[:, p, :, j] = w[:, :, k]
        u = np.tensordot(self._g, wp, axes=([1], [3])).astype(sp.np_dtype)
        return u.reshape(lay.alpha, sp.groups, sp.cog, -1)

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        sp = self.spec
        y = np.empty(sp.output_shape, sp.np_dtype)
        xs = thread_scratch("winograd.stack", math.prod(self._xs_shape), sp.np_dtype).reshape(self._xs_shape)
        u = self._cache.get(w, self._kernel_transform)
        parallel_for(sp.n, lambda lo, hi: self._stack(xs[lo:hi], x, lo, hi))
        queue, take = iter(self._boxes), threading.Lock()
        with single_threaded():
            parallel_for(self._slots, lambda lo, hi: self._slot_run(xs, queue, take, u, y))
        return y

    def _stack(self, xs: np.ndarray, x: np.ndarray, n0: int, n1: int) -> None:
        """Gather phase ``p``: position ``o`` of ``xs[n, :, p]`` is ``x_pad[n, :, s*o + d*k_p]``.

        Positions are lanes ``(q, e)`` x rows ``r`` (``o = r*step + e*D + q``; one lane
        when ``step == 1``).  Rows inside ``x`` are one strided copy; the few rows
        touching the padding or the zero tail are filled lane by lane.
        """
        sp, lay = self.spec, self.layout
        s, step, rows = sp.stride, self._step, xs.shape[-1]
        q_lanes, e_lanes = (lay.dil, lay.m) if self._rows_inner else (1, 1)
        xg = x[n0:n1].reshape(n1 - n0, sp.groups, sp.cig, sp.length)
        it = xg.strides[-1]
        for p, (k, _) in enumerate(lay.phases):
            offset = sp.dilation * k - sp.padding[0]           # x index of position 0
            inside = (-(offset // s), -(-(sp.length - offset) // s))   # positions within x
            r0 = min(rows, max(0, -(-inside[0] // step)))
            r1 = max(r0, min(rows, inside[1] // step))
            lanes = np.reshape(xs[:, :, p], xs.shape[:2] + (sp.cig, q_lanes, e_lanes, rows), copy=False)
            if r1 > r0:
                src = xg[..., offset + s * step * r0:]
                lanes[..., r0:r1] = as_strided(src, src.shape[:3] + (q_lanes, e_lanes, r1 - r0),
                                               src.strides[:3] + (s * it, s * lay.dil * it, s * step * it))
            for q, e in np.ndindex(q_lanes, e_lanes):
                for a, b in ((0, r0), (r1, rows)):
                    edge(lanes[..., q, e, a:b], xg, offset + s * (e * lay.dil + q + step * a), s * step)

    def _slot_run(self, xs: np.ndarray, queue, take: threading.Lock, u: np.ndarray, y: np.ndarray) -> None:
        """Run boxes from the shared ``queue`` on this thread's box buffer until it is empty
        (dynamic shares: a descheduled thread does not leave the other one waiting)."""
        buf = thread_scratch("winograd.box", self._box_size, self.spec.np_dtype)
        while True:
            with take:
                box = next(queue, None)
            if box is None:
                return
            self._box(box, xs, buf, u, y)

    def _sources(self, xs: np.ndarray, n0: int, n1: int, b0: int, bb: int, q0: int, q1: int) -> list[np.ndarray]:
        """Views of input chunks ``m*b + i`` (``i < alpha``) of the box's tiles, in V's memory order."""
        lay, nn, cin = self.layout, n1 - n0, self._cin
        m, dil = lay.m, lay.dil
        if self._rows_inner:     # lanes (q, e), rows r: chunk m*b + i is lane (q, i % m), row b + i // m
            lanes = xs[n0:n1].reshape(nn, cin, dil, m, lay.groups_of_rows)[:, :, q0:q1]
            return [lanes[:, :, :, i % m, b0 + i // m:b0 + i // m + bb].transpose(1, 2, 0, 3)
                    for i in range(lay.alpha)]
        chunks = xs[n0:n1].reshape(nn, cin, m * lay.groups_of_rows, dil)[:, :, m * b0:, q0:q1]
        return [chunks[:, :, i:i + m * bb:m].transpose(1, 0, 2, 3) for i in range(lay.alpha)]

    def _box(self, box: tuple, xs: np.ndarray, buf: np.ndarray, u: np.ndarray, y: np.ndarray) -> None:
        """Input transform -> GEMMs -> output transform for the tiles of one box.

        The transforms are GEMMs too: the ``alpha`` source views are copied
        into one contiguous block ``X`` (``alpha x C'*t``), ``V = B^T X``, and
        ``Y = A^T M``; within whole tile rows the output GEMM writes ``y``
        itself: per channel as ``M_c^T A`` (``D = 1``: an ``m``-wide row per
        tile) or per channel and tile row as ``A^T M`` (runs of ``>= _OUTPUT_RUN`` tiles).
        """
        sp, lay, (n0, n1, b0, b1, q0, q1) = self.spec, self.layout, box
        nn, bb, qq = n1 - n0, b1 - b0, q1 - q0
        t, cin, g, a, co = nn * bb * qq, self._cin, sp.groups, lay.alpha, sp.c_out
        dims = tuple((nn, bb, qq)[k - 1] for k in self._order[1:])      # tile axes in memory order
        first = max(a * cin, lay.m * co) * t                             # X, later Y
        x_ = buf[:a * cin * t].reshape((a, cin) + dims)
        v = buf[first:first + a * cin * t].reshape((a, cin) + dims)
        m = buf[first + a * cin * t:][:a * co * t].reshape((a, co) + dims)
        for i, src in enumerate(self._sources(xs, n0, n1, b0, bb, q0, q1)):
            np.copyto(x_[i], src)
        matmul(self._bt, x_.reshape(a, cin * t), out=v.reshape(a, cin * t))
        if self._depthwise:
            np.multiply(u[..., 0], v.reshape(a, g, t), out=m.reshape(a, g, t))
        else:
            gemm_in_chunks(u, v.reshape(a, g, cin // g, t), m.reshape(a, g, sp.cog, t), self._chunk)
        if b1 <= self._full_rows and (lay.dil == 1 or qq >= _OUTPUT_RUN):
            step = lay.m * lay.dil
            rows = np.reshape(y[n0:n1, :, step * b0:step * b1], (nn, co, bb, lay.m, lay.dil), copy=False)
            if lay.dil == 1:      # per channel and item: (bb x alpha) @ (alpha x m) into rows of y
                matmul(m.reshape(a, co, nn, bb).transpose(1, 2, 3, 0), self._at.T, out=rows[..., 0].swapaxes(0, 1))
            else:                 # per channel, item and tile row: (m x alpha) @ (alpha x qq) into runs of y
                matmul(self._at, m.transpose(1, 2, 3, 0, 4), out=rows[..., q0:q1].swapaxes(0, 1))
            return
        yb = buf[:lay.m * co * t].reshape((lay.m, co) + dims)
        matmul(self._at, m.reshape(a, co * t), out=yb.reshape(lay.m, co * t))
        self._emit(yb, box, dims, y)

    def _emit(self, yb: np.ndarray, box: tuple, dims: tuple, y: np.ndarray) -> None:
        """Copy the box's outputs ``yb`` (``m x C_out x tiles``, tiles in V's memory order) into ``y``:
        whole tile rows in one copy, the last tile row (it overhangs ``L_out``) cropped per output."""
        sp, lay, (n0, n1, b0, b1, q0, q1) = self.spec, self.layout, box
        tiles = yb.reshape((lay.m, sp.c_out) + dims).transpose((0,) + tuple(1 + k for k in self._logical))
        main, step = max(b0, min(b1, self._full_rows)), lay.m * lay.dil
        if main > b0:
            full = np.reshape(y[n0:n1, :, :step * self._full_rows],
                              (n1 - n0, sp.c_out, self._full_rows, lay.m, lay.dil), copy=False)
            np.copyto(full[:, :, b0:main, :, q0:q1], tiles[:, :, :, :main - b0].transpose(2, 1, 3, 0, 4))
        for j in range(lay.m if b1 > main else 0):
            first = main * step + j * lay.dil + q0
            count = min(q1 - q0, sp.l_out - first)
            if count > 0:
                y[n0:n1, :, first:first + count] = tiles[j, :, :, -1, :count].swapaxes(0, 1)

class Winograd(Algorithm):
    """Winograd F(m, r) with ``r = kernel_size`` in 2..5 at any stride, dilation, groups and padding.

    One instance per tile size ``m`` (:data:`TILES`): ``winograd`` is F(2, r),
    ``winograd{m}`` F(m, r).  Not ``local_nonfinite``: an Inf input enters the
    tile's transform as ``Inf - Inf`` terms, so every output of its tile may
    turn NaN where the definition gives +-Inf.

    Examples
    --------
    >>> import numpy as np
    >>> from lucid.algos.spec import ConvSpec
    >>> spec = ConvSpec(1, 2, 3, 9, 3, padding=(1, 1), dtype="float64")
    >>> x, w = np.arange(18.0).reshape(spec.input_shape), np.ones(spec.weight_shape)
    >>> tile_algorithm(4)().prepare(spec, 1 << 20).run(x, w)[0, 0]
    array([20., 33., 39., 45., 51., 57., 63., 69., 48.])
    """

    name = "winograd"
    family = "winograd"
    #: Outputs per tile.
    m: ClassVar[int] = 2
    local_nonfinite = False

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """The reduction, tile and box size within ``workspace_limit`` (:func:`_layout`);
        the reason when ``kernel_size`` is not in 2..5.

        FLOPs: ``2*T*alpha*(alpha*C' + C_out*Cig' + m*C_out)`` for
        ``T = N*ceil(L_out/(m*D))*D`` tiles, ``C' = P*C_in``, ``Cig' = P*Cig``
        (``P`` phases); the main GEMMs are ``alpha/(m*r)`` of ``spec.direct_flops``
        at stride 1 (plus the discarded outputs of the last tile row); the
        cached kernel transform is not counted.

        Workspace: the stacked input (``N * P * C_in * width`` elements), the
        kernel transform and its weight key are fixed; the per-slot box buffers
        shrink with the limit (down to one tile), and each slot's transforms
        need NumPy's transient ufunc buffers
        (:func:`~lucid.algos.base.ufunc_buffer_bytes`), so a limit below that
        floor is exceeded by it.

        Error bound: normwise relative ``2 * u * sqrt(r * Cig') * amplification(m, r)``:
        direct's square-root model for dot products of length ``r*Cig'``,
        times the growth of the transforms
        (:func:`~lucid.algos._winograd_transforms.amplification`: 1.3 for F(2,3),
        5.6 for F(4,3), 6.8 for F(6,3); relative to the products' scale, i.e. ``||y||``
        unless they cancel); measured float32 errors are 1/9 to 1/32 of it.
        """
        if spec.kernel_size not in KERNEL_SIZES:
            return f"{self.name}: needs kernel_size in 2..5, got {spec.kernel_size}"
        lay = _layout(spec, self.m, workspace_limit)
        fixed, per_tile = _sizes(spec, self.m, lay.phases, lay.dil, lay.r)
        workspace = fixed + lay.slots * (lay.tile * per_tile + ufunc_buffer_bytes(spec))
        tiles = spec.n * lay.rows * lay.dil
        cin, cig = len(lay.phases) * spec.c_in, len(lay.phases) * spec.cig
        flops = float(tiles * 2 * lay.alpha * (lay.alpha * cin + spec.c_out * cig + self.m * spec.c_out))
        bound = _ERROR_CONSTANT * unit_roundoff(spec) * math.sqrt(lay.r * cig) * amplification(self.m, lay.r)
        return Layout(spec, workspace_limit, workspace, flops, bound, cost_features(spec, flops, workspace),
                      detail=lay)

    def build(self, layout: Layout) -> WinogradPlan:
        return WinogradPlan(self, layout.spec, layout.detail, layout.weight_varies)


def tile_algorithm(m: int) -> type[Winograd]:
    """The :class:`Winograd` subclass of tile size ``m`` (named ``winograd{m}``; ``winograd`` for 2)."""
    if m == Winograd.m:
        return Winograd
    return type(f"Winograd{m}", (Winograd,), {"m": m, "name": f"winograd{m}", "__doc__": f"Winograd F({m}, r)."})


for _m in TILES:
    register(tile_algorithm(_m)())
