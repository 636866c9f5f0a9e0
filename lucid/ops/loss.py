r"""Rules of the fused losses: ``cross_entropy`` and ``l1_loss``, each one op with an analytic backward.

The formulas, reductions and gradients are stated in the docstrings of
:func:`lucid.nn.functional.cross_entropy` and :func:`lucid.nn.functional.l1_loss`,
which check the arguments and call these rules.  Cost ``O(numel)`` each way.
"""
from __future__ import annotations

import numpy as np

from .._errors import bad_value
from . import Rule


def _reduce(values: np.ndarray, reduction: str, denominator: np.ndarray | None = None):
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


def cross_entropy(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, class_axis: int,
                  ignore_index: int, reduction: str, smoothing: float) -> Rule:
    """``(loss, backward)``; ``target`` holds class indices (integers) or probabilities (floating,
    then it is an operand too and gets a gradient when ``needs`` asks for it)."""
    c = x.shape[class_axis]
    probabilities = target.dtype.kind == "f"
    dtype = x.dtype
    z = np.moveaxis(x, class_axis, -1)                       # (..., C)
    shifted = z - z.max(axis=-1, keepdims=True) if c else z
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    w = weight if weight is not None else np.ones(c, dtype)
    if probabilities:                                                   # a_{n, c} = w_c ((1 - eps) t_{n, c} + eps / C)
        coefficient = w * (np.moveaxis(target, class_axis, -1) * (1 - smoothing) + smoothing / c)
        denominator_value = None                                        # the mean is over the N * d1 * ... elements
    else:
        t = target
        valid = t != ignore_index
        if np.any(valid & ((t < 0) | (t >= c))):
            bad = t[valid & ((t < 0) | (t >= c))]
            raise bad_value("cross_entropy", "target", f"class indices in [0, {c}) or ignore_index={ignore_index}, "
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
    out, denominator = _reduce(losses, reduction, denominator_value if reduction == "mean" else None)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        with np.errstate(invalid="ignore", divide="ignore"):         # a mean over nothing: NaN, as forward
            scale = g[..., None] if reduction == "none" else (g / denominator if denominator is not None else g)
            dz = (np.exp(log_p) * coefficient.sum(axis=-1, keepdims=True) - coefficient) * scale
            dt = None
            if probabilities and needs[-1]:
                dt = np.moveaxis(-(1 - smoothing) * w * log_p * scale, -1, class_axis)
        return (np.moveaxis(dz, -1, class_axis),) + ((dt,) if probabilities else ())
    return out, backward


def l1_loss(x: np.ndarray, target: np.ndarray, reduction: str) -> Rule:
    """``(loss, backward)`` of ``|x - target|`` reduced; gradients ``sign(x - t)`` and its negative."""
    diff = x - target
    out, denominator = _reduce(np.abs(diff), reduction)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        with np.errstate(invalid="ignore", divide="ignore"):
            grad = np.sign(diff) * (g / denominator if denominator is not None else g)
        return (grad if needs[0] else None), (np.negative(grad) if needs[1] else None)
    return out, backward

