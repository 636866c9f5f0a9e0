"""Where the planner's settings come from: argument -> scope -> environment -> default.

One helper, :func:`resolve`, applies that order for every setting, so the
per-call ``algorithm=`` keyword, ``with lucid.algos.use(...)`` and the
``LUCID_*`` environment variables always mean the same thing.  A bad
environment value warns (once per value) and falls back to the default.

The environment is read once, at the first call, and again by :func:`reload`;
each :func:`use` scope resolves its settings when it is entered, so a call
costs one context-variable read (:func:`settings`).

========================  =========================  ==============================
setting                   environment variable       default
========================  =========================  ==============================
``algorithm``             ``LUCID_CONV_ALGO``        ``"auto"``
``mode``                  ``LUCID_PLANNER``          ``"heuristic"``
``workspace_limit``       ``LUCID_WORKSPACE_LIMIT``  min(1 GiB, RAM / 8) bytes
``tolerance``             ``LUCID_TOLERANCE``        ``inf`` (no accuracy filter)
``deterministic``         ``LUCID_DETERMINISTIC``    ``False``
``time_limit``            ``LUCID_TIME_LIMIT``       ``1.0`` s of measuring per shape
``check_finite``          ``LUCID_CHECK_FINITE``     ``True`` (NaN/Inf stay where the definition puts them)
========================  =========================  ==============================

``LUCID_VERBOSE=1`` logs each new planner decision and ``LUCID_WISDOM=path``
auto-loads a wisdom file; both are read by the planner, not resolved here.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ..base import DEFAULT_WORKSPACE_LIMIT
from ..registry import names, registered

MODES = ("heuristic", "online", "measure")
#: The ``algorithm`` setting that lets the planner choose.
AUTO = "auto"

_warned: set[tuple[str, str]] = set()


class Settings(NamedTuple):
    """Every setting the planner's choice depends on, resolved for one call."""

    algorithm: str
    mode: str
    workspace_limit: int
    tolerance: float
    deterministic: bool
    time_limit: float
    check_finite: bool
    #: Internal, never user-set: this call's operands hold NaN/Inf, so only algorithms
    #: with ``local_nonfinite`` qualify (see :func:`lucid.algos.planner.execute`).
    nonfinite_operands: bool = False


def _fail(setting: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"{setting} must be {expected}, got {value!r}")


def _algorithm(value: Any) -> str:
    if isinstance(value, str) and (value == AUTO or registered(value)):
        return value
    allowed = names() + (AUTO,)
    if not isinstance(value, str) or value not in allowed:
        raise _fail("algorithm", f"one of {sorted(allowed)}", value)
    return value


def _mode(value: Any) -> str:
    if not isinstance(value, str) or value not in MODES:
        raise _fail("mode", f"one of {list(MODES)}", value)
    return value


def _workspace(value: Any) -> int:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or math.isinf(value):
        raise _fail("workspace_limit", "a non-negative number of bytes", value)
    return int(value)


def _positive_float(setting: str) -> Callable:
    def parse(value: Any) -> float:
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not number > 0:
            raise _fail(setting, "a positive number", value)
        return number
    return parse


def _flag(setting: str) -> Callable:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise _fail(setting, "a bool (or 0/1 in the environment)", value)
    return parse


#: setting -> (environment variable, built-in default, parser/validator)
_SETTINGS: dict[str, tuple[str, Any, Callable[[Any], Any]]] = {
    "algorithm": ("LUCID_CONV_ALGO", AUTO, _algorithm),
    "mode": ("LUCID_PLANNER", "heuristic", _mode),
    "workspace_limit": ("LUCID_WORKSPACE_LIMIT", DEFAULT_WORKSPACE_LIMIT, _workspace),
    "tolerance": ("LUCID_TOLERANCE", math.inf, _positive_float("tolerance")),
    "deterministic": ("LUCID_DETERMINISTIC", False, _flag("deterministic")),
    "time_limit": ("LUCID_TIME_LIMIT", 1.0, _positive_float("time_limit")),
    "check_finite": ("LUCID_CHECK_FINITE", True, _flag("check_finite")),
}


def _from_env(setting: str) -> Any:
    env_name, default, parse = _SETTINGS[setting]
    raw = os.environ.get(env_name)
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        if (env_name, raw) not in _warned:
            _warned.add((env_name, raw))
            warnings.warn(f"ignoring {env_name}={raw!r}: {exc}; using {default!r}", RuntimeWarning, stacklevel=5)
        return default


class _Scope(NamedTuple):
    """A :func:`use` scope: the settings it (and the scopes around it) set, and all of them resolved."""

    given: dict[str, Any]
    settings: Settings


_environment: Settings | None = None
_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("lucid_algos_scope", default=None)


