"""The Tensor and its reverse-mode autograd, at micrograd's scale.

A :class:`Tensor` wraps a NumPy array.  Every differentiable operation makes
its result with :func:`track`, which — when gradients are enabled and some
operand requires them — stores the operands (``parents``) and a closure that
maps the gradient of the result to the gradients of the operands.
:meth:`Tensor.backward` sorts the graph topologically and runs the closures in
reverse, accumulating into the ``.grad`` of the leaves.  Gradients of
broadcast operands are summed back to each operand's shape.

The operator methods (``+``, ``exp``, ``transpose``, ``max``, ...) come from
:class:`~lucid._tensor_ops.TensorOps`, which applies the array-level rules of
:mod:`lucid.ops` (each returns ``(result, backward)``) through
:meth:`Tensor._apply`; both are imported at the top of this module, and
neither imports it back.

In-place changes (``-=``, :meth:`~Tensor.zero_`, :meth:`~Tensor.copy_`, item
assignment) are for leaves outside the graph — typically parameters inside
``with lucid.no_grad():`` — and keep the tensor object and its array, so a
module's parameters stay the same objects across optimizer steps.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from . import _profile
from ._errors import bad_type, bad_value
from ._tensor_ops import TensorOps, _key
from .autograd import run_backward
from .dtypes import CPU, DeviceLike, DTypeLike, dtype, float32, float64, infer_dtype, to_device, to_dtype
from .grad_mode import is_grad_enabled, no_grad  # noqa: F401  (no_grad re-exported: lucid.tensor.no_grad)
from .ops import Backward, Rule


def track(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward, op: str) -> Tensor:
    """Wrap ``data`` as the result of ``op`` on ``parents``; the one way ops join the graph.

    The node is recorded only when gradients are enabled and a parent requires
    them.  Then ``needs`` (a bool per parent: does it require grad?) is
    computed here, once, and :meth:`Tensor.backward` calls ``backward(g,
    needs)`` with the gradient of the result (an array of its shape); the rule
    returns one gradient per parent -- an array, a :class:`~lucid.ops.Scatter`
    (a slice's gradient) or ``None`` -- and computes only those that ``needs``
    asks for (PyTorch's ``should_compute_output``, tinygrad's ``needs_input_grad``).
    """
    out = Tensor._wrap(data)
    if _profile.active is not None:
        _profile.active.forward(op)
    if is_grad_enabled():
        needs = tuple(p.requires_grad for p in parents)
        if True in needs:
            out.requires_grad = True
            out._parents, out._backward, out._op, out._needs = parents, backward, op, needs
    return out


def apply(rule: Rule, parents: tuple[Tensor, ...], op: str) -> Tensor:
    """Join a :mod:`lucid.ops` rule's ``(result, backward)`` to the graph (see :func:`track`)."""
    return track(rule[0], parents, rule[1], op)


class Tensor(TensorOps):
    """An n-dimensional array with reverse-mode autograd, spelled like ``torch.Tensor``.

    Parameters
    ----------
    data : array_like or Tensor
        Copied.  Python floats become float32, Python ints int64, bools
        ``lucid.bool``; NumPy arrays keep float64 / float32 / bool (other
        integers become int64).
    dtype : lucid.dtype or str, optional
        ``lucid.float32``, ``lucid.float64``, ``lucid.int64`` or their names.
    device : None, "cpu" or lucid.device("cpu")
        Only the CPU exists; anything else is a ValueError.
    requires_grad : bool
        Record operations on this tensor for :meth:`backward` (floating point only).

    Examples
    --------
    >>> import lucid
    >>> x = lucid.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """

    __array_ufunc__ = None     # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data: Any, *, dtype: DTypeLike = None, device: DeviceLike = None,
                 requires_grad: bool = False) -> None:
        to_device(device)
        wanted = to_dtype(dtype)
        if isinstance(data, Tensor):
            data = data._data
        array = np.array(data)
        if wanted is None:
            wanted = infer_dtype(array)
            if not isinstance(data, (np.ndarray, np.generic)) and wanted is float64:
                wanted = float32            # Python floats infer float32, as in PyTorch
        elif array.dtype.kind not in "biuf":
            raise bad_type("tensor", "data", "numbers (float or int)", data)
        self._init(array.astype(wanted.dtype, copy=False), requires_grad)

    def _init(self, array: np.ndarray, requires_grad: bool = False) -> None:
        self._data = array
        self.grad: Tensor | None = None
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._needs: tuple[bool, ...] = ()
        self._op = ""
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(requires_grad)

    def _apply(self, rule: Rule, parents: Sequence[Any], op: str) -> Tensor:
        """Join the ``(result, backward)`` of a :mod:`lucid.ops` rule to the graph; array
        parents (scalar operands) become constant tensors."""
        return apply(rule, tuple(p if isinstance(p, Tensor) else Tensor._wrap(p) for p in parents), op)

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A tensor around ``array`` itself (no copy, no inference)."""
        out = cls.__new__(cls)
        Tensor._init(out, array, requires_grad)
        return out

    # ----------------------------------------------------------- attributes
    @property
    def data(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value, dtype=self._data.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension, a tuple."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> dtype:
        """``lucid.float32``, ``lucid.float64`` or ``lucid.int64``."""
        return cast(dtype, to_dtype(self._data.dtype))

    @property
    def device(self):
        """Always ``device(type='cpu')``."""
        return CPU

    @property
    def is_leaf(self) -> bool:
        """True unless this tensor is the recorded result of an operation."""
        return self._backward is None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set :attr:`requires_grad` in place on a leaf (floating-point dtypes only)."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise bad_type("requires_grad_", "requires_grad", "a bool", requires_grad)
        if not self.is_leaf:
            raise RuntimeError("requires_grad can only be changed on leaf tensors; use detach() first")
        if requires_grad and self._data.dtype.kind != "f":
            raise bad_type("tensor", "requires_grad", "False for a tensor of integer dtype (only "
                           "floating-point tensors can require gradients)", bool(requires_grad))
        self.requires_grad = bool(requires_grad)
        return self

    def numel(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    def size(self, dim: int | None = None):
        """The shape, or its entry ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, like ``torch.Tensor.numpy``)."""
        return self._data

    def item(self) -> float | int:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise bad_value("item", "self", "a tensor with one element", self)
        return self._data.item()

    def tolist(self):
        """The values as (nested) Python lists."""
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's array, outside the graph."""
        return Tensor._wrap(self._data)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if copy:
            return np.array(self._data, dtype=dtype)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if self.ndim == 0 else super().__format__(spec)

    def __repr__(self) -> str:
        a = self._data
        integral = a.dtype.kind != "f" or bool(np.all(np.isfinite(a) & (a == np.round(a))))
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if integral else "fixed")
        extras = [f"size={self.shape}"] if a.size == 0 and a.ndim != 1 else []
        if a.dtype not in (np.float32, np.int64):
            extras.append(f"dtype={self.dtype!r}")
        if self._op:
            extras.append(f"grad_fn=<{self._op}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ------------------------------------------------------------- autograd
    def backward(self, gradient: Tensor | np.ndarray | None = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` (shape of ``self``) weights a non-scalar output; it may be
        omitted only for single-element tensors, as in PyTorch.  The graph is
        then released -- every closure and the arrays it saved, so activations
        are freed -- and a second ``backward()`` through it raises
        ``RuntimeError``, unless this one was ``backward(retain_graph=True)``.
        Cost: one pass over the graph, each node's closure once; see
        :mod:`lucid.autograd` for how gradients are accumulated.
        """
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if not isinstance(retain_graph, (bool, np.bool_)):
            raise bad_type("backward", "retain_graph", "a bool", retain_graph)
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seed = np.ones_like(self._data)
        else:
            seed = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=self._data.dtype)
            if seed.shape != self.shape:
                raise bad_value("backward", "gradient", f"of the tensor's shape {self.shape}", seed)
        run_backward(self, seed, bool(retain_graph), Tensor._wrap)

    # ------------------------------------------------------------ in place
    def _check_inplace(self, name: str) -> None:
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{name}: a tensor that requires grad is being used in an in-place "
                               "operation; wrap it in `with lucid.no_grad():` or use an out-of-place op")

    def _inplace(self, ufunc: np.ufunc, other: Any, name: str) -> Tensor:
        self._check_inplace(name)
        ufunc(self._data, _array(other), out=self._data, casting="same_kind")
        return self

    def __iadd__(self, other): return self._inplace(np.add, other, "+=")
    def __isub__(self, other): return self._inplace(np.subtract, other, "-=")
    def __imul__(self, other): return self._inplace(np.multiply, other, "*=")
    def __itruediv__(self, other): return self._inplace(np.divide, other, "/=")

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value``, in place."""
        self._check_inplace("fill_")
        self._data[...] = value
        return self

    def zero_(self) -> Tensor:
        """Set every element to zero, in place (e.g. ``p.grad.zero_()``)."""
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor's array."""
        self._check_inplace("copy_")
        np.copyto(self._data, np.asarray(_array(src)), casting="unsafe")
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        self._data[_key(key)] = _array(value)


def _array(value: Any) -> np.ndarray | numbers.Number:
    return value._data if isinstance(value, Tensor) else value
