"""Operator rules on NumPy arrays: the maths of every differentiable op, with no Tensor in sight.

Each rule takes arrays (and plain parameters), checks the parameters, and
returns ``(result, backward)`` where ``backward(g)`` maps the gradient of the
result (an array of its shape) to one gradient array (or ``None``) per input
array, in order.  :mod:`lucid.tensor` imports these modules at its top and
joins each result to the graph with :func:`~lucid.tensor.track`; nothing here
imports :mod:`lucid.tensor`, so there is no import circle (tinygrad's split
between the graph and the arithmetic).

Modules: :mod:`.arith` (``+ - * / ** @``, negation), :mod:`.elementwise`
(exp, log, tanh, sigmoid, abs, sqrt and the activations), :mod:`.shape`
(reshape, indexing, transpose, permute, flatten, squeeze, cat, stack),
:mod:`.reduce` (sum, mean, max, amax, softmax, log_softmax), :mod:`.pool`
(avg_pool1d, max_pool1d) and :mod:`.dims` (dimension arguments).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Backward = Callable[[np.ndarray], Sequence["np.ndarray | None"]]
Rule = tuple[np.ndarray, Backward]

__all__ = ["Backward", "Rule"]
