"""Plans are freed the moment nothing references them, without waiting for the cyclic GC.

A plan that kept a bound method of itself (its weight cache's transform) sat
in a reference cycle: every plan the cache evicted stayed alive until a full
garbage collection, which a convolution loop allocates too few container
objects to trigger.  On a loop over 100 random shapes, 147 evicted fft plans
(775 MB) were waiting that way (issue #13).
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from lucid.algos import registry
from lucid.algos.spec import ConvSpec

SPEC = ConvSpec(2, 4, 6, 40, 3, 1, (1, 1), 1, 1, "float64")


@pytest.mark.parametrize("name", [a.name for a in registry.algorithms() if a.supports(SPEC) is None])
def test_a_plan_that_ran_is_freed_by_reference_counting(name):
    plan = registry.get(name).prepare(SPEC, 1 << 30)
    rng = np.random.default_rng(0)
    plan.run(rng.standard_normal(SPEC.input_shape), rng.standard_normal(SPEC.weight_shape))
    alive = weakref.ref(plan)
    gc.disable()
    try:
        del plan
        assert alive() is None, f"a {name} plan outlived its last reference (a reference cycle)"
    finally:
        gc.enable()