def reload() -> None:
    """Re-read the ``LUCID_*`` environment variables (they are read once, at the first call)."""
    global _environment
    _environment = None


def _from_environment() -> Settings:
    global _environment
    if _environment is None:
        _environment = Settings(*(_from_env(name) for name in _SETTINGS))
    return _environment


def resolve(setting: str, argument: Any = None) -> Any:
    """The value of ``setting``: ``argument``, else the innermost :func:`use` scope,
    else its ``LUCID_*`` environment variable, else the built-in default.

    Raises ValueError naming the setting when ``argument`` is invalid; a bad
    environment value warns once and yields the default instead.
    """
    if setting not in _SETTINGS:
        raise _fail("setting", f"one of {sorted(_SETTINGS)}", setting)
    if argument is not None:
        return _SETTINGS[setting][2](argument)
    return getattr(settings(), setting)


def settings(algorithm: str | None = None) -> Settings:
    """All settings for one call, with the per-call ``algorithm`` argument applied.

    Cost: a context-variable read (~0.1 µs), plus the name check of ``algorithm``.
    """
    scope = _scope.get()
    resolved = _from_environment() if scope is None else scope.settings
    if algorithm is not None and algorithm != resolved.algorithm:
        return _forced(resolved, _algorithm(algorithm))
    return resolved


@functools.lru_cache(maxsize=64)
def _forced(resolved: Settings, algorithm: str) -> Settings:
    """``resolved`` with the per-call ``algorithm`` (memoised: calls repeat it)."""
    return resolved._replace(algorithm=algorithm)


@contextlib.contextmanager
def use(algorithm: str | None = None, *, mode: str | None = None, workspace_limit: int | None = None,
        tolerance: float | None = None, deterministic: bool | None = None,
        time_limit: float | None = None, check_finite: bool | None = None) -> Iterator[None]:
    """Set how convolutions are planned inside a ``with`` block.

    Parameters
    ----------
    algorithm : str, optional
        A registered algorithm name (:func:`lucid.algos.names`: ``"col2im"``,
        ``"direct"``, ``"fft"``, ``"im2col"``, ``"wgrad"``, ``"winograd"``,
        ``"winograd4"``, ``"winograd6"``) or ``"auto"``.  It names the forward
        algorithm; backward passes use it when it supports their derived
        problem (``wgrad`` solves only backward-filter and ``col2im`` only
        backward-data: forced on a forward call, they leave it to the best
        algorithm that can run it).
    mode : {"online", "heuristic", "measure"}, optional
        How ``auto`` chooses: ``"heuristic"`` (default) takes the cost model's
        pick and runs nothing extra; ``"online"`` takes it too and, when its
        runner-up is predicted close, races the top candidates on the shape's
        next real calls and keeps the fastest (no extra calls; measured on 13
        unseen problems: 1.075x the fastest per call after 40 calls, against the
        heuristic's 1.128x, but 1.58x over the first 40 calls, against 1.12x --
        hence not the default); ``"measure"`` times the candidates on extra
        calls before the first one returns.  Decisions in wisdom are used in
        every mode.
    workspace_limit : int, optional
        Bytes of workspace an algorithm may allocate; larger ones are skipped.
    tolerance : float, optional
        Largest acceptable normwise relative error bound (``error_bound(spec)``).
    deterministic : bool, optional
        Only run algorithms whose results are bitwise reproducible, and never
        race (the heuristic or wisdom decides).
    time_limit : float, optional
        Seconds measure mode may spend timing the candidates of one shape.
    check_finite : bool, optional
        When True (default), a call whose result from an algorithm that spreads
        NaN/Inf (``local_nonfinite = False``: fft, winograd) is non-finite and
        whose operands hold NaN/Inf is re-run on one that keeps them where the
        definition puts them.  False skips the check (saves one pass over the output).

    Scopes nest and are per thread / per asyncio task (``contextvars``).
    ``None`` leaves a setting as the enclosing scope has it.

    Examples
    --------
    >>> import lucid.algos
    >>> with lucid.algos.use("direct", workspace_limit=1 << 20):
    ...     lucid.algos.planner.config.resolve("algorithm")
    'direct'
    """
    arguments = dict(algorithm=algorithm, mode=mode, workspace_limit=workspace_limit, tolerance=tolerance,
                     deterministic=deterministic, time_limit=time_limit, check_finite=check_finite)
    outer = _scope.get()
    given = {**(outer.given if outer else {}),
             **{name: _SETTINGS[name][2](value) for name, value in arguments.items() if value is not None}}
    token = _scope.set(_Scope(given, _from_environment()._replace(**given)))
    try:
        yield
    finally:
        _scope.reset(token)
