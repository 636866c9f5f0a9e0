"""The transposed-convolution rule: ``conv_transpose1d`` as the three problems of its matching convolution.

``y = conv_transpose(x, w) + b`` is the adjoint of a convolution ``spec``
whose input has ``y``'s shape and whose output has ``x``'s (the definition is
in :func:`lucid.nn.functional.conv_transpose1d`).  With ``<conv(u, w), v> =
<u, conv_transpose(v, w)>`` for all ``u, v``:

* ``y``  is ``spec``'s **backward_data** with ``dy := x``;
* ``dx`` is ``spec``'s **forward** on ``(dL/dy, w)``;
* ``dw`` is ``spec``'s **backward_filter** with ``dy := x`` and input ``dL/dy``;
* ``db = sum(dL/dy)`` over batch and time.

Each goes through :func:`lucid.algos.planner.execute`, so the planner picks
(and records, under ``called_as``) the algorithm of each exactly as for
``conv1d``: col2im natively, or any forward algorithm through the lowering.
"""
from __future__ import annotations

import numpy as np

from ..algos import planner
from ..algos.spec import ConvSpec
from . import Rule
from .conv import contiguous

#: ``called_as`` of the three problems in the planner's records.
CALLED_AS = ("conv_transpose1d", "conv_transpose1d.grad_input", "conv_transpose1d.grad_weight")


def conv_transpose1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, spec: ConvSpec,
                     algorithm: str | None = None) -> Rule:
    """``(y, backward)`` of a checked transposed convolution, posed on its matching forward ``spec``.

    ``x`` is ``(N, C_in, L)`` or unbatched ``(C_in, L)`` with ``C_in =
    spec.c_out``; ``w`` is ``(C_in, C_out // groups, K)`` (``spec.weight_shape``);
    ``y`` has ``spec.input_shape``.  ``spec.l_out`` may exceed ``L`` (an
    ``output_padding`` at least ``stride`` past the padding, possible when
    ``dilation > stride``): ``x`` is then extended with zeros to ``spec.l_out``
    samples, which changes no output, and ``dx`` is cropped back.  The bias is
    added into the planner's fresh output in place (a lowered backward_data
    returns a cropped view: it is copied to a C-ordered array first).  An empty batch gives the
    bias broadcast without calling the planner.  ``backward(g, needs)`` returns
    ``(dx, dw[, db])``, ``None`` where ``needs`` is False.

    Cost: one backward_data forward; one forward (``dx``) and one
    backward_filter (``dw``) backward, each only if needed: the FLOPs of the
    matching convolution's three problems, ``2*N*C_in*L*(C_out/g)*K`` each
    (direct method).
    """
    unbatched = x.ndim == 2
    x = contiguous(x[None] if unbatched else x)
    w = contiguous(w)
    length, extra = x.shape[-1], spec.l_out - x.shape[-1]
    if extra:
        x = np.concatenate([x, np.zeros(x.shape[:2] + (extra,), x.dtype)], axis=-1)
    empty = spec.n == 0
    forward, grad_input, grad_weight = CALLED_AS
    if empty:
        y = np.zeros(spec.input_shape, spec.np_dtype)
    else:
        y = contiguous(planner.execute("backward_data", spec, x, w, algorithm, called_as=forward))
    if b is not None:
        y += b[:, None]

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        gy = contiguous(g[None] if unbatched else g)
        dx = dw = None
        if needs[0]:
            if empty:
                dx = np.zeros((0, spec.c_out, length), spec.np_dtype)
            else:
                dx = planner.execute("forward", spec, gy, w, algorithm, called_as=grad_input)
                dx = np.ascontiguousarray(dx[:, :, :length]) if extra else dx
            dx = dx[0] if unbatched else dx
        if needs[1]:
            dw = np.zeros_like(w) if empty else planner.execute("backward_filter", spec, x, gy, algorithm,
                                                                 called_as=grad_weight)
        if b is None:
            return dx, dw
        return dx, dw, (gy.sum((0, 2)) if needs[2] else None)
    return (y[0] if unbatched else y), backward
