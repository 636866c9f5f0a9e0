"""pytest-benchmark regression suite: every suite workload × every algorithm forced, plus ``auto``.

Two variants per workload, each its own benchmark group: ``forward`` (one
``lucid.nn.functional.conv1d`` call on Tensors) and ``training`` (that call
then ``y.backward(dy)`` through lucid's autograd: forward, backward-data and
backward-filter, a training step's convolution work).  Every body checks its results against a
float64 reference, so ``--benchmark-disable`` runs (CI) still verify
correctness.  ``-m quick`` selects the quick workloads.  See ``pytest.ini``
here for the storage location and ``results/README.md`` for the workflow.
"""
from __future__ import annotations

import functools
import time

import numpy as np
import pytest
from bench_workloads import scaled

import lucid
import lucid.nn.functional as F
from lucid import algos
from lucid.algos import registry
from lucid.algos.lowering import OPS
from lucid.algos.planner.config import AUTO
from lucid.bench.cases import Case, lucid_call, normwise_error, operands, reference
from lucid.suite import SUITE

#: Normwise relative error allowed against the float64 reference (float32 runs).
TOLERANCE = 1e-5
#: Timed seconds per benchmark; rounds = this / one call, clamped to ROUNDS.
ROUND_BUDGET_S = 0.3
ROUNDS = (3, 15)


def _params(variant: str) -> list:
    """(workload, algorithm) pairs the algorithm can run (``supports`` is None) plus ``auto``.

    Unsupported pairs are not generated at all (rather than skipped): their
    refusal is tested in ``tests/`` and listed, with its reason, by ``lucid-bench``.
    """
    return [pytest.param(w.name, name, id=f"{w.name}-{name}",
                         marks=[pytest.mark.benchmark(group=f"{w.name} {variant}")]
                         + ([pytest.mark.quick] if w.quick else []))
            for w in SUITE for name in (*registry.names(), AUTO)
            if name == AUTO or registry.get(name).supports(scaled(w.name).spec) is None]


@functools.cache
def _problem(name: str, op: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operands of ``op`` on the scaled workload and its float64 reference (computed once)."""
    spec = scaled(name).spec
    a, b = operands(op, spec)
    return a, b, reference(op, spec, a, b)


def _run(benchmark, call, flops: float):
    """Time ``call`` and return its result; rounds are sized from one call after a warm-up call."""
    rounds = 1
    if not benchmark.disabled:
        call()                                   # plans, FFTW wisdom, weight caches
        start = time.perf_counter()
        call()
        rounds = int(np.clip(ROUND_BUDGET_S / (time.perf_counter() - start), *ROUNDS))
    result = benchmark.pedantic(call, rounds=rounds, iterations=1)
    if benchmark.stats is not None:
        benchmark.extra_info["gflops"] = round(flops / benchmark.stats.stats.median / 1e9, 3)
    return result


def _info(benchmark, case: Case, algorithm: str, ran: dict[str, str]) -> None:
    """Record the shape, the forced algorithm, what actually ran and the planner's own choice per op."""
    benchmark.extra_info.update(shape=case.spec.describe(), forced=algorithm, ran=ran,
                                planner_choice={op: algos.choose(case.spec, op=op) for op in ran})


@pytest.mark.parametrize("workload,algorithm", _params("forward"))
def test_forward(benchmark, workload: str, algorithm: str) -> None:
    case = scaled(workload)
    x, w, ref = _problem(workload, "forward")
    _info(benchmark, case, algorithm, {"forward": algos.choose(case.spec, algorithm=algorithm)})
    y = _run(benchmark, lucid_call(case, "forward", x, w, algorithm), case.spec.direct_flops)
    assert normwise_error(y, ref) <= TOLERANCE


def _training_step(case: Case, x: np.ndarray, w: np.ndarray, dy: np.ndarray, algorithm: str):
    """``y = conv1d(x, w)``, then ``y.backward(dy)``: returns ``(y, x.grad, w.grad)`` as arrays."""
    xt, wt = lucid.from_numpy(x).requires_grad_(), lucid.from_numpy(w).requires_grad_()
    kwargs = case.conv_kwargs()

    def step():
        xt.grad = wt.grad = None
        y = F.conv1d(xt, wt, algorithm=algorithm, **kwargs)
        y.backward(dy)
        return y.numpy(), xt.grad.numpy(), wt.grad.numpy()
    return step


@pytest.mark.parametrize("workload,algorithm", _params("training"))
def test_training(benchmark, workload: str, algorithm: str) -> None:
    case = scaled(workload)
    (x, w, y_ref), (dy, _, dx_ref), (_, _, dw_ref) = (_problem(workload, op) for op in OPS)
    _info(benchmark, case, algorithm, {op: algos.choose(case.spec, op=op, algorithm=algorithm) for op in OPS})
    results = _run(benchmark, _training_step(case, x, w, dy, algorithm), 3 * case.spec.direct_flops)
    for op, result, ref in zip(OPS, results, (y_ref, dx_ref, dw_ref)):
        assert normwise_error(result, ref) <= TOLERANCE, op
