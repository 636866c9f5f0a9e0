"""The planner (minimal version): forced algorithm or the direct fallback.

To be replaced by the full planner (heuristic / measure, LRU plan cache,
records, wisdom).  Its one entry point is :func:`execute`.
"""
from __future__ import annotations

import threading

import numpy as np

from . import config, registry
from .lowering import lower
from .spec import ConvSpec

_plans: dict = {}
_lock = threading.Lock()


def execute(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray, algorithm: str | None = None) -> np.ndarray:
    """Run ``op`` ("forward", "backward_data", "backward_filter") of ``spec`` on operands ``a, b``.

    ``algorithm`` forces the forward algorithm for this call (``None`` defers to
    :func:`lucid.algos.use` and ``LUCID_CONV_ALGO``).
    """
    forced = config.resolve("algorithm", algorithm)
    lowering = lower(op, spec)
    key = (op, spec, forced)
    with _lock:
        entry = _plans.get(key)
        if entry is None:
            algo = registry.get("direct")
            if forced != config.AUTO:
                chosen = registry.get(forced)
                reason = chosen.supports(lowering.spec)
                if reason is None:
                    algo = chosen
                elif op == "forward":
                    raise ValueError(f"algorithm={forced!r} cannot run this convolution: {reason}")
            entry = _plans[key] = algo.prepare(lowering.spec, 1 << 30)
    return lowering.result(entry.run(*lowering.operands(a, b)))
