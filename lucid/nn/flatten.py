"""``nn.Flatten`` and ``nn.Unflatten``, as in ``torch.nn`` (views, gradients reshaped back)."""
from __future__ import annotations

from collections.abc import Sequence

from .._errors import bad_type, bad_value, check_int
from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (default 1..-1: everything but the batch) into one.

    >>> import lucid, lucid.nn as nn
    >>> nn.Flatten()(lucid.zeros(4, 3, 5)).shape
    (4, 15)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim)
        self.end_dim = check_int("Flatten", "end_dim", end_dim)

    def extra_repr(self) -> str:
        """``start_dim=1, end_dim=-1``, as PyTorch."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``input.flatten(start_dim, end_dim)``."""
        if not isinstance(input, Tensor):
            raise bad_type("Flatten", "input", "a lucid.Tensor", input)
        return input.flatten(self.start_dim, self.end_dim)


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (which may hold one ``-1``).

    >>> import lucid, lucid.nn as nn
    >>> nn.Unflatten(1, (3, 5))(lucid.zeros(4, 15)).shape
    (4, 3, 5)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = check_int("Unflatten", "dim", dim)
        if not isinstance(unflattened_size, (tuple, list)) or not unflattened_size:
            raise bad_type("Unflatten", "unflattened_size", "a non-empty tuple of ints", unflattened_size)
        self.unflattened_size = tuple(check_int("Unflatten", "unflattened_size", n, -1) for n in unflattened_size)

    def extra_repr(self) -> str:
        """``dim=1, unflattened_size=(3, 5)``, as PyTorch."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``input`` reshaped with dimension ``dim`` replaced by ``unflattened_size``."""
        if not isinstance(input, Tensor):
            raise bad_type("Unflatten", "input", "a lucid.Tensor", input)
        if not -input.ndim <= self.dim < input.ndim:
            raise bad_value("Unflatten", "dim", f"in [{-input.ndim}, {input.ndim - 1}] for a {input.ndim}-d input",
                            self.dim)
        axis = self.dim % input.ndim
        return input.reshape(input.shape[:axis] + self.unflattened_size + input.shape[axis + 1:])
