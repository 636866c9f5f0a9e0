"""``nn.ConvTranspose1d``: the up-sampling layer of audio decoders, spelled and initialised as PyTorch's."""
from __future__ import annotations

from typing import Any

from .._errors import bad_value
from ..dtypes import DeviceLike, DTypeLike
from ..tensor import Tensor
from ._checks import floating, single
from ._conv_base import ConvBase
from ._conv_transpose_functional import check_output_padding, conv_transpose1d, output_padding_for


class ConvTranspose1d(ConvBase):
    """Applies a transposed 1-D convolution (the adjoint of ``Conv1d``), as ``torch.nn.ConvTranspose1d``.

    ``y[n, g*C_out/groups + o, j] = bias[.] + sum_{c, i, k: i*stride + k*dilation - padding = j}
    x[n, g*C_in/groups + c, i] * weight[g*C_in/groups + c, o, k]``; see
    :func:`lucid.nn.functional.conv_transpose1d`.  It up-samples by ``stride``
    (HiFi-GAN: ``kernel_size=16, stride=8, padding=4``).

    Parameters
    ----------
    in_channels, out_channels : int
        Positive, both divisible by ``groups``.
    kernel_size : int
    stride : int, default 1
    padding : int, default 0
        Samples cropped from both ends of the output.
    output_padding : int, default 0
        Samples added at the end; smaller than ``stride`` or ``dilation``.
    groups : int, default 1
    bias : bool, default True
    dilation : int, default 1
    padding_mode : 'zeros'
        The only mode (PyTorch's ConvTranspose1d has no other either).
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64
    algorithm : str, optional (keyword only)
        Force an algorithm of :mod:`lucid.algos` (see ``F.conv_transpose1d``);
        may be changed later through the attribute of the same name.

    Attributes
    ----------
    weight : Parameter, shape (in_channels, out_channels // groups, kernel_size)
        Kaiming-uniform with ``a = sqrt(5)`` and PyTorch's fan of this shape,
        ``fan_in = out_channels // groups * kernel_size``:
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
    bias : Parameter of shape (out_channels,) or None
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, the same ``fan_in``.

    Notes
    -----
    Input ``(N, C_in, L)`` or unbatched ``(C_in, L)``; output ``(N, C_out, L_out)``
    or ``(C_out, L_out)`` with ``L_out = (L - 1)*s - 2p + d*(K - 1) + output_padding + 1``.
    ``forward(input, output_size=(L_out,))`` picks the ``output_padding``
    that gives that length instead (any of ``stride`` consecutive lengths).
    The three convolutions of a training step are planned as those of the
    matching ``Conv1d`` (see ``F.conv_transpose1d``).

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> up = nn.ConvTranspose1d(8, 4, kernel_size=16, stride=8, padding=4)
    >>> up(lucid.zeros(2, 8, 10)).shape
    (2, 4, 80)
    >>> up
    ConvTranspose1d(8, 4, kernel_size=(16,), stride=(8,), padding=(4,))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, groups: int = 1, bias: bool = True, dilation: int = 1,
                 padding_mode: str = "zeros", device: DeviceLike = None, dtype: DTypeLike = None, *,
                 algorithm: str | None = None) -> None:
        super().__init__()
        where = "ConvTranspose1d"
        self._sizes(where, in_channels, out_channels, kernel_size, stride, dilation, groups, 1)
        self.padding = (single(where, "padding", padding, 0),)
        self.output_padding = (single(where, "output_padding", output_padding, 0),)
        check_output_padding(where, self.output_padding[0], self.stride[0], self.dilation[0])
        if padding_mode != "zeros":
            raise bad_value(where, "padding_mode", "'zeros' (the only padding mode of a transposed convolution, "
                            "as in PyTorch)", padding_mode)
        self.padding_mode = padding_mode
        self._make_parameters(where, (self.in_channels, self.out_channels // self.groups, self.kernel_size[0]), bias,
                         device, dtype, algorithm)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        """Transpose-convolve ``input`` of shape ``(N, C_in, L)`` or ``(C_in, L)``.

        ``output_size`` (``(L_out,)`` or the whole output shape) overrides
        :attr:`output_padding` with the one giving that length; a length out
        of reach is a ValueError naming the reachable range.
        """
        output_padding = self.output_padding[0]
        if output_size is not None:
            floating("ConvTranspose1d", "input", input)
            if input.ndim not in (2, 3):
                raise bad_value("ConvTranspose1d", "input", "a 2-D (C_in, L) or 3-D (N, C_in, L) tensor", input)
            output_padding = output_padding_for("ConvTranspose1d", output_size, input.shape[-1],
                                                self.kernel_size[0], self.stride[0], self.padding[0],
                                                self.dilation[0], input.ndim)
        return conv_transpose1d(input, self.weight, self.bias, self.stride[0], self.padding[0], output_padding,
                                self.groups, self.dilation[0], algorithm=self.algorithm)
