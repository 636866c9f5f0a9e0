"""fft: overlap-save correlation with pyFFTW real transforms; serves every spec.

For each group ``g`` and output channel ``o`` the correlation is computed
frequency by frequency::

    Y[n, o, f] = sum_c conj(W[o, c, f]) * X[n, c, f],     y = irfft(Y)[:hop]

on windows of ``nfft`` samples (overlap-save, see :mod:`lucid.algos._fft_blocks`),
where ``X = rfft(window of x_pad)`` and ``W = rfft(kernel, nfft) / nfft``.

* **Dilation** dilates the kernel (zeros between taps, transform length grows
  with the span, not with ``K``).
* **Stride** is a *polyphase split*: the ``s`` phases of the input become
  ``s`` times more input channels of a unit-stride problem, so the
  transforms stay at the output's length; cost: one strided gather of the
  input, and ``s`` times more (but ``s`` times shorter) input transforms.
* **Channel mixing** is a batched complex GEMM ``(Cog x Cig*s) @ (Cig*s x
  columns)`` per frequency and group (block-diagonal over groups), run as the
  real GEMM ``[[Xr, Xi], [Xi, -Xr]] @ [Kr; Ki] = [Yr; Yi]`` (``conj(K) = Kr -
  i Ki``; NumPy's complex matmul is 10-50x slower than real BLAS here), in
  cache tiles of frequencies x columns with single-threaded OpenBLAS
  (:mod:`lucid.algos._blas_threads`; OpenBLAS's own threads stalled this
  mixing 8-17x under load); with one input channel per group (depthwise,
  ``stride == 1``) it is an elementwise product.

**Threads**: the columns of a chunk are cut into one part per pool thread
(:func:`~lucid.algos._parallel.num_threads`), and each part runs its whole
pipeline (window copy, rfft, mixing, irfft, output copy) with its own
single-threaded FFTW plans: one barrier per chunk.  A chunk of a single
column runs on one part with FFTW threaded over all cores.

The kernel spectrum is cached per weight (:class:`~lucid.algos.base.WeightCache`,
checked by value, so every weight update is seen).  FFTW plans and SIMD-aligned
buffers are built once in :meth:`FFT.build` with ``FFTW_ESTIMATE`` (cheap
for a new length); a plan run :data:`MEASURE_AFTER` times re-plans its large
transforms once with ``FFTW_MEASURE`` (at most :data:`PLANNING_TIME_LIMIT` s
per transform); transforms run along the contiguous last axis only.

Cost: ``2.5 * nfft * log2(nfft)`` FLOPs per real transform of every
``(column, channel)`` plus ``8 * Cout * Cig*s`` (GEMM) or ``6 * Cout``
(elementwise) per frequency and column for the mixing; workspace: the window,
spectrum and output buffers of one chunk, the in-place kernel transform
buffer, the cached spectrum (``1/nfft`` folded in), the weight copy keying
it and the mixing scratch.  When the weight changes every
call (the backward-filter problem, whose "kernel" is ``dy``) add one kernel
transform per call: ``2.5 * Cout*Cig*s * nfft * log2(nfft)``.

Concurrency: FFTW planning is not thread-safe, so plan creation holds the
module-level :data:`PLANNER_LOCK`; a plan's :meth:`~FftPlan.run` holds the
plan's own lock because its buffers are reused call after call (two threads
sharing one plan run one after the other).

Examples
--------
>>> import numpy as np
>>> from lucid.algos.spec import ConvSpec
>>> spec = ConvSpec(1, 1, 1, 5, 2)
>>> plan = FFT().prepare(spec, 1 << 20)
>>> np.round(plan.run(np.arange(5.0, dtype=np.float32).reshape(1, 1, 5),
...                   np.ones((1, 1, 2), np.float32)), 4)
array([[[1., 3., 5., 7.]]], dtype=float32)
"""
from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable

