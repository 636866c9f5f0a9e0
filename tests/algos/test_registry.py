"""The registry and the two-stage contract: registering, refusing, and adding an
algorithm with nothing but a subclass and one ``register`` call."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import float64_reference, operands, relative_error
from planner_fakes import reset_planner

import lucid
import lucid.nn.functional as F
from lucid import algos
from lucid.algos import registry
from lucid.algos.base import DEFAULT_WORKSPACE_LIMIT, Algorithm, Layout, Plan, cost_features
from lucid.algos.spec import ConvSpec


class ToyPlan(Plan):
    """The definition, one output position at a time (slow, obviously right)."""

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        sp = self.spec
        left, right = sp.padding
        xp = np.pad(x, ((0, 0), (0, 0), (left, right)))
        xg = xp.reshape(sp.n, sp.groups, sp.cig, sp.l_padded)
        wg = w.reshape(sp.groups, sp.cog, sp.cig, sp.kernel_size)
        y = np.empty((sp.n, sp.groups, sp.cog, sp.l_out), sp.np_dtype)
        for t in range(sp.l_out):
            window = xg[..., t * sp.stride:t * sp.stride + sp.span:sp.dilation]
            y[..., t] = np.einsum("ngck,gock->ngo", window, wg)
        return y.reshape(sp.output_shape)


class Toy(Algorithm):
    """An algorithm added from a test: one layout per spec, no workspace, float64 only."""

    name = "toy"

    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        if spec.dtype != "float64":
            return f"toy: needs float64, got {spec.dtype}"
        return Layout(spec, workspace_limit, 0, spec.direct_flops, 1e-15,
                      cost_features(spec, spec.direct_flops, 0, python_steps=spec.l_out))

    def build(self, layout: Layout) -> ToyPlan:
        return ToyPlan(self, layout.spec)


@pytest.fixture
def toy():
    algorithm = registry.register(Toy())
    reset_planner()
    yield algorithm
    registry.unregister("toy")
    reset_planner()


def test_a_registered_algorithm_serves_every_op_with_no_planner_change(toy):
    x, w = (lucid.tensor(a, requires_grad=True) for a in operands(ConvSpec(2, 4, 6, 21, 3, 2, (1, 1), 1, 2, "float64")))
    y = F.conv1d(x, w, stride=2, padding=1, groups=2, algorithm="toy")
    y.sum().backward()
    assert {r["algorithm"] for r in algos.records()} == {"toy"}       # forward and both backward ops
    want = float64_reference("forward", algos.ConvSpec(2, 4, 6, 21, 3, 2, (1, 1), 1, 2, "float64"),
                             x.numpy(), w.numpy())
    assert relative_error(y.numpy(), want) < 1e-14
    with algos.use("toy"):
        assert algos.choose(ConvSpec(1, 2, 2, 9, 3, dtype="float64")) == "toy"


def test_a_registered_algorithm_competes_and_reports_its_reason(toy):
    record_spec = ConvSpec(1, 2, 2, 9, 3)          # float32: toy does not apply
    algos.choose(record_spec)
    (toy_candidate,) = [c for c in algos.records()[-1]["candidates"] if c["name"] == "toy"]
    assert toy_candidate["supported"] is False and toy_candidate["reason"] == "toy: needs float64, got float32"
    with pytest.raises(ValueError, match="toy: needs float64"):
        toy.prepare(record_spec)


def test_duplicate_name_is_refused():
    with pytest.raises(ValueError, match="an algorithm named 'direct' is already registered"):
        registry.register(type(registry.get("direct"))())
    assert registry.names().count("direct") == 1


@pytest.mark.parametrize("thing", [object(), "direct", type(registry.get("direct"))])
def test_non_algorithm_is_refused(thing):
    before = registry.names()
    with pytest.raises(TypeError, match="register\\(\\) expects an Algorithm instance"):
        registry.register(thing)
    assert registry.names() == before


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"algorithm must be one of \[.*'direct'.*\] or 'auto', got 'nope'"):
        registry.get("nope")


def test_prepare_refuses_a_layout_over_the_limit_with_the_bytes_it_needs():
    direct = registry.get("direct")
    spec = ConvSpec(2, 8, 8, 100, 5, padding=(2, 2))
    need = direct.layout(spec, 0).workspace_bytes
    assert need > 0 and not direct.layout(spec, need - 1).fits and direct.layout(spec, need).fits
    with pytest.raises(ValueError, match=f"direct: workspace_limit must be at least {need} bytes"):
        direct.prepare(spec, need - 1)
