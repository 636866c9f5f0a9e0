"""Issue #25's item 6 and 8 layers: Embedding, PReLU, ELU, NLLLoss, BCELoss, BCEWithLogitsLoss, ModuleDict
and the new init functions.  Always: float64 finite differences and plain NumPy formulas; optional
oracle: PyTorch in float64 (forward and gradients to 1e-12)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F

RNG = np.random.default_rng(11)
IDX = np.array([[0, 3, 3, 1], [4, 1, 0, 3]])
T = np.array([1, 0, 2, -100, 2])
W3 = np.array([0.5, 2.0, 1.5])


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


# name -> (lucid/torch function of (F, t, *tensors), float64 operands, NumPy formula of the operands or None)
CASES = {
    "embedding": (lambda F, t, w: F.embedding(t(IDX), w), [RNG.standard_normal((5, 3))], lambda w: w[IDX]),
    "embedding_padding_freq": (lambda F, t, w: F.embedding(t(IDX), w, padding_idx=3, scale_grad_by_freq=True),
                               [RNG.standard_normal((5, 3))], None),
    "prelu_channels": (lambda F, t, x, w: F.prelu(x, w), [RNG.standard_normal((2, 3, 4)), np.array([0.1, 0.3, -0.2])],
                       lambda x, w: np.where(x > 0, x, w[:, None] * x)),
    "prelu_shared": (lambda F, t, x, w: F.prelu(x, w), [RNG.standard_normal((4, 5)), np.array([0.25])],
                     lambda x, w: np.where(x > 0, x, w * x)),
    "elu": (lambda F, t, x: F.elu(x, alpha=1.5), [RNG.standard_normal((3, 4))],
            lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    "nll_mean_weighted": (lambda F, t, x: F.nll_loss(F.log_softmax(x, 1), t(T), weight=t(W3)),
                          [RNG.standard_normal((5, 3))], None),
    "nll_none": (lambda F, t, x: F.nll_loss(x, t(T), reduction="none"), [RNG.standard_normal((5, 3))],
                 lambda x: np.array([-x[i, c] if c != -100 else 0.0 for i, c in enumerate(T)])),
    "nll_sequence_sum": (lambda F, t, x: F.nll_loss(x, t(IDX % 3), reduction="sum"), [RNG.standard_normal((2, 3, 4))],
                         None),
    "bce_logits": (lambda F, t, x, y: F.binary_cross_entropy_with_logits(x * 20, y),
                   [RNG.standard_normal((3, 4)), RNG.uniform(0, 1, (3, 4))],
                   lambda x, y: np.mean(np.logaddexp(0, x * 20) - y * x * 20)),
    "bce_logits_weighted": (lambda F, t, x, y: F.binary_cross_entropy_with_logits(
        x, y, weight=t(np.array([[1.0], [2.0], [0.5]])), pos_weight=t(np.array([1.0, 3.0, 0.5, 2.0])),
        reduction="sum"), [RNG.standard_normal((3, 4)), RNG.uniform(0, 1, (3, 4))], None),
    "bce": (lambda F, t, x, y: F.binary_cross_entropy(x, y, reduction="none"),
            [RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))],
            lambda x, y: -(y * np.log(x) + (1 - y) * np.log(1 - x))),
}


def _lucid_t(a):
    return lucid.tensor(a)


@pytest.mark.parametrize("name", sorted(set(CASES) - {"embedding_padding_freq"}))
def test_matches_finite_differences_and_formula(name):
    fn, operands, formula = CASES[name]
    tensors = [lucid.tensor(v, requires_grad=True) for v in operands]
    out = fn(F, _lucid_t, *tensors)
    if formula is not None:
        np.testing.assert_allclose(out.numpy(), formula(*operands), rtol=1e-12, atol=1e-14)
    coef = RNG.standard_normal(out.shape)
    (out * lucid.tensor(coef)).sum().backward()
    for i, (t, v) in enumerate(zip(tensors, operands)):
        def f(a, i=i):
            with lucid.no_grad():
                args = [lucid.tensor(a if j == i else b) for j, b in enumerate(operands)]
                return float((fn(F, _lucid_t, *args).numpy() * coef).sum())
        np.testing.assert_allclose(t.grad.numpy(), finite_difference(f, v), rtol=1e-6, atol=1e-7, err_msg=f"arg {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, operands, _ = CASES[name]
    ours = [lucid.tensor(v, requires_grad=True) for v in operands]
    theirs = [torch.tensor(v, requires_grad=True) for v in operands]
    a = fn(F, _lucid_t, *ours)
    b = fn(torch.nn.functional, torch.tensor, *theirs)
    coef = RNG.standard_normal(a.shape)
    (a * lucid.tensor(coef)).sum().backward()
    (b * torch.tensor(coef)).sum().backward()
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_embedding_gradient_scaled_by_frequency_and_padding():
    """Not the derivative (finite differences do not apply): each row's gradient divided by its count."""
    w = lucid.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    g = RNG.standard_normal(IDX.shape + (3,))
    F.embedding(lucid.tensor(IDX), w, padding_idx=3, scale_grad_by_freq=True).backward(lucid.tensor(g))
    counts = np.bincount(IDX.ravel(), minlength=5)
    expected = np.zeros((5, 3))
    for index, row in zip(IDX.ravel(), g.reshape(-1, 3)):
        expected[index] += row / counts[index]
    expected[3] = 0
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-13)


