"""More Tensor methods, spelled like ``torch.Tensor``: comparisons and logic (bool results, no gradient),
``where``, ``clamp``, ``min`` / ``amin`` / ``argmax`` / ``argmin``, ``var`` / ``std``, ``view``, ``clone``,
casts (``to``, ``float``, ``double``, ``long``, ``bool``), ``matmul`` and the in-place ``add_`` ... family.

A mixin like :class:`~lucid._tensor_ops.TensorOps` (which inherits it): every
method hands arrays to a rule of :mod:`lucid.ops` and joins the result to the
graph through ``_apply``; results without a gradient are applied with no
parents, so they never join the graph.
"""
from __future__ import annotations

import builtins
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

from ._errors import bad_type
from .dtypes import DTYPES, DTypeLike, bool_, float32, float64, int64, to_device, to_dtype
from .ops import Rule, reduce, select

T = TypeVar("T", bound="TensorMore")


class MinResult(NamedTuple):
    """What ``x.min(dim)`` returns, like ``torch.return_types.min``: ``values`` and int64 ``indices``."""

    values: Any
    indices: Any


def operand(value: Any, like: np.ndarray) -> np.ndarray | None:
    """A tensor's array, or a Python / NumPy number as a 0-d array of ``like``'s kind (PyTorch's
    promotion: a float next to an integer or bool tensor is float32, an int next to a bool tensor
    int64); None for anything else."""
    if isinstance(value, TensorMore):
        return value._data
    if isinstance(value, (bool, np.bool_)):
        return np.asarray(value, dtype=like.dtype if like.dtype.kind != "b" else bool)
    if isinstance(value, (numbers.Integral, np.integer)):
        return np.asarray(value, dtype=like.dtype if like.dtype.kind in "fiu" else np.int64)
    if isinstance(value, (numbers.Real, np.floating)):
        return np.asarray(value, dtype=like.dtype if like.dtype.kind == "f" else np.float32)
    return None


