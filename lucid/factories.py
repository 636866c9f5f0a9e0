"""Tensor factories and the global random generator, spelled like PyTorch.

Sizes may be given as separate ints or one sequence: ``zeros(4, 1, 16)`` and
``zeros((4, 1, 16))`` are the same.  Random factories and :mod:`lucid.nn.init`
draw from one NumPy generator that :func:`manual_seed` resets.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._errors import bad_type, bad_value, check_int
from .dtypes import DeviceLike, DTypeLike, float32, infer_dtype, int64, to_device, to_dtype
from .tensor import Tensor

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind :func:`randn`, :func:`rand` and :mod:`lucid.nn.init`."""
    global _generator
    _generator = np.random.default_rng(check_int("manual_seed", "seed", seed, 0))


def get_rng_state() -> dict[str, Any]:
    """The state of the global generator as plain data (a dict of ints and strings, NumPy's
    ``bit_generator.state``), for checkpoints: ``lucid.save`` stores it.  PyTorch returns a byte tensor."""
    return dict(_generator.bit_generator.state)


def set_rng_state(new_state: dict[str, Any]) -> None:
    """Restore the global generator to ``new_state`` from :func:`get_rng_state` (dropout masks and
    ``randn`` then continue exactly as after the checkpoint)."""
    if not isinstance(new_state, dict) or new_state.get("bit_generator") != type(_generator.bit_generator).__name__:
        raise bad_type("set_rng_state", "new_state", "the dict returned by lucid.get_rng_state()", new_state)
    try:
        _generator.bit_generator.state = new_state
    except (TypeError, ValueError, KeyError) as error:
        raise bad_value("set_rng_state", "new_state", f"the dict returned by lucid.get_rng_state() ({error})",
                        new_state) from None


def generator() -> np.random.Generator:
    """The current global generator (replaced by :func:`manual_seed`)."""
    return _generator


def _size(where: str, size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(check_int(where, "size", n, 0) for n in size)


def _new(array: np.ndarray, device: DeviceLike, requires_grad: bool, where: str) -> Tensor:
    to_device(device, where)
    return Tensor._wrap(array).requires_grad_(requires_grad)


def tensor(data: Any, *, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (see :class:`~lucid.Tensor` for dtype inference)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _filled(where: str, fill, size: tuple, dtype: DTypeLike, device: DeviceLike, requires_grad: bool) -> Tensor:
    kind = (to_dtype(dtype, where) or float32).dtype
    return _new(fill(_size(where, size), dtype=kind), device, requires_grad, where)


def zeros(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size`` (float32 unless ``dtype`` says otherwise)."""
    return _filled("zeros", np.zeros, size, dtype, device, requires_grad)


def ones(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _filled("ones", np.ones, size, dtype, device, requires_grad)


def empty(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of shape ``size``."""
    return _filled("empty", np.empty, size, dtype, device, requires_grad)


def _random(where: str, draw, size: tuple, dtype: DTypeLike, device: DeviceLike, requires_grad: bool) -> Tensor:
    kind = to_dtype(dtype, where) or float32
    if not kind.is_floating_point:
        raise bad_type(where, "dtype", "lucid.float32 or lucid.float64", kind)
    return _new(draw(_size(where, size), dtype=kind.dtype), device, requires_grad, where)


def randn(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution, shape ``size``."""
    return _random("randn", _generator.standard_normal, size, dtype, device, requires_grad)


def rand(*size: int | Sequence[int], dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    """Samples uniform on ``[0, 1)``, shape ``size``."""
    return _random("rand", _generator.random, size, dtype, device, requires_grad)


def zeros_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    """Zeros with ``input``'s shape and (unless given) dtype."""
    return zeros(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype: DTypeLike = None, device: DeviceLike = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    """Ones with ``input``'s shape and (unless given) dtype."""
    return ones(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: DTypeLike = None,
           device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """``[start, start + step, ...)`` up to ``end`` (``arange(n)`` is ``0 .. n-1``).

    int64 when all of start, end and step are ints, else float32.
    """
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad_type("arange", name, "a real number", value)
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    kind = to_dtype(dtype, "arange") or (int64 if integral else float32)
    return _new(np.arange(start, end, step).astype(kind.dtype), device, requires_grad, "arange")


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing ``ndarray``'s memory (float32, float64 or int64 arrays)."""
    if not isinstance(ndarray, np.ndarray):
        raise bad_type("from_numpy", "ndarray", "a numpy.ndarray", ndarray)
    if ndarray.dtype.kind == "f":
        infer_dtype(ndarray, "from_numpy", "ndarray")
    to_dtype(ndarray.dtype, "from_numpy", "ndarray.dtype")
    return Tensor._wrap(ndarray)
