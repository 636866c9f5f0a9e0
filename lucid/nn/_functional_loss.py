r"""``F.cross_entropy`` and ``F.l1_loss``: fused ops with analytic backward passes."""
from __future__ import annotations

import numpy as np

from .._errors import bad_type, bad_value, check_choice, check_int
from ..tensor import Tensor, track
from ._checks import floating, optional_shaped, real

REDUCTIONS = ("mean", "sum", "none")


def _reduce(where: str, values: np.ndarray, reduction: str, denominator: np.ndarray | None = None):
    """``values`` kept, summed, or summed and divided by ``denominator`` (default: their count),
    with the factor the gradient of each element gets (a scalar or the array's shape)."""
    if reduction == "none":
        return values, None
    total = np.asarray(values.sum(), values.dtype)
    if reduction == "sum":
        return total, None
    denominator = np.asarray(values.size if denominator is None else denominator, values.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / denominator, values.dtype), denominator


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

    dtype = input.data.dtype
    z = np.moveaxis(input.data, class_axis, -1)                       # (..., C)
    shifted = z - z.max(axis=-1, keepdims=True) if c else z
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    w = weight.data if weight is not None else np.ones(c, dtype)
    if probabilities:                                                   # a_{n, c} = w_c ((1 - eps) t_{n, c} + eps / C)
        coefficient = w * (np.moveaxis(target.data, class_axis, -1) * (1 - smoothing) + smoothing / c)
        denominator_value = None                                        # the mean is over the N * d1 * ... elements
    else:
        t = target.data
        valid = t != ignore_index
        if np.any(valid & ((t < 0) | (t >= c))):
            bad = t[valid & ((t < 0) | (t >= c))]
            raise bad_value(where, "target", f"class indices in [0, {c}) or ignore_index={ignore_index}, "
                            f"e.g. not {int(bad.flat[0])}", target)
        safe = np.where(valid, t, 0)
        w_y = np.where(valid, w[safe], 0).astype(dtype)               # v_n w_{y_n}
        coefficient = np.zeros(log_p.shape, dtype)                     # a_{n, c}
        if smoothing:
            coefficient += (smoothing / c) * w * valid[..., None]
        np.put_along_axis(coefficient, safe[..., None], np.take_along_axis(coefficient, safe[..., None], -1)
                          + ((1 - smoothing) * w_y)[..., None], -1)
        denominator_value = w_y.sum()
    losses = -(coefficient * log_p).sum(axis=-1)
    out, denominator = _reduce(where, losses, reduction, denominator_value if reduction == "mean" else None)

    def backward(g: np.ndarray):
        with np.errstate(invalid="ignore", divide="ignore"):         # a mean over nothing: NaN, as forward
            scale = g[..., None] if reduction == "none" else (g / denominator if denominator is not None else g)
            dz = (np.exp(log_p) * coefficient.sum(axis=-1, keepdims=True) - coefficient) * scale
            dt = None
            if probabilities and target.requires_grad:
                dt = np.moveaxis(-(1 - smoothing) * w * log_p * scale, -1, class_axis)
        return np.moveaxis(dz, -1, class_axis), dt

    return track(out, (input, target) if probabilities else (input,), backward, "CrossEntropyLoss")


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
    diff = input.data - target.data
    out, denominator = _reduce(where, np.abs(diff), reduction)

    def backward(g: np.ndarray):
        with np.errstate(invalid="ignore", divide="ignore"):
            grad = np.sign(diff) * (g / denominator if denominator is not None else g)
        return grad, -grad

    return track(out, (input, target), backward, "L1Loss")
