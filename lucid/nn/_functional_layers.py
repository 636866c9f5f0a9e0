"""``F.linear`` and ``F.dropout``: argument checks, then their rules in :mod:`lucid.ops.layers`."""
from __future__ import annotations

from .._errors import bad_value
from ..factories import generator
from ..ops import layers
from ..tensor import Tensor, apply
from ._checks import flag, floating, optional_shaped, real


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    r"""Affine map of the last dimension, as ``torch.nn.functional.linear``.

    .. math:: y[..., o] = \sum_i x[..., i]\, W[o, i] + b[o]

    Parameters
    ----------
    input : Tensor, shape (*, in_features), float32 or float64
        Any number of leading dimensions (none: a vector).
    weight : Tensor, shape (out_features, in_features), the input's dtype
    bias : Tensor of shape (out_features,), optional

    Returns
    -------
    Tensor, shape (*, out_features)

    Notes
    -----
    Gradients: ``dx = g W``, ``dW = g^T x`` and ``db = sum g`` over every
    leading dimension (one GEMM each, computed only for operands that require
    gradients).  Cost ``2 * numel(x) * out_features`` FLOPs per pass.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.linear(lucid.ones(2, 3), lucid.ones(4, 3), lucid.zeros(4)).shape
    (2, 4)
    """
    where = "linear"
    floating(where, "input", input)
    floating(where, "weight", weight, input)
    if weight.ndim != 2:
        raise bad_value(where, "weight", "a 2-D tensor (out_features, in_features)", weight)
    out_features, in_features = weight.shape
    if input.ndim < 1 or input.shape[-1] != in_features:
        raise bad_value(where, "input", f"a tensor whose last dimension is in_features={in_features}", input)
    optional_shaped(where, "bias", bias, (out_features,), input)
    rule = layers.linear(input.data, weight.data, None if bias is None else bias.data)
    return apply(rule, (input, weight) if bias is None else (input, weight, bias), "Linear")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``, as ``F.dropout``.

    .. math:: y = x \odot m / (1 - p), \qquad m_i \sim \text{Bernoulli}(1 - p)

    so ``E[y] = x``.  The mask is drawn from the generator :func:`lucid.manual_seed`
    seeds; the gradient is ``g * m / (1 - p)``.  With ``training=False`` or
    ``p = 0`` the input itself is returned; ``p = 1`` gives zeros.

    Parameters
    ----------
    input : Tensor, float32 or float64
    p : float in [0, 1], default 0.5
    training : bool, default True
    inplace : bool, default False
        Accepted for PyTorch compatibility; the result is always a new tensor.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.dropout(lucid.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    >>> sorted(set(F.dropout(lucid.ones(100), p=0.5).tolist()))
    [0.0, 2.0]
    """
    where = "dropout"
    floating(where, "input", input)
    p = real(where, "p", p, 0.0, 1.0)
    flag(where, "training", training)
    flag(where, "inplace", inplace)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return apply(layers.dropout(input.data, p, generator()), (input,), "Dropout")
