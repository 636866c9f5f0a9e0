"""nn.BatchNorm1d, nn.InstanceNorm1d and their functionals (issue #25).

The oracle that always runs is a plain float64 loop over channels (mean, biased
variance, the running-statistics rule) and central finite differences of it;
PyTorch in float64 is the second, optional oracle (forward, gradients, running
statistics, num_batches_tracked, state_dict round trips).
"""
from __future__ import annotations

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.ops import batch_norm as rules

RNG = np.random.default_rng(25)


def bn_reference(x, w=None, b=None, eps=1e-5, mean=None, var=None):
    """Batch norm of (N, C) or (N, C, L) by a loop over channels, float64; batch statistics unless given."""
    x = np.asarray(x, np.float64)
    x3 = x if x.ndim == 3 else x[:, :, None]
    y = np.empty_like(x3)
    for c in range(x3.shape[1]):
        values = x3[:, c, :]
        mu = values.mean() if mean is None else mean[c]
        sigma2 = ((values - values.mean()) ** 2).mean() if var is None else var[c]
        y[:, c, :] = (values - mu) / np.sqrt(sigma2 + eps) * (1.0 if w is None else w[c]) + (0.0 if b is None
                                                                                            else b[c])
    return y.reshape(x.shape)


def in_reference(x, w=None, b=None, eps=1e-5):
    """Instance norm: every (n, c) row standardised on its own."""
    x = np.asarray(x, np.float64)
    out = np.stack([bn_reference(x[n:n + 1], w, b, eps)[0] for n in range(x.shape[0])])
    return out


def check_gradients(fn, reference, operands, tol=1e-6):
    """lucid's gradients of sum(coef * fn(...)) against finite differences of the float64 reference."""
    tensors = [lucid.tensor(v, requires_grad=True) for v in operands]
    out = fn(*tensors)
    coef = RNG.standard_normal(out.shape)
    (out * lucid.tensor(coef)).sum().backward()
    np.testing.assert_allclose(out.numpy(), reference(*operands), rtol=1e-12, atol=1e-12)
    for i, (t, v) in enumerate(zip(tensors, operands)):
        expected = finite_difference(lambda a, i=i: float((coef * reference(*operands[:i], a,
                                                                            *operands[i + 1:])).sum()), v)
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=tol, atol=tol, err_msg=f"operand {i}")


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 7), (2, 3, 1), (1, 2, 9)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_the_loop_and_finite_differences(shape, affine):
    x = RNG.standard_normal(shape) * 2 + 1.5
    c = shape[1]
    if affine:
        operands = [x, RNG.uniform(0.5, 1.5, c), RNG.standard_normal(c)]
        check_gradients(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                        lambda x, w, b: bn_reference(x, w, b), operands)
    else:
        check_gradients(lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
                        lambda x: bn_reference(x, eps=1e-3), [x])


def test_batch_norm_eval_uses_the_given_statistics():
    x, w, b = RNG.standard_normal((3, 4, 6)), RNG.uniform(0.5, 2, 4), RNG.standard_normal(4)
    mean, var = RNG.standard_normal(4), RNG.uniform(0.5, 2, 4)
    rm, rv = lucid.tensor(mean), lucid.tensor(var)
    check_gradients(lambda x, w, b: F.batch_norm(x, rm, rv, w, b),
                    lambda x, w, b: bn_reference(x, w, b, mean=mean, var=var), [x, w, b])
    np.testing.assert_array_equal(rm.numpy(), mean)          # evaluation leaves them alone


def test_running_statistics_follow_momentum_and_the_unbiased_variance():
    bn = nn.BatchNorm1d(3, momentum=0.3, dtype=lucid.float64)
    mean, var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = RNG.standard_normal((4, 3, 5)) + step
        bn(lucid.tensor(x))
        m = x.mean(axis=(0, 2))
        v = x.var(axis=(0, 2), ddof=1)
        mean, var = 0.7 * mean + 0.3 * m, 0.7 * var + 0.3 * v
        np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-13)
        np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-13)
    assert bn.num_batches_tracked.item() == 3 and bn.num_batches_tracked.dtype == lucid.int64
    bn.eval()
    x = RNG.standard_normal((2, 3, 5))
    np.testing.assert_allclose(bn(lucid.tensor(x)).numpy(), bn_reference(x, mean=mean, var=var), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3


def test_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=lucid.float64)
    batches = [RNG.standard_normal((5, 2)) * (i + 1) for i in range(4)]
    for x in batches:
        bn(lucid.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var(0, ddof=1) for x in batches], axis=0), rtol=1e-12)


