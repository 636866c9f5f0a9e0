"""Edge cases found by running PyTorch's own conv1d tests on lucid (issue #11).

* float16 (and other float widths lucid has no dtype for) is refused with a
  TypeError naming the supported dtypes, instead of silently becoming float32.
* Zero input channels: the sum over ``C_in/groups * K`` terms is empty, so the
  output is ``bias`` broadcast over ``(N, C_out, L_out)`` (zeros without bias).
  PyTorch returns ``(N, 0, L)`` here; lucid returns the mathematical result.
* An input of length 0 is reported as a problem of the input's length.
"""
from __future__ import annotations

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F


@pytest.mark.parametrize("kind", [np.float16, np.longdouble])
def test_unsupported_float_widths_are_a_type_error_naming_the_supported_dtypes(kind):
    data = np.ones(3, kind)
    with pytest.raises(TypeError, match="float32, float64 or int64"):
        lucid.tensor(data)
    with pytest.raises(TypeError, match="float32, float64 or int64"):
        lucid.from_numpy(data)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("groups", [1, 4])
def test_zero_input_channels_give_the_bias_broadcast(bias, groups):
    conv = nn.Conv1d(0, 8, 2, stride=2, padding=1, groups=groups, bias=bias, dtype=lucid.float64)
    assert conv.weight.shape == (8, 0, 2)
    x = lucid.zeros(3, 0, 7, dtype=lucid.float64, requires_grad=True)
    y = conv(x)
    assert y.shape == (3, 8, 4)
    expected = np.broadcast_to(conv.bias.numpy()[:, None], (3, 8, 4)) if bias else np.zeros((3, 8, 4))
    np.testing.assert_array_equal(y.numpy(), expected)
    (y * 2).sum().backward()
    assert x.grad.shape == (3, 0, 7) and conv.weight.grad.shape == (8, 0, 2)
    if bias:
        np.testing.assert_array_equal(conv.bias.grad.numpy(), np.full(8, 2 * 3 * 4))
    unbatched = F.conv1d(lucid.zeros(0, 5), lucid.zeros(2, 0, 3))
    assert unbatched.shape == (2, 3) and not unbatched.numpy().any()


def test_zero_input_channels_with_mismatched_channels_are_still_refused():
    with pytest.raises(ValueError, match="input must be a tensor with 0 channels"):
        F.conv1d(lucid.zeros(1, 2, 5), lucid.zeros(2, 0, 3))


@pytest.mark.parametrize("weight_shape", [(4, 2, 3), (4, 0, 3)])
def test_length_zero_input_names_the_input_length(weight_shape):
    channels = weight_shape[1]
    with pytest.raises(ValueError, match=r"input must be a tensor with a length \(last dimension\) of at least 1"):
        F.conv1d(lucid.zeros(1, channels, 0), lucid.zeros(*weight_shape))


def test_empty_weight_dimensions_other_than_input_channels_are_refused():
    for shape in [(0, 2, 3), (4, 2, 0)]:
        with pytest.raises(ValueError, match="weight must be"):
            F.conv1d(lucid.zeros(1, 2, 5), lucid.zeros(*shape))
