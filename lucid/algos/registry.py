"""The set of algorithms the planner chooses from, held as values.

Algorithms register themselves once at import (``register(Direct())``); the
planner only iterates :func:`algorithms`.  Adding an algorithm means adding a
module and one ``register`` call, never touching the planner.
"""
from __future__ import annotations

from .base import Algorithm

_ALGORITHMS: dict[str, Algorithm] = {}


def register(algorithm: Algorithm) -> Algorithm:
    """Add ``algorithm``; a second one with the same name raises ValueError."""
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"register() expects an Algorithm instance, got {type(algorithm).__name__}")
    if algorithm.name in _ALGORITHMS:
        raise ValueError(f"an algorithm named {algorithm.name!r} is already registered")
    _ALGORITHMS[algorithm.name] = algorithm
    return algorithm


def algorithms() -> tuple[Algorithm, ...]:
    """All registered algorithms, in registration order."""
    return tuple(_ALGORITHMS.values())


def registered(name: str) -> bool:
    """True when an algorithm called ``name`` is registered (a dict look-up)."""
    return name in _ALGORITHMS


def names() -> tuple[str, ...]:
    """Names of the registered algorithms."""
    return tuple(_ALGORITHMS)


def get(name: str) -> Algorithm:
    """The algorithm called ``name``; ValueError listing the known names otherwise."""
    try:
        return _ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"algorithm must be one of {sorted(_ALGORITHMS)} or 'auto', got {name!r}") from None


def unregister(name: str) -> Algorithm:
    """Remove and return the algorithm called ``name`` (for tests and plug-in unloading).

    Plans the planner already cached for it stay valid until
    :func:`lucid.algos.clear_plans`.
    """
    algorithm = get(name)
    del _ALGORITHMS[name]
    return algorithm
