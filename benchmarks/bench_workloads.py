"""The suite's workloads scaled to benchmark size.

The workloads are :data:`lucid.suite.SUITE`; the heavy ones are scaled down
(batch first, then length, never below four receptive fields) to at most
:data:`FLOP_BUDGET` definition FLOPs per forward call, so the whole suite runs
within five minutes on two cores while keeping the channels, kernel size,
stride, dilation and groups that decide which algorithm wins.
"""
from __future__ import annotations

import dataclasses
import functools

from lucid.bench.cases import Case
from lucid.suite import workload

#: Largest forward ``direct_flops`` of a benchmark workload.
FLOP_BUDGET = 3.0e8


@functools.cache
def scaled(name: str) -> Case:
    """The benchmark case of suite workload ``name``: halve N, then L, until within :data:`FLOP_BUDGET`."""
    item = workload(name)
    while item.spec().direct_flops > FLOP_BUDGET:
        if item.n > 1:
            item = dataclasses.replace(item, n=item.n // 2)
        elif item.length // 2 >= 4 * item.spec().span:
            item = dataclasses.replace(item, length=item.length // 2)
        else:
            break
    return Case.from_workload(item)
