"""The one place that words argument errors, so messages cannot drift.

Every public function reports a bad argument as::

    conv1d(): padding must be an int, 'same' or 'valid', got 'foo'

i.e. ``<where>(): <argument> must be <expected>, got <received>`` — who
complained, which argument the caller must fix, what was expected and what was
received.  Wrong kinds of values raise :class:`TypeError`, wrong values of the
right kind :class:`ValueError`.  The ``check_*`` helpers cover the checks that
recur across the package (integers that must not be bools or floats, choices
from a fixed set).
"""
from __future__ import annotations

import numbers
import os
from collections.abc import Iterable
from typing import Any

import numpy as np


def describe(value: Any) -> str:
    """How a received value is shown in a message: arrays and tensors by shape and
    dtype (never their contents), everything else by ``repr``."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    return repr(value)


def _message(where: str, argument: str, expected: str, got: Any) -> str:
    return f"{where}(): {argument} must be {expected}, got {describe(got)}"


def bad_value(where: str, argument: str, expected: str, got: Any) -> ValueError:
    """A :class:`ValueError` saying ``argument`` of ``where`` must be ``expected``.

    Examples
    --------
    >>> str(bad_value("conv1d", "padding", "an int, 'same' or 'valid'", "foo"))
    "conv1d(): padding must be an int, 'same' or 'valid', got 'foo'"
    """
    return ValueError(_message(where, argument, expected, got))


def bad_type(where: str, argument: str, expected: str, got: Any) -> TypeError:
    """A :class:`TypeError` in the same wording as :func:`bad_value`.

    Values are shown with their type so ``2.0`` and ``True`` are told from ints:

    >>> str(bad_type("conv1d", "stride", "an int", True))
    'conv1d(): stride must be an int, got True (bool)'
    """
    if not (hasattr(got, "shape") and hasattr(got, "dtype")):
        return TypeError(f"{where}(): {argument} must be {expected}, got {got!r} ({type(got).__name__})")
    return TypeError(_message(where, argument, expected, got))


def check_int(where: str, argument: str, value: Any, minimum: int | None = None) -> int:
    """``value`` as a Python int, rejecting bools, floats and anything below ``minimum``.

    ``minimum=1`` reads "a positive int", ``minimum=0`` "a non-negative int".
    """
    if type(value) is int and (minimum is None or value >= minimum):
        return value
    kind = {None: "an int", 0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise bad_type(where, argument, kind, value)
    if minimum is not None and value < minimum:
        raise bad_value(where, argument, kind, value)
    return int(value)


def check_path(where: str, argument: str, value: Any) -> str:
    """``value`` as a filesystem path string; TypeError for anything but str / os.PathLike.

    >>> check_path("load_wisdom", "path", None)
    Traceback (most recent call last):
    TypeError: load_wisdom(): path must be a str or os.PathLike, got None (NoneType)
    """
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise bad_type(where, argument, "a str or os.PathLike", value)
    path = os.fspath(value)
    if not isinstance(path, str):
        raise bad_type(where, argument, "a str or os.PathLike of str", value)
    return path


def check_choice(where: str, argument: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of the strings ``choices``, else a TypeError / ValueError."""
    choices = tuple(choices)
    expected = "one of " + ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise bad_type(where, argument, expected, value)
    if value not in choices:
        raise bad_value(where, argument, expected, value)
    return value
