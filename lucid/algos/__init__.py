"""Convolution algorithms behind one interface, and the planner that picks one.

The interface (see :mod:`lucid.algos.base`): an algorithm has a ``name`` and two stages,

- ``layout(spec, workspace_limit)`` -> a :class:`~lucid.algos.base.Layout`
  (its workspace, FLOPs, error bound and cost features at that limit; nothing
  allocated) or the reason, in words, it cannot run ``spec``;
- ``build(layout)`` -> a per-shape :class:`~lucid.algos.base.Plan` whose
  ``run(x, w)`` computes the forward problem and caches weight transforms.

``prepare(spec, workspace_limit)``, owned by the base class, does both (and
raises the one ValueError when the algorithm does not apply or fit).

A ``spec`` is a frozen :class:`~lucid.algos.spec.ConvSpec` (N, C_in, C_out, L,
K, stride, padding, dilation, groups, dtype).  The backward passes are lowered
onto forward problems by :mod:`lucid.algos.lowering`, so every algorithm that
supports a derived spec can serve them; an algorithm that lists a backward op
in its ``ops`` (``wgrad``: backward-filter; ``col2im``: backward-data) is also posed that op natively.

Forcing an algorithm: ``F.conv1d(..., algorithm="fft")``, ``with
lucid.algos.use("fft"):`` or ``LUCID_CONV_ALGO=fft``.

The planner (the package :mod:`lucid.algos.planner`, one :class:`Planner` object
holding all its state; :func:`default_planner` is the one the functions here
use) chooses otherwise, by default racing its top candidates on a shape's
first real calls when its cost model is unsure: ``choose``,
``clear_plans``, ``set_cache_size``; its decisions are inspectable with
``records`` / ``report`` / ``summary`` / ``clear_records`` / ``export_records``; measured
decisions and calibrated constants persist with ``save_wisdom`` /
``load_wisdom`` (checked against ``fingerprint()``); ``calibrate`` refits the
cost model on this machine.
"""
from . import col2im, direct, fft, im2col, wgrad, winograd  # noqa: F401  (each registers its algorithm)
from .base import Algorithm, Layout, Plan
from .planner import Planner, cache_info, choose, clear_plans, default_planner, execute, set_cache_size
from .planner.calibration import calibrate
from .planner.config import use
from .planner.history import clear_records, export_records, records, report, summary
from .planner.machine import fingerprint
from .planner.wisdom import load_wisdom, save_wisdom
from .registry import algorithms, get, names, register
from .spec import ConvSpec

__all__ = ["Algorithm", "Layout", "Plan", "ConvSpec", "use", "algorithms", "get", "names", "register",
           "execute", "choose", "clear_plans", "set_cache_size", "cache_info", "Planner", "default_planner",
           "records", "report", "summary", "clear_records", "export_records",
           "save_wisdom", "load_wisdom", "calibrate", "fingerprint"]
