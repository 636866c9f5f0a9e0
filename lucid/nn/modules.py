"""Containers and losses: ``Sequential``, ``ModuleList``, ``MSELoss`` (``ReLU`` now lives in :mod:`.activation`)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

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


class ModuleList(Module):
    """A list of modules, registered as sub-modules ``"0"``, ``"1"``, ... (as ``torch.nn.ModuleList``).

    Their parameters belong to the owner (``parameters()``, ``state_dict()`` with
    keys ``ups.0.weight``, ...).  Indexing (negative too), slicing (a new
    ``ModuleList``), ``len``, iteration, ``append``, ``extend``, ``insert``,
    ``+=``, item assignment and ``del``; it has no ``forward`` (the owner says
    how the modules are applied).

    >>> import lucid.nn as nn
    >>> blocks = nn.ModuleList([nn.Conv1d(2, 2, 3) for _ in range(2)])
    >>> blocks.append(nn.ReLU())
    ModuleList(
      (0): Conv1d(2, 2, kernel_size=(3,), stride=(1,))
      (1): Conv1d(2, 2, kernel_size=(3,), stride=(1,))
      (2): ReLU()
    )
    >>> len(blocks), len(list(blocks.parameters()))
    (3, 4)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise bad_type("ModuleList", "index", "an int or a slice", index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"ModuleList index {index} out of range for {len(self)} modules")
        return index % len(self)

    def _checked(self, where: str, module: Any) -> Module:
        if not isinstance(module, Module):
            raise bad_type(where, "module", "an nn.Module", module)
        return module

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[str(self._index(index))] = self._checked("ModuleList.__setitem__", module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else self._index(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns the list."""
        self._modules[str(len(self))] = self._checked("ModuleList.append", module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules`` (an iterable, not a single module); returns the list."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise bad_type("ModuleList.extend", "modules", "an iterable of nn.Module", modules)
        if isinstance(modules, (str, bytes)) or not isinstance(modules, Iterable):
            raise bad_type("ModuleList.extend", "modules", "an iterable of nn.Module", modules)
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise bad_type("ModuleList.insert", "index", "an int", index)
        modules = list(self._modules.values())
        modules.insert(index, self._checked("ModuleList.insert", module))
        self._renumber(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Not callable: raises, naming what to do instead (PyTorch raises NotImplementedError too)."""
        raise NotImplementedError("ModuleList has no forward(): iterate over it and call its modules")


class MSELoss(Module):
    """Mean squared error (see :func:`lucid.nn.functional.mse_loss`)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_choice("MSELoss", "reduction", reduction, ("mean", "sum", "none"))
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.mse_loss(input, target, reduction)``."""
        return F.mse_loss(input, target, reduction=self.reduction)
