"""direct specifics: the blocked tap loop (several output blocks), the
one-GEMM pointwise path and sharing a plan between threads.

(The shared sweep in test_algorithms.py covers every option combination.)
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import num_threads, relative_error
from reference import conv1d_ref

from lucid.algos import _gemm, base, direct, scratch
from lucid.algos.spec import ConvSpec

DIRECT = direct.Direct()


def case(spec: ConvSpec, seed: int = 0):
    """Random float64 operands and the reference output."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(spec.input_shape)
    w = rng.standard_normal(spec.weight_shape)
    want = conv1d_ref(np.pad(x, ((0, 0), (0, 0), spec.padding)), w, None, spec.stride, 0, spec.dilation, spec.groups)
    return x, w, want


@pytest.mark.parametrize("block_bytes", [64, 1000, 1 << 21])
@pytest.mark.parametrize("spec", [
    ConvSpec(3, 4, 6, 101, 3, 2, (1, 2), 2, 2, "float64"),    # grouped, strided, dilated
    ConvSpec(5, 3, 2, 7, 2, 1, (0, 0), 1, 1, "float64"),      # short rows: whole items per block
], ids=lambda s: s.describe())
def test_blocked_tap_loop(monkeypatch, spec, block_bytes):
    monkeypatch.setattr(direct, "_TAP_BLOCK_BYTES", block_bytes)
    plan = DIRECT.prepare(spec, 1 << 30)
    if block_bytes == 64:
        assert len(plan._blocks) > spec.n                     # several blocks per item
    x, w, want = case(spec)
    assert relative_error(plan.run(x, w), want) < 1e-12
    assert "tap" not in plan._caller_buffers                   # tap block: per pool thread
    assert DIRECT.layout(spec, 1 << 30).workspace_bytes > 0


def test_pointwise_is_one_gemm_per_thread_without_tap_buffer():
    with num_threads(2):
        pointwise_blocks()


def pointwise_blocks():
    small = ConvSpec(4, 8, 6, 50, 1, 1, (0, 0), 1, 2, "float64")            # under SPLIT_BYTES: inline
    assert DIRECT.prepare(small, 1 << 30)._blocks == [(0, 4, 0, 50)]
    spec = ConvSpec(4, 8, 64, 2000, 1, 1, (0, 0), 1, 2, "float64")          # 4 MiB of output
    plan = DIRECT.prepare(spec, 1 << 30)
    assert plan._blocks == [(0, 2, 0, 2000), (2, 4, 0, 2000)] and DIRECT.layout(spec, 1 << 30).workspace_bytes == 0
    x, w, want = case(spec)
    assert relative_error(plan.run(x, w), want) < 1e-12


@pytest.mark.parametrize("block_bytes", [64, 1 << 21])
@pytest.mark.parametrize("spec", [
    ConvSpec(2, 4, 6, 20, 3, 1, (30, 25), 2, 1, "float64"),   # whole blocks inside the padding
    ConvSpec(3, 4, 4, 40, 5, 3, (7, 0), 4, 2, "float64"),     # taps that miss x in some blocks
], ids=lambda s: s.describe())
def test_tap_loop_reads_unpadded_input_without_a_padded_copy(monkeypatch, spec, block_bytes):
    monkeypatch.setattr(direct, "_TAP_BLOCK_BYTES", block_bytes)
    plan = DIRECT.prepare(spec, 1 << 30)
    assert "xpad" not in plan._caller_buffers
    x, w, want = case(spec)
    got = plan.run(x, w)
    assert relative_error(got, want) < 1e-12
    assert np.array_equal(got == 0, want == 0)      # all-padding outputs are exact zeros


def test_heavy_layer_with_a_small_output_is_split_over_the_pool(monkeypatch):
    """backward_data of N8 C128->64 L161 K7 d8 (96 MFLOP, 0.8 MiB of output)
    ran as one block on OpenBLAS's own threads, 26-860 ms under load."""
    spec = ConvSpec(8, 64, 128, 161, 7, 1, (48, 48), 8, 1, "float32")
    assert spec.direct_flops >= direct._SPLIT_FLOPS
    with num_threads(2):
        assert len(DIRECT.prepare(spec, 1 << 30)._blocks) == 2


def test_thread_scratch_is_reused_by_one_thread_and_private_to_each():
    first = base.thread_scratch("test", 1000, np.float32)
    smaller = base.thread_scratch("test", 10, np.float64)
    assert first.dtype == np.float32 and first.size == 1000 and smaller.size == 10
    assert np.shares_memory(first, smaller)                  # reused, not reallocated
    assert not np.shares_memory(first, base.thread_scratch("test.other", 10, np.float32))     # other name
    more = scratch._local.store.buffers["test"].nbytes // 4 + 1          # beyond what this thread holds
    larger = base.thread_scratch("test", more, np.float32)
    assert larger.size == more and not np.shares_memory(first, larger)       # grown
    other = []
    thread = threading.Thread(target=lambda: other.append(base.thread_scratch("test", more, np.float32)))
    thread.start()
    thread.join()
    assert not np.shares_memory(larger, other[0])


def test_plans_of_other_shapes_run_concurrently_on_their_threads():
    """Two plans (different lengths, one shared per-thread tap buffer per thread) from two threads."""
    specs = [ConvSpec(2, 16, 16, n, 3, 1, (1, 1), 1, 1, "float64") for n in (1500, 1800)]
    results, errors = {}, []

    def work(spec):
        try:
            plan = DIRECT.prepare(spec, 1 << 30)
            x, w, want = case(spec, seed=spec.length)
            results[spec.length] = max(relative_error(plan.run(x, w), want) for _ in range(20))
        except Exception as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(spec,)) for spec in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and all(err < 1e-12 for err in results.values()) and len(results) == 2


@pytest.mark.parametrize("inner", [1, 3])
def test_gemm_matmul_equals_numpy_matmul_with_outer_products_as_broadcasts(inner):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 5, inner)).astype(np.float32)
    b = rng.standard_normal((4, 2, inner, 7)).astype(np.float32)[..., ::-1]     # strided, like tap views
    out = np.empty((4, 2, 5, 7), np.float32)
    _gemm.matmul(a, b, out=out)
    want = np.matmul(a, b)
    if inner == 1:
        assert np.array_equal(out, a * b)             # a single product per output, exactly
    np.testing.assert_allclose(out, want, rtol=1e-6)
