"""Backward passes as forward convolutions (like cuDNN's BwdData / BwdFilter).

For ``y = conv(x, w)`` with stride ``s``, dilation ``d``, padding ``(pl, pr)``
and ``L_pad = L + pl + pr``:

**backward data** ``dx = dL/dx`` is a correlation of the stride-upsampled
``dy`` (``u[t*s] = dy[t]``, zeros between) with the kernel flipped along taps
and transposed within each group (``w'[g*Cig + c, o, k] = w[g*Cog + o, c, K-1-k]``),
at dilation ``d`` and stride 1, padded by ``d*(K-1)`` on the left::

    dx_pad[j] = sum_k u_pad[j + k*d] * w'[k],   dx = dx_pad[pl : pl + L]

A long kernel at a small stride (``Q = (K-1)*d // s + 1 >= MIN_PHASE_SHIFTS``)
is lowered in **polyphase** form instead, on ``dy`` itself: tap ``k`` lands on
phase ``r = k*d % s`` of row ``u = t + k*d // s`` of ``dx_pad`` (rows of ``s``
samples), so each phase is a stride-1 correlation of ``dy`` with the taps of
that phase, ``Q`` shifts long, and the ``P <= s`` phases that taps reach are
``P`` times more output channels of one problem::

    dx_pad[u*s + r] = sum_q dy[u - q] * w[k: k*d = q*s + r]

Its problem is ``s`` times shorter than the upsampled one (an FFT's transforms
too: K=512 at stride 4 into one channel runs on fft 3.7x faster than col2im,
where the upsampled lowering left fft 1.6x slower); its re-layouts are the
phase weight (zero where no tap lands) and one strided copy per phase into
``dx_pad``.  It is taken only when its problem is also smaller.

**backward filter** ``dw`` is a correlation with the roles of the axes swapped:
the per-group input channels become the batch, the batch becomes the channels,
and ``dy`` is the kernel (``Lout`` taps at dilation ``s``), stepped at stride
``d``; its ``K`` outputs are the taps of ``dw``::

    dw[g*Cog + o, c, k] = sum_{n,t} x_pad[n, g*Cig + c, k*d + t*s] * dy[n, g*Cog + o, t]

Each :class:`Lowering` carries the derived :class:`ConvSpec` and the cheap
re-layouts (``O(size of operands)``) around it, so the planner can choose any
algorithm that supports the derived spec.  An algorithm that solves a backward
op natively (``op`` in its ``ops``) gets the identity instead (:func:`route`).

The upsampled ``dy`` of a strided backward-data is written into the calling
thread's scratch (:func:`~lucid.algos.scratch.thread_scratch`), not a fresh
array per call: it lives only until the derived plan has run on that thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .scratch import thread_scratch
from .spec import OPS, ConvSpec


@dataclass(frozen=True)
class Lowering:
    """A problem ``op`` on ``source`` rewritten as the forward problem ``spec``.

    ``operands(a, b)`` maps the op's two operands (forward: ``x, w``;
    backward_data: ``dy, w``; backward_filter: ``dy, x``) to the derived
    forward ``(x', w')``; ``result(y')`` maps the derived output back.
    ``weight_varies`` is true when the derived weight is new every call
    (backward_filter's is ``dy``), so caching its transforms cannot pay.
    ``relayout_bytes`` is what ``operands`` and ``result`` read and write per
    call (their copies), which the planner adds to a candidate's ``moved_bytes``.
    ``local_nonfinite`` is false when the derived problem multiplies zeros that the
    op's definition does not (the polyphase form's zero weights): a NaN/Inf operand
    could then reach outputs the definition keeps finite, so the planner treats the
    candidate as it treats fft (checks its output, re-plans without it).
    """

    op: str
    source: ConvSpec
    spec: ConvSpec
    operands: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    result: Callable[[np.ndarray], np.ndarray]
    weight_varies: bool = False
    relayout_bytes: int = 0
    local_nonfinite: bool = True


def lower(op: str, spec: ConvSpec) -> Lowering:
    """The forward problem that computes ``op`` for the forward ``spec`` (see module docstring)."""
    if spec.op != "forward":
        raise ValueError(f"lower() expects a forward spec, got op {spec.op!r}")
    if op == "forward":
        return Lowering(op, spec, spec, lambda x, w: (x, w), lambda y: y)
    if op == "backward_data":
        return _backward_data(spec)
    if op == "backward_filter":
        return _backward_filter(spec)
    raise ValueError(f"op must be one of {OPS}, got {op!r}")


#: Fewest shifts ``Q = (K-1)*d // s + 1`` for the polyphase form of a strided backward-data: a long
#: kernel at a small stride (K=512 at stride 4: Q=128), where a transform method wins and the upsampled
#: ``dy`` would make its transforms ``s`` times longer.  With fewer shifts (every decoder layer of issue
#: 24: Q = 2-4) col2im computes the same phase GEMM natively, with less re-layout (docs/tuning.md:
#: polyphase lowering).
MIN_PHASE_SHIFTS = 8


def _backward_data(spec: ConvSpec) -> Lowering:
    """The polyphase form when the kernel spans at least :data:`MIN_PHASE_SHIFTS` strides and its
    problem is smaller than the upsampled one's (FLOPs of the definition), else the upsampled form."""
    if spec.stride > 1 and phase_layout(spec)[1] >= MIN_PHASE_SHIFTS:
        phases = _backward_data_phases(spec)
        if phases.spec.direct_flops < _upsampled_spec(spec).direct_flops:
            return phases
    return _backward_data_upsampled(spec)


def _upsampled_spec(spec: ConvSpec) -> ConvSpec:
    upsampled = (spec.l_out - 1) * spec.stride + 1
    return ConvSpec(n=spec.n, c_in=spec.c_out, c_out=spec.c_in, length=upsampled, kernel_size=spec.kernel_size,
                    stride=1, padding=(spec.dilation * (spec.kernel_size - 1), spec.l_padded - upsampled),
                    dilation=spec.dilation, groups=spec.groups, dtype=spec.dtype)


def phase_layout(spec: ConvSpec) -> tuple[tuple[int, ...], int, int]:
    """``(phases, Q, rows)`` of the polyphase backward-data of ``spec``: the residues ``k*d % s`` that
    some tap lands on, the shifts ``Q = (K-1)*d // s + 1`` and the rows of ``s`` samples covering
    every position ``t*s + k*d`` and the crop ``[pl, pl + L)``."""
    s = spec.stride
    positions = [k * spec.dilation for k in range(spec.kernel_size)]
    q = positions[-1] // s + 1
    rows = max(spec.l_out + q - 1, -(-(spec.padding[0] + spec.length) // s))
    return tuple(sorted({p % s for p in positions})), q, rows


def _backward_data_phases(spec: ConvSpec) -> Lowering:
    """Backward-data as a stride-1 problem on ``dy`` itself: phase ``r`` of ``dx_pad`` (samples
    ``u*s + r``) is ``sum_q dy[u - q] w[k]`` over the taps with ``k*d = q*s + r``, so the ``P``
    phases that taps reach become ``P`` times more output channels and the ``Q`` shifts the taps."""
    s, k, g, cig, cog = spec.stride, spec.kernel_size, spec.groups, spec.cig, spec.cog
    phases, q, rows = phase_layout(spec)
    p = len(phases)
    derived = ConvSpec(n=spec.n, c_in=spec.c_out, c_out=p * spec.c_in, length=spec.l_out, kernel_size=q,
                       stride=1, padding=(q - 1, rows - spec.l_out), dilation=1, groups=g, dtype=spec.dtype)
    positions = np.arange(k) * spec.dilation
    where = {r: i for i, r in enumerate(phases)}
    phase_index = np.array([where[int(r)] for r in positions % s])
    tap_index = q - 1 - positions // s
    left = spec.padding[0]

    def operands(dy: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wp = np.zeros((g, cig, p, cog, q), w.dtype)         # [g, c, phase, o, q-1-shift] = w[g*cog+o, c, k]
        wp[:, :, phase_index, :, tap_index] = w.reshape(g, cog, cig, k).transpose(3, 0, 2, 1)
        return dy, wp.reshape(p * spec.c_in, cog, q)

    def result(y: np.ndarray) -> np.ndarray:
        dx_pad = (np.empty if p == s else np.zeros)((spec.n, spec.c_in, rows * s), y.dtype)
        grid = dx_pad.reshape(spec.n, spec.c_in, rows, s)
        by_phase = y.reshape(spec.n, spec.c_in, p, rows)
        for i, r in enumerate(phases):          # one strided copy per phase, along the rows
            grid[:, :, :, r] = by_phase[:, :, i]
        return dx_pad[:, :, left:left + spec.length]

    copied = spec.c_out * cig * k + p * spec.c_in * cog * q + 2 * spec.n * spec.c_in * rows * s
    return Lowering("backward_data", spec, derived, operands, result, relayout_bytes=copied * spec.itemsize,
                    local_nonfinite=False)


def _backward_data_upsampled(spec: ConvSpec) -> Lowering:
    s, k, g = spec.stride, spec.kernel_size, spec.groups
    upsampled = (spec.l_out - 1) * s + 1
    derived = _upsampled_spec(spec)
    left = spec.padding[0]

    def operands(dy: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = dy
        if s > 1:
            u = thread_scratch("lowering.upsampled", spec.n * spec.c_out * upsampled, dy.dtype).reshape(
                spec.n, spec.c_out, upsampled)
            u.fill(0)
            u[:, :, ::s] = dy
        wt = w.reshape(g, spec.cog, spec.cig, k).transpose(0, 2, 1, 3)[..., ::-1]
        return u, np.ascontiguousarray(wt).reshape(spec.c_in, spec.cog, k)

    def result(dx_pad: np.ndarray) -> np.ndarray:
        return dx_pad[:, :, left:left + spec.length]

    copied = 2 * spec.c_out * spec.cig * k + (spec.n * spec.c_out * (upsampled + 2 * spec.l_out) if s > 1 else 0)
    return Lowering("backward_data", spec, derived, operands, result, relayout_bytes=copied * spec.itemsize)


def _backward_filter(spec: ConvSpec) -> Lowering:
    s, d, k, g = spec.stride, spec.dilation, spec.kernel_size, spec.groups
    needed = s * (spec.l_out - 1) + d * (k - 1) + 1      # padded samples that reach dw
    keep = min(spec.length, needed - spec.padding[0])   # input samples used
    unread = keep < 1    # every tap lands in the left padding: dw is exactly zero
    left = needed - 1 if unread else spec.padding[0]
    keep = max(keep, 1)
    derived = ConvSpec(
        n=spec.cig, c_in=g * spec.n, c_out=spec.c_out, length=keep, kernel_size=spec.l_out,
        stride=d, padding=(left, needed - left - keep), dilation=s, groups=g, dtype=spec.dtype)

    def operands(dy: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if unread:
            x = np.zeros_like(x)
        items = x[:, :, :keep].reshape(spec.n, g, spec.cig, keep).transpose(2, 1, 0, 3)
        xs = np.ascontiguousarray(items).reshape(spec.cig, g * spec.n, keep)
        ws = np.ascontiguousarray(dy.transpose(1, 0, 2))
        return xs, ws

    def result(dw_t: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(dw_t.transpose(1, 0, 2))

    copied = 2 * (spec.n * spec.c_in * keep + spec.n * spec.c_out * spec.l_out + spec.c_out * spec.cig * k)
    return Lowering("backward_filter", spec, derived, operands, result, weight_varies=True,
                    relayout_bytes=copied * spec.itemsize)


def derived_spec(op: str, spec: ConvSpec) -> ConvSpec:
    """Just the derived forward spec of ``op`` (for costing without operands)."""
    return lower(op, spec).spec


def operand_shapes(op: str, spec: ConvSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Shapes of ``op``'s two operands on ``spec``: ``(x, w)``, ``(dy, w)`` or ``(dy, x)``."""
    x, w, y = spec.input_shape, spec.weight_shape, spec.output_shape
    return {"forward": (x, w), "backward_data": (y, w), "backward_filter": (y, x)}[op]


def _same(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return a, b


def _result(y: np.ndarray) -> np.ndarray:
    return y


def route(op: str, spec: ConvSpec, ops: tuple[str, ...]) -> Lowering | None:
    """How an algorithm that solves ``ops`` computes ``op`` of the forward ``spec``, or None.

    Natively when it lists a backward ``op``: the identity on ``spec`` posed as
    that op (``spec.op == op``); else through :func:`lower` when it lists
    ``"forward"``; else it cannot.  Cost: the closures of :func:`lower`.
    """
    if op != "forward" and op in ops:
        return Lowering(op, spec, replace(spec, op=op), _same, _result, weight_varies=op == "backward_filter")
    return lower(op, spec) if "forward" in ops else None


__all__ = ["OPS", "Lowering", "lower", "derived_spec", "route", "operand_shapes"]
