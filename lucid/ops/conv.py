"""The convolution rule: forward and both backward passes of ``conv1d``, each handed to the planner.

``y = conv(x, w) + b`` (the definition is in :func:`lucid.nn.functional.conv1d`).
Its gradients are convolutions too: ``dx`` is the problem's backward-data,
``dw`` its backward-filter, and ``db = sum(dy)`` over batch and time; each is
computed only when ``needs`` asks for it, and each convolution goes through
:func:`lucid.algos.planner.execute`, which picks the algorithm per call.
"""
from __future__ import annotations

import numpy as np

from ..algos import planner
from ..algos.spec import ConvSpec
from . import Rule


def contiguous(a: np.ndarray) -> np.ndarray:
    """``a`` itself when C-contiguous and writeable, else a C-ordered copy (algorithms may assume both)."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, spec: ConvSpec, algorithm: str | None = None) -> Rule:
    """``(y, backward)`` of a checked convolution ``spec``; ``x`` is ``(N, C_in, L)`` or unbatched ``(C_in, L)``.

    The bias is added into the planner's freshly allocated output in place (no
    second output array).  An empty batch, or zero input channels, makes every
    sum empty: the output is the bias broadcast (zeros without one), and the
    planner is not called.  ``backward(g, needs)`` returns ``(dx, dw[, db])``
    for the operands given, ``None`` where ``needs`` is False.
    """
    unbatched = x.ndim == 2
    x = contiguous(x[None] if unbatched else x)
    w = contiguous(w)
    empty_sum = not (spec.n and spec.c_in)
    y = np.zeros(spec.output_shape, spec.np_dtype) if empty_sum else planner.execute("forward", spec, x, w, algorithm)
    if b is not None:
        y += b[:, None]

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        dy = contiguous(g[None] if unbatched else g)
        dx = dw = None
        if needs[0]:
            dx = np.zeros_like(x) if empty_sum else planner.execute("backward_data", spec, dy, w, algorithm)
            dx = dx[0] if unbatched else dx
        if needs[1]:
            dw = np.zeros_like(w) if empty_sum else planner.execute("backward_filter", spec, dy, x, algorithm)
        if b is None:
            return dx, dw
        return dx, dw, (dy.sum((0, 2)) if needs[2] else None)
    return (y[0] if unbatched else y), backward
