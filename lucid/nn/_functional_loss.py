r"""``F.cross_entropy``, ``F.nll_loss``, ``F.l1_loss``, ``F.binary_cross_entropy`` and
``F.binary_cross_entropy_with_logits``: argument checks, then their rules in :mod:`lucid.ops.loss`."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import bad_type, bad_value, check_choice, check_int
from ..ops import loss
from ..tensor import Tensor, apply
from ._checks import floating, optional_shaped, real

REDUCTIONS = ("mean", "sum", "none")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    r"""Cross-entropy of logits against class indices (or class probabilities), as ``F.cross_entropy``.

    For each element ``n`` (a sample, or a sample and position) with target
    class ``y_n`` and log-probabilities ``log p = log_softmax(z)`` over the class
    dimension (dim 1; dim 0 for an unbatched ``(C,)`` input), smoothing
    :math:`\varepsilon`, class weights ``w`` (default ones) and
    :math:`v_n = [y_n \ne \text{ignore\_index}]`:

    .. math::

        \ell_n = -v_n \Big((1 - \varepsilon)\, w_{y_n} \log p_{n, y_n}
                 + \frac{\varepsilon}{C} \sum_c w_c \log p_{n, c}\Big)

    ``reduction='none'`` returns :math:`\ell` (the target's shape), ``'sum'``
    :math:`\sum_n \ell_n` and ``'mean'`` :math:`\sum_n \ell_n / \sum_n v_n w_{y_n}`
    (the number of non-ignored targets when unweighted; NaN if there are none),
    PyTorch's definitions.  ``log_softmax`` is computed stably (max subtracted).
    With :math:`a_{n,c}` the coefficient of :math:`\log p_{n,c}` above, the
    gradient is :math:`\partial \ell_n / \partial z_{n,c} = p_{n,c} \sum_k a_{n,k} - a_{n,c}`
    (``softmax - onehot`` without weights or smoothing).

    With class *probabilities* as the target (a floating tensor of the input's
    shape, PyTorch's second form) the coefficients are
    :math:`a_{n,c} = w_c ((1 - \varepsilon) t_{n,c} + \varepsilon / C)`,
    ``ignore_index`` does not apply, ``'mean'`` divides by the number of
    elements ``N * d1 * ...`` and the target gets the gradient
    :math:`-(1 - \varepsilon) w_c \log p_{n,c}`.

    Parameters
    ----------
    input : Tensor, shape (N, C), (N, C, d1, ...) or (C,); float32 or float64 logits
    target : Tensor of int64 class indices, shape (N,), (N, d1, ...) or ()
        Each in ``[0, C)`` or equal to ``ignore_index``.  Or class probabilities:
        a tensor of the input's shape and dtype.
    weight : Tensor of shape (C,), optional
        A rescaling weight per class (the input's dtype); not differentiated.
    ignore_index : int, default -100
        Targets with this value contribute nothing, to the loss nor to the mean's denominator.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    label_smoothing : float in [0, 1], default 0.0

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> loss = F.cross_entropy(lucid.zeros(2, 4), lucid.tensor([1, 3]))
    >>> round(loss.item(), 6) == round(float(__import__("math").log(4)), 6)
    True
    """
    where = "cross_entropy"
    floating(where, "input", input)
    if input.ndim < 1:
        raise bad_value(where, "input", "a tensor of shape (C,), (N, C) or (N, C, d1, ...)", input)
    if not isinstance(target, Tensor):
        raise bad_type(where, "target", "a lucid.Tensor of class indices or class probabilities", target)
    class_axis = 0 if input.ndim == 1 else 1
    c = input.shape[class_axis]
    probabilities = target.data.dtype.kind == "f"
    if probabilities:
        floating(where, "target", target, input)
        expected = input.shape
    elif target.data.dtype.kind in "iu":
        expected = input.shape[:class_axis] + input.shape[class_axis + 1:]
    else:
        raise bad_type(where, "target", "an int64 tensor of class indices or a floating tensor of class "
                       "probabilities", target)
    if target.shape != expected:
        raise bad_value(where, "target", f"a tensor of shape {expected} (" + (
            "the input's shape, for class probabilities)" if probabilities else
            f"the input's shape without its class dimension {class_axis}, for class indices)"), target)
    optional_shaped(where, "weight", weight, (c,), input)
    ignore_index = check_int(where, "ignore_index", ignore_index)
    check_choice(where, "reduction", reduction, REDUCTIONS)
    smoothing = real(where, "label_smoothing", label_smoothing, 0.0, 1.0)

    rule = loss.cross_entropy(input.data, target.data, None if weight is None else weight.data, class_axis,
                              ignore_index, reduction, smoothing)
    return apply(rule, (input, target) if probabilities else (input,), "CrossEntropyLoss")


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    r"""Absolute error :math:`|x - t|`, averaged (``'mean'``), summed or kept (``'none'``), as ``F.l1_loss``.

    The gradient is :math:`\operatorname{sign}(x - t)` for the input and its
    negative for the target (0 where they are equal, as in PyTorch), divided by
    ``numel`` for the mean.  One fused op; cost ``O(numel)``.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.l1_loss(lucid.tensor([1.0, -1.0]), lucid.tensor([0.0, 0.0])).item()
    1.0
    """
    where = "l1_loss"
    floating(where, "input", input)
    floating(where, "target", target)
    if target.shape != input.shape:
        raise bad_value(where, "target", f"of the input's shape {input.shape}", target)
    check_choice(where, "reduction", reduction, REDUCTIONS)
    return apply(loss.l1_loss(input.data, target.data, reduction), (input, target), "L1Loss")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    r"""Negative log-likelihood of log-probabilities against class indices, as ``F.nll_loss``.

    :math:`\ell_n = -w_{y_n} x_{n, y_n}` for each element with a target other
    than ``ignore_index`` (0 otherwise); ``'mean'`` divides the sum by
    :math:`\sum_n w_{y_n}` over those (NaN when all are ignored).  With
    ``x = log_softmax(z)`` this is :func:`cross_entropy` of ``z``.

    Parameters
    ----------
    input : Tensor, shape (N, C), (N, C, d1, ...) or (C,); log-probabilities
    target : Tensor of int64 class indices, shape (N,), (N, d1, ...) or ()
    weight : Tensor of shape (C,), optional
    ignore_index : int, default -100
    reduction : {'mean', 'sum', 'none'}, default 'mean'

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.nll_loss(lucid.tensor([[-1.0, -2.0], [-3.0, -0.5]]), lucid.tensor([0, 1])).item()
    0.75
    """
    where = "nll_loss"
    floating(where, "input", input)
    if input.ndim < 1:
        raise bad_value(where, "input", "a tensor of shape (C,), (N, C) or (N, C, d1, ...)", input)
    class_axis = 0 if input.ndim == 1 else 1
    if not isinstance(target, Tensor) or target.data.dtype.kind not in "iu":
        raise bad_type(where, "target", "an int64 tensor of class indices", target)
    expected = input.shape[:class_axis] + input.shape[class_axis + 1:]
    if target.shape != expected:
        raise bad_value(where, "target", f"a tensor of shape {expected} (the input's shape without its class "
                        f"dimension {class_axis})", target)
    optional_shaped(where, "weight", weight, (input.shape[class_axis],), input)
    ignore_index = check_int(where, "ignore_index", ignore_index)
    check_choice(where, "reduction", reduction, REDUCTIONS)
    rule = loss.nll_loss(input.data, target.data, None if weight is None else weight.data, class_axis,
                         ignore_index, reduction)
    return apply(rule, (input,), "NLLLoss")


def _binary_operands(where: str, input: Any, target: Any, weight: Any, reduction: str) -> None:  # noqa: A002
    floating(where, "input", input)
    floating(where, "target", target, input)
    if target.shape != input.shape:
        raise bad_value(where, "target", f"a tensor of the input's shape {input.shape}", target)
    if weight is not None:
        floating(where, "weight", weight, input)
        try:
            np.broadcast_shapes(weight.shape, input.shape)
        except ValueError:
            raise bad_value(where, "weight", f"None or a tensor broadcastable to {input.shape}", weight) from None
    check_choice(where, "reduction", reduction, REDUCTIONS)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    r"""Binary cross-entropy of probabilities, as ``F.binary_cross_entropy``:
    :math:`\ell = -w (t \log x + (1 - t) \log(1 - x))`, each log clamped at -100 (PyTorch's rule).

    ``input`` must lie in [0, 1]; ``target`` has its shape; ``weight`` broadcasts
    to it.  Prefer :func:`binary_cross_entropy_with_logits` on logits (stable).

    >>> import lucid, lucid.nn.functional as F
    >>> round(F.binary_cross_entropy(lucid.tensor([0.5]), lucid.tensor([1.0])).item(), 4)
    0.6931
    """
    where = "binary_cross_entropy"
    _binary_operands(where, input, target, weight, reduction)
    if input.data.size and not (np.all(input.data >= 0) and np.all(input.data <= 1)):
        raise bad_value(where, "input", "probabilities in [0, 1] (pass logits to binary_cross_entropy_with_logits)",
                        input)
    rule = loss.binary_cross_entropy(input.data, target.data, None if weight is None else weight.data, reduction,
                                     logits=False)
    return apply(rule, (input, target), "BCELoss")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    r"""Binary cross-entropy of logits, as ``F.binary_cross_entropy_with_logits``:

    .. math:: \ell = w \big((1 - t) x + (1 + (p - 1) t) \log(1 + e^{-x})\big)

    computed without overflow for any ``x``; ``pos_weight`` ``p`` (broadcast
    along the last, class, dimension) weighs the positive term.  The input
    gradient is :math:`w ((1 - t) - (1 + (p - 1) t) \sigma(-x))` (``sigma(x) - t``
    without ``pos_weight``); ``target`` gets its gradient too.

    >>> import lucid, lucid.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(lucid.tensor([0.0]), lucid.tensor([1.0])).item(), 4)
    0.6931
    """
    where = "binary_cross_entropy_with_logits"
    _binary_operands(where, input, target, weight, reduction)
    if pos_weight is not None:
        floating(where, "pos_weight", pos_weight, input)
        try:
            np.broadcast_shapes(pos_weight.shape, input.shape)
        except ValueError:
            raise bad_value(where, "pos_weight", f"None or a tensor broadcastable to {input.shape}",
                            pos_weight) from None
    rule = loss.binary_cross_entropy(input.data, target.data, None if weight is None else weight.data, reduction,
                                     logits=True, pos_weight=None if pos_weight is None else pos_weight.data)
    return apply(rule, (input, target), "BCEWithLogitsLoss")
