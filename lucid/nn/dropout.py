"""``nn.Dropout``, as ``torch.nn.Dropout``."""
from __future__ import annotations

from ..tensor import Tensor
from ._checks import flag, real
from ._functional_layers import dropout
from .module import Module


class Dropout(Module):
    """Zero elements with probability ``p`` while training, scaling the rest by ``1/(1-p)``.

    In evaluation mode (``module.eval()``) it returns its input unchanged.  See
    :func:`~lucid.nn.functional.dropout`; masks come from the generator that
    :func:`lucid.manual_seed` seeds.

    Parameters
    ----------
    p : float in [0, 1], default 0.5
    inplace : bool, default False
        Accepted for PyTorch compatibility; the result is always a new tensor.

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> drop = nn.Dropout(0.25)
    >>> drop
    Dropout(p=0.25, inplace=False)
    >>> drop.eval()(lucid.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = real("Dropout", "p", p, 0.0, 1.0)
        self.inplace = flag("Dropout", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.dropout(input, p, training=self.training)``."""
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        return f"p={self.p}, inplace={self.inplace}"
