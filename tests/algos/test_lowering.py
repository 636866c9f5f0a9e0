"""The lowering's re-layouts: strided backward-data upsamples ``dy`` into per-thread scratch, and
the native route poses a backward op on the source spec."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import float64_reference, relative_error
from reference import conv1d_grads_ref

from lucid.algos import planner
from lucid.algos.lowering import lower, route
from lucid.algos.spec import ConvSpec

STRIDED = ConvSpec(2, 4, 6, 41, 3, 3, (2, 1), 2, 2, "float64")


def dx_definition(spec: ConvSpec, dy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``dx`` by the plain float64 loop over the definition."""
    dxp = conv1d_grads_ref(np.zeros((spec.n, spec.c_in, spec.l_padded)), w, dy, spec.stride, 0, spec.dilation,
                           spec.groups)[0]
    return dxp[:, :, spec.padding[0]:spec.padding[0] + spec.length]


def test_strided_backward_data_reuses_one_upsampled_buffer_per_thread():
    """Two calls on one thread get the same buffer (no fresh array per call), fully rewritten:
    the second call's zeros and samples are its own, whatever the first left there."""
    lowering = lower("backward_data", STRIDED)
    rng = np.random.default_rng(0)
    w = rng.standard_normal(STRIDED.weight_shape)
    first, _ = lowering.operands(rng.standard_normal(STRIDED.output_shape) + 5.0, w)
    dy = rng.standard_normal(STRIDED.output_shape)
    second, _ = lowering.operands(dy, w)
    assert np.shares_memory(first, second)
    want = np.zeros(second.shape)
    want[:, :, ::STRIDED.stride] = dy
    np.testing.assert_array_equal(second, want)


def test_strided_backward_data_is_right_on_repeated_and_concurrent_calls():
    """Repeated calls with different ``dy`` and calls from four threads at once (each its own
    buffer) all match the definition: no call sees another's upsampled ``dy``."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal(STRIDED.weight_shape)
    cases = [rng.standard_normal(STRIDED.output_shape) for _ in range(4)]
    wants = [dx_definition(STRIDED, dy, w) for dy in cases]
    for dy, want in zip(cases, wants):
        assert relative_error(planner.execute("backward_data", STRIDED, dy, w), want) < 1e-12
    errors: list[float] = []

    def worker(i: int) -> None:
        for _ in range(20):
            errors.append(relative_error(planner.execute("backward_data", STRIDED, cases[i], w), wants[i]))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 80 and max(errors) < 1e-12


def test_route_poses_a_listed_backward_op_natively_and_lowers_otherwise():
    spec = ConvSpec(2, 4, 6, 20, 3, 2, (1, 1), 1, 2, "float64")
    native = route("backward_filter", spec, ("backward_filter",))
    assert native.spec == ConvSpec(2, 4, 6, 20, 3, 2, (1, 1), 1, 2, "float64", "backward_filter")
    assert native.weight_varies and native.operands(1, 2) == (1, 2)
    assert route("backward_filter", spec, ("forward",)).spec == lower("backward_filter", spec).spec
    assert route("backward_data", spec, ("backward_filter",)) is None
    rng = np.random.default_rng(2)
    dy, x = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.input_shape)
    via_forward = route("backward_filter", spec, ("forward",))
    assert relative_error(via_forward.result(np.asarray(float64_reference("forward", via_forward.spec,
                                                                           *via_forward.operands(dy, x)))),
                          float64_reference("backward_filter", spec, dy, x)) < 1e-12


def test_bad_op_is_refused_by_name():
    with pytest.raises(ValueError, match="ConvSpec.op must be one of"):
        ConvSpec(1, 1, 1, 4, 1, op="sideways")
    with pytest.raises(ValueError, match="lower\\(\\) expects a forward spec"):
        lower("forward", ConvSpec(1, 1, 1, 4, 1, op="backward_filter"))
