"""Where the planner's settings come from: argument -> scope -> environment -> default.

One helper, :func:`resolve`, applies that order for every setting, so the
per-call ``algorithm=`` keyword, ``with lucid.algos.use(...)`` and the
``LUCID_*`` environment variables always mean the same thing.  A bad
environment value warns (once per value) and falls back to the default.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import warnings
from typing import Iterator

MODES = ("heuristic", "measure")
AUTO = "auto"

_scope: contextvars.ContextVar[dict] = contextvars.ContextVar("lucid_algos_scope", default={})
_warned: set[tuple[str, str]] = set()

#: setting -> (environment variable, built-in default)
_SETTINGS = {
    "algorithm": ("LUCID_CONV_ALGO", AUTO),
    "mode": ("LUCID_PLANNER", "heuristic"),
}


def _check(setting: str, value: str, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{setting} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _allowed(setting: str) -> tuple[str, ...]:
    if setting == "mode":
        return MODES
    from .registry import names
    return names() + (AUTO,)


def resolve(setting: str, argument: str | None = None) -> str:
    """The value of ``setting``: ``argument``, else the innermost :func:`use` scope,
    else its ``LUCID_*`` environment variable, else the built-in default."""
    allowed = _allowed(setting)
    if argument is not None:
        return _check(setting, argument, allowed)
    scoped = _scope.get().get(setting)
    if scoped is not None:
        return scoped
    env_name, default = _SETTINGS[setting]
    raw = os.environ.get(env_name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        if (env_name, raw) not in _warned:
            _warned.add((env_name, raw))
            warnings.warn(f"ignoring {env_name}={raw!r}: expected one of {sorted(allowed)}; using {default!r}",
                          RuntimeWarning, stacklevel=3)
        return default
    return raw


@contextlib.contextmanager
def use(algorithm: str | None = None, *, mode: str | None = None) -> Iterator[None]:
    """Force an algorithm and/or planner mode inside a ``with`` block.

    Parameters
    ----------
    algorithm : str, optional
        A registered algorithm name (``"direct"``, ``"im2col"``, ``"fft"``,
        ``"winograd"``) or ``"auto"``.  It names the forward algorithm; backward
        passes use it when it supports their derived problem.
    mode : {"heuristic", "measure"}, optional
        How ``auto`` chooses.

    Scopes nest and are per thread / per asyncio task (``contextvars``).

    Examples
    --------
    >>> import lucid.algos
    >>> with lucid.algos.use("direct"):
    ...     pass
    """
    updates = {}
    if algorithm is not None:
        updates["algorithm"] = _check("algorithm", algorithm, _allowed("algorithm"))
    if mode is not None:
        updates["mode"] = _check("mode", mode, MODES)
    token = _scope.set({**_scope.get(), **updates})
    try:
        yield
    finally:
        _scope.reset(token)
