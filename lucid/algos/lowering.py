"""Backward passes as forward convolutions (like cuDNN's BwdData / BwdFilter).

For ``y = conv(x, w)`` with stride ``s``, dilation ``d``, padding ``(pl, pr)``
and ``L_pad = L + pl + pr``:

**backward data** ``dx = dL/dx`` is a correlation of the stride-upsampled
``dy`` (``u[t*s] = dy[t]``, zeros between) with the kernel flipped along taps
and transposed within each group (``w'[g*Cig + c, o, k] = w[g*Cog + o, c, K-1-k]``),
at dilation ``d`` and stride 1, padded by ``d*(K-1)`` on the left::

    dx_pad[j] = sum_k u_pad[j + k*d] * w'[k],   dx = dx_pad[pl : pl + L]

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
    """

    op: str
    source: ConvSpec
    spec: ConvSpec
    operands: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    result: Callable[[np.ndarray], np.ndarray]
    weight_varies: bool = False
    relayout_bytes: int = 0


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


def _backward_data(spec: ConvSpec) -> Lowering:
    s, d, k, g = spec.stride, spec.dilation, spec.kernel_size, spec.groups
    upsampled = (spec.l_out - 1) * s + 1
    derived = ConvSpec(
        n=spec.n, c_in=spec.c_out, c_out=spec.c_in, length=upsampled, kernel_size=k,
        stride=1, padding=(d * (k - 1), spec.l_padded - upsampled), dilation=d,
        groups=g, dtype=spec.dtype)
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
