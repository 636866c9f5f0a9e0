"""The generated Winograd family F(m, r): exact transforms, every tile against
the loop oracle, the error bounds against measured errors,
and tile eligibility under the planner's tolerance."""
from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import numpy as np
import pytest
from helpers import float64_reference, operands, relative_error
from numpy.lib.stride_tricks import sliding_window_view
from reference import conv1d_ref

from lucid import algos
from lucid.algos import registry
from lucid.algos._winograd_transforms import POINTS, amplification, transforms
from lucid.algos.spec import ConvSpec
from lucid.algos.winograd import KERNEL_SIZES, TILES, tile_algorithm

PAIRS = [(m, r) for m in TILES for r in KERNEL_SIZES] + [(3, 1), (1, 3), (8, 3)]
NAMES = [tile_algorithm(m).name for m in TILES]


def oracle(spec: ConvSpec, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return conv1d_ref(np.pad(x.astype(float), ((0, 0), (0, 0), spec.padding)), w.astype(float), None,
                      spec.stride, 0, spec.dilation, spec.groups)


@pytest.mark.parametrize("m, r", PAIRS)
def test_transforms_compute_the_correlation_exactly(m, r):
    t = transforms(m, r)
    rng = np.random.default_rng(m * 10 + r)
    for _ in range(5):
        d = [Fraction(int(a), int(b)) for a, b in zip(rng.integers(-50, 50, t.alpha), rng.integers(1, 9, t.alpha))]
        g = [Fraction(int(a), int(b)) for a, b in zip(rng.integers(-50, 50, r), rng.integers(1, 9, r))]
        u = [sum(gi * gk for gi, gk in zip(row, g)) for row in t.g]
        v = [sum(bi * dk for bi, dk in zip(row, d)) for row in t.bt]
        y = [sum(a * ui * vi for a, ui, vi in zip(row, u, v)) for row in t.at]
        assert y == [sum(g[k] * d[j + k] for k in range(r)) for j in range(m)]


def test_f23_is_lavins_and_bt_rows_are_coprime_integers():
    t = transforms(2, 3)
    assert t.bt == ((1, 0, -1, 0), (0, 1, 1, 0), (0, 1, -1, 0), (0, 1, 0, -1))
    assert t.at == ((1, 1, 1, 0), (0, 1, -1, 1))
    for m, r in PAIRS:
        for row in transforms(m, r).bt:
            assert all(v.denominator == 1 for v in row)
            assert np.gcd.reduce([int(v) for v in row]) == 1
    with pytest.raises(ValueError, match="m=0"):
        transforms(0, 3)
    with pytest.raises(ValueError, match="m \\+ r - 2"):
        transforms(len(POINTS), 3)


def test_amplification_grows_with_the_tile():
    assert amplification(2, 3) == pytest.approx((5 / 3) ** 0.5)
    assert amplification(2, 3) < amplification(4, 3) < amplification(6, 3) < amplification(6, 5)


#: ``amplification(m, r)`` of every registered tile (r = 2..5), as its docstring's table documents it.
DOCUMENTED_AMPLIFICATION = {2: ("1.41", "1.29", "3.02", "4.45"), 4: ("3.97", "5.61", "5.80", "5.45"),
                            6: ("7.83", "6.80", "33.3", "66.5")}


@pytest.mark.parametrize("m, r", [(m, r) for m in TILES for r in KERNEL_SIZES])
def test_amplification_of_every_tile_is_its_documented_value(m, r):
    """The error growth of each tile is pinned: the interpolation points decide it, and a wrong
    point (-1/4 for -1/2) still gives exact transforms, so only this sees it (F(6,3) 6.8 -> 11.3)."""
    documented = DOCUMENTED_AMPLIFICATION[m]
    assert amplification(m, r) == pytest.approx(float(documented[r - KERNEL_SIZES[0]]), rel=5e-3)
    assert f"m={m}       " + "   ".join(documented) in amplification.__doc__


def grid():
    shapes = [(2, 6, 4, 2), (3, 4, 4, 4), (2, 3, 6, 3), (1, 4, 5, 1)]      # (n, c_in, c_out, groups)
    for i, (k, s, d, length, pad, shape, dtype) in enumerate(itertools.product(
            KERNEL_SIZES, (1, 2, 3), (1, 3, 20), (9, 47), ((0, 0), (3, 1)), shapes, ("float64", "float32"))):
        if i % 3 == 0:
            n, c_in, c_out, groups = shape
            try:
                yield ConvSpec(n, c_in, c_out, length, k, s, pad, d, groups, dtype)
            except ValueError:    # output shorter than one sample
                continue


@pytest.mark.parametrize("name", NAMES)
def test_every_tile_against_the_loop_oracle(name):
    algorithm, checked = registry.get(name), 0
    for spec in grid():
        x, w = operands(spec, seed=checked)
        got = algorithm.prepare(spec, 1 << 30).run(x.astype(spec.np_dtype), w.astype(spec.np_dtype))
        bound = algorithm.layout(spec).error_bound
        assert got.dtype == spec.np_dtype and got.shape == spec.output_shape
        assert relative_error(got, oracle(spec, x, w)) <= max(bound, 1e-12), spec.describe()
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kernel_size", KERNEL_SIZES)
def test_error_bound_holds_and_is_not_loose(name, kernel_size):
    """float32 errors over random inputs stay under the bound, and the worst is within 1/50 of it
    (float64 direct as the reference: its own error is ~1e-16)."""
    algorithm = registry.get(name)
    spec = ConvSpec(2, 64, 16, 300, kernel_size, 1, (1, 1), 1, 1, "float32")
    plan, bound, worst = algorithm.prepare(spec, 1 << 30), algorithm.layout(spec).error_bound, 0.0
    for seed in range(6):
        x, w = operands(spec, seed=seed)
        x = x * np.random.default_rng(seed).uniform(0.1, 10)
        got = plan.run(x.astype(np.float32), w.astype(np.float32))
        exact = float64_reference("forward", spec, x.astype(np.float32), w.astype(np.float32))
        worst = max(worst, relative_error(got, exact))
    assert worst <= bound < 50 * worst


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kernel_size", KERNEL_SIZES)
def test_error_bound_is_within_4x_of_the_worst_error_on_a_fixed_sweep(name, kernel_size):
    """The bound is tight: over 2000 seeded float32 problems of one tile row (the items of a
    depthwise spec, 8 channels each), the worst error is at most the bound and at least 1/4 of it.
    Errors are normwise per item, relative to the products' scale where the outputs cancel (as in
    tests/algos/test_algorithms.py); the oracle is a float64 sum over sliding windows.
    (Measured: 0.42 to 0.76 of the bound over the twelve tiles; halving every bound fails 8 of them.)"""
    algorithm = registry.get(name)
    m, items, channels = algorithm.m, 2000, 8
    spec = ConvSpec(items, channels, channels, m + kernel_size - 1, kernel_size, 1, (0, 0), 1, channels, "float32")
    bound = algorithm.layout(spec).error_bound
    assert bound == algorithm.layout(dataclasses.replace(spec, n=1)).error_bound      # each item's own bound
    rng = np.random.default_rng([m, kernel_size])
    x = rng.standard_normal(spec.input_shape).astype(np.float32)
    w = rng.standard_normal(spec.weight_shape).astype(np.float32)
    windows = sliding_window_view(x.astype(np.float64), kernel_size, axis=-1)            # (items, C, m, K)
    taps = w[:, 0].astype(np.float64)
    want = np.einsum("nctk,ck->nct", windows, taps)
    scale = np.sqrt(np.einsum("nctk,ck->n", windows**2, taps**2))
    got = algorithm.prepare(spec, 1 << 30).run(x, w)
    assert got.shape == want.shape
    errors = np.linalg.norm((got - want).reshape(items, -1), axis=1) / np.maximum(
        np.linalg.norm(want.reshape(items, -1), axis=1), scale)
    worst = float(errors.max())
    assert worst <= bound <= 4 * worst, f"worst {worst:.2e} is {worst / bound:.2f} of the bound {bound:.2e}"


def test_kernel_sizes_outside_two_to_five_are_refused():
    for name in NAMES:
        assert registry.get(name).supports(ConvSpec(1, 4, 4, 50, 6)) == \
            f"{name}: needs kernel_size in 2..5, got 6"
        assert registry.get(name).supports(ConvSpec(1, 4, 4, 50, 1)) is not None


def test_tolerance_decides_which_tiles_are_eligible():
    spec = ConvSpec(4, 64, 64, 2048, 3, 1, (1, 1), 1, 1)
    bounds = {name: registry.get(name).layout(spec).error_bound for name in NAMES}
    assert bounds["winograd"] < bounds["winograd4"] < bounds["winograd6"]
    tolerance = (bounds["winograd"] + bounds["winograd4"]) / 2
    with algos.use(tolerance=tolerance):
        algos.choose(spec)
        record = algos.records()[-1]
    cands = {c["name"]: c for c in record["candidates"]}
    assert cands["winograd"]["reason"] is None
    for name in ("winograd4", "winograd6"):
        assert cands[name]["reason"].startswith("error bound")
    assert record["algorithm"] not in ("winograd4", "winograd6")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kernel_size, dilation, padding", [(3, 80, (80, 80)), (2, 100, (0, 0)), (5, 70, (3, 9))])
def test_long_dilations_whole_and_cut_rows(name, kernel_size, dilation, padding):
    """Runs of >= 64 tiles take the output GEMM straight into y; a tight limit cuts them (scratch path)."""
    spec = ConvSpec(2, 6, 5, 1500, kernel_size, 1, padding, dilation, 1, "float64")
    x, w = operands(spec)
    want = float64_reference("forward", spec, x, w)
    algorithm = registry.get(name)
    for extra in (1 << 30, 20_000):
        plan = algorithm.prepare(spec, algorithm.layout(spec, 0).workspace_bytes + extra)
        assert relative_error(plan.run(x, w), want) <= 1e-13, (extra, plan.layout.tile)
