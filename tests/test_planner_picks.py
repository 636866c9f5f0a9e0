"""What the planner picks, for real algorithms on real shapes whose winner is not in doubt
(heuristic mode, through the public ``algorithm=None`` path and ``lucid.algos.records()``).

A cost-model or registry change that sent a long depthwise filter to the direct loop, or a 1x1
convolution through FFTs, passed every other test.
"""
from __future__ import annotations

import pytest

import lucid
import lucid.algos
import lucid.nn.functional as F


def planned_forward(n, c_in, c_out, length, kernel_size, groups=1) -> str:
    """The algorithm the heuristic planner ran the forward pass with (from the last record)."""
    lucid.algos.clear_records()
    x = lucid.randn(n, c_in, length)
    w = lucid.randn(c_out, c_in // groups, kernel_size)
    with lucid.algos.use("auto", mode="heuristic"), lucid.no_grad():
        F.conv1d(x, w, groups=groups)
    forward = [r for r in lucid.algos.records() if r["op"] == "forward"]
    assert len(forward) == 1, lucid.algos.records()
    assert forward[0]["mode"] == "heuristic"
    return forward[0]["algorithm"]


@pytest.mark.parametrize("shape", [
    dict(n=1, c_in=4, c_out=4, length=16384, kernel_size=1025, groups=4),     # depthwise, long filter: 30x
    dict(n=1, c_in=1, c_out=1, length=4096, kernel_size=513),                 # single channel, long filter: 5x
])
def test_long_filters_on_long_signals_go_to_fft(shape):
    assert planned_forward(**shape) == "fft"


@pytest.mark.parametrize("shape", [
    dict(n=4, c_in=64, c_out=64, length=1024, kernel_size=1),                 # pointwise: a GEMM
    dict(n=1, c_in=2, c_out=2, length=8, kernel_size=3),                      # tiny
    dict(n=2, c_in=16, c_out=16, length=4096, kernel_size=3),                 # short filter
])
def test_short_filters_and_tiny_problems_never_go_to_fft(shape):
    assert planned_forward(**shape) != "fft"


def test_pointwise_goes_to_a_gemm_style_algorithm():
    assert planned_forward(8, 128, 128, 2048, 1) in ("direct", "im2col")
