"""The oracles agree with each other, with finite differences and with hand-computed values."""
import numpy as np
import pytest
from reference import conv1d_grads_ref, conv1d_grads_ref_taps, conv1d_ref, conv1d_ref_taps, finite_difference, pad_ref


def test_hand_computed_value():
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    w = np.array([[[1.0, 0.0, -1.0]]])
    # stride 2, dilation 1, padding 1: x_pad = 0 1 2 3 4 5 0
    np.testing.assert_array_equal(conv1d_ref(x, w, stride=2, padding=1), [[[-2.0, -2.0, 4.0]]])
    np.testing.assert_array_equal(conv1d_ref(x, w, b=[0.5], dilation=2), [[[-3.5]]])


def test_pad_modes_match_numpy():
    x = np.arange(5.0)[None, None]
    for mode, np_mode in (("zeros", "constant"), ("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")):
        np.testing.assert_array_equal(pad_ref(x, 3, 2, mode), np.pad(x, ((0, 0), (0, 0), (3, 2)), mode=np_mode))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("stride,padding,dilation,groups",
                         [(1, 1, 1, 1), (2, 2, 2, 2), (3, "same", 1, 4), (1, "same", 3, 2)])
def test_two_oracles_agree_and_match_finite_differences(mode, stride, padding, dilation, groups):
    if padding == "same" and stride != 1:
        stride = 1
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 9))
    w = rng.standard_normal((4, 4 // groups, 3))
    b = rng.standard_normal(4)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=mode)
    y = conv1d_ref(x, w, b, **kw)
    np.testing.assert_allclose(conv1d_ref_taps(x, w, b, **kw), y, rtol=1e-13, atol=1e-13)
    dy = rng.standard_normal(y.shape)
    slow = conv1d_grads_ref(x, w, dy, **kw)
    fast = conv1d_grads_ref_taps(x, w, dy, **kw)
    for a, c in zip(slow, fast):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    fd_x = finite_difference(lambda xx: np.sum(dy * conv1d_ref_taps(xx, w, b, **kw)), x)
    fd_w = finite_difference(lambda ww: np.sum(dy * conv1d_ref_taps(x, ww, b, **kw)), w)
    np.testing.assert_allclose(fast[0], fd_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fast[1], fd_w, rtol=1e-6, atol=1e-6)
