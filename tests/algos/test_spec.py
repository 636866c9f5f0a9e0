"""ConvSpec: the validated constructor and the trusted one F.conv1d uses."""
from __future__ import annotations

import dataclasses

import pytest

import lucid
import lucid.nn.functional as F
from lucid.algos.spec import ConvSpec

FIELDS = (3, 4, 6, 50, 3, 2, (1, 2), 2, 2, "float64")


def test_trusted_spec_equals_the_validated_one():
    validated, trusted = ConvSpec(*FIELDS), ConvSpec.trusted(*FIELDS)
    assert trusted == validated and hash(trusted) == hash(validated) and trusted.l_out == validated.l_out
    assert dataclasses.astuple(trusted) == dataclasses.astuple(validated)
    with pytest.raises(dataclasses.FrozenInstanceError):
        trusted.n = 5                        # still frozen


def test_conv1d_describes_its_call_as_the_validated_spec():
    x, w = lucid.randn(3, 4, 50, dtype=lucid.float64), lucid.randn(6, 2, 3, dtype=lucid.float64)
    spec = F.conv_spec(x, w, None, 2, 1, 2, 2)
    assert spec == ConvSpec(3, 4, 6, 50, 3, 2, (1, 1), 2, 2, "float64")


def test_validated_constructor_still_rejects_bad_values():
    with pytest.raises(ValueError, match="groups=4 must divide"):
        ConvSpec(1, 6, 6, 10, 3, groups=4)
