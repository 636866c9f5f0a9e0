"""``nn.Parameter``: a leaf tensor that modules register as learnable."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that :class:`~lucid.nn.Module` registers when assigned as an attribute.

    Parameters
    ----------
    data : Tensor, optional
        Its array is shared, not copied (as in PyTorch); ``None`` gives an empty
        float32 tensor.
    requires_grad : bool
        Default ``True``.

    >>> import lucid
    >>> lucid.nn.Parameter(lucid.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        array = np.empty(0, np.float32) if data is None else (data.data if isinstance(data, Tensor)
                                                               else Tensor(data).data)
        self._init(array, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
