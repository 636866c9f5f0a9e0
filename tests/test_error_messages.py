"""The commonest mistakes (issue #27) get one line saying what was wrong and the fix.

Each message keeps the package's wording (``<where>(): <argument> must be
<expected>, got <received>``, see :mod:`lucid._errors`) and ends with
``; <fix>``.  Received values are shown short: never the contents of a list,
an array or a tensor.
"""
from __future__ import annotations

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid._errors import MAX_REPR, bad_type, bad_value, describe, short_repr


def message(call, error) -> str:
    with pytest.raises(error) as caught:
        call()
    text = str(caught.value)
    assert "\n" not in text, text
    return text


def test_a_python_list_is_not_dumped_and_the_fix_is_lucid_tensor():
    data = [[0.0] * 64] * 500                       # ~170 KB of repr
    text = message(lambda: nn.Conv1d(1, 4, 3)(data), TypeError)
    assert text.startswith("conv1d(): input must be a lucid.Tensor, got [[0.0, 0.0, 0.0, 0.0, ...], ")
    assert "(list of 500)" in text and text.endswith("; convert it with lucid.tensor(x)")
    assert len(text) < 200


def test_a_numpy_array_gets_the_lucid_tensor_fix():
    text = message(lambda: nn.Conv1d(1, 4, 3)(np.zeros((2, 1, 10), np.float32)), TypeError)
    assert text == ("conv1d(): input must be a lucid.Tensor, got ndarray of shape (2, 1, 10) and dtype float32; "
                    "convert it with lucid.tensor(x)")
    # NumPy's default float64 into a float32 layer: the fix converts to the layer's dtype at once
    text = message(lambda: nn.Conv1d(1, 4, 3)(np.random.randn(2, 1, 10)), TypeError)
    assert text.endswith("; convert it with lucid.tensor(x, dtype=lucid.float32)")
    # the same fix from every function that takes tensors
    for call in (lambda: F.relu(np.zeros(3)), lambda: F.max_pool1d(np.zeros((1, 2, 8)), 2),
                 lambda: lucid.exp(np.zeros(3)), lambda: F.linear(np.zeros((2, 3)), lucid.ones(4, 3))):
        text = message(call, TypeError)
        assert "input must be a lucid.Tensor, got ndarray of shape " in text
        assert text.endswith(" and dtype float64; convert it with lucid.tensor(x)")


def test_a_torch_tensor_is_named_as_such_and_gets_the_fix():
    torch = pytest.importorskip("torch")
    text = message(lambda: nn.Conv1d(1, 4, 3)(torch.zeros(2, 1, 10, requires_grad=True)), TypeError)
    assert text == ("conv1d(): input must be a lucid.Tensor, got torch.Tensor of shape (2, 1, 10) and dtype "
                    "torch.float32; convert it with lucid.tensor(x.detach().numpy())")
    fixed = lucid.tensor(torch.zeros(2, 1, 10, requires_grad=True).detach().numpy())
    assert nn.Conv1d(1, 4, 3)(fixed).shape == (2, 4, 8)            # the fix works


@pytest.mark.parametrize("layer, shape", [(nn.Conv1d(1, 4, 3), (2, 1, 10)), (nn.Linear(3, 2), (2, 3)),
                                          (nn.LayerNorm(3), (2, 3)), (nn.GroupNorm(1, 3), (2, 3, 4))],
                         ids=["Conv1d", "Linear", "LayerNorm", "GroupNorm"])
def test_float64_data_into_a_float32_layer_blames_the_data_and_says_how_to_convert(layer, shape):
    x = lucid.tensor(np.random.randn(*shape))                      # float64, as NumPy makes it
    text = message(lambda: layer(x), TypeError)
    assert "input must be " in text and "of the weight's dtype lucid.float32" in text
    assert f"got Tensor of shape {shape} and dtype lucid.float64" in text
    assert text.endswith("; convert it with lucid.tensor(x, dtype=lucid.float32), or build the layer with "
                         "dtype=lucid.float64")
    assert layer(lucid.tensor(x.numpy(), dtype=lucid.float32)).dtype == lucid.float32          # the fix works


