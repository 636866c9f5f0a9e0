"""Every optimiser against a multi-step update written out in plain NumPy (no torch), over
every option combination, with ``p.grad`` left untouched; torch as an optional second oracle.

Planted bugs these catch (issue #17): SGD momentum silently ignored, dampening applied to the
first momentum buffer, weight decay added to ``p.grad`` in place.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.optim as optim

STEPS = 6
RNG = np.random.default_rng(11)
P0 = RNG.standard_normal((3, 4))
A = RNG.standard_normal((4, 4))
A = A @ A.T / 4 + np.eye(4)                         # a convex quadratic: gradients depend on p
B = RNG.standard_normal((3, 4))


def grad_fn(p: np.ndarray) -> np.ndarray:
    """The gradient of ``0.5 * tr(p A p^T) + <B, p> + 0.1 * sum(p^3)`` (curved, p-dependent)."""
    return p @ A + B + 0.3 * p * p


# ------------------------------------------------------------------ plain NumPy references
def sgd_reference(p, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, steps=STEPS):
    p, buf = np.array(p, dtype=np.float64), None
    for _ in range(steps):
        d = grad_fn(p) + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def adam_reference(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False,
                   maximize=False, steps=STEPS):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = grad_fn(p)
        if maximize:
            g = -g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = vmax if amsgrad else v
        p = p - lr / (1 - b1 ** t) * m / (np.sqrt(vhat) / np.sqrt(1 - b2 ** t) + eps)
    return p


def run_lucid(make, steps=STEPS, dtype="float64"):
    """Step ``make([p])`` ``steps`` times with p.grad = grad_fn(p); check p.grad is never modified."""
    p = nn.Parameter(lucid.tensor(P0, dtype=dtype))
    array = p.data
    opt = make([p])
    for step in range(steps):
        g = grad_fn(p.numpy().astype(np.float64)).astype(dtype)
        p.grad = lucid.tensor(g, dtype=dtype)
        grad_array = p.grad.data
        opt.step()
        assert p.grad.data is grad_array, "the optimizer replaced p.grad"
        np.testing.assert_array_equal(p.grad.numpy(), g, err_msg=f"p.grad modified in step {step}")
    assert p.data is array, "the parameter lost its array"
    return p.numpy()


SGD_OPTIONS = [dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n)
               for m, d, wd, n in itertools.product((0.0, 0.9), (0.0, 0.3), (0.0, 0.05), (False, True))
               if not n or (m > 0 and d == 0)]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_matches_numpy_reference_and_leaves_grad_alone(options):
    got = run_lucid(lambda ps: optim.SGD(ps, lr=0.05, **options))
    np.testing.assert_allclose(got, sgd_reference(P0, 0.05, **options), rtol=1e-12, atol=1e-14)


def test_sgd_option_combinations_really_differ():
    """The reference itself distinguishes the options the planted bugs ignore."""
    plain = sgd_reference(P0, 0.05)
    assert not np.allclose(plain, sgd_reference(P0, 0.05, momentum=0.9))
    first_damped = sgd_reference(P0, 0.05, momentum=0.9, dampening=0.3)
    assert not np.allclose(first_damped, sgd_reference(P0, 0.05, momentum=0.9))


def test_sgd_first_momentum_buffer_is_not_dampened():
    """One step with momentum and dampening is a plain gradient step (PyTorch: buf = g at t = 0)."""
    got = run_lucid(lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.5), steps=1)
    np.testing.assert_allclose(got, P0 - 0.05 * grad_fn(P0), rtol=1e-13)


ADAM_OPTIONS = [dict(weight_decay=wd, amsgrad=ams, betas=betas, eps=eps)
                for wd, ams, betas, eps in itertools.product((0.0, 0.1), (False, True), ((0.9, 0.999), (0.5, 0.8)),
                                                             (1e-8, 0.1))]


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
@pytest.mark.parametrize("kind", ["Adam", "AdamW", "Adam_decoupled"])
def test_adam_family_matches_numpy_reference_and_leaves_grad_alone(kind, options):
    if kind == "Adam":
        make = lambda ps: optim.Adam(ps, lr=0.05, **options)  # noqa: E731
    elif kind == "AdamW":
        make = lambda ps: optim.AdamW(ps, lr=0.05, **options)  # noqa: E731
    else:
        make = lambda ps: optim.Adam(ps, lr=0.05, decoupled_weight_decay=True, **options)  # noqa: E731
    want = adam_reference(P0, lr=0.05, decoupled=kind != "Adam", **options)
    np.testing.assert_allclose(run_lucid(make), want, rtol=1e-12, atol=1e-14)


def test_adam_maximize_and_defaults():
    np.testing.assert_allclose(run_lucid(lambda ps: optim.Adam(ps, lr=0.05, maximize=True)),
                               adam_reference(P0, lr=0.05, maximize=True), rtol=1e-12)
    np.testing.assert_allclose(run_lucid(lambda ps: optim.Adam(ps)), adam_reference(P0), rtol=1e-12)
    np.testing.assert_allclose(run_lucid(lambda ps: optim.AdamW(ps)),
                               adam_reference(P0, weight_decay=1e-2, decoupled=True), rtol=1e-12)
    assert optim.AdamW([nn.Parameter(lucid.ones(1))]).defaults["weight_decay"] == 1e-2


def test_adam_and_adamw_weight_decay_differ():
    coupled = adam_reference(P0, lr=0.05, weight_decay=0.5)
    decoupled = adam_reference(P0, lr=0.05, weight_decay=0.5, decoupled=True)
    assert not np.allclose(coupled, decoupled)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
                                  lambda ps: optim.AdamW(ps, lr=0.1)], ids=["SGD", "Adam", "AdamW"])
def test_float32_stays_float32_and_params_without_grad_are_skipped(make):
    got = run_lucid(make, dtype="float32")
    assert got.dtype == np.float32
    frozen = nn.Parameter(lucid.tensor(P0, dtype="float32"))
    used = nn.Parameter(lucid.tensor(P0, dtype="float32"))
    opt = make([frozen, used])
    for _ in range(3):
        used.grad = lucid.tensor(grad_fn(used.numpy()).astype(np.float32))
        opt.step()
    np.testing.assert_array_equal(frozen.numpy(), P0.astype(np.float32))
    assert frozen not in opt.state and frozen.grad is None
    assert not np.array_equal(used.numpy(), P0.astype(np.float32))
    for value in opt.state[used].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


def test_param_groups_override_defaults():
    a, b = nn.Parameter(lucid.tensor(P0)), nn.Parameter(lucid.tensor(P0))
    opt = optim.Adam([{"params": [a]}, {"params": b, "lr": 0.05, "amsgrad": True}], lr=0.01)
    for _ in range(STEPS):
        a.grad, b.grad = lucid.tensor(grad_fn(a.numpy())), lucid.tensor(grad_fn(b.numpy()))
        opt.step()
    np.testing.assert_allclose(a.numpy(), adam_reference(P0, lr=0.01), rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), adam_reference(P0, lr=0.05, amsgrad=True), rtol=1e-12)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.05]


def test_step_closure_and_zero_grad():
    w = nn.Parameter(lucid.tensor([1.0, -1.0], dtype="float64"))
    opt = optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 2.0
    np.testing.assert_allclose(w.numpy(), [0.9, -0.9], rtol=1e-7)
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None
    assert "Parameter Group 0" in repr(opt) and "betas: (0.9, 0.999)" in repr(opt)


@pytest.mark.parametrize("call, error, words", [
    (lambda p: optim.Adam(p, lr=-1), ValueError, "Adam(): lr must be a non-negative number"),
    (lambda p: optim.Adam(p, lr="0.1"), TypeError, "Adam(): lr must be"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, "betas[1] must be a number in [0, 1)"),
    (lambda p: optim.Adam(p, betas=0.9), TypeError, "betas must be a pair"),
    (lambda p: optim.Adam(p, eps=-1e-8), ValueError, "eps must be"),
    (lambda p: optim.AdamW(p, weight_decay=-0.1), ValueError, "AdamW(): weight_decay must be"),
    (lambda p: optim.Adam(p, amsgrad=1), TypeError, "amsgrad must be a bool"),
    (lambda p: optim.Adam([], lr=0.1), ValueError, "params must be a non-empty"),
    (lambda p: optim.Adam(p[0], lr=0.1), TypeError, "params must be an iterable"),
    (lambda p: optim.Adam([{"params": p, "momentum": 0.9}]), ValueError, "param groups with keys among"),
    (lambda p: optim.SGD([{"params": p}, {"params": p}], lr=0.1), ValueError, "only one parameter group"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=float("nan")), ValueError, "momentum must be"),
    (lambda p: optim.SGD([p[0] * 2], lr=0.1), TypeError, "params must be leaf Tensors"),
])
def test_bad_arguments_name_the_argument(call, error, words):
    params = [nn.Parameter(lucid.ones(2))]
    with pytest.raises(error) as info:
        call(params)
    assert words in str(info.value)


def test_optimizers_share_one_base():
    for cls in (optim.SGD, optim.Adam, optim.AdamW):
        assert issubclass(cls, optim.Optimizer)
        assert "zero_grad" not in vars(cls) and "step" not in vars(cls)


# ------------------------------------------------------------------ torch as a second oracle
def _torch_run(torch_cls, options, steps=STEPS):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.tensor(P0))
    opt = torch_cls([p], **options)
    for _ in range(steps):
        p.grad = torch.tensor(grad_fn(p.detach().numpy()))
        opt.step()
    return p.detach().numpy()


@pytest.mark.parametrize("options", [dict(lr=0.05, **o) for o in SGD_OPTIONS], ids=str)
def test_sgd_matches_torch(options):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(run_lucid(lambda ps: optim.SGD(ps, **options)),
                               _torch_run(torch.optim.SGD, options), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", [dict(lr=0.05, **o) for o in ADAM_OPTIONS], ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_family_matches_torch(name, options):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(run_lucid(lambda ps: getattr(optim, name)(ps, **options)),
                               _torch_run(getattr(torch.optim, name), options), rtol=1e-12, atol=1e-14)
