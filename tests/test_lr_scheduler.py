"""optim.lr_scheduler (issue #25): every scheduler's rates against closed forms (always) and against
PyTorch's, step for step (optional oracle); state_dict round trips through lucid.save; errors."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest

import lucid
import lucid.optim as optim
from lucid.optim import lr_scheduler as S


def _opt(kind="sgd", groups=1, lib=None):
    """An optimizer over ``groups`` one-element parameters (lucid's, or ``lib``'s)."""
    lib = lib or lucid
    params = [(lib.nn.Parameter(lib.zeros(1)) if lib is lucid else lib.nn.Parameter(lib.zeros(1)))
              for _ in range(groups)]
    spec = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)]
    module = optim if lib is lucid else lib.optim
    return module.SGD(spec, lr=0.1, momentum=0.9) if kind == "sgd" else module.Adam(spec, lr=0.1)


# name -> (optimizer kind, groups, build(lr_scheduler namespace, optimizer), steps)
CASES = {
    "step": ("sgd", 2, lambda s, o: s.StepLR(o, step_size=3, gamma=0.5), 10),
    "multistep": ("sgd", 1, lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 8], gamma=0.3), 10),
    "exponential": ("adam", 2, lambda s, o: s.ExponentialLR(o, gamma=0.9), 8),
    "cosine": ("sgd", 1, lambda s, o: s.CosineAnnealingLR(o, T_max=4, eta_min=0.01), 13),
    "linear": ("adam", 1, lambda s, o: s.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=4), 8),
    "lambda": ("sgd", 2, lambda s, o: s.LambdaLR(o, lambda epoch: 0.95 ** epoch), 6),
    "lambda_list": ("sgd", 2, lambda s, o: s.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.5 + e]), 6),
    "multiplicative": ("sgd", 1, lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.9), 6),
    "constant": ("sgd", 1, lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=3), 6),
    "polynomial": ("adam", 1, lambda s, o: s.PolynomialLR(o, total_iters=4, power=2.0), 7),
    "onecycle_cos_adam": ("adam", 2, lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=10), 9),
    "onecycle_linear_sgd": ("sgd", 1, lambda s, o: s.OneCycleLR(o, max_lr=0.3, epochs=2, steps_per_epoch=5,
                                                                anneal_strategy="linear", pct_start=0.25), 9),
    "onecycle_three_phase": ("sgd", 1, lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=12, three_phase=True),
                             11),
    "sequential": ("adam", 1, lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=3),
                                                              s.CosineAnnealingLR(o, T_max=5)], milestones=[3]), 10),
    "sequential_three": ("sgd", 2, lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=2),
                                                                   s.ExponentialLR(o, gamma=0.8),
                                                                   s.StepLR(o, 2)], milestones=[2, 5]), 10),
    "chained": ("sgd", 1, lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=2),
                                                           s.ExponentialLR(o, gamma=0.9)]), 6),
}


def _trace(opt, sched, steps):
    """The groups' lr (and momentum / beta1) after construction and after each step."""
    def state():
        return [(g["lr"], g.get("momentum"), g["betas"][0] if "betas" in g else None) for g in opt.param_groups]
    out = [state()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(state())
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_step_for_step(name):
    torch = pytest.importorskip("torch")
    kind, groups, build, steps = CASES[name]
    ours_opt, theirs_opt = _opt(kind, groups), _opt(kind, groups, torch)
    ours, theirs = build(S, ours_opt), build(torch.optim.lr_scheduler, theirs_opt)
    got, want = _trace(ours_opt, ours, steps), _trace(theirs_opt, theirs, steps)
    for step, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-15, atol=0,
                                   err_msg=f"step {step}")
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)


def test_closed_forms():
    opt = _opt()
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    rates = [lr for lr, *_ in (g[0] for g in _trace(opt, sched, 6))]
    assert rates == [0.1 * 0.5 ** (e // 2) for e in range(7)]
    opt = _opt()
    sched = S.CosineAnnealingLR(opt, T_max=6)
    for e, ((lr, *_),) in enumerate(_trace(opt, sched, 6)):
        assert lr == pytest.approx(0.05 * (1 + math.cos(math.pi * e / 6)), abs=1e-15)
    opt = _opt("adam")
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lrs = [g[0][0] for g in _trace(opt, sched, 9)]
    assert lrs[0] == pytest.approx(1.0 / 25) and max(lrs) == pytest.approx(1.0) and lrs[-1] == pytest.approx(4e-6)
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_round_trip_through_save_continues_identically(name):
    kind, groups, build, steps = CASES[name]
    opt, reference_opt = _opt(kind, groups), _opt(kind, groups)
    sched, reference = build(S, opt), build(S, reference_opt)
    full = _trace(reference_opt, reference, steps)
    half = steps // 2
    _trace(opt, sched, half)
    buffer = io.BytesIO()
    lucid.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = lucid.load(buffer)
    fresh_opt = _opt(kind, groups)
    fresh = build(S, fresh_opt)
    fresh_opt.load_state_dict(saved["optimizer"])
    fresh.load_state_dict(saved["scheduler"])
    rest = _trace(fresh_opt, fresh, steps - half)
    assert rest == full[half:]


def test_torch_state_dict_keys_are_ours():
    torch = pytest.importorskip("torch")
    for name in ("step", "cosine", "onecycle_cos_adam", "sequential", "lambda"):
        kind, groups, build, _ = CASES[name]
        ours, theirs = build(S, _opt(kind, groups)), build(torch.optim.lr_scheduler, _opt(kind, groups, torch))
        missing = set(theirs.state_dict()) - set(ours.state_dict()) - {"_get_lr_called_within_step"}
        assert not missing, (name, missing)


def test_reduce_lr_on_plateau():
    opt = _opt()
    sched = S.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1)
    lrs = []
    for metric in (1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5):
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    torch = pytest.importorskip("torch")
    topt = _opt(lib=torch)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=1, factor=0.5, cooldown=1)
    want = []
    for metric in (1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5):
        tsched.step(metric)
        want.append(topt.param_groups[0]["lr"])
    assert lrs == want


@pytest.mark.parametrize("call, error, words", [
    (lambda: S.StepLR("opt", 2), TypeError, "optimizer"),
    (lambda: S.StepLR(_opt(), 0), ValueError, "step_size"),
    (lambda: S.LinearLR(_opt(), start_factor=0.0), ValueError, "start_factor"),
    (lambda: S.LambdaLR(_opt(groups=2), [lambda e: 1.0]), ValueError, "lr_lambda"),
    (lambda: S.OneCycleLR(_opt(), max_lr=0.1), ValueError, "total_steps"),
    (lambda: S.OneCycleLR(_opt(), max_lr=0.1, total_steps=5, anneal_strategy="cosine"), ValueError,
     "anneal_strategy"),
    (lambda: S.SequentialLR(_opt(), [S.StepLR(_opt(), 2)], milestones=[]), ValueError, "same optimizer"),
    (lambda: S.StepLR(_opt(), 2, last_epoch=3), ValueError, "initial_lr"),
    (lambda: S.ReduceLROnPlateau(_opt(), factor=1.0), ValueError, "factor"),
])
def test_bad_arguments_name_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_one_cycle_refuses_to_run_past_total_steps():
    opt = _opt()
    sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()
