"""``nn.Conv1d``, the seed's layer: parameters, initialisation and padding modes."""
from __future__ import annotations

from .._errors import check_choice
from ..dtypes import DeviceLike, DTypeLike
from ..tensor import Tensor
from . import functional as F
from ._conv_base import ConvBase

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv1d(ConvBase):
    """Applies a 1-D convolution (cross-correlation) over an input of several channels.

    ``y[n, o, t] = bias[o] + sum_{c, k} x_pad[n, g*C_in/groups + c, t*stride + k*dilation] * weight[o, c, k]``
    for output channel ``o`` in group ``g``; see :func:`lucid.nn.functional.conv1d`.

    Parameters
    ----------
    in_channels, out_channels : int
        Both divisible by ``groups``.  ``in_channels`` may be 0: the output is
        then the bias (zero-initialised) broadcast, see :func:`~lucid.nn.functional.conv1d`.
    kernel_size : int
    stride : int, default 1
    padding : int, 'same', 'valid' or 'causal', default 0
        ``'same'`` (stride 1 only) keeps the length: ``dilation*(kernel_size-1)``
        samples in total, the odd one on the right.  ``'valid'`` is 0.
        ``'causal'`` (lucid's extension, as in Keras) pads ``dilation*(kernel_size-1)``
        on the left only: ``L_out = ceil(L / stride)``, no output sees the future.
    dilation : int, default 1
    groups : int, default 1
        ``groups = in_channels`` is a depthwise convolution.
    bias : bool, default True
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
        Other modes than ``'zeros'`` pre-pad with :func:`~lucid.nn.functional.pad`
        and convolve with padding 0.
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64
    algorithm : str, optional (keyword only)
        Force an algorithm of :mod:`lucid.algos` for this layer; may be changed
        later through the attribute of the same name.

    Attributes
    ----------
    weight : Parameter, shape (out_channels, in_channels // groups, kernel_size)
        Kaiming-uniform with ``a = sqrt(5)``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
        ``fan_in = in_channels // groups * kernel_size``.
    bias : Parameter of shape (out_channels,) or None
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Notes
    -----
    Input ``(N, C_in, L)`` or unbatched ``(C_in, L)``; output ``(N, C_out, L_out)``
    or ``(C_out, L_out)`` with ``L_out = floor((L + 2p - d(K-1) - 1) / s + 1)``.

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> conv = nn.Conv1d(in_channels=1, out_channels=8, kernel_size=3, padding=1)
    >>> conv(lucid.zeros(4, 1, 16)).shape
    (4, 8, 16)
    >>> conv
    Conv1d(1, 8, kernel_size=(3,), stride=(1,), padding=(1,))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | str = 0, dilation: int = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: DeviceLike = None, dtype: DTypeLike = None, *,
                 algorithm: str | None = None) -> None:
        super().__init__()
        where = "Conv1d"
        self._sizes(where, in_channels, out_channels, kernel_size, stride, dilation, groups, 0)
        padding = F.check_padding(where, padding, self.stride[0])
        self.padding = padding if isinstance(padding, str) else (padding,)
        self.padding_mode = check_choice(where, "padding_mode", padding_mode, PADDING_MODES)
        self._make_parameters(where, (self.out_channels, self.in_channels // self.groups, self.kernel_size[0]), bias,
                         device, dtype, algorithm)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """Convolve ``input`` of shape ``(N, C_in, L)`` or ``(C_in, L)``."""
        padding: int | str = self.padding if isinstance(self.padding, str) else self.padding[0]
        if self.padding_mode != "zeros":
            input = F.pad(input, F.padding_amounts(padding, self.kernel_size[0], self.dilation[0]),
                          mode=self.padding_mode)
            padding = 0
        return F.conv1d(input, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups,
                        algorithm=self.algorithm)
