"""``F.batch_norm`` and ``F.instance_norm``: argument checks, the running statistics, then the rules of
:mod:`lucid.ops.batch_norm` (maths, gradients and cost are stated there)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import bad_type, bad_value
from ..ops import batch_norm as rules
from ..tensor import Tensor, apply
from ._checks import flag, floating, optional_shaped, real


def _channels_input(where: str, input: Any, ranks: tuple[int, ...], shape: str) -> Tensor:  # noqa: A002
    floating(where, "input", input)
    if input.ndim not in ranks:
        raise bad_value(where, "input", f"a {shape} tensor", input)
    return input


def _running(where: str, name: str, value: Any, c: int, like: Tensor) -> Tensor | None:
    """``None`` or a ``(C,)`` floating buffer of the input's dtype."""
    if value is None:
        return None
    if not isinstance(value, Tensor) or value.data.dtype.kind != "f" or value.shape != (c,):
        raise bad_value(where, name, f"None or a floating tensor of shape ({c},)", value)
    if value.data.dtype != like.data.dtype:
        raise bad_type(where, name, f"a tensor of the input's dtype {like.dtype}", value)
    return value


def _momentum(where: str, momentum: Any) -> float:
    if momentum is None:
        raise bad_type(where, "momentum", "a number in [0, 1] (the module turns momentum=None into "
                       "1 / num_batches_tracked)", momentum)
    return real(where, "momentum", momentum, 0.0, 1.0)


def _update(running: Tensor | None, batch: np.ndarray, momentum: float) -> None:
    """``running = (1 - momentum) running + momentum batch`` in place (PyTorch's expression)."""
    if running is not None:
        data = running.data
        data[...] = (momentum * batch + (1 - momentum) * data.astype(np.float64)).astype(data.dtype)


def _operands(input: Tensor, weight: Tensor | None, bias: Tensor | None):  # noqa: A002
    parents = tuple(t for t in (input, weight, bias) if t is not None)
    return parents, None if weight is None else weight.data, None if bias is None else bias.data


def _checked(where: str, input: Tensor, running_mean: Any, running_var: Any, weight: Any,  # noqa: A002
             bias: Any, momentum: Any, eps: Any) -> tuple[Any, Any, Any, float, Any]:
    """The checked running statistics, momentum and eps of a ``(N, C, *)`` input, and its operands."""
    c = input.shape[1]
    running_mean = _running(where, "running_mean", running_mean, c, input)
    running_var = _running(where, "running_var", running_var, c, input)
    optional_shaped(where, "weight", weight, (c,), input)
    optional_shaped(where, "bias", bias, (c,), input)
    return (running_mean, running_var, _momentum(where, momentum), real(where, "eps", eps, 0.0),
            _operands(input, weight, bias))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Normalise every channel of an ``(N, C)`` or ``(N, C, L)`` batch, as ``F.batch_norm``.

    Training (``training=True``): :math:`y = (x - \mu_c)/\sqrt{\sigma_c^2 + \epsilon}\, w_c + b_c`
    with the batch's mean and biased variance over ``(N, L)``; the running
    statistics, when given, are updated in place:
    ``running = (1 - momentum) running + momentum batch``, the variance
    entering *unbiased* (``M / (M - 1)`` times the biased one, ``M = N L``).
    Evaluation: the running statistics normalise instead (they must be given).

    Parameters
    ----------
    input : Tensor, shape (N, C) or (N, C, L), float32 or float64
    running_mean, running_var : Tensor of shape (C,), the input's dtype, or None
    weight, bias : Tensor of shape (C,), optional
    training : bool, default False
    momentum : float in [0, 1], default 0.1
    eps : float, default 1e-5

    Returns
    -------
    Tensor of the input's shape and dtype.  Cost: see :mod:`lucid.ops.batch_norm`
    (two reads of the input and one write forward; two reads of the gradient
    and the input and one write backward).

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.batch_norm(lucid.tensor([[1.0], [3.0]]), None, None, training=True, eps=0.0).tolist()
    [[-1.0], [1.0]]
    """
    where = "batch_norm"
    _channels_input(where, input, (2, 3), "2-D (N, C) or 3-D (N, C, L)")
    c = input.shape[1]
    flag(where, "training", training)
    running_mean, running_var, momentum, eps, (parents, w, b) = _checked(
        where, input, running_mean, running_var, weight, bias, momentum, eps)
    count = input.data.size // c if c else 0
    if not training:
        if running_mean is None or running_var is None:
            raise bad_value(where, "running_mean", "a tensor (with running_var) when training=False; pass "
                            "training=True to normalise with the batch's statistics", running_mean)
        rule = rules.evaluate(input.data, running_mean.data, running_var.data, w, b, eps)
        return apply(rule, parents, "BatchNorm")
    if count <= 1:
        raise bad_value(where, "input", f"more than 1 value per channel when training (got input of size "
                        f"{input.shape})", input)
    y, mean, var, backward = rules.train(input.data, w, b, eps)
    _update(running_mean, mean, momentum)
    _update(running_var, var * count / (count - 1), momentum)
    return apply((y, backward), parents, "BatchNorm")


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None, bias: Tensor | None = None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Normalise every channel of every sample over its length, as ``F.instance_norm``.

    With ``use_input_stats`` (default) each ``(n, c)`` row is standardised by
    its own mean and biased variance, then scaled by ``weight[c]`` and shifted
    by ``bias[c]``; the running statistics, when given, move towards the
    batch average of the per-instance means and *unbiased* variances
    (PyTorch's rule).  Without it the running statistics normalise, as
    :func:`batch_norm` in evaluation.

    Parameters
    ----------
    input : Tensor, shape (N, C, L), float32 or float64
    running_mean, running_var : Tensor of shape (C,), optional
    weight, bias : Tensor of shape (C,), optional
    use_input_stats : bool, default True
    momentum : float in [0, 1], default 0.1
    eps : float, default 1e-5

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.instance_norm(lucid.tensor([[[1.0, 3.0], [0.0, 4.0]]]), eps=0.0).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    where = "instance_norm"
    _channels_input(where, input, (3,), "3-D (N, C, L)")
    n, c, length = input.shape
    flag(where, "use_input_stats", use_input_stats)
    running_mean, running_var, momentum, eps, (parents, w, b) = _checked(
        where, input, running_mean, running_var, weight, bias, momentum, eps)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise bad_value(where, "running_mean", "a tensor (with running_var) when use_input_stats=False",
                            running_mean)
        return apply(rules.evaluate(input.data, running_mean.data, running_var.data, w, b, eps), parents,
                     "InstanceNorm")
    if length <= 1:
        raise bad_value(where, "input", f"more than 1 spatial element per channel (got input of size "
                        f"{input.shape})", input)
    y, mean, var, backward = rules.instance_train(input.data, w, b, eps)
    _update(running_mean, mean.mean(0), momentum)
    _update(running_var, (var * length / (length - 1)).mean(0), momentum)
    return apply((y, backward), parents, "InstanceNorm")
