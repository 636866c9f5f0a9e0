"""The operator methods of :class:`~lucid.tensor.Tensor`: arithmetic, shape, reductions, elementwise.

Each method checks nothing itself: it hands its operands' arrays to a rule of
:mod:`lucid.ops` (which checks the arguments, computes the result and returns
the backward closure) and joins the result to the graph through
``Tensor._apply``.  The mixin imports neither :mod:`lucid.tensor` nor
anything that does, so :mod:`lucid.tensor` needs no late import.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

from ._tensor_more import TensorMore, operand
from .dtypes import infer_dtype
from .ops import Rule, arith, elementwise, reduce, shape

T = TypeVar("T", bound="TensorOps")


class MaxResult(NamedTuple):
    """What ``x.max(dim)`` returns, like ``torch.return_types.max``: ``values`` and int64 ``indices``."""

    values: Any
    indices: Any


def _scalar(value: Any, like: np.ndarray) -> np.ndarray:
    """A Python / NumPy scalar or array operand as an array; Python scalars take the other
    operand's dtype (floats next to an integer tensor become float32, ints next to a bool tensor
    int64), as in PyTorch."""
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, complex):
        scalar = operand(value, like)
        if scalar is not None:
            return scalar
    if isinstance(value, np.ndarray):
        return value.astype(infer_dtype(value).dtype)
    raise TypeError(f"unsupported operand type for a lucid.Tensor operation: {type(value).__name__}")


class TensorOps(TensorMore):
    """Mixin of every differentiable method; :class:`~lucid.tensor.Tensor` supplies the storage
    (comparisons, casts, ``where``, ``clamp``, ``var`` ... come from :class:`~lucid._tensor_more.TensorMore`)."""

    _data: np.ndarray
    requires_grad: bool

    def _apply(self: T, rule: Rule, parents: Sequence[Any], op: str) -> T:  # pragma: no cover
        raise NotImplementedError

    # ---------------------------------------------------------- arithmetic
    def _binary(self: T, other: Any, op: str, reflected: bool = False) -> T:
        if isinstance(other, TensorOps):
            theirs: Any = other
            array = other._data
        else:
            try:
                theirs = array = _scalar(other, self._data)
            except TypeError:
                return NotImplemented
        a, b = (array, self._data) if reflected else (self._data, array)
        left, right = (theirs, self) if reflected else (self, theirs)
        exponent_grad = isinstance(right, TensorOps) and right.requires_grad
        return self._apply(arith.binary(a, b, op, exponent_grad), (left, right), op)

    def __add__(self, other): return self._binary(other, "Add")
    def __radd__(self, other): return self._binary(other, "Add", True)
    def __sub__(self, other): return self._binary(other, "Sub")
    def __rsub__(self, other): return self._binary(other, "Sub", True)
    def __mul__(self, other): return self._binary(other, "Mul")
    def __rmul__(self, other): return self._binary(other, "Mul", True)
    def __truediv__(self, other): return self._binary(other, "Div")
    def __rtruediv__(self, other): return self._binary(other, "Div", True)
    def __pow__(self, other): return self._binary(other, "Pow")
    def __rpow__(self, other): return self._binary(other, "Pow", True)
    def __matmul__(self, other): return self._binary(other, "MatMul")
    def __rmatmul__(self, other): return self._binary(other, "MatMul", True)

    def __abs__(self: T) -> T:
        return self.abs()

    def __neg__(self: T) -> T:
        return self._apply(arith.neg(self._data), (self,), "Neg")

    # ------------------------------------------------------------ elementwise
    def exp(self: T) -> T:
        """``e**x`` elementwise (see :func:`lucid.exp`)."""
        return self._apply(elementwise.exp(self._data), (self,), "Exp")

    def log(self: T) -> T:
        """Natural logarithm elementwise (see :func:`lucid.log`)."""
        return self._apply(elementwise.log(self._data), (self,), "Log")

    def tanh(self: T) -> T:
        """Hyperbolic tangent elementwise (see :func:`lucid.tanh`)."""
        return self._apply(elementwise.tanh(self._data), (self,), "Tanh")

    def sigmoid(self: T) -> T:
        """``1 / (1 + e**-x)`` elementwise, stable for large ``|x|`` (see :func:`lucid.sigmoid`)."""
        return self._apply(elementwise.sigmoid(self._data), (self,), "Sigmoid")

    def abs(self: T) -> T:
        """``|x|`` elementwise (see :func:`lucid.abs`)."""
        return self._apply(elementwise.abs(self._data), (self,), "Abs")

    def sqrt(self: T) -> T:
        """Square root elementwise (see :func:`lucid.sqrt`)."""
        return self._apply(elementwise.sqrt(self._data), (self,), "Sqrt")

    def relu(self: T) -> T:
        """``max(x, 0)`` elementwise (see :func:`lucid.nn.functional.relu`)."""
        return self._apply(elementwise.relu(self._data), (self,), "Relu")

    # ------------------------------------------------------------------ shape
    def reshape(self: T, *shape: Any) -> T:
        """A tensor with the same elements in ``shape`` (ints or one sequence; one ``-1`` is inferred)."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._apply(shape_rule(self._data, shape), (self,), "Reshape")

    def __getitem__(self: T, key: Any) -> T:
        return self._apply(shape.index(self._data, _key(key)), (self,), "Index")

    def split(self: T, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[T, ...]:
        """Cut into consecutive pieces along ``dim``, as ``torch.Tensor.split``: pieces of
        ``split_size_or_sections`` (an int; the last may be smaller) or of the sizes it lists
        (they must sum to the dimension's size).  Each piece is a view; their gradients land in
        one buffer of this tensor's shape (no zero-filled array per piece)."""
        axis, sizes = shape.split_sizes("split", self._data, split_size_or_sections, dim)
        return tuple(self._apply(rule, (self,), "Split") for rule in shape.split(self._data, sizes, axis))

    def chunk(self: T, chunks: int, dim: int = 0) -> tuple[T, ...]:
        """``chunks`` pieces along ``dim`` of ``ceil(size / chunks)`` elements each (the last may be
        smaller, and there may be fewer pieces), as ``torch.Tensor.chunk``; see :meth:`split`."""
        axis, sizes = shape.chunk_sizes(self._data, chunks, dim)
        return tuple(self._apply(rule, (self,), "Split") for rule in shape.split(self._data, sizes, axis))

    def transpose(self: T, dim0: int, dim1: int) -> T:
        """Swap dimensions ``dim0`` and ``dim1`` (negative counts from the end).  Cost: a view; the
        gradient is ``g`` transposed back."""
        return self._apply(shape.transpose(self._data, dim0, dim1), (self,), "Transpose")

    def permute(self: T, *dims: Any) -> T:
        """Reorder the dimensions: result dim ``i`` is dim ``dims[i]`` (ints or one sequence)."""
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return self._apply(shape.permute(self._data, dims), (self,), "Permute")

    def flatten(self: T, start_dim: int = 0, end_dim: int = -1) -> T:
        """Merge dims ``start_dim..end_dim`` (inclusive) into one."""
        return self._apply(shape.flatten(self._data, start_dim, end_dim), (self,), "Flatten")

    def unsqueeze(self: T, dim: int) -> T:
        """Insert a dimension of size 1 at ``dim`` (``-ndim-1 <= dim <= ndim``)."""
        return self._apply(shape.unsqueeze(self._data, dim), (self,), "Unsqueeze")

    def squeeze(self: T, dim: int | Sequence[int] | None = None) -> T:
        """Drop size-1 dimensions: all, or those among ``dim`` (others in ``dim`` are left alone)."""
        return self._apply(shape.squeeze(self._data, dim), (self,), "Squeeze")

    # ------------------------------------------------------------- reductions
    def sum(self: T, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> T:
        """Sum over ``dim`` (all dims when ``None``), keeping reduced dims if ``keepdim``."""
        return self._apply(reduce.sum_mean(self._data, dim, keepdim, "Sum"), (self,), "Sum")

    def mean(self: T, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> T:
        """Mean over ``dim`` (all dims when ``None``); floating-point tensors only."""
        return self._apply(reduce.sum_mean(self._data, dim, keepdim, "Mean"), (self,), "Mean")

    def amax(self: T, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> T:
        """The maximum over ``dim`` (all dims for ``None`` or ``()``); ties share the gradient evenly.
        Cost ``O(n)``."""
        return self._apply(reduce.amax(self._data, dim, keepdim), (self,), "Amax")

    def max(self: T, dim: int | None = None, keepdim: bool = False) -> Any:
        """The largest element (a 0-d tensor) or, with ``dim``, ``MaxResult(values, indices)`` along it.

        As ``torch.Tensor.max``: without ``dim`` ties share the gradient evenly;
        with ``dim`` the gradient goes to the returned (first) index.  Cost ``O(n)``.
        """
        if dim is None:
            if keepdim is not False:
                raise TypeError("max(): keepdim needs dim (max() without dim reduces every dimension)")
            return self._apply(reduce.amax(self._data), (self,), "Max")
        values, indices, backward = reduce.max_dim(self._data, dim, keepdim)
        return MaxResult(self._apply((values, backward), (self,), "Max"),
                         self._apply((indices, lambda g, needs: (None,)), (), "Argmax"))


def shape_rule(data: np.ndarray, dims: tuple[Any, ...]) -> Rule:
    """:func:`lucid.ops.shape.reshape` (kept apart so the method's parameter may be called ``shape``)."""
    return shape.reshape(data, dims)


def _key(key: Any) -> Any:
    """An index with any tensors in it replaced by their arrays."""
    if isinstance(key, tuple):
        return tuple(k._data if isinstance(k, TensorOps) else k for k in key)
    return key._data if isinstance(key, TensorOps) else key
