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


# ------------------------------------------------- issue #25: reductions, selection, comparisons, matmul
def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """``torch.sum``: the sum over ``dim`` (every dim for ``None``); gradient ``g`` broadcast back."""
    return _tensor("sum", input).sum(dim, keepdim)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``torch.mean``: the mean over ``dim`` (floating tensors); gradient ``g / n`` broadcast back."""
    return _tensor("mean", input).mean(dim, keepdim)


def matmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``torch.matmul``: ``input @ other`` with NumPy's (= PyTorch's) batching and 1-D promotion."""
    return _tensor("matmul", input) @ _tensor("matmul", other, "other")


def where(condition: Tensor, input: Any, other: Any) -> Tensor:  # noqa: A002
    """``torch.where(condition, input, other)``: ``input`` where the bool ``condition`` holds, else ``other``
    (tensors or numbers, broadcast); gradients ``g [condition]`` and ``g [not condition]``.

    >>> import lucid
    >>> x = lucid.tensor([-1.0, 2.0])
    >>> lucid.where(x > 0, x, 0.0)
    tensor([0., 2.])
    """
    _tensor("where", condition, "condition")
    if isinstance(input, Tensor):
        return input.where(condition, other)
    if isinstance(other, Tensor):                       # a number as input: compute on the tensor's side
        return other.where(~condition, input)
    raise bad_type("where", "input", "a tensor (input or other must be one)", input)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A001,A002
    """``torch.clamp``: every element limited to ``[min, max]`` (see :meth:`lucid.Tensor.clamp`)."""
    return _tensor("clamp", input).clamp(min, max)


clip = clamp


def maximum(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``torch.maximum``: elementwise maximum; the gradient is halved between equal elements."""
    return _tensor("maximum", input).maximum(_tensor("maximum", other, "other"))


def minimum(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``torch.minimum``: elementwise minimum."""
    return _tensor("minimum", input).minimum(_tensor("minimum", other, "other"))


def min(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001,A002
    """``torch.min``: the smallest element, or with ``dim`` the named tuple ``(values, indices)``."""
    return _tensor("min", input).min(dim, keepdim)


def amin(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``torch.amin``: the minimum over ``dim``; ties share the gradient evenly."""
    return _tensor("amin", input).amin(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``torch.argmax``: int64 index of the first maximum (of the flattened tensor for ``dim=None``)."""
    return _tensor("argmax", input).argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``torch.argmin``: int64 index of the first minimum."""
    return _tensor("argmin", input).argmin(dim, keepdim)


def var(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,  # noqa: A002
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """``torch.var``: ``sum((x - mean)^2) / (n - correction)``, ``correction=1`` by default."""
    return _tensor("var", input).var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,  # noqa: A002
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """``torch.std``: the square root of :func:`var`."""
    return _tensor("std", input).std(dim, unbiased, keepdim, correction=correction)


def clone(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.clone``: a copy whose gradient flows back unchanged."""
    return _tensor("clone", input).clone()


def _comparison(name: str):
    def compare(input: Tensor, other: Any) -> Tensor:  # noqa: A002
        return getattr(_tensor(name, input), name)(other)
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"``torch.{name}``: elementwise comparison, a bool tensor (no gradient)."
    return compare


eq, ne, lt, le, gt, ge = (_comparison(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
