"""``nn.LayerNorm`` and ``nn.GroupNorm``, as in ``torch.nn`` (each one fused op, see
:mod:`lucid.nn._functional_norm`)."""
from __future__ import annotations

from collections.abc import Sequence

from .._errors import bad_value, check_int
from ..dtypes import DeviceLike, DTypeLike, dtype
from ..factories import empty
from ..tensor import Tensor
from . import init
from ._checks import flag, real
from ._functional_norm import group_norm, layer_norm, normalized_shape_tuple
from .linear import floating_dtype
from .module import Module
from .parameter import Parameter


class _AffineNorm(Module):
    """What the norms share: an optional learned ``weight`` (ones) and ``bias`` (zeros)."""

    def _affine_parameters(self, shape: tuple[int, ...], affine: bool, bias: bool, kind: dtype) -> None:
        if affine:
            self.weight = Parameter(empty(shape, dtype=kind))
            self.register_parameter("bias", Parameter(empty(shape, dtype=kind)) if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight`` to ones, ``bias`` to zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    r"""Normalise over the trailing ``normalized_shape``: :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} w + b`.

    The mean and the biased variance are taken over the last
    ``len(normalized_shape)`` dimensions of each element; for a 1-D model
    that is the channels of an ``(N, L, C)`` input (the Conformer's use, after
    ``x.transpose(1, 2)``).  See :func:`~lucid.nn.functional.layer_norm`.

    Parameters
    ----------
    normalized_shape : int or tuple of int
    eps : float, default 1e-5
    elementwise_affine : bool, default True
        Learn ``weight`` (ones) and, if ``bias``, ``bias`` (zeros) of shape ``normalized_shape``.
    bias : bool, default True
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> norm = nn.LayerNorm(8)
    >>> norm
    LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> norm(lucid.randn(2, 16, 8)).shape
    (2, 16, 8)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        where = "LayerNorm"
        self.normalized_shape = normalized_shape_tuple(where, normalized_shape)
        self.eps = real(where, "eps", eps, 0.0)
        self.elementwise_affine = flag(where, "elementwise_affine", elementwise_affine)
        flag(where, "bias", bias)
        self._affine_parameters(self.normalized_shape, elementwise_affine, bias,
                                floating_dtype(where, device, dtype))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.layer_norm(input, normalized_shape, weight, bias, eps)``."""
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(_AffineNorm):
    r"""Normalise each group of ``num_channels / num_groups`` channels of every sample of an (N, C, \*) input.

    ``GroupNorm(1, C)`` normalises each sample over all its channels and
    positions, the usual choice in 1-D models.  ``weight`` (ones) and ``bias``
    (zeros) are per channel.  See :func:`~lucid.nn.functional.group_norm`.

    Parameters
    ----------
    num_groups : int, positive, dividing ``num_channels``
    num_channels : int, positive
    eps : float, default 1e-5
    affine : bool, default True
        Learn ``weight`` and (if ``bias``) ``bias``.
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64
    bias : bool, default True (keyword only, as in PyTorch 2.13)

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> norm = nn.GroupNorm(1, 4)
    >>> norm
    GroupNorm(1, 4, eps=1e-05, affine=True, bias=True)
    >>> norm(lucid.randn(2, 4, 16)).shape
    (2, 4, 16)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: DeviceLike = None, dtype: DTypeLike = None, *, bias: bool = True) -> None:
        super().__init__()
        where = "GroupNorm"
        self.num_groups = check_int(where, "num_groups", num_groups, 1)
        self.num_channels = check_int(where, "num_channels", num_channels, 1)
        if num_channels % num_groups:
            raise bad_value(where, "num_groups", f"a divisor of num_channels={num_channels}", num_groups)
        self.eps = real(where, "eps", eps, 0.0)
        self.affine = flag(where, "affine", affine)
        flag(where, "bias", bias)
        self._affine_parameters((num_channels,), affine, bias, floating_dtype(where, device, dtype))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.group_norm(input, num_groups, weight, bias, eps)``."""
        if input.ndim >= 2 and input.shape[1] != self.num_channels:
            raise bad_value("GroupNorm", "input", f"a tensor with num_channels={self.num_channels} channels in "
                            "dim 1", input)
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