def test_extreme_logits_are_finite():
    x = lucid.tensor([-1000.0, 1000.0, 0.0], dtype="float64", requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, lucid.tensor([1.0, 0.0, 1.0], dtype="float64"), reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(2000 + math.log(2)) and np.all(np.isfinite(x.grad.numpy()))


def test_embedding_module():
    lucid.manual_seed(0)
    table = nn.Embedding(6, 4, padding_idx=-1)
    assert table.padding_idx == 5 and repr(table) == "Embedding(6, 4, padding_idx=5)"
    assert np.all(table.weight.numpy()[5] == 0) and table.weight.dtype is lucid.float32
    out = table(lucid.tensor([[5, 2], [2, 0]]))
    out.sum().backward()
    assert out.shape == (2, 2, 4) and table.weight.grad.numpy()[2].tolist() == [2.0] * 4
    assert np.all(table.weight.grad.numpy()[5] == 0)
    frozen = nn.Embedding.from_pretrained(lucid.tensor([[3.0, 4.0], [0.3, 0.4]]), max_norm=1.0)
    assert not frozen.weight.requires_grad
    np.testing.assert_allclose(frozen(lucid.tensor([0])).numpy(), [[0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(frozen.weight.numpy()[1], [0.3, 0.4], rtol=1e-7)     # untouched: not looked up
    with pytest.raises(IndexError, match="out of range"):
        table(lucid.tensor([6]))
    with pytest.raises(ValueError, match="out of range"):
        table(lucid.tensor([-1]))
    with pytest.raises(TypeError, match="int64"):
        table(lucid.tensor([1.0]))


def test_activation_and_loss_modules():
    p = nn.PReLU(3, init=0.1)
    assert repr(p) == "PReLU(num_parameters=3)" and p.weight.tolist() == pytest.approx([0.1] * 3)
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    x = lucid.tensor([[-1.0, 0.5, 2.0]])
    assert nn.NLLLoss(weight=lucid.tensor([1.0, 2.0, 1.0]))(x, lucid.tensor([1])).item() == -0.5
    assert nn.BCEWithLogitsLoss(pos_weight=lucid.tensor([2.0, 1.0, 1.0]))(x, lucid.ones(1, 3)).item() > 0
    assert nn.BCELoss()(lucid.tensor([0.0, 1.0]), lucid.tensor([0.0, 1.0])).item() == 0.0
    assert nn.BCELoss()(lucid.tensor([0.0]), lucid.tensor([1.0])).item() == 100.0      # log clamped at -100
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(lucid.tensor([1.5]), lucid.tensor([1.0]))
    with pytest.raises(ValueError, match="1 or 3"):
        F.prelu(lucid.zeros(2, 3), lucid.ones(2))


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 3)})
    heads["b"] = nn.Linear(3, 1)
    heads.update([("c", nn.ReLU())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("c"), nn.ReLU) and list(heads.keys()) == ["a", "b"]
    assert heads["b"](heads["a"](lucid.ones(1, 2))).shape == (1, 1)
    with pytest.raises(TypeError, match="nn.Module"):
        heads["d"] = 3


def test_init_functions_distributions():
    lucid.manual_seed(3)
    w = lucid.empty(200, 100, 3)
    fan_in, fan_out = 300, 600
    nn.init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound
    nn.init.xavier_normal_(w)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.02)
    nn.init.trunc_normal_(w, std=0.5, a=-0.4, b=0.6)
    assert w.numpy().min() >= -0.4 and w.numpy().max() <= 0.6
    for shape in ((6, 4), (4, 6), (3, 2, 5)):
        q = nn.init.orthogonal_(lucid.empty(*shape, dtype="float64"), gain=1.5).numpy().reshape(shape[0], -1)
        small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, 2.25 * np.eye(small.shape[0]), atol=1e-12)


@pytest.mark.parametrize("module", [
    "lucid.serialization", "lucid.grad_mode", "lucid.functions", "lucid.optim.lr_scheduler",
    "lucid.optim._scheduler_base", "lucid.nn.utils.clip_grad", "lucid.nn.batchnorm", "lucid.nn._functional_batchnorm",
    "lucid.nn._functional_resample", "lucid.nn.upsampling", "lucid.nn.flatten", "lucid.nn.pooling", "lucid.nn.sparse",
    "lucid.nn.module_dict", "lucid.nn.activation", "lucid.nn._activation_functional", "lucid.nn._functional_layers",
    "lucid.nn.loss", "lucid.nn._functional_loss"])
def test_docstring_examples_of_issue_25_modules_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
