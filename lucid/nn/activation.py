"""Activation modules, spelled like ``torch.nn``: ReLU, LeakyReLU, Tanh, Sigmoid, SiLU, GELU, Softplus,
Softmax, LogSoftmax, GLU, ELU and PReLU — thin wrappers of :mod:`lucid.nn.functional`."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import bad_type, check_choice, check_int
from ..ops import elementwise
from ..tensor import Tensor
from . import functional as F
from .linear import floating_dtype
from .module import Module
from .parameter import Parameter


class ReLU(Module):
    """``max(x, 0)`` elementwise (see :func:`lucid.nn.functional.relu`)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.relu(input)``."""
        return F.relu(input)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x`` (see :func:`lucid.nn.functional.leaky_relu`).

    >>> import lucid.nn as nn
    >>> nn.LeakyReLU(0.1)
    LeakyReLU(negative_slope=0.1)
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        elementwise.leaky_relu(np.zeros(0), negative_slope)        # validates negative_slope now
        if not isinstance(inplace, bool):
            raise bad_type("LeakyReLU", "inplace", "a bool", inplace)
        self.negative_slope, self.inplace = negative_slope, inplace

    def extra_repr(self) -> str:
        """``negative_slope=0.01`` (and ``, inplace=True``), as PyTorch."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.leaky_relu(input, negative_slope)``."""
        return F.leaky_relu(input, self.negative_slope)


class Tanh(Module):
    """Hyperbolic tangent elementwise (see :func:`lucid.tanh`)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``lucid.tanh(input)``."""
        return F.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + e**-x)`` elementwise, stable for any x (see :func:`lucid.sigmoid`)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``lucid.sigmoid(input)``."""
        return F.sigmoid(input)


class SiLU(Module):
    """``x * sigmoid(x)`` elementwise (see :func:`lucid.nn.functional.silu`)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.silu(input)``."""
        return F.silu(input)


class GELU(Module):
    """``x Phi(x)``, exact (``approximate='none'``) or tanh-approximated (see :func:`lucid.nn.functional.gelu`)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))

    def extra_repr(self) -> str:
        """``approximate='none'``, as PyTorch."""
        return f"approximate={self.approximate!r}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.gelu(input, approximate)``."""
        return F.gelu(input, approximate=self.approximate)


class Softplus(Module):
    """``log(1 + e**(beta x)) / beta``, linear above ``threshold`` (see :func:`lucid.nn.functional.softplus`)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        elementwise.softplus(np.zeros(0), beta, threshold)      # validates beta and threshold now
        self.beta, self.threshold = beta, threshold

    def extra_repr(self) -> str:
        """``beta=1.0, threshold=20.0``, as PyTorch."""
        return f"beta={self.beta}, threshold={self.threshold}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.softplus(input, beta, threshold)``."""
        return F.softplus(input, self.beta, self.threshold)


def _check_dim(where: str, dim: Any) -> int | None:
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise bad_type(where, "dim", "an int", dim)
    return dim


class Softmax(Module):
    """Softmax along ``dim`` (see :func:`lucid.nn.functional.softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _check_dim("Softmax", dim)

    def extra_repr(self) -> str:
        """``dim=1``, as PyTorch."""
        return f"dim={self.dim}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.softmax(input, dim)``."""
        return F.softmax(input, self.dim)


class LogSoftmax(Module):
    """Log-softmax along ``dim`` (see :func:`lucid.nn.functional.log_softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _check_dim("LogSoftmax", dim)

    def extra_repr(self) -> str:
        """``dim=1``, as PyTorch."""
        return f"dim={self.dim}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.log_softmax(input, dim)``."""
        return F.log_softmax(input, self.dim)


class GLU(Module):
    """Gated linear unit along ``dim`` (default -1): first half times sigmoid of the second half
    (see :func:`lucid.nn.functional.glu`)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise bad_type("GLU", "dim", "an int", dim)
        self.dim = dim

    def extra_repr(self) -> str:
        """``dim=-1``, as PyTorch."""
        return f"dim={self.dim}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.glu(input, dim)``."""
        return F.glu(input, self.dim)


class ELU(Module):
    """``x`` where positive, else ``alpha (e^x - 1)`` (see :func:`lucid.nn.functional.elu`)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        elementwise.elu(np.zeros(0), alpha)                          # validates alpha now
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self) -> str:
        """``alpha=1.0``, as PyTorch."""
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.elu(input, alpha)``."""
        return F.elu(input, self.alpha)


class PReLU(Module):
    """``x`` where positive, else ``a x`` with a learned slope ``a`` (one, or one per channel), as
    ``torch.nn.PReLU`` (see :func:`lucid.nn.functional.prelu`).

    >>> import lucid, lucid.nn as nn
    >>> nn.PReLU(4)
    PReLU(num_parameters=4)
    >>> nn.PReLU()(lucid.tensor([-4.0, 1.0])).tolist()
    [-1.0, 1.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = check_int("PReLU", "num_parameters", num_parameters, 1)
        self.init = init
        kind = floating_dtype("PReLU", device, dtype)
        self.weight = Parameter(Tensor._wrap(np.full(num_parameters, init, dtype=kind.dtype)))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        self.weight.data[...] = self.init

    def extra_repr(self) -> str:
        """``num_parameters=1``, as PyTorch."""
        return f"num_parameters={self.num_parameters}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.prelu(input, weight)``."""
        return F.prelu(input, self.weight)
