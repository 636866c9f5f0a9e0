"""Containers and losses: ``Sequential``, ``MSELoss`` (``ReLU`` now lives in :mod:`.activation`)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from .._errors import bad_type, check_choice
from ..tensor import Tensor
from . import functional as F
from .activation import ReLU  # noqa: F401  (its old home; kept importable)
from .module import Module


class Sequential(Module):
    """Modules applied one after another; built from modules or an ``OrderedDict``.

    >>> import lucid.nn as nn
    >>> net = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU())
    >>> len(net), type(net[1]).__name__
    (2, 'ReLU')
    """

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        named = modules[0].items() if len(modules) == 1 and isinstance(modules[0], OrderedDict) \
            else ((str(i), m) for i, m in enumerate(modules))
        for name, module in named:
            if not isinstance(module, Module):
                raise bad_type("Sequential", name, "an nn.Module", module)
            setattr(self, name, module)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """Feed ``input`` through every module in order."""
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index: int | slice) -> Module:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end."""
        if not isinstance(module, Module):
            raise bad_type("Sequential.append", "module", "an nn.Module", module)
        setattr(self, str(len(self)), module)
        return self


class MSELoss(Module):
    """Mean squared error (see :func:`lucid.nn.functional.mse_loss`)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_choice("MSELoss", "reduction", reduction, ("mean", "sum", "none"))
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.mse_loss(input, target, reduction)``."""
        return F.mse_loss(input, target, reduction=self.reduction)
