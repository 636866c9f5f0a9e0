"""The one place that words argument errors, so messages cannot drift.

Every public function reports a bad argument as::

    conv1d(): padding must be an int, 'same' or 'valid', got 'foo'

i.e. ``<where>(): <argument> must be <expected>, got <received>`` — who
complained, which argument the caller must fix, what was expected and what was
received — on one line, followed by ``; <fix>`` when there is a usual fix
(``convert it with lucid.tensor(x)``, ``x.unsqueeze(1)``, ...).  Wrong kinds of
values raise :class:`TypeError`, wrong values of the right kind
:class:`ValueError`.  Received values are shown short: arrays and tensors by
type, shape and dtype, never their contents; anything else by a ``repr`` cut
to :data:`MAX_REPR` characters.  The ``check_*`` helpers cover the checks that
recur across the package (integers that must not be bools or floats, choices
from a fixed set).
"""
from __future__ import annotations

import numbers
import os
import reprlib
from collections.abc import Iterable
from typing import Any

import numpy as np

#: The longest ``repr`` of a received value in a message (longer ones end in ``...``).
MAX_REPR = 80

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 2
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxfrozenset = _SHORT.maxdict = 4
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 40


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to at most :data:`MAX_REPR` characters (nested containers elided by :mod:`reprlib`).

    >>> short_repr(list(range(1000)))
    '[0, 1, 2, 3, ...]'
    """
    text = _SHORT.repr(value)
    return text if len(text) <= MAX_REPR else text[:MAX_REPR - 3] + "..."


def type_name(value: Any) -> str:
    """The type of ``value`` as a message names it: ``list``, ``ndarray``, ``Tensor``; types of other
    libraries with their package, so a PyTorch tensor reads ``torch.Tensor``, not ``Tensor``."""
    kind = type(value)
    package = kind.__module__.split(".")[0]
    return kind.__name__ if package in ("builtins", "numpy", "lucid") else f"{package}.{kind.__name__}"


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)


def describe(value: Any) -> str:
    """How a received value is shown in a message: arrays and tensors by type, shape and dtype
    (never their contents), everything else by a short ``repr`` (:func:`short_repr`).

    >>> describe(np.zeros((2, 3), np.float32))
    'ndarray of shape (2, 3) and dtype float32'
    """
    if _is_array(value):
        return f"{type_name(value)} of shape {tuple(value.shape)} and dtype {value.dtype}"
    return short_repr(value)


def _typed(value: Any) -> str:
    """:func:`describe`, with the type added for non-arrays: ``2.0 (float)``, ``[0.0, ...] (list of 500)``."""
    if _is_array(value):
        return describe(value)
    kind = type_name(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        kind += f" of {len(value)}"
    return f"{short_repr(value)} ({kind})"


def _message(where: str, argument: str, expected: str, received: str, fix: str | None) -> str:
    return f"{where}(): {argument} must be {expected}, got {received}" + (f"; {fix}" if fix else "")


def tensor_fix(value: Any, dtype: str | None = None) -> str | None:
    """How to turn ``value`` into a ``lucid.Tensor``, or ``None`` if that is not the usual fix.

    ``dtype`` (``"float32"``, ...) is added as ``dtype=lucid.<dtype>`` when given.

    >>> tensor_fix(np.zeros(3))
    'convert it with lucid.tensor(x)'
    >>> tensor_fix([1.0], "float32")
    'convert it with lucid.tensor(x, dtype=lucid.float32)'
    """
    source = "x"
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        source = "x.detach().numpy()"
    elif not isinstance(value, (np.ndarray, np.generic, list, tuple, numbers.Number)) or isinstance(value, bool):
        return None
    return f"convert it with lucid.tensor({source}" + (f", dtype=lucid.{dtype})" if dtype else ")")


def bad_value(where: str, argument: str, expected: str, got: Any, fix: str | None = None) -> ValueError:
    """A :class:`ValueError` saying ``argument`` of ``where`` must be ``expected``, and the usual ``fix``.

    Examples
    --------
    >>> str(bad_value("conv1d", "padding", "an int, 'same' or 'valid'", "foo"))
    "conv1d(): padding must be an int, 'same' or 'valid', got 'foo'"
    """
    return ValueError(_message(where, argument, expected, describe(got), fix))


def bad_type(where: str, argument: str, expected: str, got: Any, fix: str | None = None) -> TypeError:
    """A :class:`TypeError` in the same wording as :func:`bad_value`.

    Values are shown with their type so ``2.0`` and ``True`` are told from ints:

    >>> str(bad_type("conv1d", "stride", "an int", True))
    'conv1d(): stride must be an int, got True (bool)'

    When ``expected`` is ``"a lucid.Tensor"`` and ``got`` is data lucid can
    copy (a list, a NumPy array, a PyTorch tensor), the fix says how
    (:func:`tensor_fix`):

    >>> str(bad_type("relu", "input", "a lucid.Tensor", [1.0, 2.0]))
    'relu(): input must be a lucid.Tensor, got [1.0, 2.0] (list of 2); convert it with lucid.tensor(x)'
    """
    if fix is None and expected.endswith("a lucid.Tensor"):
        fix = tensor_fix(got)
    return TypeError(_message(where, argument, expected, _typed(got), fix))


def dtype_fix(dtype: Any, layer: Any = None) -> str:
    """The fix for a tensor of the wrong floating dtype: convert it to ``dtype`` (a :class:`lucid.dtype`)
    or, when the tensor it must match belongs to a layer, build the layer in ``layer`` (its own dtype).

    >>> import lucid
    >>> dtype_fix(lucid.float32, lucid.float64)
    'convert it with lucid.tensor(x, dtype=lucid.float32), or build the layer with dtype=lucid.float64'
    """
    fix = f"convert it with lucid.tensor(x, dtype=lucid.{dtype.name})"
    return fix + (f", or build the layer with dtype=lucid.{layer.name}" if layer is not None else "")


def install_hint(extra: str, requirement: str) -> str:
    """How to install an optional dependency, worded to work from a checkout and from a package index.

    >>> print(install_hint("plot", "matplotlib>=3.5"))  # doctest: +NORMALIZE_WHITESPACE
    pip install 'matplotlib>=3.5' (or lucid's extra: pip install -e '.[plot]' in a lucid checkout,
    pip install 'lucid-conv[plot]' from a package index)
    """
    return (f"pip install '{requirement}' (or lucid's extra: pip install -e '.[{extra}]' in a lucid checkout, "
            f"pip install 'lucid-conv[{extra}]' from a package index)")


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
