"""The lowering's re-layouts: strided backward-data as phases of ``dy`` itself (polyphase) or, where
that is not cheaper, ``dy`` upsampled into per-thread scratch; the native route poses a backward op on
the source spec."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import float64_reference, relative_error
from reference import conv1d_grads_ref

from lucid.algos import planner, registry
from lucid.algos.lowering import (
    MIN_PHASE_SHIFTS,
    _backward_data_phases,
    _backward_data_upsampled,
    lower,
    phase_layout,
    route,
)
from lucid.algos.spec import ConvSpec

STRIDED = ConvSpec(2, 4, 6, 41, 3, 3, (2, 1), 2, 2, "float64")
#: Dilation 3 at stride 2 and K=3: the taps land on shifts 0, 1, 3 (Q=4) of both phases: too few shifts
#: for the polyphase form (and its problem would be larger): the lowering upsamples.
UPSAMPLED = ConvSpec(2, 4, 6, 41, 3, 2, (2, 1), 3, 2, "float64")
LONG = ConvSpec(2, 4, 6, 90, 17, 2, (2, 1), 1, 2, "float64")


def dx_definition(spec: ConvSpec, dy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``dx`` by the plain float64 loop over the definition."""
    dxp = conv1d_grads_ref(np.zeros((spec.n, spec.c_in, spec.l_padded)), w, dy, spec.stride, 0, spec.dilation,
                           spec.groups)[0]
    return dxp[:, :, spec.padding[0]:spec.padding[0] + spec.length]


def test_strided_backward_data_reuses_one_upsampled_buffer_per_thread():
    """Two calls on one thread get the same buffer (no fresh array per call), fully rewritten:
    the second call's zeros and samples are its own, whatever the first left there."""
    lowering = lower("backward_data", UPSAMPLED)
    assert lowering.spec == _backward_data_upsampled(UPSAMPLED).spec
    rng = np.random.default_rng(0)
    w = rng.standard_normal(UPSAMPLED.weight_shape)
    first, _ = lowering.operands(rng.standard_normal(UPSAMPLED.output_shape) + 5.0, w)
    dy = rng.standard_normal(UPSAMPLED.output_shape)
    second, _ = lowering.operands(dy, w)
    assert np.shares_memory(first, second)
    want = np.zeros(second.shape)
    want[:, :, ::UPSAMPLED.stride] = dy
    np.testing.assert_array_equal(second, want)
    assert relative_error(lowering.result(np.asarray(float64_reference("forward", lowering.spec, second, _))),
                          dx_definition(UPSAMPLED, dy, w)) < 1e-12


def test_a_long_strided_backward_data_is_polyphase_on_dy_itself():
    """``LONG`` (K=17 at stride 2: Q=9 shifts >= MIN_PHASE_SHIFTS): both phases x 4 channels = 8 outputs,
    9 taps, on ``dy`` itself (no copy), the weight zero where no tap lands; ``STRIDED`` (Q=2) upsamples."""
    lowering = lower("backward_data", LONG)
    phases, q, rows = phase_layout(LONG)
    assert phases == (0, 1) and q == 9 >= MIN_PHASE_SHIFTS and rows == max(LONG.l_out + 8, -(-(2 + 90) // 2))
    assert lowering.spec == ConvSpec(2, 6, 8, LONG.l_out, 9, 1, (8, rows - LONG.l_out), 1, 2, "float64")
    assert lowering.spec.direct_flops < _backward_data_upsampled(LONG).spec.direct_flops
    assert lower("backward_data", STRIDED).spec == _backward_data_upsampled(STRIDED).spec      # Q = 2
    rng = np.random.default_rng(5)
    dy, w = rng.standard_normal(LONG.output_shape), rng.standard_normal(LONG.weight_shape)
    x, wp = lowering.operands(dy, w)
    assert x is dy and wp.shape == (8, 3, 9) and np.count_nonzero(wp) == w.size
    assert relative_error(lowering.result(np.asarray(float64_reference("forward", lowering.spec, x, wp))),
                          dx_definition(LONG, dy, w)) < 1e-12


def test_both_forms_match_the_definition_on_a_seeded_grid():
    """The polyphase and the upsampled form, each on 60 seeded strided specs (dilation, padding, groups,
    depthwise), through the direct algorithm in float64, against the plain loop."""
    from helpers import seeded_specs
    specs = seeded_specs(60, 31, length=(1, 41), kernel=(1, 13), stride=(2, 7), padding=(0, 5), dilation=(1, 5))
    direct = registry.get("direct")
    for i, spec in enumerate(specs):
        spec = ConvSpec(spec.n, spec.c_in, spec.c_out, spec.length, spec.kernel_size, spec.stride, spec.padding,
                        spec.dilation, spec.groups, "float64")
        rng = np.random.default_rng(i)
        dy, w = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.weight_shape)
        want = dx_definition(spec, dy, w)
        for form in (_backward_data_phases, _backward_data_upsampled):
            low = form(spec)
            got = low.result(direct.prepare(low.spec, 1 << 40).run(*low.operands(dy, w)))
            assert relative_error(got, want) < 1e-12, (form.__name__, spec.describe())


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


@pytest.mark.parametrize("where", ["dy", "w"])
def test_nonfinite_operands_of_the_polyphase_form_land_where_the_definition_puts_them(where):
    """The polyphase form multiplies zero weights the definition does not: forced on direct, a NaN/Inf
    operand is re-planned (as for fft) onto col2im, which keeps them where the definition puts them."""
    from lucid import algos
    algos.clear_plans()
    spec = ConvSpec(2, 2, 6, 80, 30, 4, (1, 2), 1, 2, "float64")          # Q = 8 shifts, K not a multiple of s
    assert not lower("backward_data", spec).local_nonfinite
    rng = np.random.default_rng(6)
    dy, w = rng.standard_normal(spec.output_shape), rng.standard_normal(spec.weight_shape)
    if where == "dy":
        dy[1, 4, 3] = np.inf
    else:
        w[2, 0, 5] = np.nan
    with np.errstate(all="ignore"):
        want = dx_definition(spec, dy, w)
    got = planner.execute("backward_data", spec, dy, w, algorithm="direct")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)
    assert algos.records()[-1]["algorithm"] == "col2im"