import numpy as np
import pyfftw

from . import _fft_blocks
from ._blas_threads import single_threaded
from ._fft_blocks import Geometry
from ._parallel import num_threads, parallel_for, split
from .base import DEFAULT_WORKSPACE_LIMIT, Algorithm, Layout, Plan, WeightCache, cost_features, unit_roundoff
from .registry import register
from .spec import ConvSpec

#: Serialises FFTW planning, which is not thread-safe.
PLANNER_LOCK = threading.Lock()
#: Seconds FFTW_MEASURE may spend planning one transform.
PLANNING_TIME_LIMIT = 0.25
#: Transforms with fewer samples (rows * length) are planned with FFTW_ESTIMATE
#: on one thread: measuring or threading them costs more than it saves.
SMALL_TRANSFORM = 1 << 16
#: Runs after which a plan re-plans its transforms with FFTW_MEASURE.  A new
#: plan starts with FFTW_ESTIMATE, so plans used a few times (a new length, or
#: the planner's measure mode) never pay for measuring (docs/tuning.md: fft measure after).
MEASURE_AFTER = 8
#: Normwise error constant: ``ERROR_SCALE * u * log2(nfft)`` (see :meth:`FFT.error_bound`).
ERROR_SCALE = 2.0


def _fftw(src: np.ndarray, dst: np.ndarray, direction: str, threads: int | None = None,
          measure: bool = False) -> pyfftw.FFTW:
    """An FFTW plan of a real (forward) or complex-to-real (backward) transform
    along the last axis of ``src`` into ``dst`` on ``threads`` threads; ``src``
    may be overwritten.  ``FFTW_MEASURE`` when ``measure`` and not small (it
    overwrites both arrays while planning), else ``FFTW_ESTIMATE``."""
    small = src.size < SMALL_TRANSFORM
    flags = ("FFTW_MEASURE" if measure and not small else "FFTW_ESTIMATE", "FFTW_DESTROY_INPUT")
    with PLANNER_LOCK:
        return pyfftw.FFTW(src, dst, axes=(-1,), direction=direction, flags=flags,
                           threads=1 if small else threads or num_threads(), planning_timelimit=PLANNING_TIME_LIMIT)


class _Transforms:
    """Aligned window/spectrum buffers of one chunk and forward/inverse plans
    over column ranges ``(c0, c1, threads)`` of them."""

    def __init__(self, geometry: Geometry, ranges: set[tuple[int, int, int]]) -> None:
        sp, q = geometry.spec, geometry.chunk
        real, cplx = sp.np_dtype, np.result_type(sp.np_dtype, np.complex64)
        cin = sp.c_in * sp.stride
        self.windows = pyfftw.empty_aligned((q, cin, geometry.nfft), real)
        self.spectra = pyfftw.empty_aligned((q, cin, geometry.bins), cplx)
        self.mixed = pyfftw.empty_aligned((q, sp.c_out, geometry.bins), cplx)
        self.outputs = pyfftw.empty_aligned((q, sp.c_out, geometry.nfft), real)
        self._ranges = ranges
        self.plan(measure=False)

    def plan(self, measure: bool) -> None:
        """(Re)build the forward and inverse plans of every range (clobbers the buffers)."""
        self._plans: dict[tuple[int, int], tuple[pyfftw.FFTW, pyfftw.FFTW]] = {
            (c0, c1): (_fftw(self.windows[c0:c1], self.spectra[c0:c1], "FFTW_FORWARD", threads, measure),
                       _fftw(self.mixed[c0:c1], self.outputs[c0:c1], "FFTW_BACKWARD", threads, measure))
            for c0, c1, threads in self._ranges}

    def forward(self, c0: int, c1: int) -> None:
        """``spectra[c0:c1] = rfft(windows[c0:c1])``."""
        self._plans[c0, c1][0].execute()

    def inverse(self, c0: int, c1: int) -> None:
        """``outputs[c0:c1] = nfft * irfft(mixed[c0:c1])`` (unnormalised)."""
        self._plans[c0, c1][1].execute()


