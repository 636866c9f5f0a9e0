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



def nll_loss(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, class_axis: int, ignore_index: int,
             reduction: str) -> Rule:
    """``(loss, backward)`` of ``-w[y] x[n, y]`` per element (``x`` holds log-probabilities); the mean
    divides by the summed weights of the non-ignored targets.  The gradient is ``-w[y]`` (scaled) at
    each target class, zero elsewhere."""
    c = x.shape[class_axis]
    z = np.moveaxis(x, class_axis, -1)
    valid = target != ignore_index
    if np.any(valid & ((target < 0) | (target >= c))):
        bad = target[valid & ((target < 0) | (target >= c))]
        raise bad_value("nll_loss", "target", f"class indices in [0, {c}) or ignore_index={ignore_index}, "
                        f"e.g. not {int(bad.flat[0])}", target)
    safe = np.where(valid, target, 0)[..., None]
    w = weight if weight is not None else np.ones(c, x.dtype)
    w_y = np.where(valid, w[safe[..., 0]], 0).astype(x.dtype)
    losses = -w_y * np.take_along_axis(z, safe, -1)[..., 0]
    out, denominator = _reduce(losses, reduction, w_y.sum() if reduction == "mean" else None)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = g if reduction == "none" else (g / denominator if denominator is not None else g)
            dz = np.zeros(z.shape, x.dtype)
            np.put_along_axis(dz, safe, (-w_y * scale)[..., None], -1)
        return (np.moveaxis(dz, -1, class_axis),)
    return out, backward


def binary_cross_entropy(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, reduction: str,
                         logits: bool, pos_weight: np.ndarray | None = None) -> Rule:
    """``(loss, backward)`` of binary cross-entropy on probabilities ``x`` (``logits=False``: each log
    clamped at -100 and the input gradient's denominator at 1e-12, PyTorch's rules) or on logits
    (``(1 - t) x + (1 + (p - 1) t) softplus(-x)``, stable for any ``x``), times ``weight``; gradients
    of ``(x, target)``."""
    if logits:
        soft = np.logaddexp(0, -x)                                    # log(1 + e^-x), never overflows
        c = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        losses = (1 - target) * x + c * soft
    else:
        with np.errstate(divide="ignore"):
            log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
        losses = -(target * log_x + (1 - target) * log_1mx)
    w = np.ones((), x.dtype) if weight is None else weight
    out, denominator = _reduce(np.asarray(losses * w, x.dtype), reduction)

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = w * (g if denominator is None else g / denominator)
        if logits:
            e = np.exp(-np.abs(x))                                   # sigmoid(-x) without overflow
            sig_neg = np.where(x >= 0, e / (1 + e), 1 / (1 + e))
            dx = ((1 - target) - c * sig_neg) * scale if needs[0] else None
            dt = (-x + (0 if pos_weight is None else (pos_weight - 1) * soft)) * scale if needs[1] else None
        else:
            dx = (x - target) / np.maximum((1 - x) * x, 1e-12) * scale if needs[0] else None
            dt = (log_1mx - log_x) * scale if needs[1] else None
        return (None if dx is None else np.asarray(dx, x.dtype)), (None if dt is None else np.asarray(dt, x.dtype))
    return out, backward
