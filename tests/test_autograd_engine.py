"""The autograd engine itself (issue #22): what it computes, what it keeps, and what it releases.

* only the gradients an operand needs are computed (counted);
* fan-in is accumulated in place without aliasing anybody's array;
* a leaf takes its first gradient without a copy only when nobody else holds it;
* saved arrays die after ``backward()``, and a second backward raises unless
  the first was ``retain_graph=True``;
* slices, ``split``/``chunk`` and ``glu`` back-propagate exactly.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.ops import arith, conv
from lucid.tensor import apply


def _leaf(shape, seed=0, dtype="float64"):
    return lucid.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=dtype, requires_grad=True)


def _saved_arrays(root: lucid.Tensor) -> list[np.ndarray]:
    """Every ndarray captured by a backward closure in the graph behind ``root``."""
    found, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for cell in getattr(node._backward, "__closure__", None) or ():
            if isinstance(cell.cell_contents, np.ndarray):
                found.append(cell.cell_contents)
        stack.extend(node._parents)
    return found


def test_saved_arrays_die_after_backward():
    x = _leaf((4, 8, 32))
    w = _leaf((8, 8, 3), 1)
    loss = F.group_norm(F.silu(F.conv1d(x, w, padding=1)), 2).sigmoid().sum()
    saved = [a for a in _saved_arrays(loss) if not (np.shares_memory(a, x.data) or np.shares_memory(a, w.data))]
    assert len(saved) >= 4
    refs = [weakref.ref(a) for a in saved]
    del saved
    gc.collect()
    assert sum(r() is not None for r in refs) == len(refs)      # the graph holds them
    loss.backward()
    gc.collect()
    assert [r() for r in refs if r() is not None] == []
    assert x.grad is not None and w.grad is not None


def test_second_backward_raises_unless_the_graph_was_retained():
    x = _leaf((3, 5))
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()                                              # allowed: the first one kept the graph
    np.testing.assert_allclose(x.grad.data, 2 * first, rtol=1e-15)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = (x * 3.0).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()
    with pytest.raises(TypeError, match="retain_graph"):
        (x * 1.0).sum().backward(retain_graph="yes")


def test_shared_subgraph_is_released_by_the_first_backward():
    x = _leaf((4,))
    h = x.exp()
    a, b = h.sum(), (h * h).sum()
    a.backward()
    with pytest.raises(RuntimeError, match="second time"):
        b.backward()


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Pow", "MatMul"])
def test_binary_rules_compute_only_the_gradients_asked_for(op):
    a, b = np.full((3, 3), 1.5), np.full((3, 3), 0.5)
    _, backward = arith.binary(a, b, op)
    g = np.ones((3, 3))
    assert [grad is None for grad in backward(g, (True, False))] == [False, True]
    assert [grad is None for grad in backward(g, (False, True))] == [True, False]


def test_convolution_runs_only_the_backward_passes_that_are_needed(monkeypatch):
    calls: list[str] = []
    execute = conv.planner.execute

    def counting(op, *args, **kwargs):
        calls.append(op)
        return execute(op, *args, **kwargs)
    monkeypatch.setattr(conv.planner, "execute", counting)
    x = lucid.randn(2, 4, 16)                                   # data: no gradient wanted
    w = lucid.randn(6, 4, 3, requires_grad=True)
    F.conv1d(x, w, padding=1).sum().backward()
    assert calls == ["forward", "backward_filter"]
    calls.clear()
    x.requires_grad_()
    w.requires_grad_(False)
    w.grad = None
    F.conv1d(x, w, padding=1).sum().backward()
    assert calls == ["forward", "backward_data"]
    assert w.grad is None and x.grad is not None


def test_engine_passes_needs_and_never_stores_unneeded_gradients():
    seen = []

    def spy(g, needs):
        seen.append(needs)
        return np.ones(3), np.ones(3)                           # a sloppy rule that computes both
    x, c = _leaf((3,)), lucid.tensor(np.ones(3), dtype="float64")
    out = apply((x.data * c.data, spy), (x, c), "Spy")
    out.sum().backward()
    assert seen == [(True, False)]
    assert c.grad is None and x.grad is not None


def test_fan_in_accumulates_in_place_without_aliasing():
    x = _leaf((5,))
    y = _leaf((5,), 1)
    s = x + y                                                   # Add hands the same g to both
    (s * 2.0 + s + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(5, 4.0))
    np.testing.assert_array_equal(y.grad.data, np.full(5, 3.0))
    assert not np.shares_memory(x.grad.data, y.grad.data)
    x.grad = y.grad = None
    (x + x).sum().backward()                                    # one operand twice
    np.testing.assert_array_equal(x.grad.data, np.full(5, 2.0))


def test_leaf_never_takes_an_array_somebody_else_holds():
    x = _leaf((2, 3))
    seed = np.arange(6.0).reshape(2, 3)
    keep = seed.copy()
    x.backward(seed)                                            # a leaf as root: the caller's array
    assert not np.shares_memory(x.grad.data, seed)
    x.grad.data += 1                                            # later accumulation must not write into seed
    np.testing.assert_array_equal(seed, keep)
    a, b = _leaf((2, 3), 1), _leaf((2, 3), 2)
    (a + b).backward(lucid.tensor(seed))
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, seed) and not np.shares_memory(b.grad.data, seed)
    (a + b).sum().backward()                                    # accumulates into each .grad separately
    np.testing.assert_array_equal(a.grad.data, seed + 1)
    np.testing.assert_array_equal(b.grad.data, seed + 1)


def test_leaf_takes_a_fresh_gradient_without_a_copy():
    x = _leaf((4, 4))
    produced = []

    def rule(g, needs):
        grad = g * 2.0
        produced.append(grad.__array_interface__["data"][0])
        return (grad,)
    apply((x.data * 2.0, rule), (x,), "Twice").sum().backward()
    assert x.grad.data.__array_interface__["data"][0] == produced[0]


def test_slices_split_chunk_and_glu_backpropagate_exactly():
    x = _leaf((2, 6, 5))
    a, b = np.random.default_rng(3).standard_normal((2, 2, 3, 5))
    first, second = x.chunk(2, dim=1)
    ((first * lucid.tensor(a)).sum() + (second * lucid.tensor(b)).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, np.concatenate([a, b], axis=1))
    x.grad = None
    pieces = x.split([1, 0, 5], dim=1)
    assert [p.shape[1] for p in pieces] == [1, 0, 5]
    (pieces[2][:, ::2, 1:] * 3.0).sum().backward()
    expected = np.zeros(x.shape)
    expected[:, 1:][:, ::2, 1:] = 3.0
    np.testing.assert_array_equal(x.grad.data, expected)
    x.grad = None
    (x[:, 1] * 1.0 + x[:, 1:3].sum(1)).sum().backward()         # overlapping basic slices add up
    expected = np.zeros(x.shape)
    expected[:, 1] = 2.0
    expected[:, 2] = 1.0
    np.testing.assert_array_equal(x.grad.data, expected)
    assert [p.shape[-1] for p in x.chunk(2, dim=-1)] == [3, 2]
    assert [p.shape[1] for p in x.split(4, dim=1)] == [4, 2]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_matches_its_definition_and_finite_differences(dim):
    shape = [4, 6, 8]
    x = _leaf(tuple(shape), 5)
    coefficient = np.random.default_rng(6).standard_normal(F.glu(x, dim).shape)

    def loss(t):
        return (F.glu(t, dim) * lucid.tensor(coefficient)).sum()
    half = x.shape[dim] // 2
    a, b = np.split(x.data, [half], axis=dim)
    np.testing.assert_allclose(F.glu(x, dim).data, a / (1 + np.exp(-b)), rtol=1e-14)
    loss(x).backward()
    numeric = finite_difference(lambda v: loss(lucid.tensor(v, dtype="float64")).item(), x.data)
    np.testing.assert_allclose(x.grad.data, numeric, rtol=1e-6, atol=1e-8)
    assert nn.GLU(dim)(x).shape == F.glu(x, dim).shape
    with pytest.raises(ValueError, match="even"):
        F.glu(lucid.zeros(3, 5), dim=1)


def test_split_and_chunk_check_their_arguments():
    x = lucid.zeros(2, 6)
    with pytest.raises(ValueError, match="summing to the size 6"):
        x.split([2, 2], dim=1)
    with pytest.raises(ValueError, match="chunks"):
        x.chunk(0)
    with pytest.raises(TypeError, match="split_size_or_sections"):
        x.split(1.5)


def test_gradients_match_torch_on_a_gated_residual_block():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    xv, wv = rng.standard_normal((2, 4, 16)), rng.standard_normal((8, 4, 2))
    x, w = lucid.tensor(xv, requires_grad=True), lucid.tensor(wv, requires_grad=True)
    tx, tw = torch.tensor(xv, requires_grad=True), torch.tensor(wv, requires_grad=True)
    a, b = F.conv1d(F.pad(x, (1, 0)), w).chunk(2, dim=1)
    ta, tb = torch.nn.functional.conv1d(torch.nn.functional.pad(tx, (1, 0)), tw).chunk(2, dim=1)
    ((x + a.tanh() * b.sigmoid()) ** 2).mean().backward()
    ((tx + ta.tanh() * tb.sigmoid()) ** 2).mean().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)
