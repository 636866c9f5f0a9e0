"""What every algorithm and planner test needs: operands, the float64 reference, the error.

``float64_reference`` is the direct algorithm run in float64 on the lowered
problem: fast enough for the suite's shapes, and itself checked against the
plain loop oracle of :mod:`reference` (tests/test_reference.py,
tests/test_algorithms.py), which shares no code with lucid.
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import numpy as np

import lucid
from lucid.algos import registry
from lucid.algos.lowering import lower
from lucid.algos.spec import ConvSpec

#: Normwise tolerance of a native backward algorithm against the float64 definition.
TOLERANCE = {"float32": 2e-6, "float64": 1e-12}


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """``lucid.set_num_threads(n)`` for the block, restored after."""
    before = lucid.get_num_threads()
    lucid.set_num_threads(n)
    try:
        yield
    finally:
        lucid.set_num_threads(before)


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """Normwise relative error ``||got - want|| / ||want||`` in float64 (``want = 0``: absolute)."""
    diff = float(np.linalg.norm(np.asarray(got, np.float64) - want))
    scale = float(np.linalg.norm(want))
    return diff / scale if scale else diff


def operands(spec: ConvSpec, seed: int = 0, op: str = "forward") -> tuple[np.ndarray, np.ndarray]:
    """Seeded standard-normal float64 operands of ``op`` on ``spec``: ``(x, w)``, ``(dy, w)`` or ``(dy, x)``."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    if op == "forward":
        return x, w
    dy = rng.standard_normal(spec.output_shape)
    return (dy, w) if op == "backward_data" else (dy, x)


def float64_reference(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``op`` of ``spec`` on ``a, b`` computed in float64 by the direct algorithm."""
    lowering = lower(op, dataclasses.replace(spec, dtype="float64"))
    plan = registry.get("direct").prepare(lowering.spec, 1 << 40)
    return lowering.result(plan.run(*lowering.operands(np.asarray(a, np.float64), np.asarray(b, np.float64))))


def run(name: str, spec: ConvSpec, x: np.ndarray, w: np.ndarray, limit: int = 1 << 30) -> np.ndarray:
    """The forward result of algorithm ``name``'s own plan (no planner), in ``spec``'s dtype."""
    return registry.get(name).prepare(spec, limit).run(x.astype(spec.np_dtype), w.astype(spec.np_dtype))


def seeded_specs(count: int, seed: int, length: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int]) -> list[ConvSpec]:
    """``count`` seeded random valid specs, cycling dense, grouped and depthwise and float32/float64.

    Each hyper-parameter is drawn from its half-open range ``(lo, hi)`` (padding: left and right
    independently); N is 1-3, grouped layers have 2-3 groups of 1-4 channels, depthwise 2-5.
    """
    rng = np.random.default_rng(seed)
    specs: list[ConvSpec] = []
    while len(specs) < count:
        kind = ("dense", "grouped", "depthwise")[len(specs) % 3]
        groups = {"dense": 1, "grouped": int(rng.integers(2, 4)), "depthwise": int(rng.integers(2, 6))}[kind]
        cig, cog = (1, 1) if kind == "depthwise" else (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        try:
            specs.append(ConvSpec(int(rng.integers(1, 4)), groups * cig, groups * cog, int(rng.integers(*length)),
                                  int(rng.integers(*kernel)), int(rng.integers(*stride)),
                                  (int(rng.integers(*padding)), int(rng.integers(*padding))),
                                  int(rng.integers(*dilation)), groups, ("float32", "float64")[len(specs) % 2]))
        except ValueError:     # output shorter than one sample
            continue
    return specs


def forced_residual_graph(algorithm: str, second: tuple[int, int], seed: int):
    """``(convs, forward)``: the float64 residual graph ``sum(conv1(x + relu(conv0(x)))**2)`` with
    every convolution forced to ``algorithm``; ``second`` is ``(kernel_size, stride)`` of the
    grouped ``conv1`` (3 -> 6 channels, groups 3, padding 1).  For gradient tests against finite
    differences of a whole graph, not one op."""
    import lucid
    import lucid.nn as nn
    import lucid.nn.functional as F

    lucid.manual_seed(seed)
    kernel, stride = second
    convs = [nn.Conv1d(3, 3, 3, stride=1, padding=2, dilation=2, dtype=lucid.float64, algorithm=algorithm),
             nn.Conv1d(3, 6, kernel, stride=stride, padding=1, groups=3, dtype=lucid.float64, algorithm=algorithm)]

    def forward(x):
        h = x + F.relu(convs[0](x))
        return (convs[1](h) ** 2).sum()
    return convs, forward


def native_op_failures(op: str, algorithm: str, specs, definition) -> list[str]:
    """Run ``op`` with ``algorithm`` forced through the planner on seeded operands of every spec
    (operand ``i`` seeded ``i``) and compare with ``definition(spec, a, b)`` in float64; returns
    the specs whose error exceeds :data:`TOLERANCE`, after checking that the planner ran
    ``algorithm`` natively on the op and that the result has the op's shape and dtype."""
    from lucid import algos
    from lucid.algos import planner

    shapes = {"backward_data": ("output_shape", "weight_shape", "input_shape"),
              "backward_filter": ("output_shape", "input_shape", "weight_shape")}[op]
    failures = []
    for i, spec in enumerate(specs):
        rng = np.random.default_rng(i)
        a, b = (rng.standard_normal(getattr(spec, shape)) for shape in shapes[:2])
        got = planner.execute(op, spec, a.astype(spec.np_dtype), b.astype(spec.np_dtype), algorithm=algorithm)
        record = algos.records()[-1]
        assert record["algorithm"] == algorithm and record["spec"] == f"{spec.describe()} {op}"
        assert got.shape == getattr(spec, shapes[2]) and got.dtype == spec.np_dtype
        err = relative_error(got, definition(spec, a, b))
        if not err <= TOLERANCE[spec.dtype]:
            failures.append(f"{spec.describe()}: {err:.1e}")
    return failures
