"""Argument checks shared by the layer, norm and loss functionals (wording from :mod:`lucid._errors`)."""
from __future__ import annotations

import numbers
from typing import Any

from .._errors import bad_type, bad_value, check_int, dtype_fix
from ..tensor import Tensor
from .parameter import Parameter


def floating(where: str, argument: str, value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a floating-point Tensor (of ``like``'s dtype when given; ``like`` is the input).

    A layer's :class:`~lucid.nn.Parameter` of another dtype than the input is reported as the
    input's fault (the data is what to convert), anything else as ``argument``'s.
    """
    if not isinstance(value, Tensor):
        raise bad_type(where, argument, "a lucid.Tensor", value)
    if value.data.dtype.kind != "f":
        raise bad_type(where, argument, "a float32 or float64 tensor", value)
    if like is not None and value.data.dtype != like.data.dtype:
        if isinstance(value, Parameter):              # a layer's parameter: the data is what to convert
            raise bad_type(where, "input", f"a tensor of the {argument}'s dtype {value.dtype}", like,
                           dtype_fix(value.dtype, like.dtype))
        raise bad_type(where, argument, f"a tensor of the input's dtype {like.dtype}", value, dtype_fix(like.dtype))
    return value


def optional_shaped(where: str, argument: str, value: Any, shape: tuple[int, ...], like: Tensor) -> Tensor | None:
    """``None``, or a floating Tensor of exactly ``shape`` and ``like``'s dtype."""
    if value is None:
        return None
    floating(where, argument, value, like)
    if value.shape != shape:
        raise bad_value(where, argument, f"None or a tensor of shape {shape}", value)
    return value


def real(where: str, argument: str, value: Any, low: float, high: float | None = None) -> float:
    """``value`` as a float in ``[low, high]`` (``high=None``: no upper bound); bools are rejected."""
    expected = f"a number in [{low}, {high}]" if high is not None else f"a number >= {low}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(where, argument, expected, value)
    if not (low <= float(value) and (high is None or float(value) <= high)):
        raise bad_value(where, argument, expected, value)
    return float(value)


def flag(where: str, argument: str, value: Any) -> bool:
    """``value`` if it is a bool."""
    if not isinstance(value, bool):
        raise bad_type(where, argument, "a bool", value)
    return value


def single(where: str, argument: str, value: Any, minimum: int) -> int:
    """An int argument that PyTorch also accepts as a 1-tuple, e.g. ``stride=(2,)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise bad_value(where, argument, "an int or a 1-tuple of int", value)
        value = value[0]
    return check_int(where, argument, value, minimum)
