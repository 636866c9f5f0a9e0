"""Operator rules on NumPy arrays: the maths of every differentiable op, with no Tensor in sight.

Each rule takes arrays (and plain parameters), checks the parameters, and
returns ``(result, backward)`` where ``backward(g, needs)`` maps the gradient
of the result (an array of its shape) to one gradient per input array, in
order: an array, a :class:`Scatter`, or ``None``.  ``needs`` holds a bool per
input (does it require grad?); a rule computes only the gradients asked for.
:mod:`lucid.tensor` imports these modules at its top and joins each result
to the graph with :func:`~lucid.tensor.track`; nothing here imports
:mod:`lucid.tensor`, so there is no import circle (tinygrad's split between
the graph and the arithmetic).

Modules: :mod:`.arith` (``+ - * / ** @``, negation), :mod:`.elementwise`
(exp, log, tanh, sigmoid, abs, sqrt, glu and the activations), :mod:`.shape`
(reshape, indexing, split, transpose, permute, flatten, squeeze, cat, stack, pad),
:mod:`.reduce` (sum, mean, max, min, amax, amin, argmax, var, softmax, log_softmax), :mod:`.pool`
(avg_pool1d, max_pool1d, adaptive max pooling), :mod:`.norm` (layer and group
norm), :mod:`.batch_norm` (batch and instance norm), :mod:`.resample`
(interpolation, adaptive average pooling), :mod:`.select` (comparisons,
where, clamp, maximum, clone, casts), :mod:`.conv` (conv1d through the
planner), :mod:`.layers` (linear, dropout, embedding), :mod:`.loss`
(cross-entropy, NLL, L1, binary cross-entropy) and :mod:`.dims` (dimension
arguments).  Each
differentiable op has exactly one rule here; ``lucid.nn.functional`` and the
Tensor methods only check arguments and apply it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np


class Scatter(NamedTuple):
    """A gradient that is zero except ``grad[key] = values``: what a basic slice returns, so the
    engine writes ``values`` into the operand's gradient buffer instead of adding a mostly-zero array.
    ``key`` must select each element at most once (ints, slices, ``...``, ``None``)."""

    key: Any
    values: np.ndarray


Backward = Callable[[np.ndarray, tuple[bool, ...]], Sequence["np.ndarray | Scatter | None"]]
Rule = tuple[np.ndarray, Backward]

__all__ = ["Backward", "Rule", "Scatter"]
