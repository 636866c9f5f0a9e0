"""The fft algorithm: backward suite accuracy, overlap-save, workspace chunking, FFTW plans.
(Suite accuracy, weight refresh and shared plans: the registry-driven test_algorithms.py.)

The reference is the ``direct`` algorithm run in float64 (exact enough at
1e-12 and fast on the suite shapes); ``tests/test_algorithms.py`` covers the
small option sweep against the plain loop oracle.
"""
from __future__ import annotations

import dataclasses
import doctest
import importlib

import numpy as np
import pytest
from helpers import float64_reference, operands, relative_error

from lucid.algos import _fft_blocks, registry
from lucid.algos.lowering import lower
from lucid.algos.spec import ConvSpec
from lucid.suite import workload

FFT = registry.get("fft")
DIRECT = registry.get("direct")
TOLERANCE = {"float32": 2e-6, "float64": 1e-12}
LIMIT = 1 << 30


def check(spec: ConvSpec, limit: int = LIMIT, seed: int = 0) -> float:
    """Run fft on ``spec`` and return its error against the float64 reference."""
    x, w = operands(spec, seed)
    got = FFT.prepare(spec, limit).run(x.astype(spec.np_dtype), w.astype(spec.np_dtype))
    assert got.shape == spec.output_shape and got.dtype == spec.np_dtype
    return relative_error(got, float64_reference("forward", spec, x, w))


def plan_buffer_bytes(plan) -> int:
    """Bytes of every array the plan (and its transforms) holds, with the
    weight copy keying its kernel cache (after a run); views of one buffer
    (the in-place kernel transform) count once."""
    buffers = {}
    (runner,) = plan._idle
    weight_copy = [] if runner._weights._entry is None else [runner._weights._entry[0]]
    for item in list(vars(runner).values()) + list(vars(runner._io).values()) + weight_copy:
        for array in item if isinstance(item, list) else [item]:
            if isinstance(array, np.ndarray) and array.dtype.kind in "fci":
                start = array.__array_interface__["data"][0]
                buffers[start] = max(buffers.get(start, 0), array.nbytes)
    return sum(buffers.values())


@pytest.mark.parametrize("op", ["backward_data", "backward_filter"])
@pytest.mark.parametrize("name", ["dw_conformer_k31", "dense_k3_L4096", "speech_frontend"])
def test_suite_derived_backward_accuracy(name, op):
    """The lowered backward problems, float32; dense_k3_L4096's backward filter
    has a 4096-tap "kernel" (dy) and only 3 outputs."""
    spec = lower(op, workload(name).spec()).spec
    assert check(spec) <= TOLERANCE["float32"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", [
    ConvSpec(2, 3, 4, 6000, 7, 1, (3, 3), 1, 1),           # dense, L >> K
    ConvSpec(3, 4, 4, 40001, 9, 1, (0, 5), 2, 4),          # depthwise, dilated, asymmetric pad
    ConvSpec(2, 6, 4, 4000, 5, 3, (2, 1), 2, 2),           # grouped, strided (polyphase), dilated
    ConvSpec(1, 2, 3, 3333, 4, 2, (1, 1), 1, 1),           # strided, odd length
])
def test_overlap_save_when_input_much_longer_than_kernel(spec, dtype):
    spec = dataclasses.replace(spec, dtype=dtype)
    geometry = _fft_blocks.best_geometry(spec, LIMIT)
    assert geometry.blocks > 1, "L >> K must use several overlap-save windows"
    assert geometry.nfft < spec.l_padded
    assert check(spec) <= TOLERANCE[dtype]


