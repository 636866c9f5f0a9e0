"""Shrunk failures of the fuzz tests (tests/test_fuzz.py), kept as named, explicit cases."""
from __future__ import annotations

import numpy as np
from reference import conv1d_grads_ref_taps
from test_fuzz import Config, _operands, _run, check, relative_error

from lucid.algos import registry


def test_cancelling_float32_weight_gradient_sum():
    """Thorough profile, shrunk: K=1, reflect padding 60 on L=269, float32.

    The weight gradient is ONE dot product of 389 terms that cancel 2600-fold,
    so direct's tap-by-tap float32 sum is off by 4.1e-5 normwise (pairwise
    summation would be 1.1e-5; im2col/fft happen to land near 3e-6) although
    ``direct.error_bound`` of that derived spec claims 2.4e-6.  The fuzz check
    now scales its tolerance by the condition beyond 100 (see ``check``); this
    case pins both halves: the conditioned check passes, and the plain error is
    the float32 rounding it was, not a wrong tap (which would be O(1)).
    """
    cfg = Config(n=1, groups=1, cig=1, cog=1, length=269, kernel_size=1, stride=1, dilation=1, padding=60,
                 padding_mode="reflect", bias=True, dtype="float32", batched=False, forcing="argument", seed=295)
    assert check(cfg) == len([a for a in registry.algorithms() if a.supports(cfg.forward_spec()) is None])
    x, w, b, dy = _operands(cfg)
    _, want, _ = conv1d_grads_ref_taps(x, w, dy, padding=60, padding_mode="reflect")
    _, _, got, _ = _run(cfg, "direct", x, w, b, dy)
    assert 1e-6 < relative_error(got, want) < 1e-3
    assert np.sign(got).item() == np.sign(want).item()


def test_input_gradient_that_is_exactly_zero():
    """Thorough profile, shrunk: L=1, K=2, dilation 3, 'same' padding (1, 2), float32.

    Both taps of the only output read padding, so the input gradient is exactly
    0; FFT returns ~1e-9 (transform roundoff, relative to ||dy|| * ||w||), an
    infinite *relative* error.  The conditioned check accepts roundoff of that
    size; a wrong tap (an O(1) gradient) would still fail.
    """
    cfg = Config(n=1, groups=1, cig=1, cog=1, length=1, kernel_size=2, stride=1, dilation=3, padding="same",
                 padding_mode="zeros", bias=False, dtype="float32", batched=False, forcing="argument", seed=0)
    check(cfg)
    x, w, b, dy = _operands(cfg)
    for algorithm in registry.algorithms():
        if algorithm.supports(cfg.forward_spec()) is None:
            _, dx, _, _ = _run(cfg, algorithm.name, x, w, b, dy)
            assert np.abs(dx).max() <= 1e-6 * np.linalg.norm(dy) * np.linalg.norm(w), algorithm.name
