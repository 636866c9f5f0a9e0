"""``F.conv_transpose1d`` and ``nn.ConvTranspose1d`` (issue #24) against three independent oracles.

- the plain float64 scatter loop of ``tests/reference.py`` (``conv_transpose1d_ref``), always;
- float64 central finite differences of it for every gradient, always;
- PyTorch in float64 to 1e-9, output and every gradient, over a seeded grid of
  strides 1-5, paddings, output_padding, dilation, groups, bias, K 1-32,
  unbatched input and ``output_size`` (skipped without torch).

And: the planner poses the three problems of the matching convolution and
records them under the name the user called; argument errors name the argument;
the layer is initialised and printed as PyTorch's.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
from planner_fakes import reset_planner
from reference import conv_transpose1d_ref, finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid import algos


@dataclasses.dataclass(frozen=True)
class Case:
    n: int | None          # None: unbatched input
    c_in: int
    c_out: int
    length: int
    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    groups: int
    bias: bool
    output_size: bool      # through nn.ConvTranspose1d.forward(input, output_size) instead

    @property
    def l_out(self) -> int:
        return ((self.length - 1) * self.stride - 2 * self.padding + self.dilation * (self.kernel_size - 1)
                + self.output_padding + 1)

    def kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, output_padding=self.output_padding,
                    groups=self.groups, dilation=self.dilation)


def grid(count: int, seed: int, max_kernel: int = 32, max_length: int = 12) -> list[Case]:
    """Seeded random valid cases; every third grouped, every fifth unbatched, every fourth via output_size."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        groups = int(rng.integers(2, 4)) if i % 3 == 1 else 1
        k, s, d = int(rng.integers(1, max_kernel + 1)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
        length = int(rng.integers(1, max_length + 1))
        op = int(rng.integers(0, max(s, d)))
        most = ((length - 1) * s + d * (k - 1) + op) // 2
        case = Case(None if i % 5 == 4 else int(rng.integers(1, 4)), groups * int(rng.integers(1, 4)),
                    groups * int(rng.integers(1, 4)), length, k, s, int(rng.integers(0, min(most, 6) + 1)), op, d,
                    groups, bool(rng.integers(0, 2)), i % 4 == 3 and op < s)
        if case.l_out >= 1:
            cases.append(case)
    return cases


def operands(case: Case, seed: int):
    rng = np.random.default_rng(seed)
    shape = (case.c_in, case.length) if case.n is None else (case.n, case.c_in, case.length)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((case.c_in, case.c_out // case.groups, case.kernel_size))
    b = rng.standard_normal(case.c_out) if case.bias else None
    out_shape = (case.c_out, case.l_out) if case.n is None else (case.n, case.c_out, case.l_out)
    return x, w, b, rng.standard_normal(out_shape)


def lucid_grads(case: Case, x, w, b, g, dtype=lucid.float64):
    """``(y, dx, dw, db)`` of lucid for ``sum(y * g)``, through F or the module with output_size."""
    xl = lucid.tensor(x, dtype=dtype, requires_grad=True)
    if case.output_size:
        layer = nn.ConvTranspose1d(case.c_in, case.c_out, case.kernel_size, case.stride, case.padding,
                                   groups=case.groups, bias=case.bias, dilation=case.dilation, dtype=dtype)
        with lucid.no_grad():
            layer.weight.copy_(w)
            if b is not None:
                layer.bias.copy_(b)
        wl, bl = layer.weight, layer.bias
        y = layer(xl, output_size=(case.l_out,))
    else:
        wl = lucid.tensor(w, dtype=dtype, requires_grad=True)
        bl = None if b is None else lucid.tensor(b, dtype=dtype, requires_grad=True)
        y = F.conv_transpose1d(xl, wl, bl, **case.kwargs())
    y.backward(g.astype(y.numpy().dtype))
    return y.numpy(), xl.grad.numpy(), wl.grad.numpy(), None if bl is None else bl.grad.numpy()


def batched(case: Case, a):
    return a[None] if case.n is None else a


# ------------------------------------------------------------------------------------ the definition
def test_the_grid_covers_the_issue():
    cases = grid(160, seed=24)
    assert {c.stride for c in cases} == {1, 2, 3, 4, 5} and max(c.kernel_size for c in cases) == 32
    assert min(c.kernel_size for c in cases) == 1 and {c.dilation for c in cases} == {1, 2, 3}
    assert any(c.output_padding for c in cases) and any(c.padding for c in cases)
    assert any(c.output_padding >= c.stride for c in cases)            # reachable only by dilation
    assert {c.groups for c in cases} >= {1, 2, 3} and {c.bias for c in cases} == {True, False}
    assert any(c.n is None for c in cases) and any(c.output_size for c in cases)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_the_scatter_loop(dtype):
    for i, case in enumerate(grid(60, seed=5, max_kernel=12, max_length=8)):
        x, w, b, g = operands(case, i)
        y = lucid_grads(case, x, w, b, g, dtype=getattr(lucid, dtype))[0]
        want = conv_transpose1d_ref(batched(case, x), w, b, **case.kwargs())
        np.testing.assert_allclose(batched(case, y), want, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   atol=1e-5 if dtype == "float32" else 1e-12, err_msg=str(case))


@pytest.mark.parametrize("index", range(8))
def test_every_gradient_matches_finite_differences(index):
    case = grid(8, seed=11, max_kernel=6, max_length=5)[index]
    x, w, b, g = operands(case, index)
    _, dx, dw, db = lucid_grads(case, x, w, b, g)

    def loss(xv, wv, bv):
        return float(np.sum(batched(case, g) * conv_transpose1d_ref(batched(case, xv), wv, bv, **case.kwargs())))
    np.testing.assert_allclose(dx, finite_difference(lambda v: loss(v, w, b), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, finite_difference(lambda v: loss(x, v, b), w), rtol=1e-6, atol=1e-8)
    if b is not None:
        np.testing.assert_allclose(db, finite_difference(lambda v: loss(x, w, v), b), rtol=1e-6, atol=1e-8)


def test_pytorch_parity_in_float64_on_a_seeded_grid():
    """The issue's acceptance: output and every gradient to 1e-9 over 160 seeded cases."""
    torch = pytest.importorskip("torch")
    cases = grid(160, seed=24)
    for i, case in enumerate(cases):
        x, w, b, g = operands(case, i)
        got = lucid_grads(case, x, w, b, g)
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        tb = None if b is None else torch.tensor(b, requires_grad=True)
        if case.output_size:
            layer = torch.nn.ConvTranspose1d(case.c_in, case.c_out, case.kernel_size, case.stride, case.padding,
                                             groups=case.groups, bias=case.bias, dilation=case.dilation,
                                             dtype=torch.float64)
            with torch.no_grad():
                layer.weight.copy_(tw)
                if tb is not None:
                    layer.bias.copy_(tb)
            tw, tb = layer.weight, layer.bias
            ty = layer(tx, output_size=[case.l_out])
        else:
            ty = torch.nn.functional.conv_transpose1d(tx, tw, tb, **case.kwargs())
        ty.backward(torch.tensor(g))
        want = (ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), None if tb is None else tb.grad.numpy())
        for name, a, e in zip(("output", "input grad", "weight grad", "bias grad"), got, want):
            if e is not None:
                np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-9, err_msg=f"{name} of {case}")


def test_unbatched_matches_batched_and_an_empty_batch_gives_the_bias():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 7)), rng.standard_normal((4, 3, 5)), rng.standard_normal(6)
    args = (lucid.tensor(w), lucid.tensor(b), 3, 1, 1, 2)
    one = F.conv_transpose1d(lucid.tensor(x), *args)
    # (same shape, so a race may serve the two calls with different algorithms: equal to rounding)
    np.testing.assert_allclose(one.numpy(), F.conv_transpose1d(lucid.tensor(x[None]), *args).numpy()[0],
                               rtol=1e-13, atol=1e-13)
    empty = F.conv_transpose1d(lucid.zeros(0, 4, 7, dtype=lucid.float64), *args)
    assert empty.shape == (0, 6, one.shape[-1])


