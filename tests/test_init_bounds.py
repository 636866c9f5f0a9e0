"""Initialisation bounds checked from both sides: the largest |w| must be close to the bound,
not only under it (a too-small bound passes an upper-bound-only test).  Non-square and grouped
layers, both fan modes, so swapped fans or a forgotten ``groups`` change the bound.

Planted bugs these catch (issue #17): ``fan_in``/``fan_out`` swapped in ``kaiming_uniform_``;
Conv1d's bias bound forgetting ``groups``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import lucid
import lucid.nn as nn
from lucid.nn import init


def assert_uniform_reaching(values: np.ndarray, bound: float, what: str) -> None:
    """All of ``values`` within ``[-bound, bound]`` and both ends nearly reached.

    With ``n`` i.i.d. U(-b, b) draws, ``P(max < (1 - d) b) = (1 - d)**n``; every
    tensor here has ``n >= 2000`` so ``d = 1 %`` fails with probability < 2e-9
    (and the seeds are fixed).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    assert values.size >= 2000, what
    assert np.abs(values).max() <= bound * (1 + 1e-6), f"{what}: exceeds the bound {bound}"
    assert values.max() > 0.99 * bound and values.min() < -0.99 * bound, \
        f"{what}: extremes {values.min():.5f}, {values.max():.5f} never reach the bound {bound:.5f}"


# (shape, fan_in, fan_out): non-square in every case, so a swap changes the bound
SHAPES = [((64, 16, 8), 16 * 8, 64 * 8), ((300, 40), 40, 300), ((12, 200, 3), 600, 36)]


@pytest.mark.parametrize("shape, fan_in, fan_out", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("a, nonlinearity", [(0.0, "relu"), (math.sqrt(5), "leaky_relu"), (0.0, "linear"),
                                             (0.1, "leaky_relu"), (0.0, "tanh")])
def test_kaiming_uniform_bound_from_both_sides(shape, fan_in, fan_out, mode, a, nonlinearity):
    lucid.manual_seed(0)
    w = init.kaiming_uniform_(lucid.empty(*shape, dtype="float64"), a=a, mode=mode, nonlinearity=nonlinearity)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = init.calculate_gain(nonlinearity, a)
    assert_uniform_reaching(w.numpy(), gain * math.sqrt(3.0 / fan), f"{shape} {mode} {nonlinearity}")


def test_kaiming_uniform_fans_agree_with_torch():
    torch = pytest.importorskip("torch")
    for shape, fan_in, fan_out in SHAPES:
        assert torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)) == (fan_in, fan_out)


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=8, out_channels=2048, kernel_size=3, groups=4),          # fan_in 2 * 3, not 8 * 3
    dict(in_channels=64, out_channels=2048, kernel_size=5, groups=64),        # depthwise multiplier 32
    dict(in_channels=6, out_channels=2400, kernel_size=7, groups=3, padding="same"),
    dict(in_channels=5, out_channels=2000, kernel_size=1),                    # ungrouped, pointwise
])
def test_conv1d_weight_and_bias_bounds_use_the_grouped_fan_in(kwargs):
    lucid.manual_seed(1)
    conv = nn.Conv1d(**kwargs, dtype=lucid.float64)
    fan_in = kwargs["in_channels"] // kwargs.get("groups", 1) * kwargs["kernel_size"]
    bound = 1 / math.sqrt(fan_in)
    assert_uniform_reaching(conv.weight.numpy(), bound, f"weight of {kwargs}")
    assert_uniform_reaching(conv.bias.numpy(), bound, f"bias of {kwargs}")


def test_linear_weight_and_bias_bounds():
    lucid.manual_seed(2)
    layer = nn.Linear(37, 3000, dtype=lucid.float64)               # non-square: fan_in 37, fan_out 3000
    assert_uniform_reaching(layer.weight.numpy(), 1 / math.sqrt(37), "Linear weight")
    assert_uniform_reaching(layer.bias.numpy(), 1 / math.sqrt(37), "Linear bias")
