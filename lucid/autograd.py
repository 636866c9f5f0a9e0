"""The backward pass: walk the graph once, accumulate gradients in place, release what was saved.

:meth:`lucid.Tensor.backward` calls :func:`run_backward`.  What it does, and
where PyTorch's engine does the same (torch/csrc/autograd/):

* **Order.**  The nodes behind the root that require grad, each once, every
  node before all of its parents (an iterative post-order, no recursion).
* **Only what is needed.**  Each node's rule is called as ``backward(g,
  needs)``; ``needs`` was computed when the op was applied (see
  :func:`lucid.tensor.track`), and rules skip the gradients of operands that
  do not require grad (``should_compute_output``).
* **Fan-in in place** (``InputBuffer::accumulate``).  The first gradient a
  node receives is kept as it is.  The second is added into it in place when
  the engine is the only holder of that array (no view, no other reference:
  ``sys.getrefcount``); otherwise one new buffer is made, which the engine then
  owns and adds every later gradient into.
* **Slices scatter into the accumulator.**  A rule may return a
  :class:`~lucid.ops.Scatter` ``(key, values)``: the gradient is zero except at
  ``[key]``, so the engine writes ``values`` there, into the parent's buffer,
  instead of materialising a mostly-zero array and adding it.
* **Leaves steal** (``AccumulateGrad``).  A leaf without ``.grad`` takes the
  gradient array itself when nothing else holds it; otherwise a copy.  A leaf
  with ``.grad`` adds into it in place.
* **Release** (``release_variables``).  After a node's rule has run its
  closure and parents are dropped, so every array it saved can be freed; a
  second backward through it raises ``RuntimeError`` unless the first was
  called with ``retain_graph=True``.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _profile
from .ops import Scatter
from .ops._blocks import ufunc

#: A :class:`lucid.Tensor` (not imported: :mod:`lucid.tensor` imports this module).
Tensor = Any


def _references(array: np.ndarray) -> int:
    """``sys.getrefcount`` as :func:`_sole` sees it (same frame shape), for the baseline below."""
    return sys.getrefcount(array)


#: What :func:`_sole` counts for an array that nothing else holds (the interpreter's own
#: references: the parameter and getrefcount's argument), measured, not assumed.
_BASELINE = _references(np.empty(0))


def _released(g: np.ndarray, needs: tuple[bool, ...]) -> Any:
    raise RuntimeError("Trying to backward through the graph a second time: its saved arrays were freed by the "
                       "first backward(). Call the first one as backward(retain_graph=True) to keep them.")


def _sole(array: np.ndarray, holders: int) -> bool:
    """Whether ``array`` owns its memory, is writeable, and only the engine's ``holders`` references
    (a dict entry, a local variable) refer to it."""
    return array.base is None and array.flags.writeable and sys.getrefcount(array) <= _BASELINE + holders


def backward_order(root: Tensor) -> list[Tensor]:
    """The nodes behind ``root`` that require grad, each once, every node before all of its parents.

    An iterative depth-first post-order, reversed.  A node is marked when it is
    *expanded*, not when it is pushed: a node reached through two paths may sit
    on the stack twice, and only its first expansion counts, so it is emitted
    after every consumer that owes it a gradient.  Cost: one visit per node and edge.
    """
    order: list[Tensor] = []
    expanded: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in node._parents
                     if parent.requires_grad and id(parent) not in expanded)
    order.reverse()
    return order


def _accumulate(pending: dict[int, np.ndarray], parent: Tensor, grad: Any) -> None:
    """Add ``grad`` (an array or a :class:`Scatter`) to ``parent``'s pending gradient, in place when possible."""
    key = id(parent)
    dtype = parent._data.dtype
    held = pending.get(key)
    if isinstance(grad, Scatter):
        if held is None:
            held = np.zeros(parent._data.shape, dtype)
            held[grad.key] = grad.values
        else:
            if not _sole(held, 2):
                held = np.array(held, dtype=dtype)
            held[grad.key] += grad.values
        pending[key] = held
        return
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    if held is None:
        pending[key] = grad
    elif _sole(held, 2) and held.shape == grad.shape:
        ufunc(np.add, held, grad, out=held)
    else:
        pending[key] = ufunc(np.add, held, grad)


def _send(node: Tensor, grads: Any, pending: dict[int, np.ndarray]) -> None:
    """Hand each gradient a node's rule returned to its parent (a function, so that no loop
    variable outlives it and holds an array the engine may later take over)."""
    for parent, need, grad in zip(node._parents, node._needs, grads):
        if need and grad is not None:
            _accumulate(pending, parent, grad)


def _to_leaf(node: Tensor, g: np.ndarray, wrap: Callable[[np.ndarray], Tensor]) -> None:
    """``node.grad += g``; a leaf without ``.grad`` takes ``g`` itself when nobody else holds it."""
    if node.grad is not None:
        node.grad._data += g
    elif g.dtype == node._data.dtype and g.shape == node._data.shape and _sole(g, 2):
        node.grad = wrap(g)
    else:
        node.grad = wrap(np.array(g, dtype=node._data.dtype))


def run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool,
                 wrap: Callable[[np.ndarray], Tensor]) -> None:
    """Propagate ``seed`` (the gradient of ``root``) to every leaf behind it; see the module docstring."""
    pending: dict[int, np.ndarray] = {id(root): seed}
    del seed
    profile = _profile.active
    for node in backward_order(root):
        g = pending.pop(id(node), None)
        rule = node._backward
        if g is None or rule is None:
            if g is not None:
                _to_leaf(node, g, wrap)
                del g
            continue
        start = time.perf_counter() if profile is not None else 0.0
        _send(node, rule(g, node._needs), pending)
        del g
        if profile is not None:
            profile.backward(node._op, time.perf_counter() - start)
        if not retain_graph:
            node._backward, node._parents, node._needs = _released, (), ()