def test_read_only_and_strided_inputs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 20))[:, :, ::2]
    w = rng.standard_normal((3, 2, 4))
    x.flags.writeable = False
    got = F.conv_transpose1d(lucid.Tensor._wrap(x), lucid.tensor(w), stride=2).numpy()
    np.testing.assert_allclose(got, conv_transpose1d_ref(x, w, stride=2), rtol=1e-12)


# ------------------------------------------------------------------------------------ the planner
def test_the_three_problems_are_planned_and_recorded_under_the_called_name():
    reset_planner()
    rng = np.random.default_rng(2)
    x = lucid.tensor(rng.standard_normal((2, 4, 9)), requires_grad=True)
    w = lucid.tensor(rng.standard_normal((4, 3, 5)), requires_grad=True)
    F.conv_transpose1d(x, w, stride=2, padding=1).sum().backward()
    records = algos.records()
    assert [(r["op"], r["called_as"]) for r in records] == [
        ("backward_data", "conv_transpose1d"), ("forward", "conv_transpose1d.grad_input"),
        ("backward_filter", "conv_transpose1d.grad_weight")]
    assert all(r["key"].startswith("N2 C3->4 L19 K5 s2 p(1,1) d1 g1 float64") for r in records)
    assert records[0]["algorithm"] == "col2im"
    assert "backward_data as conv_transpose1d" in algos.report()
    reset_planner()
    F.conv_transpose1d(x.detach(), w.detach(), stride=2, padding=1, algorithm="direct")
    (record,) = algos.records()
    assert record["algorithm"] == "direct" and record["reason"] == "direct: forced"


