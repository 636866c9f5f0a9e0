"""winograd: Winograd F(2,3) (Lavin & Gray) over cache-sized blocks of tiles.

For a unit-stride convolution with dilation ``D`` every output pair
``(z[p], z[p + D])`` comes from four inputs ``v = x[p + i*D], i = 0..3``::

    z = A^T [ (G w) * (B^T v) ]       B^T = [[1, 0,-1, 0],      G = [[1,   0,   0  ],
                                             [0, 1, 1, 0],           [1/2, 1/2, 1/2],
    A^T = [[1, 1, 1, 0],                     [0,-1, 1, 0],           [1/2,-1/2, 1/2],
           [0, 1,-1,-1]]                     [0, 1, 0,-1]]           [0,   0,   1  ]]

so 4 multiplications replace 6.  Summed over input channels, the products
become 4 GEMMs per block of tiles (one per transform point ``i``):
``M_i = U_i @ V_i`` with ``U_i = (G w)_i`` of shape ``(Cog, Cig)`` per group
(batched over groups; an elementwise product for depthwise) and ``V_i`` of
shape ``(Cig, tiles)``.

**Dilation.**  With the input cut into chunks of ``D`` samples, tile ``(b, q)``
reads chunks ``2b .. 2b+3`` at offset ``q`` and writes output chunks ``2b`` and
``2b+1``: the ``D`` interleaved phases are independent unit-dilation problems,
all served by one strided view, so dilation costs nothing extra.

**Stride (polyphase).**  With ``g = gcd(s, d)``, ``s' = s/g``, ``d' = d/g``
only every ``g``-th input sample is read.  For ``s' = 1`` the problem is
unit-stride at ``D = d'``.  For ``s' = 2`` taps 0 and 2 read the even phase
(offsets 0 and ``d'``) and tap 1 the odd phase, so stacking the two phases as
channels gives a unit-stride K=3 problem at ``D = d'`` with kernels
``(w0, w2, 0)`` and ``(w1, 0, 0)`` and ``2*Cig`` channels: 4/3 of the direct
FLOPs, as much as computing the unit-stride output and keeping every second
sample, but without the discarded outputs or a subsampling pass.  For
``s' >= 3`` every tap has its own phase (three channel blocks of kernel
``(w_k, 0, 0)``, ``D = 1``): twice the direct FLOPs, a case where direct or
im2col should be chosen.  Phase ``p`` of the stacked input is
``x_pad[s*m + d*k_p]`` (``k_p`` its first tap), gathered once per call into a
per-thread buffer (:func:`~lucid.algos.base.thread_scratch`) that also holds
the zero padding and the zero tail of the last tile.

**Blocking and threads.**  Tiles ``(n, b, q)`` are cut into boxes of about
``_BLOCK_BYTES`` of transform data; each box runs input transform -> 4 GEMMs
-> output transform while it is in L2; the 2 pool threads pull boxes from a
shared queue, each with its own buffers.  Outputs of the last, partial tile
row go through a small scratch and are cropped.  The stacked input is kept
phase-major with even and odd chunks apart for ``D < 16`` (every transform
pass then reads contiguous rows), in position order otherwise.  Each GEMM is cut into column
chunks small enough (``m*n*k <= 262144``) that OpenBLAS runs them on the
calling pool thread (docs/tuning.md: winograd serial GEMMs).

Cost: ``4*C'*T`` (input transform) ``+ 8*C_out*Cig'*T`` (GEMMs) ``+ 4*C_out*T``
(output transform) FLOPs for ``T = N*ceil(L_out/2D)*D`` tiles, ``C' = P*C_in``
and ``Cig' = P*Cig`` (``P`` phases) -- about 2/3 of direct at unit stride.
The kernel transform is cached per weight (value-checked, so in-place updates
are seen).  Accuracy: the transforms add a few roundings per tile, see
:meth:`Winograd.layout`.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._parallel import THREADS, parallel_for
from ._winograd_tiles import boxes, gemm_in_chunks, input_transform, output_transform, tile_rows
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

#: Transform data per box (V and M blocks), about the per-core L2 (docs/tuning.md: winograd box).
_BLOCK_BYTES = 1024 * 1024
#: Dilation below which the stacked input is phase-major and tiles rows-innermost;
#: from it on, position order with runs of ``D`` innermost (short loops cost ~2x).
_CONTIGUOUS_RUN = 16
#: OpenBLAS runs a GEMM on the calling thread when ``m*n*k <= 65536 * 4``
#: (docs/tuning.md: winograd serial GEMMs).
_BLAS_SERIAL_MNK = 65536 * 4
#: Constant of the normwise error bound ``c * u * sqrt(3 * Cig')``, twice direct's
#: (docs/tuning.md: winograd error).
_ERROR_CONSTANT = 4.0


@dataclass(frozen=True)
class _Layout:
    """The unit-stride problem a spec reduces to, and its blocking.

    ``phases`` lists ``(k_p, taps)`` per stacked phase: the input offset is
    ``d*k_p`` and ``taps`` maps original tap ``k`` to position ``j`` in the
    padded K=3 kernel.  ``dil`` is the reduced dilation ``D``; ``rows`` the
    tile rows ``nb`` (each ``2*D`` outputs); ``tile`` the tiles per box.
    """

    phases: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]
    dil: int
    rows: int
    tile: int
    slots: int

    @property
    def width(self) -> int:
        """Stacked input length ``(2*rows + 2) * D`` (4 chunks per tile row pair)."""
        return (2 * self.rows + 2) * self.dil


def _phases(spec: ConvSpec) -> tuple[tuple, int]:
    """Polyphase split of the 3 taps: ``((k_p, ((k, j), ...)), ...)`` and ``D``."""
    g = math.gcd(spec.stride, spec.dilation)
    s, d = spec.stride // g, spec.dilation // g
    if s == 1:
        return ((0, ((0, 0), (1, 1), (2, 2))),), d
    if s == 2:
        return ((0, ((0, 0), (2, 1))), (1, ((1, 0),))), d
    return tuple((k, ((k, 0),)) for k in range(3)), 1


def _sizes(spec: ConvSpec, phases: tuple, dil: int) -> tuple[int, int]:
    """Bytes of the fixed buffers (stacked input, U, weight key) and per tile per slot."""
    p, it = len(phases), spec.itemsize
    rows = -(-spec.l_out // (2 * dil))
    fixed = (spec.n * p * spec.c_in * (2 * rows + 2) * dil + 4 * spec.c_out * p * spec.cig
             + 3 * spec.c_out * spec.cig) * it
    per_tile = (4 * p * spec.c_in + 6 * spec.c_out) * it   # V, M and the tail scratch
    return fixed, per_tile


def _layout(spec: ConvSpec, workspace_limit: int) -> _Layout:
    """Choose the reduction and the box size within ``workspace_limit`` bytes."""
    phases, dil = _phases(spec)
    rows = -(-spec.l_out // (2 * dil))
    fixed, per_tile = _sizes(spec, phases, dil)
    total = spec.n * rows * dil
    slots = min(THREADS, total)
    cache_tiles = _BLOCK_BYTES // (per_tile - 2 * spec.c_out * spec.itemsize)
    limit_tiles = (workspace_limit - fixed - slots * ufunc_buffer_bytes(spec)) // (slots * per_tile)
    tile = max(1, min(cache_tiles, limit_tiles, -(-total // slots)))
    return _Layout(phases, dil, rows, tile, slots)


class WinogradPlan(Plan):
    """Per-shape state of :class:`Winograd`: layout, boxes and the kernel cache.

    ``run`` takes no lock (the kernel transform is published atomically by its
    weight cache), so threads share a plan and run it concurrently; inside,
    the boxes are split over the thread pool, each thread with its own V, M
    and tail buffer.  That buffer and the stacked input are borrowed from
    :func:`~lucid.algos.base.thread_scratch` (shared by every plan, so a new
    shape touches no fresh pages); the kernel transform ``U`` is held by the
    weight cache, fresh for each new weight.
    """

    def __init__(self, algorithm: Winograd, spec: ConvSpec, layout: _Layout, weight_varies: bool = False) -> None:
        super().__init__(algorithm, spec)
        self.layout = layout
        sp, lay = spec, layout
        self._cin = len(lay.phases) * sp.c_in
        # Stacked input: tile rows b innermost for short dilations, phase-major
        # with even and odd chunks apart (lane (q, e) holds x_pad[(2r + e)*D + q]),
        # so every transform pass reads contiguous runs; else position order.
        self._rows_inner = lay.dil < _CONTIGUOUS_RUN
        lanes, self._step = (2 * lay.dil, 2 * lay.dil) if self._rows_inner else (1, 1)
        self._xs_shape = (sp.n, sp.groups, len(lay.phases), sp.cig, lanes, lay.width // lanes)
        self._boxes = boxes(sp.n, lay.rows, lay.dil, lay.tile)
        self._box_size = lay.tile * (4 * self._cin + 6 * sp.c_out)
        self._slots = min(lay.slots, len(self._boxes))
        self._full_rows = sp.l_out // (2 * lay.dil)
        self._depthwise = self._cin == sp.groups and sp.cog == 1
        self._chunk = max(1, _BLAS_SERIAL_MNK // (sp.cog * (self._cin // sp.groups)))
        # Tile order in V and M, axes of (C, n, b, q): q innermost or b innermost.
        self._order = (0, 3, 1, 2) if self._rows_inner else (0, 1, 2, 3)
        self._cache = WeightCache(enabled=not weight_varies)

    def _kernel_transform(self, w: np.ndarray) -> np.ndarray:
        """``U = G w'`` of shape ``(4, groups, Cog, Cig')`` for the phase-stacked kernel ``w'``.

        Accumulated tap by tap into a fresh ``U`` (rows of ``G``: ``[1,0,0]``,
        ``[1,1,1]/2``, ``[1,-1,1]/2``, ``[0,0,1]``), so no other weight-sized
        temporaries are allocated; fresh, so that concurrent runs of the plan
        keep the transform they read (see :class:`~lucid.algos.base.WeightCache`).
        """
        sp = self.spec
        u = np.zeros((4, sp.c_out, len(self.layout.phases), sp.cig), sp.np_dtype)
        for p, (_, taps) in enumerate(self.layout.phases):
            for k, j in taps:
                wk = w[:, :, k]
                if j == 0:
                    u[0, :, p] += wk
                if j == 2:
                    u[3, :, p] += wk
                u[1, :, p] += wk
                if j == 1:
                    u[2, :, p] -= wk
                else:
                    u[2, :, p] += wk
        u[1:3] *= 0.5
        return u.reshape(4, sp.groups, sp.cog, -1)

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        sp = self.spec
        y = np.empty(sp.output_shape, sp.np_dtype)
        xs = thread_scratch("winograd.stack", math.prod(self._xs_shape), sp.np_dtype).reshape(self._xs_shape)
        u = self._cache.get(w, self._kernel_transform)
        parallel_for(sp.n, lambda lo, hi: self._stack(xs[lo:hi], x, lo, hi))
        queue, take = iter(self._boxes), threading.Lock()
        parallel_for(self._slots, lambda lo, hi: self._slot_run(xs, queue, take, u, y))
        return y

    def _stack(self, xs: np.ndarray, x: np.ndarray, n0: int, n1: int) -> None:
        """Gather phase ``p``: position ``m`` of ``xs[n, :, p]`` is ``x_pad[n, :, s*m + d*k_p]``.

        Positions are lanes ``(q, e)`` x rows ``r`` (``m = r*step + e*D + q``; one lane
        when ``step == 1``).  Rows inside ``x`` are one strided copy; the few rows
        touching the padding or the zero tail are filled lane by lane.
        """
        sp = self.spec
        s, step, rows = sp.stride, self._step, xs.shape[-1]
        q_lanes, e_lanes = (self.layout.dil, 2) if self._rows_inner else (1, 1)
        xg = x[n0:n1].reshape(n1 - n0, sp.groups, sp.cig, sp.length)
        it = xg.strides[-1]
        for p, (k, _) in enumerate(self.layout.phases):
            offset = sp.dilation * k - sp.padding[0]           # x index of position 0
            inside = (-(offset // s), -(-(sp.length - offset) // s))   # positions within x
            r0 = min(rows, max(0, -(-inside[0] // step)))
            r1 = max(r0, min(rows, inside[1] // step))
            lanes = np.reshape(xs[:, :, p], xs.shape[:2] + (sp.cig, q_lanes, e_lanes, rows), copy=False)
            if r1 > r0:
                src = xg[..., offset + s * step * r0:]
                lanes[..., r0:r1] = as_strided(src, src.shape[:3] + (q_lanes, e_lanes, r1 - r0),
                                               src.strides[:3] + (s * it, s * self.layout.dil * it, s * step * it))
            for q, e in np.ndindex(q_lanes, e_lanes):
                for a, b in ((0, r0), (r1, rows)):
                    self._edge(lanes[..., q, e, a:b], xg, offset + s * (e * self.layout.dil + q + step * a), s * step)

    @staticmethod
    def _edge(out: np.ndarray, xg: np.ndarray, start: int, step: int) -> None:
        """``out[..., r] = xg[..., start + step*r]`` where that index is inside ``xg``, else 0."""
        count, length = out.shape[-1], xg.shape[-1]
        lo = min(count, max(0, -(start // step)))
        hi = max(lo, min(count, -(-(length - start) // step)))
        out[..., :lo] = 0
        out[..., hi:] = 0
        if hi > lo:
            first = start + step * lo
            out[..., lo:hi] = xg[..., first:first + step * (hi - lo - 1) + 1:step]

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
        """Views of input chunks ``2b + i`` (``i = 0..3``) of the box's tiles, in V's memory order."""
        nn, cin, rows, dil = n1 - n0, self._cin, self.layout.rows, self.layout.dil
        if self._rows_inner:     # lanes (q, e), rows r: chunk 2b + i is lane (q, i % 2), row b + i // 2
            lanes = xs[n0:n1].reshape(nn, cin, dil, 2, rows + 1)[:, :, q0:q1]
            return [lanes[:, :, :, i % 2, b0 + i // 2:b0 + i // 2 + bb].transpose(1, 2, 0, 3) for i in range(4)]
        chunks = xs[n0:n1].reshape(nn, cin, 2 * rows + 2, dil)[:, :, 2 * b0:, q0:q1]
        return [chunks[:, :, i:i + 2 * bb:2].transpose(1, 0, 2, 3) for i in range(4)]

    def _box(self, box: tuple, xs: np.ndarray, buf: np.ndarray, u: np.ndarray, y: np.ndarray) -> None:
        """Input transform -> 4 GEMMs -> output transform for the tiles of one box."""
        sp, dil = self.spec, self.layout.dil
        n0, n1, b0, b1, q0, q1 = box
        nn, bb, qq = n1 - n0, b1 - b0, q1 - q0
        t, cin, g = nn * bb * qq, self._cin, sp.groups
        order, bax = self._order, 1 + self._order.index(2)
        dims = tuple((nn, bb, qq)[a - 1] for a in order[1:])      # tile axes in memory order
        v = buf[:4 * cin * t].reshape((4, cin) + dims)
        m = buf[4 * cin * t:4 * (cin + sp.c_out) * t].reshape((4, sp.c_out) + dims)
        input_transform(self._sources(xs, n0, n1, b0, bb, q0, q1), v)
        if self._depthwise:
            np.multiply(u[..., 0], v.reshape(4, g, t), out=m.reshape(4, g, t))
        else:
            gemm_in_chunks(u, v.reshape(4, g, cin // g, t), m.reshape(4, g, sp.cog, t), self._chunk)
        main = min(b1, self._full_rows)
        if main > b0:
            full = np.reshape(y[n0:n1, :, :2 * dil * main], (nn, sp.c_out, main, 2, dil), copy=False)
            output_transform(tile_rows(m, bax, 0, main - b0),
                              *(full[:, :, b0:main, j, q0:q1].transpose(1, 0, 2, 3).transpose(order) for j in (0, 1)))
        if b1 > main:   # the last tile row overhangs L_out: transform into scratch, crop
            tail = buf[4 * (cin + sp.c_out) * t:][:sp.c_out * nn * 2 * qq].reshape(2, sp.c_out, nn, 1, qq)
            output_transform(tile_rows(m, bax, main - b0, bb), tail[0].transpose(order), tail[1].transpose(order))
            for j in (0, 1):
                first = (2 * main + j) * dil + q0
                count = min(qq, sp.l_out - first)
                if count > 0:
                    y[n0:n1, :, first:first + count] = tail[j, :, :, 0, :count].transpose(1, 0, 2)


class Winograd(Algorithm):
    """Winograd F(2,3) for ``kernel_size == 3`` at any stride, dilation, groups and padding.

    Not ``local_nonfinite``: an Inf input enters the tile's transform as
    ``Inf - Inf`` terms, so both outputs of its tile may turn NaN where the
    definition gives +-Inf.

    Examples
    --------
    >>> import numpy as np
    >>> from lucid.algos.spec import ConvSpec
    >>> spec = ConvSpec(1, 2, 3, 9, 3, padding=(1, 1), dtype="float64")
    >>> x, w = np.arange(18.0).reshape(spec.input_shape), np.ones(spec.weight_shape)
    >>> Winograd().prepare(spec, 1 << 20).run(x, w)[0, 0]
    array([20., 33., 39., 45., 51., 57., 63., 69., 48.])
    """

    name = "winograd"
    local_nonfinite = False

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """The reduction and box size within ``workspace_limit`` (:func:`_layout`);
        the reason when ``kernel_size != 3``.

        FLOPs: ``T*(4*C' + 8*C_out*Cig' + 4*C_out)`` (module docstring), about
        2/3 of ``spec.direct_flops`` at stride 1 (plus the discarded outputs of
        the last tile row), 4/3 at stride 2 and 2x at stride >= 3; the cached
        kernel transform is not counted.

        Workspace: the stacked input (``N * P * C_in * (2*rows + 2) * D``
        elements), the kernel transform and its weight key are fixed; the
        per-slot V, M and tail buffers shrink with the limit (down to one
        tile), and each slot's transforms need NumPy's transient ufunc buffers
        (:func:`~lucid.algos.base.ufunc_buffer_bytes`), so a limit below that
        floor is exceeded by it.

        Error bound: normwise relative ``4 * u * sqrt(3 * Cig')``.  The dot
        products have length ``3*Cig'`` as in direct (square-root growth
        model); the transforms have entries of magnitude <= 1 and add a few
        roundings per tile, covered by doubling direct's constant.
        """
        if spec.kernel_size != 3:
            return f"winograd: F(2,3) needs kernel_size=3, got {spec.kernel_size}"
        lay = _layout(spec, workspace_limit)
        fixed, per_tile = _sizes(spec, lay.phases, lay.dil)
        workspace = fixed + lay.slots * (lay.tile * per_tile + ufunc_buffer_bytes(spec))
        tiles = spec.n * lay.rows * lay.dil
        cin = len(lay.phases) * spec.c_in
        flops = float(tiles * (4 * cin + 8 * spec.c_out * len(lay.phases) * spec.cig + 4 * spec.c_out))
        bound = _ERROR_CONSTANT * unit_roundoff(spec) * float(np.sqrt(3 * len(lay.phases) * spec.cig))
        return Layout(spec, workspace_limit, workspace, flops, bound, cost_features(spec, flops, workspace),
                      detail=lay)

    def build(self, layout: Layout) -> WinogradPlan:
        return WinogradPlan(self, layout.spec, layout.detail, layout.weight_varies)


register(Winograd())
