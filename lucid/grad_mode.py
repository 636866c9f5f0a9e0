"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

All switch one per-thread flag, the one :func:`is_grad_enabled` reads and
:func:`lucid.tensor.track` consults, and restore it on exit; each works as a
context manager and as a decorator, as in PyTorch.  ``inference_mode`` is ``no_grad`` in lucid:
there are no inference tensors, so tensors made under it can later join a
graph (in PyTorch they cannot).
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ._errors import bad_type

_mode = threading.local()


def is_grad_enabled() -> bool:
    """Whether operations record the graph (per thread; see :class:`no_grad`)."""
    return getattr(_mode, "enabled", True)


class _GradMode:
    """A context manager / decorator that sets the flag to :meth:`_target` and restores it after."""

    def _target(self) -> bool:
        raise NotImplementedError

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _mode.enabled = self._target()

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous

    def __call__(self, func: Callable) -> Callable:
        target = self._target

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = is_grad_enabled()
            _mode.enabled = target()
            try:
                return func(*args, **kwargs)
            finally:
                _mode.enabled = previous
        return wrapper


class _Switch(_GradMode):
    """A switch without arguments, usable as ``@switch``, ``@switch()`` or ``with switch():``."""

    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self


class no_grad(_Switch):  # noqa: N801  (PyTorch spelling)
    """Context manager and decorator (``@no_grad()`` or ``@no_grad``) that turns gradient recording off.

    >>> import lucid
    >>> w = lucid.ones(3, requires_grad=True)
    >>> with lucid.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def _target(self) -> bool:
        return False


class enable_grad(_Switch):  # noqa: N801  (PyTorch spelling)
    """Turn gradient recording back on inside a ``no_grad`` block (context manager or decorator).

    >>> import lucid
    >>> w = lucid.ones(2, requires_grad=True)
    >>> with lucid.no_grad():
    ...     with lucid.enable_grad():
    ...         y = w * 2
    >>> y.requires_grad
    True
    """

    def _target(self) -> bool:
        return True


class set_grad_enabled(_GradMode):  # noqa: N801
    """Set gradient recording to ``mode`` at once (so it works as a plain call, too) and, as a context
    manager, until the block ends.

    >>> import lucid
    >>> with lucid.set_grad_enabled(False):
    ...     lucid.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise bad_type("set_grad_enabled", "mode", "a bool", mode)
        self.mode = mode
        self._previous = is_grad_enabled()
        _mode.enabled = mode

    def __enter__(self) -> None:
        _mode.enabled = self.mode

    def __call__(self, func: Callable) -> Callable:
        _mode.enabled = self._previous                 # as a decorator it changes nothing until called
        return super().__call__(func)

    def _target(self) -> bool:
        return self.mode


class inference_mode(_GradMode):  # noqa: N801
    """``no_grad`` (``mode=True``, the default) or nothing (``mode=False``); see the module docstring."""

    mode: bool

    def __new__(cls, mode: Any = True):
        self = super().__new__(cls)
        if callable(mode):                             # used bare as a decorator: @inference_mode
            self.mode = True
            return self(mode)
        if not isinstance(mode, bool):
            raise bad_type("inference_mode", "mode", "a bool", mode)
        self.mode = mode
        return self

    def _target(self) -> bool:
        return is_grad_enabled() and not self.mode