def test_a_conv1d_backward_of_the_same_shape_is_planned_separately():
    """``called_as`` is part of the plan key: each caller's first call is planned and recorded (in the
    heuristic mode: online, a new key whose length bucket is being raced joins that race instead)."""
    reset_planner()
    with algos.use(mode="heuristic"):
        _plan_both()


def _plan_both():
    rng = np.random.default_rng(3)
    y = lucid.tensor(rng.standard_normal((2, 3, 19)), requires_grad=True)
    w = lucid.tensor(rng.standard_normal((4, 3, 5)))
    F.conv1d(y, w, stride=2, padding=1).sum().backward()
    F.conv_transpose1d(lucid.tensor(rng.standard_normal((2, 4, 9))), w, stride=2, padding=1)
    ops = [(r["op"], r["called_as"]) for r in algos.records()]
    assert ops == [("forward", None), ("backward_data", None), ("backward_data", "conv_transpose1d")]


# ------------------------------------------------------------------------------------ errors
BAD = [
    (dict(stride=0), ValueError, "stride must be a positive int"),
    (dict(stride=1.5), TypeError, "stride must be a positive int"),
    (dict(padding="same"), TypeError, "padding must be a non-negative int"),
    (dict(padding=-1), ValueError, "padding must be a non-negative int"),
    (dict(output_padding=2, stride=2), ValueError, r"output_padding must be smaller than stride \(2\) or dilation"),
    (dict(output_padding=-1), ValueError, "output_padding must be a non-negative int"),
    (dict(dilation=0), ValueError, "dilation must be a positive int"),
    (dict(groups=3), ValueError, "groups must be a divisor of the input channels weight.shape"),
    (dict(padding=9), ValueError, "padding must be at most 3 for an input of length 5"),
    (dict(stride=(1, 2)), ValueError, "stride must be an int or a 1-tuple"),
]


@pytest.mark.parametrize("kwargs, kind, message", BAD)
def test_bad_arguments_are_named(kwargs, kind, message):
    x, w = lucid.ones(1, 4, 5), lucid.ones(4, 2, 3)
    with pytest.raises(kind, match=f"^conv_transpose1d\\(\\): {message}"):
        F.conv_transpose1d(x, w, **kwargs)


def test_bad_operands_are_named():
    x, w = lucid.ones(1, 4, 5), lucid.ones(4, 2, 3)
    with pytest.raises(ValueError, match=r"input must be a tensor with 4 channels \(weight.shape\[0\]\) in dim 1"):
        F.conv_transpose1d(lucid.ones(1, 3, 5), w)
    with pytest.raises(ValueError, match=r"bias must be None or a tensor of shape \(4,\)"):
        F.conv_transpose1d(x, w, lucid.ones(2), groups=2)
    with pytest.raises(TypeError, match="weight must be a tensor of the input's dtype"):
        F.conv_transpose1d(x, lucid.ones(4, 2, 3, dtype=lucid.float64))
    with pytest.raises(ValueError, match="weight must be a 3-D"):
        F.conv_transpose1d(x, lucid.ones(4, 2))
    with pytest.raises(ValueError, match="input must be a 2-D"):
        F.conv_transpose1d(lucid.ones(5), w)
    with pytest.raises(TypeError, match="input must be a lucid.Tensor"):
        F.conv_transpose1d(np.ones((1, 4, 5)), w)
    with pytest.raises(ValueError, match="weight must be non-empty"):
        F.conv_transpose1d(x, lucid.ones(4, 0, 3))


def test_module_errors_and_output_size():
    with pytest.raises(ValueError, match="padding_mode must be 'zeros'"):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="out_channels must be divisible by groups=2"):
        nn.ConvTranspose1d(2, 3, 3, groups=2)
    with pytest.raises(ValueError, match=r"output_padding must be smaller than stride \(1\) or dilation \(1\)"):
        nn.ConvTranspose1d(2, 3, 3, output_padding=1)
    layer = nn.ConvTranspose1d(2, 3, 4, stride=3, padding=1)
    x = lucid.ones(1, 2, 5)
    assert [layer(x, output_size=(n,)).shape[-1] for n in (14, 15, 16)] == [14, 15, 16]
    assert layer(x, output_size=[1, 3, 16]).shape == (1, 3, 16)
    with pytest.raises(ValueError, match="output_size must be a length from 14 to 16 for an input of length 5"):
        layer(x, output_size=(17,))
    with pytest.raises(TypeError, match="output_size must be None or a sequence of ints"):
        layer(x, output_size=16)