def test_without_running_statistics_batch_statistics_serve_both_modes():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False, dtype=lucid.float64)
    assert bn.running_mean is None and bn.weight is None and list(bn.state_dict()) == []
    x = RNG.standard_normal((4, 3, 2))
    for mode in (True, False):
        np.testing.assert_allclose(bn.train(mode)(lucid.tensor(x)).numpy(), bn_reference(x), rtol=1e-12)


def test_float32_is_accurate_for_offset_data():
    """A large mean against a small spread: the direct sums would cancel, so those rows are re-summed centred;
    what is left is the rounding of ``A x + B`` near ``|offset|`` (PyTorch rounds its float32 mean alike)."""
    eps32 = float(np.finfo(np.float32).eps)
    for offset in (0.0, 1e3, -3e4):
        x = (RNG.standard_normal((4, 3, 300)) + offset).astype(np.float32)
        g = RNG.standard_normal(x.shape).astype(np.float32)
        t = lucid.tensor(x, requires_grad=True)
        y = F.batch_norm(t, None, None, training=True)
        y.backward(lucid.tensor(g))
        np.testing.assert_allclose(y.numpy(), bn_reference(x), atol=1e-5 + 4 * eps32 * abs(offset))
        t64 = lucid.tensor(x.astype(np.float64), requires_grad=True)
        F.batch_norm(t64, None, None, training=True).backward(lucid.tensor(g.astype(np.float64)))
        np.testing.assert_allclose(t.grad.numpy(), t64.grad.numpy(), atol=1e-5 + 4 * eps32 * abs(offset) * 0.1)


def test_many_blocks_and_threads_give_the_same_result(monkeypatch):
    x = RNG.standard_normal((6, 5, 64)) * 3 + 2
    g = RNG.standard_normal(x.shape)
    results = []
    row = 64 * 8
    before = lucid.get_num_threads()
    for chunk, threaded, threads in ((1 << 20, 1 << 30, 1), (3 * row, 1 << 30, 1), (row, 3 * row, 2)):
        monkeypatch.setattr(rules, "CHUNK_BYTES", chunk)             # one block; blocks of 3 rows; threads
        monkeypatch.setattr(rules, "THREADED_CHUNK_BYTES", threaded)
        lucid.set_num_threads(threads)
        t = lucid.tensor(x, requires_grad=True)
        w = lucid.tensor(np.linspace(0.5, 1.5, 5), requires_grad=True)
        y = F.batch_norm(t, None, None, w, None, training=True)
        y.backward(lucid.tensor(g))
        results.append((y.numpy(), t.grad.numpy(), w.grad.numpy()))
    lucid.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_instance_norm_matches_the_loop_and_finite_differences():
    x, w, b = RNG.standard_normal((3, 2, 6)) + 2, RNG.uniform(0.5, 1.5, 2), RNG.standard_normal(2)
    check_gradients(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), lambda x, w, b: in_reference(x, w, b),
                    [x, w, b])
    check_gradients(lambda x: F.instance_norm(x, eps=1e-3), lambda x: in_reference(x, eps=1e-3), [x])


def test_instance_norm_module_running_statistics_and_unbatched_input():
    norm = nn.InstanceNorm1d(2, affine=True, track_running_stats=True, dtype=lucid.float64)
    x = RNG.standard_normal((3, 2, 6))
    norm(lucid.tensor(x))
    np.testing.assert_allclose(norm.running_mean.numpy(), 0.1 * x.mean(axis=2).mean(0), rtol=1e-12)
    np.testing.assert_allclose(norm.running_var.numpy(), 0.9 + 0.1 * x.var(axis=2, ddof=1).mean(0), rtol=1e-12)
    assert norm.num_batches_tracked.item() == 0                     # never advanced, as in PyTorch
    norm.eval()
    mean, var = norm.running_mean.numpy().copy(), norm.running_var.numpy().copy()
    np.testing.assert_allclose(norm(lucid.tensor(x)).numpy(), bn_reference(x, mean=mean, var=var), rtol=1e-12)
    plain = nn.InstanceNorm1d(2, dtype=lucid.float64)
    np.testing.assert_allclose(plain(lucid.tensor(x[0])).numpy(), in_reference(x[:1])[0], rtol=1e-12)


