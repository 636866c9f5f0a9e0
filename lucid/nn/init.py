"""``nn.init``: fill tensors in place, as ``torch.nn.init`` does.

Every function writes into the tensor's existing array (so a module keeps its
Parameter objects), draws from the generator of :func:`lucid.manual_seed`, and
returns the tensor.  No gradient is recorded.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._errors import bad_type, bad_value, check_choice
from ..factories import generator
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "kaiming_uniform_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "sigmoid")
_GAINS = {**{name: 1.0 for name in _LINEAR}, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    ``leaky_relu`` uses ``sqrt(2 / (1 + slope**2))`` with ``slope = param``
    (default 0.01).

    >>> calculate_gain("relu") == 2 ** 0.5
    True
    """
    check_choice("calculate_gain", "nonlinearity", nonlinearity, tuple(_GAINS) + ("leaky_relu",))
    if nonlinearity != "leaky_relu":
        return _GAINS[nonlinearity]
    slope = 0.01 if param is None else param
    if isinstance(slope, bool) or not isinstance(slope, numbers.Real):
        raise bad_type("calculate_gain", "param", "a number (the negative slope)", param)
    return math.sqrt(2.0 / (1 + slope ** 2))


def _fill(where: str, tensor: Tensor, values) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise bad_type(where, "tensor", "a lucid.Tensor", tensor)
    if tensor.data.dtype.kind != "f":
        raise bad_type(where, "tensor", "a floating-point tensor", tensor)
    tensor.data[...] = values(tensor.shape) if callable(values) else values
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of ``U(a, b)``."""
    return _fill("uniform_", tensor, lambda shape: generator().uniform(a, b, shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of ``N(mean, std**2)``."""
    return _fill("normal_", tensor, lambda shape: generator().normal(mean, std, shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill("constant_", tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    return constant_(tensor, 1.0)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He-uniform: ``U(-bound, bound)`` with ``bound = gain * sqrt(3 / fan)``.

    ``fan`` is ``size(1) * receptive field`` (``mode='fan_in'``) or ``size(0) *
    receptive field`` (``'fan_out'``); ``gain = calculate_gain(nonlinearity, a)``.
    With ``a = sqrt(5)`` (``nn.Conv1d``'s default) the bound is ``1/sqrt(fan_in)``.
    """
    if not isinstance(tensor, Tensor):
        raise bad_type("kaiming_uniform_", "tensor", "a lucid.Tensor", tensor)
    if tensor.ndim < 2:
        raise bad_value("kaiming_uniform_", "tensor", "at least 2-D (fans need two dimensions)", tensor)
    check_choice("kaiming_uniform_", "mode", mode, ("fan_in", "fan_out"))
    receptive = int(np.prod(tensor.shape[2:]))
    fan = tensor.shape[1 if mode == "fan_in" else 0] * receptive
    if fan == 0:
        return tensor
    bound = math.sqrt(3.0 / fan) * calculate_gain(nonlinearity, a)
    return uniform_(tensor, -bound, bound)
