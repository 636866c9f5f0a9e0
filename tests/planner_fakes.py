"""Tiny fake algorithms for the planner tests, registered only inside a ``with`` block.

A :class:`Fake` computes the right answer (through ``direct``'s plan) but lets a
test set everything the planner looks at: what it supports, its predicted cost,
workspace, error bound, determinism, how long a run takes and whether it fails.
"""
from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from lucid.algos import clear_plans, clear_records, registry
from lucid.algos.base import DEFAULT_WORKSPACE_LIMIT, Algorithm, Layout, Plan
from lucid.algos.direct import Direct
from lucid.algos.planner import cost_model, wisdom


class FakePlan(Plan):
    def __init__(self, algorithm: Fake, spec) -> None:
        super().__init__(algorithm, spec)
        self._inner = Direct().prepare(spec, 1 << 30)
        self._held = np.zeros(algorithm.holds, np.uint8)      # what held_bytes() should count

    def run(self, x, w):
        fake = self.algorithm
        with fake._count_lock:
            fake.runs += 1
        if fake.fail:
            raise RuntimeError(f"{fake.name} broke")
        if fake.sleep_s:
            time.sleep(fake.sleep_s)
        return self._inner.run(x, w)


class Fake(Algorithm):
    """A configurable stand-in; ``predicted_s`` is its whole cost-model prediction."""

    def __init__(self, name, predicted_s=1e-3, *, max_kernel=None, max_length=None, workspace=0, bound=1e-7,
                 deterministic=True, local_nonfinite=True, sleep_s=0.0, fail=False, prepare_s=0.0,
                 holds=0, fail_build: BaseException | None = None) -> None:
        self.name = name
        self.predicted_s, self.max_kernel, self.workspace, self.bound = predicted_s, max_kernel, workspace, bound
        self.max_length, self.local_nonfinite, self.holds = max_length, local_nonfinite, holds
        self.deterministic, self.sleep_s, self.fail, self.prepare_s = deterministic, sleep_s, fail, prepare_s
        self.prepares = self.runs = 0
        self.fail_build = fail_build
        self._count_lock = threading.Lock()

    def layout(self, spec, workspace_limit=DEFAULT_WORKSPACE_LIMIT):
        if self.max_kernel is not None and spec.kernel_size > self.max_kernel:
            return f"{self.name}: needs kernel_size <= {self.max_kernel}, got {spec.kernel_size}"
        if self.max_length is not None and spec.length > self.max_length:
            return f"{self.name}: needs length <= {self.max_length}, got {spec.length}"
        return Layout(spec, workspace_limit, self.workspace, spec.direct_flops, self.bound, self.features(spec))

    def features(self, spec):
        return {}

    def build(self, layout):
        with self._count_lock:
            self.prepares += 1
        if self.fail_build is not None:
            raise self.fail_build
        if self.prepare_s:
            time.sleep(self.prepare_s)
        return FakePlan(self, layout.spec)


def reset_planner() -> None:
    """Forget plans, records and wisdom (restoring the shipped constants)."""
    clear_plans()
    clear_records()
    wisdom.forget()


@contextlib.contextmanager
def only_registered(*keep: str):
    """Hide every registered algorithm not named in ``keep`` for the block (planner reset around)."""
    hidden = [registry.unregister(name) for name in registry.names() if name not in keep]
    reset_planner()
    try:
        yield
    finally:
        for algorithm in hidden:
            registry.register(algorithm)
        reset_planner()


@contextlib.contextmanager
def fakes(*algorithms: Fake, only: bool = False):
    """Register ``algorithms`` (and hide the real ones if ``only``) for the block.

    Each fake's cost-model constants are set so its prediction is exactly its
    ``predicted_s``.  Everything is restored and the planner state reset after.
    """
    hidden = [registry.unregister(name) for name in registry.names()] if only else []
    for fake in algorithms:
        registry.register(fake)
    reset_planner()
    cost_model.set_constants({f.name: {cost_model.OVERHEAD: f.predicted_s} for f in algorithms})
    try:
        yield algorithms
    finally:
        for fake in algorithms:
            registry.unregister(fake.name)
        for algorithm in hidden:
            registry.register(algorithm)
        reset_planner()
