"""What ``Conv1d`` and ``ConvTranspose1d`` share, as PyTorch's ``_ConvNd``: the checked sizes, the
weight and bias with their initialisation, and the ``extra_repr``."""
from __future__ import annotations

import math
from typing import Any

from .._errors import bad_type, bad_value, check_int
from ..dtypes import DeviceLike, DTypeLike, float32, to_device, to_dtype
from ..factories import empty
from . import init
from ._checks import single
from .module import Module
from .parameter import Parameter


class ConvBase(Module):
    """The shared half of a 1-D convolution layer; subclasses add padding and ``forward``."""

    padding: Any                 # (p,) or a string (Conv1d), (p,) (ConvTranspose1d)
    padding_mode: str

    def _sizes(self, where: str, in_channels: int, out_channels: int, kernel_size: int, stride: int,
               dilation: int, groups: int, min_in_channels: int) -> None:
        """Check and keep the channel counts, kernel size, stride, dilation and groups (PyTorch's 1-tuples)."""
        self.in_channels = check_int(where, "in_channels", in_channels, min_in_channels)
        self.out_channels = check_int(where, "out_channels", out_channels, 1)
        self.kernel_size = (single(where, "kernel_size", kernel_size, 1),)
        self.stride = (single(where, "stride", stride, 1),)
        self.dilation = (single(where, "dilation", dilation, 1),)
        self.groups = check_int(where, "groups", groups, 1)
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                raise bad_value(where, name, f"divisible by groups={self.groups}", getattr(self, name))

    def _make_parameters(self, where: str, weight_shape: tuple[int, int, int], bias: bool, device: DeviceLike,
                    dtype: DTypeLike, algorithm: str | None) -> None:
        """Check the remaining arguments, make ``weight`` of ``weight_shape`` and ``bias``, initialise them."""
        if not isinstance(bias, bool):
            raise bad_type(where, "bias", "a bool", bias)
        to_device(device, where)
        kind = to_dtype(dtype, where) or float32
        if not kind.is_floating_point:
            raise bad_type(where, "dtype", "lucid.float32 or lucid.float64", kind)
        if algorithm is not None and not isinstance(algorithm, str):
            raise bad_type(where, "algorithm", "None or an algorithm name (str)", algorithm)
        self.algorithm = algorithm
        self.weight = Parameter(empty(*weight_shape, dtype=kind))
        self.register_parameter("bias", Parameter(empty(self.out_channels, dtype=kind)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw ``weight`` (Kaiming uniform, ``a=sqrt(5)``) and ``bias`` (``±1/sqrt(fan_in)``), with
        PyTorch's ``fan_in = weight.shape[1] * kernel_size``: ``in_channels // groups * K`` for a
        convolution, ``out_channels // groups * K`` for a transposed one.  No inputs (``fan_in = 0``):
        a zero bias, not 1/0."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0]
            bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        """The configuration, worded exactly as PyTorch's ``_ConvNd.extra_repr`` (plus ``algorithm``)."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,)) != (0,):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        if self.algorithm is not None:
            s += f", algorithm={self.algorithm}"
        return s
