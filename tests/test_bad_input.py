"""Every invalid argument raises ValueError/TypeError naming it, before any work is done.

Each row: the call, the exception type, and a pattern the message must match
(the argument's name, and usually what was expected).
"""
from __future__ import annotations

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.optim as optim


def x(*shape, dtype="float32"):
    return lucid.zeros(*(shape or (2, 4, 16)), dtype=dtype)


def w(*shape, dtype="float32"):
    return lucid.zeros(*(shape or (8, 4, 3)), dtype=dtype)


CASES = [
    # ---- nn.Conv1d constructor
    ("in_channels negative", lambda: nn.Conv1d(-1, 8, 3), ValueError,
     r"Conv1d\(\): in_channels must be a non-negative int"),
    ("out_channels negative", lambda: nn.Conv1d(4, -1, 3), ValueError, "out_channels must be a positive int"),
    ("kernel_size zero", lambda: nn.Conv1d(4, 8, 0), ValueError, "kernel_size must be a positive int, got 0"),
    ("kernel_size float", lambda: nn.Conv1d(4, 8, 3.0), TypeError, r"kernel_size must be .*int, got 3.0 \(float\)"),
    ("kernel_size 2-tuple", lambda: nn.Conv1d(4, 8, (3, 3)), ValueError, "kernel_size must be an int or a 1-tuple"),
    ("stride bool", lambda: nn.Conv1d(4, 8, 3, stride=True), TypeError, r"stride must be .*got True \(bool\)"),
    ("stride zero", lambda: nn.Conv1d(4, 8, 3, stride=0), ValueError, "stride must be a positive int"),
    ("dilation negative", lambda: nn.Conv1d(4, 8, 3, dilation=-2), ValueError, "dilation must be a positive int"),
    ("dilation float", lambda: nn.Conv1d(4, 8, 3, dilation=1.5), TypeError, "dilation must be"),
    ("groups zero", lambda: nn.Conv1d(4, 8, 3, groups=0), ValueError, "groups must be a positive int"),
    ("groups float", lambda: nn.Conv1d(4, 8, 3, groups=2.0), TypeError, "groups must be a positive int"),
    ("in_channels not divisible", lambda: nn.Conv1d(4, 9, 3, groups=3), ValueError,
     "in_channels must be divisible by groups=3"),
    ("out_channels not divisible", lambda: nn.Conv1d(4, 6, 3, groups=4), ValueError,
     "out_channels must be divisible by groups=4"),
    ("padding negative", lambda: nn.Conv1d(4, 8, 3, padding=-1), ValueError, "padding must be a non-negative int"),
    ("padding unknown string", lambda: nn.Conv1d(4, 8, 3, padding="full"), ValueError,
     "padding must be an int, 'same', 'valid' or 'causal', got 'full'"),
    ("padding float", lambda: nn.Conv1d(4, 8, 3, padding=1.0), TypeError, "padding must be"),
    ("same with stride", lambda: nn.Conv1d(4, 8, 3, stride=2, padding="same"), ValueError,
     "padding must be an int or 'valid' when stride=2"),
    ("padding_mode unknown", lambda: nn.Conv1d(4, 8, 3, padding_mode="mirror"), ValueError,
     "padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'mirror'"),
    ("padding_mode not str", lambda: nn.Conv1d(4, 8, 3, padding_mode=None), TypeError, "padding_mode must be"),
    ("bias not bool", lambda: nn.Conv1d(4, 8, 3, bias="yes"), TypeError, "bias must be a bool"),
    ("device cuda", lambda: nn.Conv1d(4, 8, 3, device="cuda"), ValueError, "device must be 'cpu'.*CPU only"),
    ("dtype int", lambda: nn.Conv1d(4, 8, 3, dtype=lucid.int64), TypeError, "dtype must be lucid.float32"),
    ("dtype unknown", lambda: nn.Conv1d(4, 8, 3, dtype="float16"), ValueError, "dtype must be one of"),
    ("algorithm not str", lambda: nn.Conv1d(4, 8, 3, algorithm=1), TypeError, "algorithm must be None or"),
    # ---- forward / F.conv1d
    ("input rank 1", lambda: nn.Conv1d(4, 8, 3)(lucid.zeros(16)), ValueError,
     r"conv1d\(\): input must be a 2-D \(C_in, L\) or 3-D \(N, C_in, L\) tensor, got Tensor of shape \(16,\)"),
    ("input rank 4", lambda: F.conv1d(x(1, 2, 4, 16), w()), ValueError, "input must be a 2-D"),
    ("input ints", lambda: F.conv1d(x(dtype="int64"), w()), TypeError, "input must be a float32 or float64 tensor"),
    ("input ndarray", lambda: F.conv1d(np.zeros((2, 4, 16)), w()), TypeError, "input must be a lucid.Tensor"),
    ("weight ints", lambda: F.conv1d(x(), w(dtype="int64")), TypeError, "weight must be a float32 or float64"),
    ("weight rank", lambda: F.conv1d(x(), lucid.zeros(8, 4)), ValueError, "weight must be a 3-D"),
    ("mixed float32 input, float64 weight", lambda: F.conv1d(x(), w(dtype="float64")), TypeError,
     "weight must be of the input's dtype lucid.float32, got .*float64"),
    ("mixed float64 input, float32 weight module", lambda: nn.Conv1d(4, 8, 3)(x(dtype="float64")), TypeError,
     "input must be of the weight's dtype lucid.float32, got .*float64; convert it with"),
    ("channels mismatch", lambda: nn.Conv1d(3, 8, 3)(x()), ValueError,
     r"input must be a tensor with 3 channels \(weight.shape\[1\] \* groups = 3 \* 1\) in dim 1"),
    ("channels mismatch unbatched", lambda: nn.Conv1d(3, 8, 3)(x(4, 16)), ValueError,
     "input must be a tensor with 3 channels"),
    ("groups not dividing C_out", lambda: F.conv1d(x(), w(6, 1, 3), groups=4), ValueError,
     "groups must be a divisor of the output channels weight.shape\\[0\\]=6"),
    ("kernel longer than padded input", lambda: nn.Conv1d(4, 8, 5, dilation=4)(x(2, 4, 10)), ValueError,
     "input must be at least 17 samples long"),
    ("kernel longer than input with padding", lambda: F.conv1d(x(2, 4, 2), w(8, 4, 7), padding=1), ValueError,
     "input must be at least 5 samples long.*padding adds 2"),
    ("empty length", lambda: F.conv1d(x(2, 4, 0), w(), padding=2), ValueError,
     r"input must be a tensor with a length \(last dimension\) of at least 1"),
    ("bias shape", lambda: F.conv1d(x(), w(), lucid.zeros(7)), ValueError,
     r"bias must be None or a tensor of shape \(8,\)"),
    ("bias dtype", lambda: F.conv1d(x(), w(), lucid.zeros(8, dtype="float64")), ValueError, "bias must be None or"),
    ("functional stride float", lambda: F.conv1d(x(), w(), stride=1.0), TypeError, "stride must be a positive int"),
    ("functional padding string", lambda: F.conv1d(x(), w(), padding="SAME"), ValueError,
     "padding must be an int, 'same', 'valid' or 'causal', got 'SAME'"),
    ("functional same + stride", lambda: F.conv1d(x(), w(), stride=3, padding="same"), ValueError,
     "padding must be an int or 'valid' when stride=3"),
    ("functional dilation zero", lambda: F.conv1d(x(), w(), dilation=0), ValueError,
     "dilation must be a positive int"),
    ("functional groups bool", lambda: F.conv1d(x(), w(), groups=True), TypeError, "groups must be a positive int"),
    ("algorithm type", lambda: F.conv1d(x(), w(), algorithm=3), TypeError, "algorithm must be None or"),
    ("algorithm unknown", lambda: F.conv1d(x(), w(), algorithm="nope"), ValueError, "algorithm must be one of"),
    # ---- F.pad
    ("pad odd length", lambda: F.pad(x(), (1,)), ValueError, r"pad\(\): pad must be a tuple of \(left, right\) pairs"),
    ("pad negative", lambda: F.pad(x(), (1, -1)), ValueError, "pad must be a non-negative int"),
    ("pad reflect too wide", lambda: F.pad(x(2, 4, 3), (3, 0), mode="reflect"), ValueError,
     "pad must be at most 2 in dim 2 .*mode='reflect'"),
    ("pad circular too wide", lambda: F.pad(x(2, 4, 3), (0, 4), mode="circular"), ValueError,
     "pad must be at most 3 in dim 2"),
    ("pad mode", lambda: F.pad(x(), (1, 1), mode="symmetric"), ValueError, "mode must be one of 'constant'"),
    ("reflect Conv1d too much padding", lambda: nn.Conv1d(4, 8, 3, padding=4, padding_mode="reflect")(x(2, 4, 4)),
     ValueError, "pad must be at most 3"),
    # ---- tensors, factories, losses, optimizer
    ("tensor of strings", lambda: lucid.tensor(["a"]), TypeError, "data must be numbers"),
    ("tensor device", lambda: lucid.tensor([1.0], device="cuda:0"), ValueError, "device must be 'cpu'"),
    ("zeros size float", lambda: lucid.zeros(2.5), TypeError, "size must be a non-negative int"),
    ("randn int dtype", lambda: lucid.randn(2, dtype="int64"), TypeError, "dtype must be lucid.float32"),
    ("manual_seed negative", lambda: lucid.manual_seed(-1), ValueError, "seed must be a non-negative int"),
    ("reshape", lambda: x().reshape(5, 5), ValueError, "shape must be a shape with 128 elements"),
    ("mse_loss shapes", lambda: F.mse_loss(x(), x(2, 4, 15)), ValueError, r"target must be of the input's shape"),
    ("mse_loss reduction", lambda: F.mse_loss(x(), x(), reduction="avg"), ValueError, "reduction must be one of"),
    ("sgd lr", lambda: optim.SGD(nn.Conv1d(1, 1, 1).parameters(), lr=-0.1), ValueError, "lr must be a non-negative"),
    ("sgd empty", lambda: optim.SGD([], lr=0.1), ValueError, "params must be a non-empty"),
    ("sgd nesterov", lambda: optim.SGD(nn.Conv1d(1, 1, 1).parameters(), lr=0.1, nesterov=True), ValueError,
     "nesterov must be False unless momentum > 0"),
    ("init fan of a vector", lambda: nn.init.kaiming_uniform_(lucid.zeros(3)), ValueError,
     "tensor must be at least 2-D"),
    ("calculate_gain", lambda: nn.init.calculate_gain("swish"), ValueError, "nonlinearity must be one of"),
]


@pytest.mark.parametrize("call,error,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_the_table_is_large_enough():
    assert len(CASES) >= 30


def test_bad_input_does_no_work(monkeypatch):
    """Validation happens before the planner is reached."""
    from lucid.algos import planner
    monkeypatch.setattr(planner, "execute", lambda *a, **k: pytest.fail("planner reached"))
    for call in (lambda: F.conv1d(x(), w(), stride=0), lambda: F.conv1d(x(), w(8, 3, 3)),
                 lambda: F.conv1d(x(2, 4, 1), w(8, 4, 3))):
        with pytest.raises(ValueError):
            call()
