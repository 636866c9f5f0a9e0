"""Convolution algorithms behind one interface, and the planner that picks one.

The interface (see :mod:`lucid.algos.base`): an algorithm has a ``name`` and

- ``supports(spec)`` -> ``None`` or the reason it cannot run ``spec``, in words;
- ``flops(spec)``, ``error_bound(spec)`` -> its cost;
  ``workspace_bytes(spec, workspace_limit)`` -> the bytes its plan would
  allocate under that limit (more than the limit: it cannot fit);
- ``prepare(spec, workspace_limit)`` -> a per-shape :class:`~lucid.algos.base.Plan`
  whose ``run(x, w)`` computes the forward problem and caches weight transforms.

A ``spec`` is a frozen :class:`~lucid.algos.spec.ConvSpec` (N, C_in, C_out, L,
K, stride, padding, dilation, groups, dtype).  The backward passes are lowered
onto forward problems by :mod:`lucid.algos.lowering`, so every algorithm that
supports a derived spec can serve them.

Forcing an algorithm: ``F.conv1d(..., algorithm="fft")``, ``with
lucid.algos.use("fft"):`` or ``LUCID_CONV_ALGO=fft``.

The planner (:mod:`lucid.algos.planner`) chooses otherwise: ``choose``,
``clear_plans``, ``set_cache_size``; its decisions are inspectable with
``records`` / ``report`` / ``clear_records`` / ``export_records``; measured
decisions and calibrated constants persist with ``save_wisdom`` /
``load_wisdom`` (checked against ``fingerprint()``); ``calibrate`` refits the
cost model on this machine.
"""
from . import direct, fft, im2col, winograd  # noqa: F401  (each registers its algorithm)
from .base import Algorithm, Plan
from .calibration import calibrate
from .config import use
from .fingerprint import fingerprint
from .planner import cache_info, choose, clear_plans, execute, set_cache_size
from .records import clear_records, export_records, records, report
from .registry import algorithms, get, names, register
from .spec import ConvSpec
from .wisdom import load_wisdom, save_wisdom

__all__ = ["Algorithm", "Plan", "ConvSpec", "use", "algorithms", "get", "names", "register",
           "execute", "choose", "clear_plans", "set_cache_size", "cache_info",
           "records", "report", "clear_records", "export_records",
           "save_wisdom", "load_wisdom", "calibrate", "fingerprint"]