# ------------------------------------------------------------------------------------ the layer
def test_layer_shapes_and_init_bounds():
    lucid.manual_seed(0)
    layer = nn.ConvTranspose1d(64, 32, 16, stride=8, padding=4, groups=2)
    assert layer.weight.shape == (64, 16, 16) and layer.bias.shape == (32,)
    bound = 1 / math.sqrt(16 * 16)                  # PyTorch's fan: out_channels // groups * kernel_size
    for p in (layer.weight, layer.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.9 * bound
    assert layer(lucid.zeros(3, 64, 10)).shape == (3, 32, 80)
    assert layer(lucid.zeros(64, 10)).shape == (32, 80)
    assert nn.ConvTranspose1d(2, 2, 3, bias=False).bias is None


REPRS = [dict(in_channels=4, out_channels=8, kernel_size=3),
         dict(in_channels=4, out_channels=6, kernel_size=(16,), stride=(8,), padding=(4,), output_padding=(1,),
              groups=2, bias=False, dilation=2),
         dict(in_channels=3, out_channels=3, kernel_size=5, dilation=3, output_padding=2)]


@pytest.mark.parametrize("kwargs", REPRS)
def test_torch_oracle_repr_and_attributes(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.ConvTranspose1d(**kwargs), torch.nn.ConvTranspose1d(**kwargs)
    assert repr(ours) == repr(theirs)
    for name in ("kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "padding_mode"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


# ------------------------------------------------------------------------------------ long kernels
LONG_KERNEL = dict(stride=4, padding=3, output_padding=1)


@functools.cache
def long_kernel_case(groups: int, c_in: int, c_out: int):
    """Operands, output and finite-difference gradients (of ``sum(g * y)``) of a K=40, stride-4 layer."""
    rng = np.random.default_rng(8 + groups)
    x0, w0 = rng.standard_normal((2, c_in, 9)), rng.standard_normal((c_in, c_out // groups, 40))
    want = conv_transpose1d_ref(x0, w0, groups=groups, **LONG_KERNEL)
    g = rng.standard_normal(want.shape)

    def loss(xv, wv):
        return float(np.sum(g * conv_transpose1d_ref(xv, wv, groups=groups, **LONG_KERNEL)))
    return x0, w0, g, want, finite_difference(lambda v: loss(v, w0), x0), finite_difference(lambda v: loss(x0, v), w0)


@pytest.mark.parametrize("algorithm", ["fft", "direct", "im2col", "col2im"])
@pytest.mark.parametrize("groups, c_in, c_out", [(1, 6, 1), (2, 4, 4)])
def test_a_long_kernel_at_a_small_stride_through_every_algorithm(algorithm, groups, c_in, c_out):
    """K=40 at stride 4 (Q=10 shifts: the polyphase lowering) into one channel and into two groups,
    forced on each algorithm: output and gradients against the scatter loop and its finite differences."""
    x0, w0, g, want, dx, dw = long_kernel_case(groups, c_in, c_out)
    x, w = lucid.tensor(x0, requires_grad=True), lucid.tensor(w0, requires_grad=True)
    y = F.conv_transpose1d(x, w, groups=groups, algorithm=algorithm, **LONG_KERNEL)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    y.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(w.grad.numpy(), dw, rtol=1e-6, atol=1e-7)


def test_the_planner_finds_fft_for_a_long_kernel_into_few_channels():
    """K=512 at stride 4, 257 -> 1 channels: lowered in polyphase form (257 -> 4 phases, 128 shifts, on x
    itself), fft is predicted well below col2im's 512 scatter-adds per block (measured here: fft 17.5 ms,
    col2im 65 ms); the iSTFT-like stride 128 (4 shifts) stays on col2im's phase GEMM."""
    reset_planner()
    x = lucid.zeros(4, 257, 1600)
    F.conv_transpose1d(x, lucid.zeros(257, 1, 512), stride=4)
    (record,) = algos.records()
    assert record["algorithm"] == "fft" and record["called_as"] == "conv_transpose1d"
    assert record["spec"].startswith("N4 C257->4 L1600 K128 s1 p(127,")
    reset_planner()
    F.conv_transpose1d(lucid.zeros(4, 257, 400), lucid.zeros(257, 1, 512), stride=128)
    assert algos.records()[0]["algorithm"] == "col2im"
