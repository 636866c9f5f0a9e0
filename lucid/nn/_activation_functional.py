"""Functional activations and softmax: ``F.sigmoid``, ``tanh``, ``silu``, ``gelu``, ``softplus``, ``elu``,
``prelu``, ``leaky_relu``, ``softmax`` and ``log_softmax``, as in ``torch.nn.functional``.

The rules (maths, gradient, stable forms) live in :mod:`lucid.ops.elementwise`
and :mod:`lucid.ops.reduce`; every function costs ``O(n)`` forward and backward.
"""
from __future__ import annotations

from typing import Any

from .._errors import bad_type, bad_value
from ..ops import elementwise, reduce
from ..tensor import Tensor, apply


def _tensor(where: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise bad_type(where, "input", "a lucid.Tensor", value)
    return value


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``1 / (1 + e**-input)``, stable for any ``input`` (same as :func:`lucid.sigmoid`)."""
    return _tensor("sigmoid", input).sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Hyperbolic tangent (same as :func:`lucid.tanh`)."""
    return _tensor("tanh", input).tanh()


def silu(input: Tensor) -> Tensor:  # noqa: A002
    """SiLU (swish): ``input * sigmoid(input)``; gradient ``s (1 + x (1 - s))``.

    >>> import lucid, lucid.nn.functional as F
    >>> F.silu(lucid.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """
    return apply(elementwise.silu(_tensor("silu", input).data), (input,), "Silu")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """GELU, ``x Phi(x)`` with ``Phi`` the standard normal CDF.

    ``approximate='none'``: ``x/2 (1 + erf(x / sqrt 2))``; ``'tanh'``:
    ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``, PyTorch's approximation.
    """
    return apply(elementwise.gelu(_tensor("gelu", input).data, approximate), (input,), "Gelu")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """``log(1 + e**(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``.

    Computed without overflow for any ``x``; gradient ``sigmoid(beta x)`` (1 above
    the threshold).  ``beta`` must be non-zero.
    """
    rule = elementwise.softplus(_tensor("softplus", input).data, beta, threshold)
    return apply(rule, (input,), "Softplus")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """``input`` where positive, else ``negative_slope * input``; gradient 1 or ``negative_slope``
    (``negative_slope`` at 0, as PyTorch).  HiFi-GAN's activation (slope 0.1).

    ``inplace`` is accepted for PyTorch's spelling (a bool), but the result is
    always a new tensor: lucid's graph does not rewrite arrays in place.

    >>> import lucid, lucid.nn.functional as F
    >>> F.leaky_relu(lucid.tensor([-2.0, 0.0, 3.0]), 0.1)
    tensor([-0.2000,  0.0000,  3.0000])
    """
    if not isinstance(inplace, bool):
        raise bad_type("leaky_relu", "inplace", "a bool", inplace)
    rule = elementwise.leaky_relu(_tensor("leaky_relu", input).data, negative_slope)
    return apply(rule, (input,), "LeakyRelu")


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit, as ``torch.nn.functional.glu``: ``a * sigmoid(b)`` where ``a`` and ``b`` are
    the first and second halves of ``input`` along ``dim`` (its size there must be even).

    One op (the halves are views; the gradient is written into one buffer), so a
    gate costs one node instead of two slices, a sigmoid and a product.

    >>> import lucid, lucid.nn.functional as F
    >>> F.glu(lucid.tensor([1.0, 2.0, 0.0, 0.0]), dim=0)
    tensor([0.5000, 1.0000])
    """
    return apply(elementwise.glu(_tensor("glu", input).data, dim), (input,), "Glu")


def _dim(where: str, dim: Any) -> Any:
    if dim is None:
        raise bad_value(where, "dim", "an int (lucid does not guess the dimension, unlike PyTorch's "
                        "deprecated implicit choice)", dim)
    return dim


def softmax(input: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """``e**x_i / sum_j e**x_j`` along ``dim``, after subtracting the maximum (no overflow).

    Gradient ``y (g - sum(g y))`` along ``dim``.  ``dim`` is required.

    >>> import lucid, lucid.nn.functional as F
    >>> F.softmax(lucid.tensor([0.0, 1000.0]), dim=0)
    tensor([0., 1.])
    """
    rule = reduce.softmax(_tensor("softmax", input).data, _dim("softmax", dim))
    return apply(rule, (input,), "Softmax")


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """``x_i - m - log(sum_j e**(x_j - m))`` along ``dim``, ``m`` the maximum: finite for any finite input.

    Gradient ``g - softmax(x) sum(g)`` along ``dim``.  ``dim`` is required.
    """
    rule = reduce.log_softmax(_tensor("log_softmax", input).data, _dim("log_softmax", dim))
    return apply(rule, (input,), "LogSoftmax")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x`` where positive, else ``alpha (e^x - 1)``, as ``F.elu`` (``inplace`` is accepted; the result is
    always new).  Gradient ``1`` or ``alpha e^x``.

    >>> import lucid, lucid.nn.functional as F
    >>> [round(v, 4) for v in F.elu(lucid.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    return apply(elementwise.elu(_tensor("elu", input).data, alpha), (input,), "Elu")


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """``x`` where positive, else ``weight * x``, as ``F.prelu``: ``weight`` holds one slope, or one per
    channel (dim 1 of the input); both get gradients.

    >>> import lucid, lucid.nn.functional as F
    >>> F.prelu(lucid.tensor([[-2.0, 3.0]]), lucid.tensor([0.25])).tolist()
    [[-0.5, 3.0]]
    """
    x = _tensor("prelu", input)
    if not isinstance(weight, Tensor) or weight.data.dtype != x.data.dtype:
        raise bad_type("prelu", "weight", f"a tensor of the input's dtype {x.dtype}", weight)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise bad_value("prelu", "weight", f"a 1-D tensor of 1 or {channels} (the input's channels) slopes", weight)
    return apply(elementwise.prelu(x.data, weight.data), (x, weight), "Prelu")
