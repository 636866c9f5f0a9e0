"""``nn.ModuleDict``, as ``torch.nn.ModuleDict``: sub-modules held in a dict, registered by key."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._errors import bad_type
from .module import Module


class ModuleDict(Module):
    """An ordered dict of modules whose entries are registered (their parameters are the dict's).

    >>> import lucid.nn as nn
    >>> heads = nn.ModuleDict({"speaker": nn.Linear(4, 8), "class": nn.Linear(4, 3)})
    >>> list(heads), len(list(heads.parameters()))
    (['speaker', 'class'], 4)
    >>> heads["class"]
    Linear(in_features=4, out_features=3, bias=True)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise bad_type("ModuleDict", "key", "a str", key)
        if not isinstance(module, Module):
            raise bad_type("ModuleDict", f"[{key!r}]", "an nn.Module", module)
        setattr(self, key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every entry."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(key, module)`` pairs."""
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        """The modules."""
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from ``(key, module)`` pairs."""
        pairs: Any = modules.items() if isinstance(modules, Mapping) else modules
        if isinstance(modules, Module) or not isinstance(pairs, Iterable):
            raise bad_type("ModuleDict.update", "modules", "a mapping or an iterable of (key, module) pairs", modules)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise bad_type("ModuleDict.update", "modules", "(key, module) pairs", pair)
            self[pair[0]] = pair[1]