def _chunks(geometry: Geometry) -> list[tuple[int, int, int, int]]:
    """Rectangles ``(n0, n1, b0, b1)`` of samples x windows, one per chunk."""
    sp, q, blocks = geometry.spec, geometry.chunk, geometry.blocks
    if q >= blocks:
        step = q // blocks
        return [(n0, min(n0 + step, sp.n), 0, blocks) for n0 in range(0, sp.n, step)]
    return [(n, n + 1, b0, min(b0 + q, blocks)) for n in range(sp.n) for b0 in range(0, blocks, q)]


def _parts(n0: int, n1: int, b0: int, b1: int) -> list[tuple[int, int, int, int, int]]:
    """One chunk cut into per-thread pipelines ``(n0, n1, b0, b1, c0)``: along
    samples, or along the windows of a single sample; ``c0`` is the part's
    first buffer column.  Each part runs fill -> rfft -> mix -> irfft ->
    scatter alone, so a call has one barrier per chunk (under load every
    barrier waits for a descheduled thread: with five per call dw_conformer_k31
    ran 2x slower on two threads than on one)."""
    if n1 - n0 > 1:
        return [(n0 + lo, n0 + hi, b0, b1, lo * (b1 - b0)) for lo, hi in split(n1 - n0)]
    return [(n0, n1, b0 + lo, b0 + hi, lo) for lo, hi in split(b1 - b0)]


