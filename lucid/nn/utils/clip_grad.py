r"""Gradient clipping, as ``torch.nn.utils``: :func:`clip_grad_norm_`, :func:`clip_grad_value_`,
:func:`get_total_norm` and :func:`clip_grads_with_norm_`.

All work on the ``.grad`` of the given parameters in place (parameters without
a gradient are skipped) and record nothing in the graph.  The total norm is
PyTorch's: the ``p``-norm of the per-gradient ``p``-norms,

.. math:: \|g\|_p = \Big(\sum_i \|g_i\|_p^p\Big)^{1/p}, \qquad \|g\|_\infty = \max_i \max |g_i|,

and clipping multiplies every gradient by
:math:`\min(1, \text{max\_norm} / (\|g\|_p + 10^{-6}))` (always, so a factor of
exactly 1 leaves the gradients unchanged).  Cost: one pass over every gradient
for the norm, one in-place pass to scale.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..._errors import bad_type, bad_value
from ...tensor import Tensor

ParamsLike = Tensor | Iterable[Tensor]


def _tensors(where: str, argument: str, values: Any) -> list[Tensor]:
    if isinstance(values, Tensor):
        return [values]
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise bad_type(where, argument, "a Tensor or an iterable of Tensors", values)
    items = list(values)
    for item in items:
        if not isinstance(item, Tensor):
            raise bad_type(where, argument, "a Tensor or an iterable of Tensors", item)
    return items


def _number(where: str, argument: str, value: Any) -> float:
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(where, argument, "a real number", value)
    return float(value)


def _norm(array: np.ndarray, p: float) -> np.ndarray:
    """The ``p``-norm of all elements of ``array`` (0-d, the array's floating dtype)."""
    a = np.abs(array)
    if p == math.inf:
        return a.max(initial=0.0)
    if p == -math.inf:
        return a.min(initial=math.inf)
    if p == 0:
        return np.asarray(np.count_nonzero(a), array.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        flat = array.reshape(-1)
        return np.sqrt(np.dot(flat, flat))
    return (a ** p).sum() ** (1.0 / p)


def get_total_norm(tensors: ParamsLike, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of the norms of ``tensors`` (e.g. the gradients), as ``torch.nn.utils.get_total_norm``.

    Returns a 0-d tensor (the dtype of the tensors; 0.0 as float32 when there
    are none).  ``error_if_nonfinite=True`` raises RuntimeError when it is
    ``nan`` or ``inf``; ``foreach`` is accepted for compatibility.
    """
    where = "get_total_norm"
    items = _tensors(where, "tensors", tensors)
    p = _number(where, "norm_type", norm_type)
    if not items:
        return Tensor._wrap(np.zeros((), np.float32))
    norms = [_norm(t.data, p) for t in items]
    kind = np.result_type(*[n.dtype for n in norms])
    total = _norm(np.array(norms, dtype=kind), p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(np.asarray(total, kind))


def clip_grads_with_norm_(parameters: ParamsLike, max_norm: float, total_norm: Tensor | float,
                          foreach: bool | None = None) -> None:
    """Scale every ``p.grad`` in place by ``min(1, max_norm / (total_norm + 1e-6))``, as
    ``torch.nn.utils.clip_grads_with_norm_`` (``total_norm`` from :func:`get_total_norm`)."""
    where = "clip_grads_with_norm_"
    grads = [p.grad for p in _tensors(where, "parameters", parameters) if p.grad is not None]
    max_norm = _number(where, "max_norm", max_norm)
    total = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(_number(where, "total_norm",
                                                                                      total_norm))
    coefficient = np.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.data *= coefficient.astype(g.data.dtype)


def clip_grad_norm_(parameters: ParamsLike, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total ``norm_type``-norm is at most ``max_norm``, in place.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm (see the module
    docstring; ``norm_type`` may be ``float('inf')``) is computed over every
    parameter with a gradient, then every gradient is multiplied by
    ``min(1, max_norm / (total + 1e-6))``.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        Typically ``model.parameters()``.
    max_norm : float
    norm_type : float, default 2.0
    error_if_nonfinite : bool, default False
        Raise RuntimeError if the total norm is ``nan`` or ``inf``.
    foreach : None or bool
        Accepted for PyTorch compatibility.

    Returns
    -------
    Tensor
        The total norm before clipping (0-d).

    Examples
    --------
    >>> import lucid
    >>> w = lucid.nn.Parameter(lucid.zeros(2))
    >>> w.grad = lucid.tensor([3.0, 4.0])
    >>> round(clip_grad_norm_([w], max_norm=1.0).item(), 4), [round(v, 4) for v in w.grad.tolist()]
    (5.0, [0.6, 0.8])
    """
    params = _tensors("clip_grad_norm_", "parameters", parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters: ParamsLike, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every ``p.grad`` to ``[-clip_value, clip_value]`` in place, as ``torch.nn.utils.clip_grad_value_``.

    >>> import lucid
    >>> w = lucid.nn.Parameter(lucid.zeros(3))
    >>> w.grad = lucid.tensor([-2.0, 0.5, 3.0])
    >>> clip_grad_value_(w, 1.0); w.grad.tolist()
    [-1.0, 0.5, 1.0]
    """
    where = "clip_grad_value_"
    clip = _number(where, "clip_value", clip_value)
    if clip < 0:
        raise bad_value(where, "clip_value", "a non-negative number", clip_value)
    for p in _tensors(where, "parameters", parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip, clip, out=p.grad.data)
