"""Issue #17's layers, norms and losses: Linear, Identity, Dropout, LayerNorm, GroupNorm,
cross_entropy, l1_loss (functional and module forms).

Each op is checked in float64 against central finite differences (always) and against
PyTorch's forward and gradients to 1e-10 (when torch is installed).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F

RNG = np.random.default_rng(17)


def arr(*shape):
    return RNG.standard_normal(shape)


T3 = np.array([[0, 3, 1], [2, -100, 3]])                  # (N, L) targets with one ignored
T1 = np.array([2, 0, -100, 3, 1])                          # (N,) targets with one ignored
W4 = np.array([0.5, 2.0, 1.0, 1.5])


def probs(*shape, axis=1):
    e = np.exp(RNG.standard_normal(shape))
    return e / e.sum(axis=axis, keepdims=True)

# name -> (lucid function, torch function, float64 operands); each function takes (namespace, *tensors)
# where the namespace gives F / tensor construction for either library.
CASES = {
    "linear_3d": (lambda F, t, x, w, b: F.linear(x, w, b), [arr(2, 3, 4), arr(5, 4), arr(5)]),
    "linear_vector_no_bias": (lambda F, t, x, w: F.linear(x, w), [arr(4), arr(3, 4)]),
    "linear_4d": (lambda F, t, x, w, b: F.linear(x, w, b), [arr(2, 2, 3, 4), arr(1, 4), arr(1)]),
    "layer_norm_affine": (lambda F, t, x, w, b: F.layer_norm(x, (4,), w, b), [arr(2, 6, 4), arr(4), arr(4)]),
    "layer_norm_2d_shape": (lambda F, t, x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
                            [arr(2, 3, 4), arr(3, 4), arr(3, 4)]),
    "layer_norm_plain": (lambda F, t, x: F.layer_norm(x, [5]), [arr(3, 5)]),
    "layer_norm_weight_only": (lambda F, t, x, w: F.layer_norm(x, (5,), w), [arr(2, 3, 5), arr(5)]),
    "group_norm_1": (lambda F, t, x, w, b: F.group_norm(x, 1, w, b), [arr(2, 6, 5), arr(6), arr(6)]),
    "group_norm_3": (lambda F, t, x, w, b: F.group_norm(x, 3, w, b), [arr(2, 6, 5), arr(6), arr(6)]),
    "group_norm_instance": (lambda F, t, x: F.group_norm(x, 6), [arr(2, 6, 5)]),
    "group_norm_2d_input": (lambda F, t, x, w, b: F.group_norm(x, 2, w, b, eps=1e-2), [arr(3, 4), arr(4), arr(4)]),
    "group_norm_4d_input": (lambda F, t, x, w, b: F.group_norm(x, 2, w, b), [arr(2, 4, 3, 2), arr(4), arr(4)]),
    "cross_entropy_mean": (lambda F, t, x: F.cross_entropy(x, t(T1)), [arr(5, 4) * 3]),
    "cross_entropy_sum": (lambda F, t, x: F.cross_entropy(x, t(T1), reduction="sum"), [arr(5, 4)]),
    "cross_entropy_none": (lambda F, t, x: F.cross_entropy(x, t(T1), reduction="none"), [arr(5, 4)]),
    "cross_entropy_weighted": (lambda F, t, x: F.cross_entropy(x, t(T1), weight=t(W4)), [arr(5, 4)]),
    "cross_entropy_smoothed": (lambda F, t, x: F.cross_entropy(x, t(T1), label_smoothing=0.2), [arr(5, 4)]),
    "cross_entropy_weighted_smoothed_sum": (
        lambda F, t, x: F.cross_entropy(x, t(T1), weight=t(W4), label_smoothing=0.3, reduction="sum"), [arr(5, 4)]),
    "cross_entropy_weighted_smoothed_mean": (
        lambda F, t, x: F.cross_entropy(x, t(T1), weight=t(W4), label_smoothing=0.3), [arr(5, 4)]),
    "cross_entropy_sequence": (lambda F, t, x: F.cross_entropy(x, t(T3), weight=t(W4)), [arr(2, 4, 3)]),
    "cross_entropy_sequence_none": (
        lambda F, t, x: F.cross_entropy(x, t(T3), reduction="none", label_smoothing=0.1), [arr(2, 4, 3)]),
    "cross_entropy_custom_ignore": (lambda F, t, x: F.cross_entropy(x, t(np.array([1, 2, 1])), ignore_index=1),
                                    [arr(3, 4)]),
    "cross_entropy_unbatched": (lambda F, t, x: F.cross_entropy(x, t(np.array(3))), [arr(4)]),
    "cross_entropy_large_logits": (lambda F, t, x: F.cross_entropy(x * 1000.0, t(np.array([1, 0]))), [arr(2, 3)]),
    "cross_entropy_probabilities": (lambda F, t, x, p: F.cross_entropy(x, p), [arr(5, 4), probs(5, 4)]),
    "cross_entropy_probabilities_weighted_smoothed_sum": (
        lambda F, t, x, p: F.cross_entropy(x, p, weight=t(W4), label_smoothing=0.2, reduction="sum"),
        [arr(5, 4), probs(5, 4)]),
    "cross_entropy_probabilities_weighted_mean": (lambda F, t, x, p: F.cross_entropy(x, p, weight=t(W4)),
                                                  [arr(5, 4), probs(5, 4)]),
    "cross_entropy_probabilities_sequence_none": (
        lambda F, t, x, p: F.cross_entropy(x, p, reduction="none", label_smoothing=0.1),
        [arr(2, 4, 3), probs(2, 4, 3)]),
    "cross_entropy_probabilities_unbatched": (lambda F, t, x, p: F.cross_entropy(x, p), [arr(4), probs(4, axis=0)]),
    "l1_mean": (lambda F, t, x, y: F.l1_loss(x, y), [arr(2, 3, 4), arr(2, 3, 4)]),
    "l1_sum": (lambda F, t, x, y: F.l1_loss(x, y, reduction="sum"), [arr(3, 4), arr(3, 4)]),
    "l1_none": (lambda F, t, x, y: F.l1_loss(x, y, reduction="none"), [arr(3, 4), arr(3, 4)]),
}


def lucid_t(a):
    return lucid.tensor(a)


def _torch_t(a):
    import torch
    return torch.tensor(a)


def run_lucid(fn, arrays, upstream=None):
    leaves = [lucid.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    out = fn(F, lucid_t, *leaves)
    g = np.ones(out.shape) if upstream is None else upstream
    out.backward(g)
    return out.numpy(), [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_finite_differences(name):
    fn, arrays = CASES[name]
    with lucid.no_grad():
        shape = fn(F, lucid_t, *[lucid.tensor(a) for a in arrays]).shape
    upstream = np.random.default_rng(1).uniform(0.5, 1.5, shape)
    out, grads = run_lucid(fn, arrays, upstream)
    assert out.dtype == np.float64
    for i, a in enumerate(arrays):
        def f(v, i=i):
            with lucid.no_grad():
                operands = [lucid.tensor(v if j == i else b) for j, b in enumerate(arrays)]
                return float((fn(F, lucid_t, *operands).numpy() * upstream).sum())
        expected = finite_difference(f, a)
        np.testing.assert_allclose(grads[i], expected, rtol=1e-6, atol=1e-7 * max(1.0, np.abs(expected).max()),
                                   err_msg=f"{name}: operand {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_forward_and_gradients(name):
    torch = pytest.importorskip("torch")
    fn, arrays = CASES[name]
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    want = fn(torch.nn.functional, _torch_t, *leaves)
    upstream = np.random.default_rng(2).uniform(0.5, 1.5, tuple(want.shape))
    want.backward(torch.tensor(upstream))
    out, grads = run_lucid(fn, arrays, upstream)
    assert out.shape == tuple(want.shape)
    np.testing.assert_allclose(out, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    for i, leaf in enumerate(leaves):
        np.testing.assert_allclose(grads[i], leaf.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"operand {i}")


@pytest.mark.parametrize("name", ["linear_3d", "layer_norm_affine", "group_norm_3", "cross_entropy_weighted",
                                  "l1_mean"])
def test_float32_in_float32_out(name):
    fn, arrays = CASES[name]
    leaves = [lucid.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = fn(F, lambda a: lucid.tensor(a.astype(np.float32) if a.dtype.kind == "f" else a), *leaves)
    assert out.numpy().dtype == np.float32
    out.sum().backward() if out.ndim else out.backward()
    assert all(leaf.grad.numpy().dtype == np.float32 for leaf in leaves)


def test_norms_are_one_fused_node_each():
    x = lucid.tensor(arr(2, 4, 3), requires_grad=True)
    w, b = lucid.tensor(arr(3), requires_grad=True), lucid.tensor(arr(3), requires_grad=True)
    y = F.layer_norm(x, (3,), w, b)
    assert y._op == "LayerNorm" and y._parents == (x, w, b)
    y = F.group_norm(x, 2, lucid.tensor(arr(4)), None)
    assert y._op == "GroupNorm" and len(y._parents) == 2
    y = F.cross_entropy(x, lucid.tensor(np.zeros((2, 3), dtype=np.int64)))
    assert y._op == "CrossEntropyLoss" and y._parents == (x,)
    np.testing.assert_array_equal(F.layer_norm(x, 3).numpy(), F.layer_norm(x, (3,)).numpy())  # int shape


def test_cross_entropy_edge_cases():
    x = lucid.tensor(arr(3, 4), requires_grad=True)
    every_ignored = F.cross_entropy(x, lucid.tensor([-100, -100, -100]))
    assert math.isnan(every_ignored.item())                # PyTorch: 0 / 0
    assert F.cross_entropy(x, lucid.tensor([-100, -100, -100]), reduction="sum").item() == 0.0
    # mean divides by the number of non-ignored targets, not by N
    kept = F.cross_entropy(x, lucid.tensor([1, -100, 2]), reduction="sum").item() / 2
    assert F.cross_entropy(x, lucid.tensor([1, -100, 2])).item() == pytest.approx(kept, rel=1e-12)
    # softmax - onehot, averaged
    F.cross_entropy(x, lucid.tensor([1, 0, 3])).backward()
    z = x.numpy()
    soft = np.exp(z - z.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    onehot = np.eye(4)[[1, 0, 3]]
    np.testing.assert_allclose(x.grad.numpy(), (soft - onehot) / 3, rtol=1e-6)
    huge = F.cross_entropy(lucid.tensor([[1e4, 0.0, -1e4]], dtype="float64"), lucid.tensor([2]))
    assert huge.item() == pytest.approx(2e4)               # stable: no inf / nan


# ------------------------------------------------------------------ dropout
def test_dropout_scales_kept_elements_and_its_gradient_is_the_mask():
    lucid.manual_seed(3)
    x = lucid.tensor(np.full((200, 50), 2.0), requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.numpy()
    assert set(np.unique(values)) <= {0.0, 2.0 / 0.7}
    assert abs((values == 0).mean() - 0.3) < 0.02            # 10,000 Bernoulli draws
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad.numpy(), (values != 0) / 0.7)
    assert F.dropout(lucid.ones(4, dtype="float32"), 0.5).numpy().dtype == np.float32


def test_dropout_masks_follow_manual_seed_and_modes():
    x = lucid.ones(64)
    lucid.manual_seed(11)
    first = F.dropout(x, 0.5).numpy()
    lucid.manual_seed(11)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).numpy().any()
    drop = nn.Dropout(0.5)
    assert drop.training and (drop(x).numpy() != 1).any()
    drop.eval()
    assert drop(x) is x
    drop.train()
    assert (drop(x).numpy() != 1).any()
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    net.eval()
    assert not net[1].training


def test_dropout_matches_torch_statistics_and_repr():
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))
    assert repr(nn.Dropout()) == repr(torch.nn.Dropout())


# ------------------------------------------------------------------ modules
def test_linear_module_init_repr_and_forward():
    lucid.manual_seed(0)
    layer = nn.Linear(300, 200, dtype=lucid.float64)
    bound = 1 / math.sqrt(300)
    w = layer.weight.numpy()
    assert w.shape == (200, 300) and w.dtype == np.float64
    assert 0.99 * bound < np.abs(w).max() <= bound             # 60,000 draws reach the bound
    assert 0.9 * bound < np.abs(layer.bias.numpy()).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == "Linear(in_features=300, out_features=200, bias=True)"
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and repr(no_bias).endswith("bias=False)")
    x = lucid.tensor(arr(7, 300))
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ w.T + layer.bias.numpy(), rtol=1e-12)
    empty = nn.Linear(0, 3)
    assert empty(lucid.zeros(2, 0)).tolist() == [[0.0] * 3] * 2
    assert nn.Identity(3, x=1)(x) is x


def test_linear_module_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(6, 3, dtype=lucid.float64), torch.nn.Linear(6, 3, dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.numpy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.numpy()))
    x = arr(2, 5, 6)
    ours(lucid.tensor(x)).sum().backward()
    theirs(torch.from_numpy(x)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-12)


def test_norm_modules():
    torch = pytest.importorskip("torch")
    pairs = [(nn.LayerNorm(8), torch.nn.LayerNorm(8)),
             (nn.LayerNorm((3, 8), eps=1e-3, elementwise_affine=False), torch.nn.LayerNorm((3, 8), 1e-3, False)),
             (nn.LayerNorm(8, bias=False), torch.nn.LayerNorm(8, bias=False)),
             (nn.GroupNorm(1, 6), torch.nn.GroupNorm(1, 6)),
             (nn.GroupNorm(3, 6, affine=False), torch.nn.GroupNorm(3, 6, affine=False)),
             (nn.GroupNorm(2, 6, bias=False), torch.nn.GroupNorm(2, 6, bias=False))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_array_equal(p.numpy(), q.detach().numpy())


def test_conformer_style_layer_norm_and_group_norm_modules_run_and_train():
    lucid.manual_seed(1)
    x = lucid.randn(2, 6, 16, dtype="float64")
    norm = nn.GroupNorm(1, 6, dtype=lucid.float64)
    ln = nn.LayerNorm(6, dtype=lucid.float64)
    y = norm(x)
    np.testing.assert_allclose(y.numpy().reshape(2, -1).mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(y.numpy().reshape(2, -1).std(1), 1, rtol=1e-4)
    z = ln(lucid.tensor(np.swapaxes(x.numpy(), 1, 2)))     # (N, L, C), normalised over C
    np.testing.assert_allclose(z.numpy().mean(-1), 0, atol=1e-12)
    (y.sum() + (z * z).sum()).backward()
    assert norm.weight.grad.shape == (6,) and ln.bias.grad.shape == (6,)
    with pytest.raises(ValueError, match="num_channels=6"):
        norm(lucid.zeros(2, 4, 3))


def test_loss_modules():
    x, t = lucid.tensor(arr(4, 3)), lucid.tensor([0, 2, 1, -1])
    weight = lucid.tensor([1.0, 2.0, 3.0], dtype="float64")
    loss = nn.CrossEntropyLoss(weight=weight, ignore_index=-1, reduction="sum", label_smoothing=0.1)
    assert loss(x, t).item() == F.cross_entropy(x, t, weight, -1, "sum", 0.1).item()
    assert "weight" in loss.state_dict() and repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    y = lucid.tensor(arr(4, 3))
    assert nn.L1Loss()(x, y).item() == pytest.approx(np.abs(x.numpy() - y.numpy()).mean())
    assert nn.L1Loss("none")(x, y).shape == (4, 3)
    from lucid.nn.loss import MSELoss
    assert MSELoss is nn.MSELoss


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.linear(lucid.ones(2, 3), lucid.ones(4, 2)), ValueError, "linear(): input must be a tensor whose last"),
    (lambda: F.linear(lucid.ones(3), lucid.ones(3)), ValueError, "weight must be a 2-D tensor"),
    (lambda: F.linear(lucid.ones(3), lucid.ones(2, 3, dtype="float64")), TypeError, "weight must be a tensor of"),
    (lambda: F.linear(lucid.ones(3), lucid.ones(2, 3), lucid.ones(3)), ValueError, "bias must be None or a tensor"),
    (lambda: F.linear([1.0], lucid.ones(2, 1)), TypeError, "input must be a lucid.Tensor"),
    (lambda: nn.Linear(2.0, 3), TypeError, "Linear(): in_features must be a non-negative int"),
    (lambda: nn.Linear(2, 3, bias=None), TypeError, "bias must be a bool"),
    (lambda: nn.Linear(2, 3, dtype=lucid.int64), TypeError, "dtype must be lucid.float32"),
    (lambda: F.dropout(lucid.ones(2), p=1.5), ValueError, "dropout(): p must be a number in [0.0, 1.0]"),
    (lambda: F.dropout(lucid.ones(2), p="0.5"), TypeError, "p must be"),
    (lambda: F.dropout(lucid.ones(2), training=1), TypeError, "training must be a bool"),
    (lambda: nn.Dropout(-0.1), ValueError, "Dropout(): p must be"),
    (lambda: F.dropout(lucid.tensor([1, 2]), 0.5), TypeError, "input must be a float32 or float64"),
    (lambda: F.layer_norm(lucid.ones(2, 3), (4,)), ValueError, "trailing dimensions are normalized_shape=(4,)"),
    (lambda: F.layer_norm(lucid.ones(2, 3), 3, lucid.ones(4)), ValueError, "weight must be None or a tensor of shape"),
    (lambda: F.layer_norm(lucid.ones(2, 3), 3, eps=-1.0), ValueError, "eps must be a number >= 0.0"),
    (lambda: F.layer_norm(lucid.ones(2, 3), "3"), TypeError, "normalized_shape must be an int"),
    (lambda: nn.LayerNorm(0), ValueError, "normalized_shape must be a positive int"),
    (lambda: F.group_norm(lucid.ones(2, 6, 3), 4), ValueError, "num_groups must be a divisor of the number of"),
    (lambda: F.group_norm(lucid.ones(6), 2), ValueError, "input must be a tensor of shape (N, C, *)"),
    (lambda: nn.GroupNorm(4, 6), ValueError, "GroupNorm(): num_groups must be a divisor of num_channels=6"),
    (lambda: nn.GroupNorm(2, 6, affine="yes"), TypeError, "affine must be a bool"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0.0, 1.0])), ValueError,
     "target must be a tensor of shape (2, 3) (the input's shape, for class probabilities)"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.ones(2, 3, dtype="float64")), TypeError,
     "target must be a tensor of the input's dtype"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0, 3])), ValueError, "class indices in [0, 3)"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0, 1, 2])), ValueError, "target must be a tensor of "
     "shape (2,)"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0, 1]), reduction="avg"), ValueError,
     "reduction must be one of 'mean', 'sum', 'none'"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0, 1]), label_smoothing=2), ValueError,
     "label_smoothing must be a number in [0.0, 1.0]"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0, 1]), ignore_index=1.0), TypeError,
     "ignore_index must be an int"),
    (lambda: F.cross_entropy(lucid.ones(2, 3), lucid.tensor([0, 1]), weight=lucid.ones(2)), ValueError,
     "weight must be None or a tensor of shape (3,)"),
    (lambda: nn.CrossEntropyLoss(weight=[1.0, 2.0]), TypeError, "weight must be a lucid.Tensor"),
    (lambda: F.l1_loss(lucid.ones(2), lucid.ones(3)), ValueError, "l1_loss(): target must be of the input's shape"),
    (lambda: nn.L1Loss("mean "), ValueError, "L1Loss(): reduction must be one of"),
])
def test_bad_arguments_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("module", ["lucid.nn._functional_layers", "lucid.nn._functional_norm",
                                    "lucid.nn._functional_loss", "lucid.nn.linear", "lucid.nn.dropout",
                                    "lucid.nn.normalization", "lucid.nn.loss", "lucid.optim", "lucid.optim.adam",
                                    "lucid.optim.sgd"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


# ------------------------------------------------------------------ a small model, end to end
def test_small_classifier_trains_like_pytorch_with_adam():
    """Conv1d -> GroupNorm -> ReLU -> mean over time -> LayerNorm -> Dropout (eval) -> Linear ->
    cross_entropy, five AdamW steps from the same weights in float64: equal loss curves."""
    torch = pytest.importorskip("torch")
    lucid.manual_seed(4)
    conv, gn = nn.Conv1d(3, 8, 5, padding=2, dtype=lucid.float64), nn.GroupNorm(2, 8, dtype=lucid.float64)
    ln, fc = nn.LayerNorm(8, dtype=lucid.float64), nn.Linear(8, 4, dtype=lucid.float64)
    drop = nn.Dropout(0.3).eval()
    mine = [conv, gn, ln, fc]
    tconv = torch.nn.Conv1d(3, 8, 5, padding=2, dtype=torch.float64)
    tgn, tln = torch.nn.GroupNorm(2, 8, dtype=torch.float64), torch.nn.LayerNorm(8, dtype=torch.float64)
    tfc = torch.nn.Linear(8, 4, dtype=torch.float64)
    theirs = [tconv, tgn, tln, tfc]
    with torch.no_grad():
        for a, b in zip(mine, theirs):
            for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
                q.copy_(torch.from_numpy(p.numpy()))
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 3, 20)), np.array([0, 1, 2, 3, 1, -100])
    params = [p for m in mine for p in m.parameters()]
    opt = lucid.optim.AdamW(params, lr=0.05, weight_decay=0.1, amsgrad=True)
    topt = torch.optim.AdamW([p for m in theirs for p in m.parameters()], lr=0.05, weight_decay=0.1, amsgrad=True)
    ours, ref = [], []
    for _ in range(5):
        opt.zero_grad()
        h = F.relu(gn(conv(lucid.tensor(x)))).mean(dim=2)
        loss = F.cross_entropy(fc(drop(ln(h))), lucid.tensor(y), label_smoothing=0.1)
        loss.backward()
        opt.step()
        ours.append(loss.item())
        topt.zero_grad()
        th = torch.relu(tgn(tconv(torch.from_numpy(x)))).mean(dim=2)
        tloss = torch.nn.functional.cross_entropy(tfc(tln(th)), torch.from_numpy(y), label_smoothing=0.1)
        tloss.backward()
        topt.step()
        ref.append(tloss.item())
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    assert ours[-1] < ours[0]


def test_empty_inputs_give_empty_or_nan_results_without_warnings():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = lucid.zeros(2, 4, 0, requires_grad=True)
        y = F.group_norm(x, 2, lucid.ones(4), lucid.zeros(4))
        y.backward(np.zeros(y.shape))
        assert y.shape == x.grad.shape == (2, 4, 0)
        x = lucid.zeros(0, 5, requires_grad=True)
        F.layer_norm(x, 5).backward(np.zeros((0, 5)))
        assert F.linear(x, lucid.ones(2, 5)).shape == (0, 2)
        logits = lucid.zeros(0, 4, requires_grad=True)
        loss = F.cross_entropy(logits, lucid.tensor(np.zeros(0, dtype=np.int64)))
        loss.backward()                                         # PyTorch: nan, as a mean over nothing
        assert math.isnan(loss.item()) and logits.grad.shape == (0, 4)
        assert math.isnan(F.l1_loss(lucid.zeros(0), lucid.zeros(0)).item())
