"""Data types and devices, spelled like PyTorch.

lucid has four dtypes — :data:`float32` (the default for floating-point
data), :data:`float64`, :data:`int64` (the default for integer data) and
``lucid.bool`` (:data:`bool_`: comparisons and masks) — and one device, the
CPU.  Wherever a dtype is accepted, ``lucid.float64``, the string
``"float64"`` and ``numpy.float64`` all mean the same thing.
"""
from __future__ import annotations

from typing import Any, Union

import numpy as np

from ._errors import bad_type, bad_value


class dtype:  # noqa: N801  (PyTorch spelling: lucid.float32 is a lucid.dtype)
    """A lucid element type; ``np.dtype(lucid.float32)`` gives the NumPy dtype."""

    __slots__ = ("name", "dtype", "is_floating_point")

    def __init__(self, name: str) -> None:
        self.name = name
        #: The NumPy dtype (also what makes ``np.dtype(lucid.float32)`` work).
        self.dtype = np.dtype(name)
        self.is_floating_point = self.dtype.kind == "f"

    def __repr__(self) -> str:
        return f"lucid.{self.name}"

    def __reduce__(self):
        return (to_dtype, (self.name,))


float32 = dtype("float32")
float64 = dtype("float64")
int64 = dtype("int64")
#: The dtype of comparisons and masks (``lucid.bool``).
bool_ = dtype("bool")
DTYPES = {d.name: d for d in (float32, float64, int64, bool_)}
#: Every accepted spelling (name, NumPy dtype, NumPy scalar type) -> dtype; the fast path of :func:`to_dtype`.
_SPELLINGS = {key: d for d in DTYPES.values() for key in (d.name, d.dtype, d.dtype.type)}
DTypeLike = Union[dtype, str, np.dtype, type, None]


def to_dtype(value: DTypeLike, where: str = "tensor", argument: str = "dtype") -> dtype | None:
    """The lucid dtype named by ``value`` (``None`` stays ``None``).

    Accepts a :class:`dtype`, a name (``"float32"``), a NumPy dtype or scalar type.
    """
    if value is None or isinstance(value, dtype):
        return value
    known = _SPELLINGS.get(value) if isinstance(value, (str, np.dtype, type)) else None
    if known is not None:
        return known
    expected = "one of lucid.float32, lucid.float64, lucid.int64, lucid.bool (or their names)"
    try:
        name = np.dtype(value).name if not isinstance(value, str) else value
    except TypeError:
        raise bad_type(where, argument, expected, value) from None
    if name not in DTYPES:
        raise bad_value(where, argument, expected, value)
    return DTYPES[name]


SUPPORTED = "float32, float64 or int64 (lucid has no other number dtypes; convert with .astype(numpy.float32))"


def infer_dtype(array: np.ndarray, where: str = "tensor", argument: str = "data") -> dtype:
    """The dtype lucid stores ``array`` as: float32, float64 and bool are kept,
    integers become int64.  Other float widths (float16, longdouble) raise a
    TypeError rather than being converted without a word."""
    kind = array.dtype.kind
    if kind == "b":
        return bool_
    if kind == "f":
        if array.dtype not in (np.float32, np.float64):
            raise bad_type(where, argument, SUPPORTED, array)
        return float64 if array.dtype == np.float64 else float32
    if kind in "biu":
        return int64
    raise bad_type(where, argument, "numbers (float or int)", array)


def _check_cpu(where: str, argument: str, value: Any) -> None:
    expected = "'cpu' (lucid runs on the CPU only; no other device is available)"
    if not isinstance(value, str):
        raise bad_type(where, argument, expected, value)
    if value not in ("cpu", "cpu:0"):
        raise bad_value(where, argument, expected, value)


class device:  # noqa: N801  (PyTorch spelling)
    """A device; only ``device("cpu")`` exists.

    >>> device("cpu")
    device(type='cpu')
    """

    __slots__ = ("type",)

    def __init__(self, type: str = "cpu") -> None:  # noqa: A002  (PyTorch's name)
        if isinstance(type, device):
            type = type.type
        _check_cpu("device", "type", type)
        self.type = "cpu"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, device) or other in ("cpu", "cpu:0")

    def __hash__(self) -> int:
        return hash("cpu")

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"


CPU = device("cpu")
DeviceLike = Union[device, str, None]


def to_device(value: DeviceLike, where: str = "tensor") -> device:
    """Check a ``device=`` argument: ``None``, ``"cpu"`` or ``lucid.device("cpu")``."""
    if value is not None and not isinstance(value, device):
        _check_cpu(where, "device", value)
    return CPU

