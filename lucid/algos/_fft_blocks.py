"""Geometry, cost and workspace of the ``fft`` algorithm; the block-size choice.

The ``fft`` algorithm (:mod:`lucid.algos.fft`) reduces every spec to a
unit-stride, undilated correlation:

* **dilation** by dilating the kernel: tap ``k`` moves to ``j = k*d`` of a
  ``span = d*(K-1) + 1`` long kernel (zeros between taps);
* **stride** ``s`` by a polyphase split: phase ``p`` of the padded input,
  ``x_p[i] = x_pad[i*s + p]``, and of the dilated kernel, ``w_p[m] = w[m*s + p]``,
  become ``s`` extra input channels, so ``y[t] = sum_{c,p,m} x_p[c, t+m] w_p[c, m]``
  is a unit-stride correlation with ``Cig*s`` channels per group and
  ``taps = ceil(span / s)`` taps.  It costs one strided gather of the input
  (no extra transform work: the ``s`` phase transforms are ``s`` times shorter)
  and keeps the output transforms at the output length, ``s`` times cheaper
  than computing every unit-stride output and subsampling.

The correlation is computed by **overlap-save** on windows of ``nfft`` phase
samples stepped by ``hop = nfft - taps + 1``: a circular correlation of
length ``nfft`` is exact for its first ``hop`` outputs.  ``blocks =
ceil(Lout / hop)`` windows per sample; each ``(sample, window)`` pair is a
*column*, and columns are processed ``chunk`` at a time so the buffers fit the
workspace limit.  :func:`best_geometry` picks ``nfft`` and ``chunk`` by minimising
:func:`cost_units`; lengths are the even members of the 5-smooth set that
``scipy.fft.next_fast_len(n, real=True)`` draws from (FFTW is ~40 % slower on
odd lengths here), tabulated once.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from ._parallel import num_threads
from .spec import ConvSpec

#: FLOPs of one real transform of length n: ``FFT_FLOPS * n * log2(n)``.
FFT_FLOPS = 2.5
#: Cost of dispatching one small mixing GEMM (one per frequency, group and
#: column tile), in FLOP-equivalents (docs/tuning.md: fft GEMM call).
GEMM_CALL_FLOPS = 2.0e4
#: Cost of one Python-level step (a chunk, or a window/phase copy), in
#: FLOP-equivalents (docs/tuning.md: fft step).
STEP_FLOPS = 2.0e5
#: Bytes of one cache tile of the per-frequency channel mixing (half the 1 MiB L2).
MIX_BLOCK_BYTES = 1 << 19
#: Frequencies per mixing tile: 8 complex64 = one 64-byte cache line per row.
MIX_BINS = 8
#: Fewest columns per mixing tile (when there are that many): the GEMMs
#: ``(columns x 2*Cig*s) @ (2*Cig*s x 2*Cog)`` re-read the kernel block per
#: tile, so thin tiles starve BLAS (dense_k3_C256: 8 columns ran 4x slower).
MIX_MIN_COLUMNS = 32
#: Largest transform length considered (2**34 samples).
_MAX_LEN = 1 << 34


def _even_smooth_lengths() -> tuple[int, ...]:
    """Even 5-smooth numbers ``2**a * 3**b * 5**c`` (a >= 1) up to ``_MAX_LEN``, sorted."""
    out = []
    p2 = 2
    while p2 <= _MAX_LEN:
        p3 = p2
        while p3 <= _MAX_LEN:
            p5 = p3
            while p5 <= _MAX_LEN:
                out.append(p5)
                p5 *= 5
            p3 *= 3
        p2 *= 2
    return tuple(sorted(out))


_LENGTHS = _even_smooth_lengths()


@dataclass(frozen=True)
class Geometry:
    """The overlap-save layout of one spec: transform length and chunking.

    Attributes
    ----------
    spec : ConvSpec
        The forward problem.
    nfft : int
        Real transform length (even, 5-smooth), ``>= taps``.
    chunk : int
        Columns (sample, window) transformed together; either a multiple of
        ``blocks`` (whole samples) or at most ``blocks`` (part of one sample).
    """

    spec: ConvSpec
    nfft: int
    chunk: int

    #: Taps of one polyphase kernel, ``ceil(span / stride)``.
    taps: int = field(init=False, repr=False, compare=False)
    #: Valid outputs per window, ``nfft - taps + 1``.
    hop: int = field(init=False, repr=False, compare=False)
    #: Windows per sample, ``ceil(Lout / hop)``.
    blocks: int = field(init=False, repr=False, compare=False)
    #: All (sample, window) columns, at least 1.
    columns: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived once: the block-size search reads them for every candidate.
        sp = self.spec
        taps = -(-sp.span // sp.stride)
        blocks = -(-sp.l_out // (self.nfft - taps + 1))
        for name, value in (("taps", taps), ("hop", self.nfft - taps + 1), ("blocks", blocks),
                            ("columns", max(1, sp.n * blocks))):
            object.__setattr__(self, name, value)

    @property
    def bins(self) -> int:
        """Frequencies of a real transform, ``nfft // 2 + 1``."""
        return self.nfft // 2 + 1

    @property
    def cig(self) -> int:
        """Mixed input channels per group: ``Cig * stride`` (phases are channels)."""
        return self.spec.cig * self.spec.stride

    @property
    def elementwise(self) -> bool:
        """True when one input channel per group: mixing is a broadcast product."""
        return self.cig == 1

    @property
    def chunks(self) -> int:
        """Number of chunks the columns are processed in."""
        if self.chunk >= self.blocks:
            return -(-max(1, self.spec.n) // (self.chunk // self.blocks))
        return max(1, self.spec.n) * -(-self.blocks // self.chunk)

    def mix_tile(self) -> tuple[int, int]:
        """``(bins, columns)`` of one cache tile of the GEMM mixing.

        ``MIX_BINS`` frequencies (whole cache lines of each spectrum row are
        read by the transposing copy) by as many columns as fit
        ``MIX_BLOCK_BYTES``, but at least ``MIX_MIN_COLUMNS``.
        """
        fb, most = _mix_shape(self.spec, self.nfft)
        return fb, min(self.chunk, most)

    @property
    def gemm_calls(self) -> int:
        """Small matrix products of the mixing: ``groups * bins * chunks *
        column_tiles`` (0 on the elementwise path)."""
        if self.elementwise:
            return 0
        return self.spec.groups * self.bins * self.chunks * -(-self.chunk // self.mix_tile()[1])

    @property
    def python_steps(self) -> int:
        """Python-level iterations per call: ``chunks + N * blocks * stride``
        window/phase copies."""
        return self.chunks + max(1, self.spec.n) * self.blocks * self.spec.stride

    def workspace_bytes(self) -> int:
        """Bytes of every buffer the plan allocates (see :class:`~lucid.algos.fft.FftPlan`)."""
        return _workspace(self.spec, self.nfft, self.chunk)

    def fft_flops(self) -> float:
        """FLOPs of the input and output transforms over all columns."""
        sp = self.spec
        rows = self.columns * (sp.c_in * sp.stride + sp.c_out)
        return FFT_FLOPS * rows * self.nfft * math.log2(self.nfft)

    def mix_flops(self) -> float:
        """FLOPs of the per-frequency channel mixing actually executed.

        A complex multiply-add is 8 real FLOPs (GEMM: ``Cog x Cig*s`` per group,
        frequency and column); a lone complex product is 6 (elementwise path).
        """
        sp = self.spec
        per = 6.0 * sp.c_out if self.elementwise else 8.0 * sp.c_out * self.cig
        return per * self.bins * self.columns

    def flops(self) -> float:
        """Transform plus mixing FLOPs (the cached kernel transform excluded)."""
        return self.fft_flops() + self.mix_flops()


def _mix_shape(spec: ConvSpec, nfft: int) -> tuple[int, int]:
    """``(bins, most columns)`` of a mixing tile of ``nfft`` transforms (see
    :meth:`Geometry.mix_tile`, which caps the columns at the chunk)."""
    fb = min(nfft // 2 + 1, MIX_BINS)
    per_column = spec.groups * fb * (2 * spec.cig * spec.stride + spec.cog) * 2 * spec.itemsize
    return fb, max(MIX_MIN_COLUMNS, MIX_BLOCK_BYTES // per_column)


def _workspace_terms(spec: ConvSpec, nfft: int) -> tuple[int, int, int, int]:
    """``(fixed, per_column, scratch_per_column, knee)``: the workspace of a
    chunk of ``c`` columns is ``fixed + per_column*c + scratch_per_column*min(c, knee)``.

    ``fixed``: the kernel buffers and cached spectrum, the weight copy that
    keys the cache (as large as the input in backward-filter problems) and
    the per-tap phase/index tables.  ``per_column``: input windows and their
    spectra, output spectra and signals.  ``scratch_per_column``: the
    per-thread mixing scratch, which grows up to a mixing tile's width.
    """
    real, cplx = spec.itemsize, 2 * spec.itemsize
    bins = nfft // 2 + 1
    cig = spec.cig * spec.stride
    per_column = (spec.c_in * spec.stride + spec.c_out) * (nfft * real + bins * cplx)
    kernel = 2 * spec.c_out * cig * bins * cplx    # in-place transform buffer, cached spectrum
    key = spec.c_out * spec.cig * spec.kernel_size * real + 2 * spec.kernel_size * 8   # + tap phase/index
    fb, knee = _mix_shape(spec, nfft)
    scratch = num_threads() * fb * spec.groups * (2 * cig + spec.cog) * cplx if cig > 1 else 0
    return kernel + key, per_column, scratch, knee


def _workspace(spec: ConvSpec, nfft: int, chunk: int) -> int:
    """Bytes of every buffer of a plan with ``chunk`` columns (see :func:`_workspace_terms`)."""
    fixed, per_column, scratch, knee = _workspace_terms(spec, nfft)
    return fixed + per_column * chunk + scratch * min(chunk, knee)


def cost_units(geometry: Geometry) -> float:
    """Predicted cost in FLOP-equivalents: FLOPs plus dispatch overheads,
    ``flops + GEMM_CALL_FLOPS * gemm_calls + STEP_FLOPS * python_steps``.

    The dispatch terms are what make very long transforms (many tiny
    per-frequency GEMMs over few columns) lose to moderate overlap-save
    blocks on dense problems.
    """
    return geometry.flops() + GEMM_CALL_FLOPS * geometry.gemm_calls + STEP_FLOPS * geometry.python_steps


def _largest_chunk(spec: ConvSpec, nfft: int, limit: int) -> int:
    """Most columns per chunk whose workspace fits ``limit`` (0 when none does).

    The workspace is piecewise linear in the chunk: it grows by the column
    buffers and the mixing scratch per column up to the mixing tile's width
    (the knee), by the column buffers alone beyond it; solved in O(1).
    """
    probe = Geometry(spec, nfft, 1)
    blocks, columns = probe.blocks, probe.columns
    fixed, per_column, scratch, knee = _workspace_terms(spec, nfft)
    knee = min(columns, knee)
    at_knee = fixed + (per_column + scratch) * knee
    if at_knee <= limit:
        lo = min(columns, knee + (limit - at_knee) // per_column)
    else:
        lo = max(0, (limit - fixed) // (per_column + scratch))
    if lo >= blocks:
        lo -= lo % blocks                # whole samples per chunk
    return lo


def best_geometry(spec: ConvSpec, workspace_limit: int) -> Geometry | None:
    """The cheapest :class:`Geometry` (by :func:`cost_units`) within ``workspace_limit``,
    or None when even the smallest window and a one-column chunk exceed it.

    Candidates are the even 5-smooth ``nfft`` from the smallest ``>= taps`` to
    the first that holds a whole sample in one window (``>= Lout + taps - 1``);
    for each, the largest chunk that fits.  A candidate with as many windows
    as the previous one, when that one took all columns in one chunk with
    full mixing tiles, is skipped: it transforms longer windows and mixes more
    frequencies in at least as many chunks and tiles, so it costs more.
    ``O(#candidates)``.  The kernel span must allow a transform (:func:`too_long`).

    Examples
    --------
    dense_long_k257 (257 taps, 16384 outputs per sample) takes 8 windows of
    2304 rather than one of 16896, and a tight limit forces smaller chunks:

    >>> spec = ConvSpec(2, 32, 32, 16384, 257, padding=(128, 128))
    >>> g = best_geometry(spec, 1 << 30)
    >>> g.nfft, g.hop, g.blocks, g.chunk
    (2304, 2048, 8, 16)
    >>> best_geometry(spec, 8 << 20).workspace_bytes() <= 8 << 20
    True
    """
    taps = -(-spec.span // spec.stride)
    start = _bisect(max(taps, 2))
    best, best_cost = None, math.inf
    dominated = 0          # windows per sample that a longer window cannot beat
    for nfft in _LENGTHS[start:]:
        blocks = -(-spec.l_out // (nfft - taps + 1))
        if blocks != dominated:
            chunk = _largest_chunk(spec, nfft, workspace_limit)
            if chunk > 0:
                geometry = Geometry(spec, nfft, chunk)
                cost = cost_units(geometry)
                if cost < best_cost:
                    best, best_cost = geometry, cost
            full = chunk == max(1, spec.n * blocks) and nfft // 2 + 1 >= MIX_BINS
            dominated = blocks if full else 0
        if nfft >= spec.l_out + taps - 1:
            break
    return best


def smallest_geometry(spec: ConvSpec) -> Geometry:
    """The geometry of the least workspace: the shortest window, one column per chunk."""
    return Geometry(spec, _LENGTHS[_bisect(max(-(-spec.span // spec.stride), 2))], 1)


def too_long(spec: ConvSpec) -> str | None:
    """Why no transform length serves ``spec``'s kernel span, or None."""
    if -(-spec.span // spec.stride) > _LENGTHS[-1]:
        return f"fft: kernel span needs a transform longer than {_MAX_LEN} samples"
    return None


def _bisect(n: int) -> int:
    """Index of the first length ``>= n`` in ``_LENGTHS``."""
    index = bisect.bisect_left(_LENGTHS, n)
    if index == len(_LENGTHS):
        raise ValueError(f"fft: kernel span needs a transform longer than {_MAX_LEN} samples")
    return index
