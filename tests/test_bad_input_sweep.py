"""Bad input across every surface: layers, functional, the planner API, LUCID_* variables and the CLI.

tests/test_bad_input.py holds the conv-level table; this sweep adds the other
surfaces and the issue's specific items.  Each row of ``CASES`` must raise
ValueError or TypeError with a message naming the argument; each bad ``LUCID_*``
value must warn once (naming the variable) and fall back to the default; each
bad command line must exit 2 with one line on stderr naming the option.
Non-contiguous and read-only operands and an empty batch are not errors: they
must give the right answer.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from planner_fakes import reset_planner
from reference import conv1d_grads_ref, conv1d_ref

import lucid
import lucid.algos as algos
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.algos.planner import config
from lucid.algos.spec import ConvSpec
from lucid.bench import cli


def x(*shape, dtype="float32"):
    return lucid.zeros(*(shape or (2, 4, 16)), dtype=dtype)


def w(*shape, dtype="float32"):
    return lucid.zeros(*(shape or (8, 4, 3)), dtype=dtype)


def scoped(**settings):
    with algos.use(**settings):
        pass


def under(call, **settings):
    with algos.use(**settings):
        call()


SPEC = ConvSpec(1, 2, 2, 10, 5)

CASES = [
    # ---- nn.Conv1d: argument types and values not in test_bad_input.py
    ("Conv1d in_channels bool", lambda: nn.Conv1d(True, 8, 3), TypeError, "in_channels must be a non-negative int"),
    ("Conv1d out_channels float", lambda: nn.Conv1d(4, 8.0, 3), TypeError, "out_channels must be a positive int"),
    ("Conv1d kernel_size None", lambda: nn.Conv1d(4, 8, None), TypeError, "kernel_size must be a positive int"),
    ("Conv1d kernel_size str", lambda: nn.Conv1d(4, 8, "3"), TypeError, "kernel_size must be a positive int"),
    ("Conv1d stride 2-tuple", lambda: nn.Conv1d(4, 8, 3, stride=(1, 1)), ValueError,
     "stride must be an int or a 1-tuple"),
    ("Conv1d padding 2-tuple", lambda: nn.Conv1d(4, 8, 3, padding=(1, 2)), ValueError, "padding must be an int or"),
    ("Conv1d dilation str", lambda: nn.Conv1d(4, 8, 3, dilation="2"), TypeError, "dilation must be a positive int"),
    ("Conv1d groups negative", lambda: nn.Conv1d(4, 8, 3, groups=-2), ValueError, "groups must be a positive int"),
    ("Conv1d groups > channels", lambda: nn.Conv1d(2, 2, 3, groups=4), ValueError,
     "in_channels must be divisible by groups=4"),
    ("Conv1d dtype bool", lambda: nn.Conv1d(4, 8, 3, dtype=True), TypeError, "dtype must be one of"),
    ("Conv1d padding_mode 'constant'", lambda: nn.Conv1d(4, 8, 3, padding_mode="constant"), ValueError,
     "padding_mode must be one of 'zeros'"),
    ("Conv1d input rank 4", lambda: nn.Conv1d(4, 8, 3)(x(1, 1, 4, 16)), ValueError, "input must be a 2-D"),
    ("Conv1d input ndarray", lambda: nn.Conv1d(4, 8, 3)(np.zeros((2, 4, 16))), TypeError,
     "input must be a lucid.Tensor"),
    ("Conv1d algorithm attribute unknown", lambda: nn.Conv1d(4, 8, 3, algorithm="fastest")(x()), ValueError,
     "algorithm must be one of"),
    # ---- F.conv1d
    ("conv1d weight ndarray", lambda: F.conv1d(x(), np.zeros((8, 4, 3))), TypeError, "weight must be a lucid.Tensor"),
    ("conv1d bias ndarray", lambda: F.conv1d(x(), w(), np.zeros(8, np.float32)), TypeError,
     "bias must be a lucid.Tensor"),
    ("conv1d bias rank 2", lambda: F.conv1d(x(), w(), lucid.zeros(8, 1)), ValueError, r"bias must be a 1-D \(C_out,\)"),
    ("conv1d zero out channels", lambda: F.conv1d(x(), w(0, 4, 3)), ValueError, "weight must be non-empty"),
    ("conv1d zero kernel", lambda: F.conv1d(x(), w(8, 4, 0)), ValueError, "weight must be non-empty"),
    ("conv1d stride negative", lambda: F.conv1d(x(), w(), stride=-1), ValueError, "stride must be a positive int"),
    ("conv1d padding negative", lambda: F.conv1d(x(), w(), padding=-3), ValueError,
     "padding must be a non-negative int"),
    ("conv1d dilation list", lambda: F.conv1d(x(), w(), dilation=[2, 2]), ValueError,
     "dilation must be an int or a 1-tuple"),
    ("conv1d groups not dividing C_in", lambda: F.conv1d(x(2, 6, 16), w(4, 2, 3), groups=4), ValueError,
     "input must be a tensor with 8 channels"),
    ("conv1d same with stride tuple", lambda: F.conv1d(x(), w(), stride=(2,), padding="same"), ValueError,
     "padding must be an int or 'valid' when stride=2"),
    ("conv1d unbatched ints", lambda: F.conv1d(x(4, 16, dtype="int64"), w()), TypeError,
     "input must be a float32 or float64 tensor"),
    ("conv1d algorithm wrong case", lambda: F.conv1d(x(), w(), algorithm="FFT"), ValueError,
     r"algorithm must be one of \[.*'fft'.*got 'FFT'"),
    ("conv1d forced algorithm cannot serve", lambda: F.conv1d(x(), w(8, 4, 7), algorithm="winograd"), ValueError,
     "algorithm='winograd' cannot run forward.*kernel_size in 2..5, got 7"),
    ("workspace limit too small for every algorithm",
     lambda: under(lambda: F.conv1d(lucid.randn(2, 4, 64), lucid.randn(8, 4, 3)), workspace_limit=0), ValueError,
     r"no algorithm can run forward .*\(raise workspace_limit\)"),
    # ---- F.pad
    ("pad input ndarray", lambda: F.pad(np.zeros((2, 4, 16)), (1, 1)), TypeError, "input must be a lucid.Tensor"),
    ("pad as int", lambda: F.pad(x(), 1), ValueError, r"pad must be a tuple of \(left, right\) pairs"),
    ("pad more pairs than dims", lambda: F.pad(x(4, 16), (1, 1, 1, 1, 1, 1)), ValueError, "at most 2 of them"),
    ("pad float amount", lambda: F.pad(x(), (1.5, 1)), TypeError, "pad must be a non-negative int"),
    ("pad value str", lambda: F.pad(x(), (1, 1), value="0"), TypeError, "value must be a real number"),
    ("pad mode None", lambda: F.pad(x(), (1, 1), mode=None), TypeError, "mode must be one of"),
    ("pad reflect on length 1", lambda: F.pad(x(2, 1), (1, 0), mode="reflect"), ValueError,
     "pad must be at most 0 in dim 1"),
    # ---- planner API
    ("use algorithm int", lambda: scoped(algorithm=3), ValueError, "algorithm must be one of"),
    ("use algorithm unknown", lambda: scoped(algorithm="cudnn"), ValueError, "algorithm must be one of"),
    ("use workspace_limit inf", lambda: scoped(workspace_limit=float("inf")), ValueError,
     "workspace_limit must be a non-negative number of bytes"),
    ("use tolerance NaN", lambda: scoped(tolerance=float("nan")), ValueError, "tolerance must be a positive number"),
    ("use time_limit str", lambda: scoped(time_limit="soon"), ValueError, "time_limit must be a positive number"),
    ("use deterministic 2", lambda: scoped(deterministic=2), ValueError, "deterministic must be a bool"),
    ("use mode wrong case", lambda: scoped(mode="Measure"), ValueError, "mode must be one of"),
    ("choose op unknown", lambda: algos.choose(SPEC, op="sideways"), ValueError, "op must be one of"),
    ("choose spec not a ConvSpec", lambda: algos.choose("N1 C2->2 L10 K5"), TypeError, "spec"),
    ("choose algorithm unknown", lambda: algos.choose(SPEC, algorithm="nope"), ValueError,
     "algorithm must be one of"),
    ("choose forced unsupported", lambda: algos.choose(ConvSpec(1, 2, 2, 10, 7), algorithm="winograd"), ValueError,
     "algorithm='winograd' cannot run forward"),
    ("set_cache_size zero", lambda: algos.set_cache_size(0), ValueError, "n must be a positive int, got 0"),
    ("set_cache_size bool", lambda: algos.set_cache_size(True), TypeError, "n must be a positive int, got True"),
    ("set_cache_size float", lambda: algos.set_cache_size(2.5), TypeError, "n must be a positive int, got 2.5"),
    ("set_cache_size str", lambda: algos.set_cache_size("3"), TypeError, "n must be a positive int"),
    ("set_cache_size max_bytes zero", lambda: algos.set_cache_size(3, max_bytes=0), ValueError,
     "max_bytes must be a positive int, got 0"),
    ("set_cache_size max_bytes float", lambda: algos.set_cache_size(3, max_bytes=1e9), TypeError,
     "max_bytes must be a positive int, got 1000000000.0"),
    ("load_wisdom None", lambda: algos.load_wisdom(None), TypeError, "path"),
    ("export_records None", lambda: algos.export_records(None), TypeError, "path"),
    ("calibrate budget str", lambda: algos.calibrate(budget_s="x"), TypeError, "budget_s"),
    ("get unknown algorithm", lambda: algos.get("nope"), ValueError, "algorithm must be one of"),
    ("ConvSpec zero output channels", lambda: ConvSpec(1, 2, 0, 10, 3), ValueError, "c_out must be a positive int"),
]


@pytest.fixture(autouse=True)
def clean():
    reset_planner()
    yield
    algos.set_cache_size(algos.planner.DEFAULT_CACHE_SIZE)
    reset_planner()


@pytest.mark.parametrize("call,error,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_call_raises_naming_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_the_sweep_is_large_enough():
    assert len(CASES) + len(ENVIRONMENT) + len(COMMAND_LINES) >= 40
    assert len(CASES) >= 40


ENVIRONMENT = [
    ("LUCID_CONV_ALGO", "cudnn", "algorithm", "auto"),
    ("LUCID_PLANNER", "exhaustive", "mode", "heuristic"),
    ("LUCID_WORKSPACE_LIMIT", "plenty", "workspace_limit", config.DEFAULT_WORKSPACE_LIMIT),
    ("LUCID_WORKSPACE_LIMIT", "-5", "workspace_limit", config.DEFAULT_WORKSPACE_LIMIT),
    ("LUCID_TOLERANCE", "-1e-3", "tolerance", float("inf")),
    ("LUCID_DETERMINISTIC", "perhaps", "deterministic", False),
    ("LUCID_TIME_LIMIT", "0", "time_limit", 1.0),
]


@pytest.mark.parametrize("env,raw,setting,default", ENVIRONMENT, ids=[f"{e[0]}={e[1]}" for e in ENVIRONMENT])
def test_bad_environment_value_warns_once_and_calls_still_work(monkeypatch, env, raw, setting, default):
    monkeypatch.setattr(config, "_warned", set())
    monkeypatch.setenv(env, raw)
    config.reload()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = F.conv1d(lucid.ones(1, 1, 5), lucid.ones(1, 1, 3), padding=1)
        assert getattr(config.settings(), setting) == default
        F.conv1d(lucid.ones(1, 1, 6), lucid.ones(1, 1, 3))
    assert [str(c.message).split(":")[0] for c in caught] == [f"ignoring {env}={raw!r}"]
    assert y.tolist() == [[[2.0, 3.0, 3.0, 3.0, 2.0]]]


COMMAND_LINES = [
    (["--shape", "0,2,2,16,3", "--algorithms", "direct", "--peers", "none", "--repeats", "1"], "--shape"),
    (["--shape", "1,-2,2,16,3"], "--shape"),
    (["--shape", "1,2,2,2,9"], "--shape"),
    (["--shape", "1,2,2,16,3", "--dilation", "0"], "dilation"),
    (["--shape", "1,2,2,16,3", "--groups", "0"], "groups"),
    (["--shape", "1,2,2,16,3", "--padding", "-1"], "padding"),
    (["--stride", "x"], "--stride"),
    (["--shape", "1,2,2,16,3", "--workload", "pointwise"], "--workload"),
    (["--json"], "--json"),
    (["plans", "/nonexistent/wisdom.json"], "WISDOM.json"),
    (["plans", "a.json", "b.json"], "b.json"),
    (["calibrate", "--budget", "0"], "--budget"),
    (["calibrate", "--budget", "soon"], "--budget"),
]


@pytest.mark.parametrize("argv,words", COMMAND_LINES, ids=[" ".join(a) for a, _ in COMMAND_LINES])
def test_bad_command_line_exits_2_with_one_line(capsys, argv, words):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("lucid-bench: error: ") and words in err, err


# ---- not errors: these must work and give the right answer


def _check(xt, wt, algorithm=None, **kwargs):
    """conv1d of (possibly odd-layout) tensors vs the reference, forward and both gradients."""
    y = F.conv1d(xt, wt, algorithm=algorithm, **kwargs)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(lucid.tensor(dy, dtype=y.dtype))
    x64, w64 = np.asarray(xt.data, np.float64), np.asarray(wt.data, np.float64)
    np.testing.assert_allclose(y.data, conv1d_ref(x64, w64, **kwargs), rtol=1e-10, atol=1e-10)
    leaf_x, leaf_w = xt if xt.is_leaf else None, wt if wt.is_leaf else None
    dx, dw, _ = conv1d_grads_ref(x64, w64, dy, **kwargs)
    if leaf_x is not None and leaf_x.requires_grad:
        np.testing.assert_allclose(leaf_x.grad.data, dx, rtol=1e-10, atol=1e-10)
    if leaf_w is not None and leaf_w.requires_grad:
        np.testing.assert_allclose(leaf_w.grad.data, dw, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("algorithm", [None] + list(algos.names()))
def test_non_contiguous_and_read_only_operands_work(algorithm):
    rng = np.random.default_rng(0)
    k = 3
    transposed = rng.standard_normal((2, 21, 4)).transpose(0, 2, 1)          # (2, 4, 21), Fortran-ish strides
    weight = np.asfortranarray(rng.standard_normal((6, 4, k)))
    frozen_x, frozen_w = rng.standard_normal((2, 4, 21)), rng.standard_normal((6, 4, k))
    frozen_x.flags.writeable = frozen_w.flags.writeable = False
    for xa, wa in ((transposed, weight), (frozen_x, frozen_w)):
        xt, wt = lucid.from_numpy(xa), lucid.from_numpy(wa)
        assert not (xt.data.flags.c_contiguous and xt.data.flags.writeable)
        xt.requires_grad_(), wt.requires_grad_()
        _check(xt, wt, algorithm, padding=1)
        assert not frozen_x.flags.writeable and np.isfinite(frozen_x).all()
    strided = lucid.tensor(rng.standard_normal((2, 4, 44)), dtype=lucid.float64, requires_grad=True)
    view = strided[:, :, ::2]                                               # a strided view inside the graph
    assert not view.data.flags.c_contiguous
    _check(view, lucid.tensor(weight, requires_grad=True), algorithm, stride=2)


@pytest.mark.parametrize("algorithm", [None] + list(algos.names()))
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_zero_length_batch_gives_empty_output_and_gradients(algorithm, padding_mode):
    conv = nn.Conv1d(4, 6, 3, padding=1, padding_mode=padding_mode, algorithm=algorithm)
    inp = lucid.zeros(0, 4, 16, requires_grad=True)
    out = conv(inp)
    assert out.shape == (0, 6, 16)
    out.sum().backward()
    assert inp.grad.shape == (0, 4, 16)
    assert conv.weight.grad.shape == (6, 4, 3) and not conv.weight.grad.data.any()
    assert conv.bias.grad.shape == (6,) and not conv.bias.grad.data.any()
