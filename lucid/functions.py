"""Functions of the ``lucid`` namespace that mirror ``torch.<name>``: elementwise maths, cat, stack, amax.

Each checks that its inputs are tensors and applies a rule of :mod:`lucid.ops`;
the maths, the gradient and the cost are stated in that rule's docstring.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._errors import bad_type
from .ops import shape
from .tensor import Tensor, apply


def _tensor(where: str, value: Any, argument: str = "input") -> Tensor:
    if not isinstance(value, Tensor):
        raise bad_type(where, argument, "a lucid.Tensor", value)
    return value


def exp(input: Tensor) -> Tensor:  # noqa: A002
    """``e**input`` elementwise; gradient ``g * e**input``.  Cost ``O(n)``."""
    return _tensor("exp", input).exp()


def log(input: Tensor) -> Tensor:  # noqa: A002
    """Natural logarithm elementwise (``nan`` below 0, ``-inf`` at 0); gradient ``g / input``.  Cost ``O(n)``."""
    return _tensor("log", input).log()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Hyperbolic tangent elementwise; gradient ``g (1 - tanh(input)**2)``.  Cost ``O(n)``."""
    return _tensor("tanh", input).tanh()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``1 / (1 + e**-input)`` elementwise, computed from ``e**-|input|`` so it never overflows;
    gradient ``g s (1 - s)``.  Cost ``O(n)``.

    >>> import lucid
    >>> lucid.sigmoid(lucid.tensor([-1000.0, 0.0, 1000.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return _tensor("sigmoid", input).sigmoid()


def abs(input: Tensor) -> Tensor:  # noqa: A001,A002
    """``|input|`` elementwise; gradient ``g sign(input)`` (0 at 0).  Cost ``O(n)``."""
    return _tensor("abs", input).abs()


def sqrt(input: Tensor) -> Tensor:  # noqa: A002
    """Square root elementwise (``nan`` below 0); gradient ``g / (2 sqrt(input))``.  Cost ``O(n)``."""
    return _tensor("sqrt", input).sqrt()


def amax(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """The maximum over ``dim`` (every dim for ``None`` or ``()``), as ``torch.amax``; the gradient is
    shared evenly among the tied maxima.  Cost ``O(n)``."""
    return _tensor("amax", input).amax(dim, keepdim)


def max(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001,A002
    """``torch.max``: the largest element, or with ``dim`` the named tuple ``(values, indices)``
    along it (see :meth:`lucid.Tensor.max`).  Cost ``O(n)``."""
    return _tensor("max", input).max(dim, keepdim)


def _tensors(where: str, tensors: Any) -> tuple[Tensor, ...]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise bad_type(where, "tensors", "a sequence (tuple or list) of lucid.Tensor", tensors)
    return tuple(_tensor(where, t, f"tensors[{i}]") for i, t in enumerate(tensors))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along the existing dimension ``dim``, as ``torch.cat``.

    Every other size must agree; mixed dtypes promote as in PyTorch.  The
    gradient of each input is its slice of ``g``.  Cost: one copy of the result.

    >>> import lucid
    >>> lucid.cat([lucid.zeros(2, 1), lucid.ones(2, 2)], dim=1)
    tensor([[0., 1., 1.],
            [0., 1., 1.]])
    """
    parents = _tensors("cat", tensors)
    return apply(shape.cat([t.data for t in parents], dim), parents, "Cat")


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new dimension ``dim`` (``-ndim-1 <= dim <= ndim``), as
    ``torch.stack``; each input's gradient is its slice of ``g``.  Cost: one copy of the result.

    >>> import lucid
    >>> lucid.stack([lucid.zeros(3), lucid.ones(3)]).shape
    (2, 3)
    """
    parents = _tensors("stack", tensors)
    return apply(shape.stack([t.data for t in parents], dim), parents, "Stack")