@pytest.mark.parametrize("spec", [
    ConvSpec(4, 8, 8, 3000, 33, 1, (16, 16), 1, 1, "float64"),
    ConvSpec(3, 6, 6, 2000, 15, 2, (7, 7), 1, 6, "float64"),
])
def test_tiny_workspace_limit_chunks_and_stays_correct(spec):
    full = FFT.prepare(spec, LIMIT)
    smallest = _fft_blocks._workspace(spec, _fft_blocks._LENGTHS[_fft_blocks._bisect(spec.span)], 1)
    limit = 2 * smallest
    assert full.geometry.workspace_bytes() > limit
    plan = FFT.prepare(spec, limit)
    assert plan.geometry.workspace_bytes() <= limit
    assert plan_buffer_bytes(plan) <= limit
    assert len(plan._idle[0]._work) > 1
    x, w = operands(spec)
    assert relative_error(plan.run(x, w), float64_reference("forward", spec, x, w)) <= TOLERANCE["float64"]


def test_workspace_bytes_accounts_for_every_buffer():
    for spec in (workload("dense_long_k257").spec(), workload("dw_conformer_k31").spec(),
                 ConvSpec(2, 6, 4, 400, 5, 3, (2, 1), 2, 2, "float64")):
        plan = FFT.prepare(spec, LIMIT)
        plan.run(*(a.astype(spec.np_dtype) for a in operands(spec)))
        assert plan_buffer_bytes(plan) == plan.geometry.workspace_bytes() == FFT.layout(spec, LIMIT).workspace_bytes


def test_workspace_limit_below_minimum_raises():
    spec = ConvSpec(1, 4, 4, 100, 9)
    with pytest.raises(ValueError, match="workspace_limit must be at least"):
        FFT.prepare(spec, 1000)


def test_cost_reports_follow_the_geometry():
    spec = workload("dense_long_k257").spec()
    geometry = _fft_blocks.best_geometry(spec, LIMIT)
    assert geometry.nfft % 2 == 0 and geometry.hop >= 1
    assert FFT.layout(spec, LIMIT).detail == geometry      # priced on the geometry it builds
    assert FFT.layout(spec).flops < spec.direct_flops / 10      # why fft wins this workload
    assert 0 < FFT.layout(spec).error_bound < TOLERANCE["float32"]
    assert FFT.supports(ConvSpec(1, 1, 1, 7, 7, 3, (0, 0), 1, 1)) is None


def test_empty_batch():
    spec = ConvSpec(0, 2, 2, 50, 3)
    out = FFT.prepare(spec, LIMIT).run(np.zeros(spec.input_shape, np.float32), np.ones(spec.weight_shape, np.float32))
    assert out.shape == (0, 2, 48)


@pytest.mark.parametrize("module", ["lucid.algos.fft", "lucid.algos._fft_blocks"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_plans_start_estimated_and_are_measured_once_reused(monkeypatch):
    """A new plan costs no FFTW_MEASURE; its MEASURE_AFTER-th run re-plans once
    with FFTW_MEASURE (clobbering the buffers), and results stay right."""
    fft_module = importlib.import_module("lucid.algos.fft")
    monkeypatch.setattr(fft_module, "SMALL_TRANSFORM", 0)      # every transform counts as large
    spec = ConvSpec(2, 8, 8, 3000, 33, 1, (16, 16), 1, 1, "float64")
    plan = FFT.prepare(spec, LIMIT)
    runner = plan._idle[0]
    flags = lambda: {f for pair in runner._io._plans.values() for p in pair for f in p.flags}   # noqa: E731
    assert "FFTW_MEASURE" not in flags() and "FFTW_MEASURE" not in runner._kernel_fft.flags
    x, w = operands(spec)
    want = float64_reference("forward", spec, x, w)
    for run in range(1, fft_module.MEASURE_AFTER + 2):
        assert relative_error(plan.run(x, w), want) <= TOLERANCE["float64"]
        assert ("FFTW_MEASURE" in flags()) == (run >= fft_module.MEASURE_AFTER)
    assert "FFTW_MEASURE" in runner._kernel_fft.flags
    w2 = w[::-1].copy()                      # a new weight goes through the re-planned kernel transform
    assert relative_error(plan.run(x, w2), float64_reference("forward", spec, x, w2)) <= TOLERANCE["float64"]