class TensorMore:
    """The mixin; :class:`~lucid.tensor.Tensor` supplies the storage, ``_apply`` and ``_check_inplace``."""

    _data: np.ndarray
    requires_grad: bool
    __hash__ = object.__hash__          # defining __eq__ would otherwise make tensors unhashable (dict keys)

    def _apply(self: T, rule: Rule, parents: Sequence[Any], op: str) -> T:  # pragma: no cover
        raise NotImplementedError

    def _check_inplace(self, name: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def _constant(self: T, array: np.ndarray, op: str) -> T:
        """``array`` as a tensor outside the graph (no gradient)."""
        return self._apply((np.asarray(array), lambda g, needs: ()), (), op)

    # ---------------------------------------------------------- comparisons
    def _compare(self: T, other: Any, op: str) -> Any:
        theirs = operand(other, self._data)
        if theirs is None:
            return NotImplemented
        return self._constant(select.compare(self._data, theirs, op)[0], op)

    def __eq__(self, other): return self._compare(other, "Eq")
    def __ne__(self, other): return self._compare(other, "Ne")
    def __lt__(self, other): return self._compare(other, "Lt")
    def __le__(self, other): return self._compare(other, "Le")
    def __gt__(self, other): return self._compare(other, "Gt")
    def __ge__(self, other): return self._compare(other, "Ge")

    def eq(self: T, other: Any) -> T:
        """``self == other`` elementwise, a bool tensor (no gradient)."""
        return self._compare(other, "Eq")

    def ne(self: T, other: Any) -> T:
        """``self != other`` elementwise."""
        return self._compare(other, "Ne")

    def lt(self: T, other: Any) -> T:
        """``self < other`` elementwise."""
        return self._compare(other, "Lt")

    def le(self: T, other: Any) -> T:
        """``self <= other`` elementwise."""
        return self._compare(other, "Le")

    def gt(self: T, other: Any) -> T:
        """``self > other`` elementwise."""
        return self._compare(other, "Gt")

    def ge(self: T, other: Any) -> T:
        """``self >= other`` elementwise."""
        return self._compare(other, "Ge")

    def _logical(self: T, other: Any, op: str) -> Any:
        theirs = operand(other, self._data)
        if theirs is None:
            return NotImplemented
        return self._constant(select.logical(self._data, theirs, op)[0], op)

    def __and__(self, other): return self._logical(other, "And")
    def __or__(self, other): return self._logical(other, "Or")
    def __xor__(self, other): return self._logical(other, "Xor")
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self: T) -> T:
        return self._constant(select.logical(self._data, None, "Not")[0], "Not")

    def any(self) -> Any:
        """Whether any element is non-zero (a 0-d bool tensor)."""
        return self._constant(np.asarray(np.any(self._data)), "Any")

    def all(self) -> Any:
        """Whether every element is non-zero (a 0-d bool tensor)."""
        return self._constant(np.asarray(np.all(self._data)), "All")

    # ---------------------------------------------------------- selection
    def where(self: T, condition: Any, other: Any) -> T:
        """``self`` where ``condition`` else ``other``, as ``torch.Tensor.where`` (see :func:`lucid.where`)."""
        cond = condition._data if isinstance(condition, TensorMore) else np.asarray(condition)
        theirs = operand(other, self._data)
        if theirs is None:
            raise bad_type("where", "other", "a tensor or a number", other)
        return self._apply(select.where(cond, self._data, theirs), (self, other if isinstance(other, TensorMore)
                                                                   else theirs), "Where")

    def clamp(self: T, min: Any = None, max: Any = None) -> T:  # noqa: A002
        """Limit every element to ``[min, max]`` (numbers or broadcastable tensors; either may be None);
        PyTorch's gradients (see :mod:`lucid.ops.select`)."""
        if min is None and max is None:
            raise bad_type("clamp", "min", "a number or tensor (at least one of min and max)", None)
        bounds = [None if b is None else operand(b, self._data) for b in (min, max)]
        for name, b, value in zip(("min", "max"), bounds, (min, max)):
            if value is not None and b is None:
                raise bad_type("clamp", name, "None, a number or a tensor", value)
        parents = [self] + [v if isinstance(v, TensorMore) else b for v, b in zip((min, max), bounds) if v is not None]
        return self._apply(select.clamp(self._data, bounds[0], bounds[1]), parents, "Clamp")

    clip = clamp

    def maximum(self: T, other: T) -> T:
        """Elementwise maximum of two tensors (gradient halved at ties, as PyTorch)."""
        return self._apply(select.extremum(self._data, other._data, True), (self, other), "Maximum")

    def minimum(self: T, other: T) -> T:
        """Elementwise minimum of two tensors."""
        return self._apply(select.extremum(self._data, other._data, False), (self, other), "Minimum")

    def amin(self: T, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> T:
        """The minimum over ``dim`` (all dims for ``None`` or ``()``); ties share the gradient evenly."""
        return self._apply(reduce.amax(self._data, dim, keepdim, largest=False), (self,), "Amin")

    def min(self: T, dim: int | None = None, keepdim: bool = False) -> Any:
        """The smallest element (0-d) or, with ``dim``, ``MinResult(values, indices)``, as ``torch.Tensor.min``."""
        if dim is None:
            if keepdim is not False:
                raise TypeError("min(): keepdim needs dim (min() without dim reduces every dimension)")
            return self._apply(reduce.amax(self._data, largest=False), (self,), "Min")
        values, indices, backward = reduce.max_dim(self._data, dim, keepdim, largest=False)
        return MinResult(self._apply((values, backward), (self,), "Min"), self._constant(indices, "Argmin"))

    def argmax(self: T, dim: int | None = None, keepdim: bool = False) -> T:
        """Index of the (first) maximum along ``dim``, or in the flattened tensor; int64, no gradient."""
        return self._constant(reduce.arg_extremum(self._data, dim, keepdim, True), "Argmax")

    def argmin(self: T, dim: int | None = None, keepdim: bool = False) -> T:
        """Index of the (first) minimum along ``dim``, or in the flattened tensor; int64, no gradient."""
        return self._constant(reduce.arg_extremum(self._data, dim, keepdim, False), "Argmin")

    def var(self: T, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: builtins.float | None = None) -> T:
        """Variance over ``dim``: ``sum((x - mean)^2) / (n - correction)``; ``correction`` defaults to 1
        (``unbiased=False`` means 0), as ``torch.Tensor.var``."""
        if unbiased is not None and correction is not None:
            raise TypeError("var(): give unbiased or correction, not both")
        c = correction if correction is not None else (0 if unbiased is False else 1)
        return self._apply(reduce.var(self._data, dim, c, keepdim), (self,), "Var")

    def std(self: T, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: builtins.float | None = None) -> T:
        """Standard deviation, ``sqrt(var(...))`` (same arguments as :meth:`var`)."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()  # type: ignore[attr-defined]

    # -------------------------------------------------------- copies and casts
    def view(self: T, *shape: Any) -> T:
        """The same elements in ``shape`` (as :meth:`reshape`; lucid's arrays need no contiguity check)."""
        return self.reshape(*shape)  # type: ignore[attr-defined]

    def view_as(self: T, other: Any) -> T:
        """``self.view(other.shape)``."""
        return self.reshape(other.shape)  # type: ignore[attr-defined]

    def clone(self: T) -> T:
        """A copy with its own memory; the gradient flows back unchanged."""
        return self._apply(select.clone(self._data), (self,), "Clone")

    def cpu(self: T) -> T:
        """``self`` (the CPU is lucid's only device)."""
        return self

    def contiguous(self: T) -> T:
        """``self`` (lucid's results are NumPy arrays; kept for PyTorch code)."""
        return self

    def to(self: T, *args: Any, dtype: DTypeLike = None, device: Any = None, copy: bool = False) -> T:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``: ``self`` when nothing
        changes (unless ``copy``), else a converted tensor whose gradient converts back."""
        for arg in args:
            if isinstance(arg, TensorMore):
                dtype = arg._data.dtype
            elif arg is None:
                continue
            elif isinstance(arg, str) and arg not in DTYPES:
                device = arg
            elif type(arg).__name__ == "device":
                device = arg
            else:
                dtype = arg
        to_device(device, "to")
        kind = to_dtype(dtype, "to") if dtype is not None else None
        target = self._data.dtype if kind is None else kind.dtype
        if target == self._data.dtype:
            return self.clone() if copy else self
        return self._apply(select.cast(self._data, target), (self,), "To")

    def type_as(self: T, other: Any) -> T:
        """``self.to(other.dtype)``."""
        return self.to(other._data.dtype)

    def float(self: T) -> T:
        """``self.to(lucid.float32)``."""
        return self.to(float32)

    def double(self: T) -> T:
        """``self.to(lucid.float64)``."""
        return self.to(float64)

    def long(self: T) -> T:
        """``self.to(lucid.int64)``."""
        return self.to(int64)

    def bool(self: T) -> T:
        """``self.to(lucid.bool)``."""
        return self.to(bool_)

    def matmul(self: T, other: Any) -> T:
        """``self @ other``."""
        return self @ other

    # ------------------------------------------------------------- in place
    def _inplace_op(self: T, name: str, ufunc: np.ufunc, other: Any, alpha: Any = 1) -> T:
        self._check_inplace(name)
        theirs = operand(other, self._data)
        if theirs is None:
            raise bad_type(name, "other", "a tensor or a number", other)
        if alpha != 1:
            theirs = theirs * alpha
        ufunc(self._data, theirs, out=self._data, casting="same_kind")
        return self

    def add_(self: T, other: Any, *, alpha: builtins.float = 1) -> T:
        """``self += alpha * other`` in place (outside the graph: under ``lucid.no_grad()`` for a tensor that
        requires grad, as ``-=``)."""
        return self._inplace_op("add_", np.add, other, alpha)

    def sub_(self: T, other: Any, *, alpha: builtins.float = 1) -> T:
        """``self -= alpha * other`` in place."""
        return self._inplace_op("sub_", np.subtract, other, alpha)

    def mul_(self: T, other: Any) -> T:
        """``self *= other`` in place."""
        return self._inplace_op("mul_", np.multiply, other)

    def div_(self: T, other: Any) -> T:
        """``self /= other`` in place."""
        return self._inplace_op("div_", np.divide, other)

    def clamp_(self: T, min: Any = None, max: Any = None) -> T:  # noqa: A002
        """:meth:`clamp` in place."""
        self._check_inplace("clamp_")
        low, high = (None if b is None else operand(b, self._data) for b in (min, max))
        np.copyto(self._data, select.clamp(self._data, low, high)[0], casting="same_kind")
        return self
