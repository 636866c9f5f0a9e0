"""Random problem grids for fitting and judging the cost model, drawn from a seed.

A grid is a list of ``(op, ConvSpec)`` problems spanning the ranges the
planner must get right: K 1..2049, dilation 1..64, stride 1..4, dense /
grouped / depthwise channels, lengths 64..65536, batch 1..64 and all three
ops.  Each problem's work is bounded (:data:`MAX_FLOPS` direct FLOPs of the
derived forward problem, :data:`MAX_ELEMENTS` per operand), so the fastest
algorithm runs it in at most ~100 ms on 2 cores and a whole grid times in
minutes.  The fitting grid and the judging grid come from different seeds and
are disjoint (:func:`held_out`), so a fit is always judged out of sample.
"""
from __future__ import annotations

import random
from collections.abc import Callable

from ...suite import SUITE
from ..lowering import OPS, derived_spec
from ..spec import ConvSpec

#: Seed of the grid the shipped constants are fitted on.
FIT_SEED = 1
#: Seed of the grid they are judged on (never used for fitting).
TEST_SEED = 2
#: Problems per grid by default.
COUNT = 210
#: Most direct FLOPs of a problem's derived forward spec (direct/im2col run it in ~10-50 ms).
MAX_FLOPS = 1.2e9
#: Fewest, so that a problem is not pure call overhead.
MIN_FLOPS = 1e5
#: Most elements of any operand of the derived spec (16 MiB in float32).
MAX_ELEMENTS = 1 << 22
#: Kernel sizes, drawn log-uniformly; odd and even, small, mid-band and huge.
KERNELS = (1, 2, 3, 4, 5, 7, 9, 12, 15, 17, 25, 31, 33, 48, 65, 97, 129, 200, 257, 400, 513, 1025, 2049)

Problem = tuple[str, ConvSpec]


def _draw(rng: random.Random) -> Problem | None:
    """One random problem, or None when the draw is invalid or out of the work bounds."""
    k = rng.choice(KERNELS)
    length = int(2 ** rng.uniform(6, 16))
    n = rng.choice((1, 1, 2, 4, 8, 16, 32, 64))
    c = rng.choice((1, 2, 4, 8, 16, 32, 64, 128, 256))
    kind = rng.choice(("dense", "dense", "grouped", "depthwise"))
    if kind == "depthwise":
        groups, c_out = c, c
    elif kind == "grouped":
        groups = rng.choice([g for g in (2, 4, 8) if c % g == 0 and g < c] or [1])
        c_out = c * rng.choice((1, 2))
    else:
        groups, c_out = 1, max(1, int(c * rng.choice((0.5, 1, 1, 2))))
    dilation = rng.choice((1, 1, 1, 2, 4, 8, 16, 64)) if k > 1 else 1
    stride = rng.choice((1, 1, 1, 2, 3, 4))
    span = dilation * (k - 1) + 1
    pad = rng.choice((0, span // 2, span // 2, span - 1))
    return bounded(rng.choice(OPS), (n, c, c_out, length, k, stride, (pad, pad), dilation, groups))


def bounded(op: str, shape: tuple, flops: tuple[float, float] = (MIN_FLOPS, MAX_FLOPS),
            max_elements: int = MAX_ELEMENTS) -> Problem | None:
    """``(op, ConvSpec(*shape))`` when valid and its derived problem's direct FLOPs lie in ``flops``
    and no operand holds more than ``max_elements``; None otherwise."""
    try:
        spec = ConvSpec(*shape)
        derived = derived_spec(op, spec)
    except ValueError:
        return None
    elements = max(derived.n * derived.c_in * derived.length, derived.c_out * derived.cig * derived.kernel_size,
                   derived.n * derived.c_out * derived.l_out)
    if not flops[0] <= derived.direct_flops <= flops[1] or elements > max_elements:
        return None
    return op, spec


def grid(seed: int, count: int = COUNT, exclude: frozenset[Problem] = frozenset(),
         draw: Callable[[random.Random], Problem | None] | None = None) -> list[Problem]:
    """``count`` distinct problems drawn reproducibly from ``seed``, none of them in ``exclude``.

    Rejection sampling over ``draw`` (default :func:`_draw`, this module's ranges); the same ``seed`` always gives the
    same list (Python's ``random.Random`` is stable across versions for
    these calls).  Cost: a few thousand draws, milliseconds.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    rng = random.Random(seed)
    problems: list[Problem] = []
    seen = set(exclude)
    for _ in range(1000 * count):
        if len(problems) == count:
            break
        problem = (draw or _draw)(rng)
        if problem is not None and problem not in seen:
            seen.add(problem)
            problems.append(problem)
    return problems


def fit_grid(count: int = COUNT) -> list[Problem]:
    """The grid the cost model is fitted on (seed :data:`FIT_SEED`)."""
    return grid(FIT_SEED, count)


def held_out(count: int = COUNT, fit_count: int = COUNT) -> list[Problem]:
    """The judging grid (seed :data:`TEST_SEED`): disjoint from ``fit_grid(fit_count)``."""
    return grid(TEST_SEED, count, frozenset(fit_grid(fit_count)))


def suite() -> list[Problem]:
    """Every op of every :data:`lucid.suite.SUITE` workload (fitted on beside the fitting grid)."""
    return [(op, workload.spec()) for workload in SUITE for op in OPS]
