"""``nn.init``: fill tensors in place, as ``torch.nn.init`` does.

Every function writes into the tensor's existing array (so a module keeps its
Parameter objects), draws from the generator of :func:`lucid.manual_seed`, and
returns the tensor.  No gradient is recorded.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import ndtr, ndtri

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


def _fans(where: str, tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)``: ``size(1)`` and ``size(0)`` times the receptive field (PyTorch's rule)."""
    if not isinstance(tensor, Tensor):
        raise bad_type(where, "tensor", "a lucid.Tensor", tensor)
    if tensor.ndim < 2:
        raise bad_value(where, "tensor", "at least 2-D (fans need two dimensions)", tensor)
    receptive = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot-uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans("xavier_uniform_", tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot-normal: ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans("xavier_normal_", tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He-normal: ``N(0, std^2)`` with ``std = gain / sqrt(fan)`` (``fan`` and ``gain`` as in
    :func:`kaiming_uniform_`)."""
    check_choice("kaiming_normal_", "mode", mode, ("fan_in", "fan_out"))
    fan_in, fan_out = _fans("kaiming_normal_", tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> Tensor:
    """``N(mean, std^2)`` truncated to ``[a, b]`` (absolute bounds, as PyTorch), by inverting the normal CDF."""
    low, high = ndtr((a - mean) / std), ndtr((b - mean) / std)
    return _fill("trunc_normal_", tensor, lambda shape: np.clip(
        mean + std * ndtri(generator().uniform(low, high, shape)), a, b))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix: the tensor viewed as ``(size(0), numel / size(0))`` gets the ``Q`` of the QR
    decomposition of a standard normal matrix (signs fixed by ``R``'s diagonal), times ``gain``, as
    PyTorch (Saxe et al., 2013); rows or columns are orthonormal, whichever are fewer."""
    if not isinstance(tensor, Tensor) or tensor.ndim < 2:
        raise bad_value("orthogonal_", "tensor", "a lucid.Tensor with at least 2 dimensions", tensor)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    if tensor.numel() == 0:
        return tensor
    flat = generator().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill("orthogonal_", tensor, (gain * q).reshape(tensor.shape))
