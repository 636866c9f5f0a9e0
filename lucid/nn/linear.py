"""``nn.Linear`` and ``nn.Identity``, as in ``torch.nn``."""
from __future__ import annotations

import math
from typing import Any

from .._errors import bad_type, check_int
from ..dtypes import DeviceLike, DTypeLike, float32, to_device, to_dtype
from ..factories import empty
from ..tensor import Tensor
from . import init
from ._functional_layers import linear
from .module import Module
from .parameter import Parameter


def floating_dtype(where: str, device: DeviceLike, dtype: DTypeLike):
    """The lucid dtype of a new layer's parameters (float32 by default; floating only)."""
    to_device(device, where)
    kind = to_dtype(dtype, where) or float32
    if not kind.is_floating_point:
        raise bad_type(where, "dtype", "lucid.float32 or lucid.float64", kind)
    return kind


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored (as in PyTorch).

    >>> import lucid, lucid.nn as nn
    >>> x = lucid.ones(2)
    >>> nn.Identity(54, unused="argument")(x) is x
    True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``input`` itself."""
        return input


class Linear(Module):
    r"""An affine map of the last dimension: :math:`y = x W^T + b` (see :func:`~lucid.nn.functional.linear`).

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the last dimension of the input and of the output (``in_features`` may be 0).
    bias : bool, default True
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
        Kaiming-uniform with ``a = sqrt(5)``, i.e. ``U(-1/sqrt(in_features), 1/sqrt(in_features))``.
    bias : Parameter of shape (out_features,) or None
        ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` (zeros when ``in_features = 0``).

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> layer = nn.Linear(20, 30)
    >>> layer(lucid.zeros(128, 20)).shape
    (128, 30)
    >>> layer
    Linear(in_features=20, out_features=30, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        where = "Linear"
        self.in_features = check_int(where, "in_features", in_features, 0)
        self.out_features = check_int(where, "out_features", out_features, 0)
        if not isinstance(bias, bool):
            raise bad_type(where, "bias", "a bool", bias)
        kind = floating_dtype(where, device, dtype)
        self.weight = Parameter(empty(out_features, in_features, dtype=kind))
        self.register_parameter("bias", Parameter(empty(out_features, dtype=kind)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw ``weight`` (Kaiming uniform, ``a=sqrt(5)``) and ``bias`` (``±1/sqrt(in_features)``)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.linear(input, weight, bias)`` on an input of shape ``(*, in_features)``."""
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