def test_two_plain_tensors_of_different_dtypes_still_name_the_weight():
    text = message(lambda: F.conv1d(lucid.zeros(2, 4, 16), lucid.zeros(8, 4, 3, dtype=lucid.float64)), TypeError)
    assert text.startswith("conv1d(): weight must be of the input's dtype lucid.float32")
    assert text.endswith("; convert it with lucid.tensor(x, dtype=lucid.float32)")


@pytest.mark.parametrize("pool", [F.max_pool1d, F.avg_pool1d])
def test_pooling_names_the_tensor_it_was_given_not_an_ndarray(pool):
    text = message(lambda: pool(lucid.randn(2, 3, 10), 20), ValueError)
    assert text == (f"{pool.__name__}(): input must be at least 20 samples long (a window spans 20 and padding "
                    "adds 0), got Tensor of shape (2, 3, 10) and dtype lucid.float32")
    assert "ndarray" not in text


def test_a_forgotten_channel_dimension_gets_the_unsqueeze_fix():
    text = message(lambda: nn.Conv1d(1, 4, 3)(lucid.randn(8, 100)), ValueError)
    assert text.startswith("conv1d(): input must be a tensor with 1 channel (")          # not "1 channels"
    assert text.endswith("; for a batch of 8 one-channel signals add the channel dimension: x.unsqueeze(1)")
    assert nn.Conv1d(1, 4, 3)(lucid.randn(8, 100).unsqueeze(1)).shape == (8, 4, 98)        # the fix works
    text = message(lambda: nn.Conv1d(1, 4, 3)(lucid.randn(100)), ValueError)
    assert text.endswith("; add the batch and channel dimensions: x.reshape(1, 1, -1)")
    text = message(lambda: nn.Conv1d(16, 4, 3)(lucid.randn(2, 100, 16)), ValueError)       # channels last
    assert text.endswith("; if it is channels-last (N, L, C), move the channels: x.transpose(1, 2)")
    assert "x.unsqueeze" not in message(lambda: nn.Conv1d(3, 4, 3)(lucid.randn(2, 4, 9)), ValueError)


@pytest.mark.parametrize("call, error", [
    (lambda: F.conv1d(lucid.zeros(1, 1, 8), lucid.zeros(1, 1, 3), padding="s" * 10_000), ValueError),
    (lambda: F.conv1d(lucid.zeros(1, 1, 8), lucid.zeros(1, 1, 3), stride=list(range(10_000))), ValueError),
    (lambda: nn.Conv1d(1, 1, 3, padding_mode={i: i for i in range(10_000)}), TypeError),
    (lambda: lucid.tensor([["a"] * 10_000]), TypeError),
    (lambda: F.mse_loss(lucid.zeros(3), list(range(10_000))), TypeError),
], ids=["long string", "long list", "big dict", "tensor of strings", "loss target list"])
def test_values_in_messages_are_short(call, error):
    text = message(call, error)
    assert len(text) < 250, text


def test_short_repr_and_describe():
    for value in ("x" * 1000, list(range(10**5)), {i: [i] * 100 for i in range(100)}, b"y" * 1000):
        assert len(short_repr(value)) <= MAX_REPR
    assert short_repr(list(range(1000))) == "[0, 1, 2, 3, ...]"
    assert describe(lucid.zeros(2, 3)) == "Tensor of shape (2, 3) and dtype lucid.float32"
    assert describe(np.zeros((2, 3))) == "ndarray of shape (2, 3) and dtype float64"
    assert str(bad_value("f", "a", "b", "c" * 500)).startswith("f(): a must be b, got 'ccc")
    assert len(str(bad_type("f", "a", "b", b"c" * 500))) < 120
    assert str(bad_type("f", "a", "an int", 2.0)) == "f(): a must be an int, got 2.0 (float)"