def _mix_calls(geometry: Geometry) -> int:
    """``np.matmul`` calls of one run's mixing, each batched over groups and bins: one per
    tile (:func:`_tiles`) of every part of every chunk (0 on the elementwise path)."""
    bins, columns = geometry.mix_tile()
    return 0 if geometry.elementwise else sum(-(-geometry.bins // bins) * -(-(n1 - n0) * (b1 - b0) // columns)
                                              for rect in _chunks(geometry) for n0, n1, b0, b1, _ in _parts(*rect))


def _window_table(geometry: Geometry) -> list[list[tuple[int, int, int, int]]]:
    """Per window and phase: ``(lo, hi, start, stop)`` so that samples ``lo:hi``
    of the phase window are ``x[..., start:stop:stride]``, the rest zeros."""
    sp, s, nfft = geometry.spec, geometry.spec.stride, geometry.nfft
    left = sp.padding[0]
    table = []
    for b in range(geometry.blocks):
        first, rows = b * geometry.hop, []
        for p in range(s):
            lo = max(first, -(-(left - p) // s))
            hi = min(first + nfft, (left + sp.length - 1 - p) // s + 1)
            if hi <= lo:
                rows.append((0, 0, 0, 0))
            else:
                rows.append((lo - first, hi - first, lo * s + p - left, (hi - 1) * s + p - left + 1))
        table.append(rows)
    return table


def _tiles(geometry: Geometry, first: int, last: int) -> list[tuple[int, int, int, int]]:
    """Mixing tiles ``(f0, f1, c0, c1)`` covering columns ``first:last``."""
    fb, cb = geometry.mix_tile()
    return [(f0, min(f0 + fb, geometry.bins), c0, min(c0 + cb, last))
            for f0 in range(0, geometry.bins, fb) for c0 in range(first, last, cb)]


class FftPlan(Plan):
    """Per-shape plan of :class:`FFT`: a free list of runners (FFTW-bound buffers, FFTW
    plans, kernel cache), one taken by each run, so concurrent runs of one shape
    proceed in parallel, each on its own runner.

    One runner is built with the plan; a run that finds none idle builds another
    (FFTW_ESTIMATE planning and its buffers), which then stays: a plan holds as
    many runners as it ever had concurrent callers, and :meth:`held_bytes` counts
    them all.
    """

    def __init__(self, algorithm: FFT, spec: ConvSpec, geometry: Geometry, weight_varies: bool = False) -> None:
        super().__init__(algorithm, spec)
        self.geometry = geometry
        self._weight_varies = weight_varies
        self._idle = [_FftRunner(spec, geometry, weight_varies)]
        self._take = threading.Lock()

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        with self._take:
            runner = self._idle.pop() if self._idle else None
        if runner is None:
            runner = _FftRunner(self.spec, self.geometry, self._weight_varies)
        try:
            return runner.run(x, w)
        finally:
            with self._take:
                self._idle.append(runner)


class _FftRunner:
    """The mutable state of one fft run: buffers, FFTW plans, window table, kernel cache.
    Used by one thread at a time (:class:`FftPlan` hands them out)."""

    def __init__(self, spec: ConvSpec, geometry: Geometry, weight_varies: bool) -> None:
        self.spec = spec
        self.geometry = geometry
        real, cplx = spec.np_dtype, np.result_type(spec.np_dtype, np.complex64)
        g, cig, bins, nfft = spec.groups, geometry.cig, geometry.bins, geometry.nfft
        self._work = [_parts(*rect) for rect in _chunks(geometry)]
        ranges = {(c0, c0 + (n1 - n0) * (b1 - b0), 1 if len(parts) > 1 else num_threads())
                  for parts in self._work for n0, n1, b0, b1, c0 in parts}
        self._io = _Transforms(geometry, ranges)
        self._kernel_spectrum = pyfftw.empty_aligned((spec.c_out * cig, bins), cplx)
        self._kernel = self._kernel_spectrum.view(real)[:, :nfft]       # in-place transform
        self._kernel_fft = _fftw(self._kernel, self._kernel_spectrum, "FFTW_FORWARD")
        if geometry.elementwise:
            self._spectrum = np.empty((g, spec.cog, bins), cplx)
        else:
            self._spectrum = np.empty((g, bins, 2 * cig, spec.cog), real)
        taps = np.arange(spec.kernel_size) * spec.dilation
        self._tap_phase, self._tap_index = taps % spec.stride, taps // spec.stride
        self._weights = WeightCache(enabled=not weight_varies)
        self._table = _window_table(geometry)
        if not geometry.elementwise:
            self._tiles = {(c0, c1): _tiles(geometry, c0, c1) for c0, c1, _ in ranges}
            fb, cb = geometry.mix_tile()
            self._scratch = [np.empty(2 * fb * cb * g * (2 * cig + spec.cog), real) for _ in range(num_threads())]
        self._runs = 0

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The forward problem of :attr:`spec` (see :meth:`lucid.algos.base.Plan.run`)."""
        sp = self.spec
        out = np.empty(sp.output_shape, sp.np_dtype)
        if sp.n == 0:
            return out
        self._runs += 1
        if self._runs == MEASURE_AFTER:      # reused: now FFTW_MEASURE pays off
            self._io.plan(measure=True)
            self._kernel_fft = _fftw(self._kernel, self._kernel_spectrum, "FFTW_FORWARD", measure=True)
        spectrum = self._weights.get(w, self._transform)
        with contextlib.nullcontext() if self.geometry.elementwise else single_threaded():
            for parts in self._work:      # one BLAS thread per pool thread for the mixing GEMMs
                parallel_for(len(parts), self._pipelines(x, out, spectrum, parts))
        return out

    def _pipelines(self, x: np.ndarray, out: np.ndarray, spectrum: np.ndarray,
                   parts: list[tuple[int, int, int, int, int]]) -> Callable[[int, int], None]:
        """The body running pipelines ``lo:hi`` of ``parts`` (see :func:`_parts`)."""
        def body(lo: int, hi: int) -> None:
            for i in range(lo, hi):
                self._pipeline(x, out, spectrum, i, *parts[i])
        return body

    def _pipeline(self, x: np.ndarray, out: np.ndarray, spectrum: np.ndarray, slot: int,
                  n0: int, n1: int, b0: int, b1: int, c0: int) -> None:
        """Windows ``b0:b1`` of samples ``n0:n1`` through buffer columns ``c0:``,
        from input to output; ``slot`` picks the mixing scratch."""
        c1 = c0 + (n1 - n0) * (b1 - b0)
        self._fill(x, n0, n1, b0, b1, c0)
        self._io.forward(c0, c1)
        self._mix(spectrum, c0, c1, slot)
        self._io.inverse(c0, c1)
        self._scatter(out, n0, n1, b0, b1, c0)

    def _transform(self, w: np.ndarray) -> np.ndarray:
        """Cached kernel spectrum ``conj(rfft(polyphase dilated w, nfft)) / nfft``."""
        sp, geo = self.spec, self.geometry
        kernel = np.reshape(self._kernel, (sp.c_out, sp.cig, sp.stride, geo.nfft), copy=False)
        kernel.fill(0)
        kernel[:, :, self._tap_phase, self._tap_index] = w      # no weight-sized temporary
        self._kernel_fft.execute()
        self._kernel_spectrum *= 1.0 / geo.nfft
        spectra = self._kernel_spectrum.reshape(sp.groups, sp.cog, geo.cig, geo.bins)
        if geo.elementwise:
            np.conjugate(spectra[:, :, 0, :], out=self._spectrum)
            return self._spectrum
        # Stacked [Kr; Ki] per group and frequency, shape (2*Cig*s, Cog); see _mix.
        stacked = self._spectrum.reshape(sp.groups, geo.bins, 2, geo.cig, sp.cog)
        source = spectra.transpose(0, 3, 2, 1)
        np.copyto(stacked[:, :, 0], source.real)
        np.copyto(stacked[:, :, 1], source.imag)
        return self._spectrum

    def _fill(self, x: np.ndarray, n0: int, n1: int, b0: int, b1: int, c0: int) -> None:
        """Copy the windows ``b0:b1`` of samples ``n0:n1`` (padding and phases
        applied) into the window buffer from column ``c0``."""
        sp, s, nfft = self.spec, self.spec.stride, self.geometry.nfft
        windows = self._io.windows[c0:c0 + (n1 - n0) * (b1 - b0)].reshape(n1 - n0, b1 - b0, sp.c_in, s, nfft)
        for b in range(b0, b1):
            for p, (a, z, start, stop) in enumerate(self._table[b]):
                dst = windows[:, b - b0, :, p]
                dst[..., :a] = 0
                dst[..., a:z] = x[n0:n1, :, start:stop:s]
                dst[..., z:] = 0

    def _mix(self, spectrum: np.ndarray, c0: int, c1: int, slot: int) -> None:
        """``mixed[c0:c1] = spectrum (x) spectra[c0:c1]`` per frequency and group."""
        sp, geo = self.spec, self.geometry
        xf = self._io.spectra.reshape(-1, sp.groups, geo.cig, geo.bins)
        yf = self._io.mixed.reshape(-1, sp.groups, sp.cog, geo.bins)
        if geo.elementwise:
            np.multiply(xf[c0:c1], spectrum, out=yf[c0:c1])
            return
        g, cig, cog = sp.groups, geo.cig, sp.cog
        scratch = self._scratch[slot]
        for f0, f1, t0, t1 in self._tiles[c0, c1]:
            fb, cb = f1 - f0, t1 - t0
            xe = scratch[:g * fb * 4 * cb * cig].reshape(g, fb, 2, cb, 2, cig)
            ye = scratch[g * fb * 4 * cb * cig:g * fb * 2 * cb * (2 * cig + cog)].reshape(g, fb, 2, cb, cog)
            source = xf[t0:t1, :, :, f0:f1].transpose(1, 3, 0, 2)
            np.copyto(xe[:, :, 0, :, 0], source.real)
            np.copyto(xe[:, :, 0, :, 1], source.imag)
            np.copyto(xe[:, :, 1, :, 0], source.imag)
            np.negative(source.real, out=xe[:, :, 1, :, 1])
            np.matmul(xe.reshape(g, fb, 2 * cb, 2 * cig), spectrum[:, f0:f1], out=ye.reshape(g, fb, 2 * cb, cog))
            target = yf[t0:t1, :, :, f0:f1]
            np.copyto(target.real, ye[:, :, 0].transpose(2, 0, 3, 1))
            np.copyto(target.imag, ye[:, :, 1].transpose(2, 0, 3, 1))

    def _scatter(self, out: np.ndarray, n0: int, n1: int, b0: int, b1: int, c0: int) -> None:
        """Copy the valid ``hop`` outputs of each window (from column ``c0``) into ``out``."""
        sp, geo = self.spec, self.geometry
        outputs = self._io.outputs[c0:c0 + (n1 - n0) * (b1 - b0)].reshape(n1 - n0, b1 - b0, sp.c_out, geo.nfft)
        for b in range(b0, b1):
            t0 = b * geo.hop
            t1 = min(t0 + geo.hop, sp.l_out)
            out[n0:n1, :, t0:t1] = outputs[:, b - b0, :, :t1 - t0]


class FFT(Algorithm):
    """Overlap-save FFT correlation (pyFFTW); serves every spec.  Not bitwise
    reproducible across plans (FFTW_MEASURE may pick different codelets)."""

    name = "fft"
    deterministic = False
    local_nonfinite = False   # one NaN/Inf spreads over its whole overlap-save block

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """The cheapest geometry within ``workspace_limit``
        (:func:`lucid.algos._fft_blocks.best_geometry`; when none fits, the
        smallest, whose bytes are the floor).

        FLOPs: ``2.5 nfft log2(nfft)`` per real transform of every (column,
        channel), plus ``8 * Cout * Cig * s`` (GEMM) or ``6 * Cout``
        (elementwise) per frequency and column; the cached kernel transform is
        excluded.  Features: ``python_steps`` are its window/phase copies,
        ``gemm_calls`` the mixing's ``np.matmul`` calls (:func:`_mix_calls`; the
        small products batched inside one call cost little beyond their FLOPs),
        and it reads the input once (``tap_read_bytes = 0``).

        Error bound: ``ERROR_SCALE * u * log2(nfft)``, normwise relative.  FFT
        convolution errors are absolute: ``||dy_o|| <~ u log2(nfft) sum_c
        ||x_c|| ||w_oc||`` per output channel.  Without cancellation
        (``||y_o||^2 ~ sum_c ||x_c||^2 ||w_oc||^2``, as for random data) that is
        the bound returned.  Under cancellation (a smoothing kernel on a
        high-frequency signal, channels that cancel) the relative error grows
        by ``sum_c ||x_c|| ||w_oc|| / ||y_o||``, which no spec-only bound sees;
        the direct algorithm's error is relative to the products instead.
        """
        reason = _fft_blocks.too_long(spec)
        if reason is not None:
            return reason
        geometry = _fft_blocks.best_geometry(spec, workspace_limit) or _fft_blocks.smallest_geometry(spec)
        workspace, flops = geometry.workspace_bytes(), geometry.flops()
        bound = ERROR_SCALE * unit_roundoff(spec) * math.log2(max(geometry.nfft, 2))
        return Layout(spec, workspace_limit, workspace, flops, bound,
                      cost_features(spec, flops, workspace, python_steps=geometry.python_steps,
                                    gemm_calls=_mix_calls(geometry), tap_read_bytes=0.0), detail=geometry)

    def build(self, layout: Layout) -> FftPlan:
        return FftPlan(self, layout.spec, layout.detail, layout.weight_varies)


register(FFT())
