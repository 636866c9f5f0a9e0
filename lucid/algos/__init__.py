"""Convolution algorithms behind one interface, and the planner that picks one.

The interface (see :mod:`lucid.algos.base`): an algorithm has a ``name`` and

- ``supports(spec)`` -> ``None`` or the reason it cannot run ``spec``, in words;
- ``flops(spec)``, ``workspace_bytes(spec)``, ``error_bound(spec)`` -> its cost;
- ``prepare(spec, workspace_limit)`` -> a per-shape :class:`~lucid.algos.base.Plan`
  whose ``run(x, w)`` computes the forward problem and caches weight transforms.

A ``spec`` is a frozen :class:`~lucid.algos.spec.ConvSpec` (N, C_in, C_out, L,
K, stride, padding, dilation, groups, dtype).  The backward passes are lowered
onto forward problems by :mod:`lucid.algos.lowering`, so every algorithm that
supports a derived spec can serve them.

Forcing an algorithm: ``F.conv1d(..., algorithm="fft")``, ``with
lucid.algos.use("fft"):`` or ``LUCID_CONV_ALGO=fft``.
"""
from . import direct, fft, im2col, winograd  # noqa: F401  (each registers its algorithm)
from .base import Algorithm, Plan
from .config import use
from .registry import algorithms, get, names, register
from .spec import ConvSpec

__all__ = ["Algorithm", "Plan", "ConvSpec", "use", "algorithms", "get", "names", "register"]
