"""Pooling modules, spelled like ``torch.nn``: AvgPool1d and MaxPool1d (see :mod:`lucid.nn.functional`)."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _single(value: Any) -> Any:
    """An int as a 1-tuple (PyTorch's ``AvgPool1d`` stores its sizes so); anything else unchanged."""
    return (value,) if isinstance(value, int) and not isinstance(value, bool) else value


class AvgPool1d(Module):
    """Window means over the last dimension (see :func:`lucid.nn.functional.avg_pool1d`)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.padding = _single(kernel_size), _single(padding)
        self.stride = self.kernel_size if stride is None else _single(stride)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def extra_repr(self) -> str:
        """Worded as PyTorch's: ``kernel_size=(3,), stride=(3,), padding=(0,)``."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.avg_pool1d(input, ...)`` with this module's settings."""
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class MaxPool1d(Module):
    """Window maxima over the last dimension (see :func:`lucid.nn.functional.max_pool1d`)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0, dilation: int = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        """Worded as PyTorch's: ``kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False``."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """``F.max_pool1d(input, ...)`` with this module's settings."""
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AdaptiveAvgPool1d(Module):
    """Average over ``output_size`` windows covering the last dimension (see
    :func:`lucid.nn.functional.adaptive_avg_pool1d`); ``AdaptiveAvgPool1d(1)`` is global average pooling.

    >>> import lucid, lucid.nn as nn
    >>> nn.AdaptiveAvgPool1d(1)(lucid.ones(2, 3, 10)).shape
    (2, 3, 1)
    """

    def __init__(self, output_size: int | tuple[int]) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        """``output_size=1``, as PyTorch."""
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.adaptive_avg_pool1d(input, output_size)``."""
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(Module):
    """Maximum over ``output_size`` windows covering the last dimension (see
    :func:`lucid.nn.functional.adaptive_max_pool1d`)."""

    def __init__(self, output_size: int | tuple[int], return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        """``output_size=1``, as PyTorch."""
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """``F.adaptive_max_pool1d(input, output_size, return_indices)``."""
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)