def test_module_reprs_parameters_and_dtypes():
    bn = nn.BatchNorm1d(4)
    assert repr(bn) == "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert bn.weight.dtype == lucid.float32 and bn.running_var.numpy().tolist() == [1.0] * 4
    y = bn(lucid.randn(3, 4, 5))
    assert y.dtype == lucid.float32 and bn.running_mean.dtype == lucid.float32
    assert repr(nn.InstanceNorm1d(3)) == "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, " \
                                          "track_running_stats=False)"


@pytest.mark.parametrize("call, error, words", [
    (lambda: nn.BatchNorm1d(3)(lucid.zeros(2, 4)), ValueError, "num_features=3"),
    (lambda: nn.BatchNorm1d(3)(lucid.zeros(2, 3, 4, 5)), ValueError, "2-D (N, C) or 3-D"),
    (lambda: nn.BatchNorm1d(3)(lucid.zeros(1, 3)), ValueError, "more than 1 value per channel"),
    (lambda: nn.BatchNorm1d(0), ValueError, "num_features"),
    (lambda: nn.BatchNorm1d(3, momentum=2.0), ValueError, "momentum"),
    (lambda: F.batch_norm(lucid.zeros(2, 3), None, None), ValueError, "running_mean"),
    (lambda: F.batch_norm(lucid.zeros(2, 3), lucid.zeros(2), lucid.ones(3)), ValueError, "running_mean"),
    (lambda: F.batch_norm(lucid.zeros(2, 3), None, None, lucid.zeros(3, dtype="float64"), training=True),
     TypeError, "weight"),
    (lambda: F.instance_norm(lucid.zeros(2, 3, 1)), ValueError, "more than 1 spatial element"),
    (lambda: nn.InstanceNorm1d(3, affine=True)(lucid.zeros(2, 4, 5)), ValueError, "num_features=3"),
])
def test_bad_arguments_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# ------------------------------------------------------------------ PyTorch oracle
def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 8)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm1d_matches_torch_over_train_and_eval_steps(shape, momentum):
    torch = _torch()
    theirs = torch.nn.BatchNorm1d(shape[1], momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours = nn.BatchNorm1d(shape[1], momentum=momentum, dtype=lucid.float64)
    ours.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for mode in (True, True, False, True):
        theirs.train(mode)
        ours.train(mode)
        x = RNG.standard_normal(shape) * 2 + 1
        g = RNG.standard_normal(shape)
        tx, lx = torch.tensor(x, requires_grad=True), lucid.tensor(x, requires_grad=True)
        ty, ly = theirs(tx), ours(lx)
        ty.backward(torch.tensor(g))
        ly.backward(lucid.tensor(g))
        np.testing.assert_allclose(ly.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        for name in ("weight", "bias"):
            np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(),
                                       rtol=1e-10, atol=1e-12)
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12, err_msg=key)
        ours.zero_grad()
        theirs.zero_grad()


def test_batchnorm1d_loads_a_trained_torch_state_dict_and_agrees_in_eval():
    torch = _torch()
    theirs = torch.nn.BatchNorm1d(4)
    for _ in range(3):
        theirs(torch.randn(8, 4, 10) * 3 + 2)
    theirs.eval()
    ours = nn.BatchNorm1d(4).eval()
    ours.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert ours.num_batches_tracked.item() == 3
    x = torch.randn(2, 4, 10)
    np.testing.assert_allclose(ours(lucid.tensor(x.numpy())).numpy(), theirs(x).detach().numpy(), atol=1e-6)


def test_instancenorm1d_matches_torch():
    torch = _torch()
    for kwargs in ({}, {"affine": True, "track_running_stats": True}):
        theirs = torch.nn.InstanceNorm1d(3, dtype=torch.float64, **kwargs)
        ours = nn.InstanceNorm1d(3, dtype=lucid.float64, **kwargs)
        if kwargs:
            with torch.no_grad():
                theirs.weight.uniform_(0.5, 1.5)
                theirs.bias.uniform_(-1, 1)
            ours.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
        for mode in (True, False):
            theirs.train(mode)
            ours.train(mode)
            x, g = RNG.standard_normal((2, 3, 7)) + 1, RNG.standard_normal((2, 3, 7))
            tx, lx = torch.tensor(x, requires_grad=True), lucid.tensor(x, requires_grad=True)
            ty, ly = theirs(tx), ours(lx)
            ty.backward(torch.tensor(g))
            ly.backward(lucid.tensor(g))
            np.testing.assert_allclose(ly.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
            for key, value in theirs.state_dict().items():
                np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12, err_msg=key)
