"""lucid.save / lucid.load, optimizer state dicts and nn.utils gradient clipping (issue #25).

Checkpoints: every supported value round-trips with its type; files written elsewhere (pickles,
archives with object arrays, forged manifests) are refused without running anything.  Optimizer
state dicts have PyTorch's layout and load PyTorch's.  Clipping is checked against a plain float64
computation (always) and torch.nn.utils (optional oracle).
"""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.optim as optim
from lucid.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm


def _round_trip(obj, target=None):
    target = target if target is not None else io.BytesIO()
    lucid.save(obj, target)
    if isinstance(target, io.BytesIO):
        target.seek(0)
    return lucid.load(target)


def test_every_supported_value_round_trips_with_its_type(tmp_path):
    obj = OrderedDict(w=lucid.randn(3, 2), d=lucid.tensor([1.0, 2.0], dtype="float64", requires_grad=True),
                      i=lucid.arange(4), p=nn.Parameter(lucid.ones(2)), a=np.arange(6).reshape(2, 3),
                      n={0: 1, 1.5: "x", None: [True, None], "t": (1, 2.5, "s")}, nan=float("nan"),
                      inf=-math.inf, big=2 ** 80, dt=lucid.float64, empty=lucid.zeros(0, 3))
    for target in (None, tmp_path / "ck.npz", str(tmp_path / "no_suffix")):
        back = _round_trip(obj, target)
        assert type(back) is OrderedDict and list(back) == list(obj)
        for key in ("w", "d", "i", "p", "empty"):
            assert back[key].dtype == obj[key].dtype and back[key].shape == obj[key].shape
            np.testing.assert_array_equal(back[key].numpy(), obj[key].numpy())
            assert back[key].numpy() is not obj[key].numpy()
        assert type(back["p"]) is nn.Parameter and back["p"].requires_grad and back["d"].requires_grad
        assert not back["w"].requires_grad
        np.testing.assert_array_equal(back["a"], obj["a"])
        assert back["n"] == obj["n"] and type(back["n"]["t"]) is tuple
        assert math.isnan(back["nan"]) and back["inf"] == -math.inf and back["big"] == 2 ** 80
        assert back["dt"] is lucid.float64


def test_model_state_dict_round_trip_restores_a_fresh_model(tmp_path):
    lucid.manual_seed(0)
    net = nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.ReLU())
    net(lucid.randn(3, 2, 9))
    lucid.save(net.state_dict(), tmp_path / "net.npz")
    lucid.manual_seed(1)
    fresh = nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.ReLU())
    fresh.load_state_dict(lucid.load(tmp_path / "net.npz"))
    for (name, a), b in zip(net.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert fresh[1].num_batches_tracked.item() == 1


@pytest.mark.parametrize("value, words", [
    (lambda x: x, "obj"), ({"f": print}, "obj['f']"), ([1, object()], "obj[1]"),
    (np.array([None, 1], dtype=object), "obj"), ({"a": np.array(["text"])}, "obj['a']"),
    ({1: {2: {1, 2}}}, "obj[1][2]"),
])
def test_save_refuses_anything_but_data_and_says_where(value, words):
    with pytest.raises(TypeError) as info:
        lucid.save(value, io.BytesIO())
    assert words in str(info.value)


def test_saving_a_module_or_optimizer_points_to_state_dict():
    net = nn.Linear(2, 2)
    for value in (net, optim.SGD(net.parameters())):
        with pytest.raises(TypeError, match=r"save its \.state_dict\(\) instead"):
            lucid.save({"thing": value}, io.BytesIO())


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/lucid_load_ran_code",))


def _npz(entries: dict, manifest) -> io.BytesIO:
    buffer = io.BytesIO()
    np.savez(buffer, **entries, **({"lucid.json": np.array(json.dumps(manifest))} if manifest is not None else {}))
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("make, words", [
    (lambda: io.BytesIO(pickle.dumps({"w": _Payload()})), "torch.save's pickles are not read"),
    (lambda: _npz({"a0": np.array([_Payload()], dtype=object)},
                  {"format": "lucid", "version": 1, "root": {"$": "ndarray", "array": "a0"}}), "object array"),
    (lambda: _npz({"a0": np.ones(2)}, None), "no lucid.json"),
    (lambda: _npz({}, {"format": "other", "root": 1}), "written by lucid.save"),
    (lambda: _npz({}, {"format": "lucid", "version": 99, "root": 1}), "version"),
    (lambda: _npz({}, {"format": "lucid", "version": 1, "root": {"$": "tensor", "array": "a7"}}), "names an array"),
    (lambda: _npz({}, {"format": "lucid", "version": 1, "root": {"$": "module", "path": "os.system"}}),
     "unknown entry"),
    (lambda: _npz({}, {"format": "lucid", "version": 1, "root": [1, 2]}), "unexpected entry"),
])
def test_load_of_a_foreign_file_refuses_and_runs_nothing(make, words):
    marker = "/tmp/lucid_load_ran_code"
    if os.path.exists(marker):
        os.remove(marker)
    with pytest.raises(ValueError) as info:
        lucid.load(make())
    assert words in str(info.value)
    assert not os.path.exists(marker)


def test_load_arguments_as_torch():
    buffer = io.BytesIO()
    lucid.save({"x": 1}, buffer)
    buffer.seek(0)
    assert lucid.load(buffer, map_location="cpu", weights_only=False) == {"x": 1}
    with pytest.raises(ValueError):
        lucid.load(io.BytesIO(b"PK"), map_location="cuda")
    with pytest.raises(TypeError, match="f must be"):
        lucid.save({}, 3)
    assert zipfile.is_zipfile(_npz({}, None))


def test_safetensors_when_installed(tmp_path):
    pytest.importorskip("safetensors")
    obj = {"w": lucid.randn(3, 2), "state": {0: {"step": 4, "m": lucid.zeros(2, dtype="float64")}}, "n": [1, "a"]}
    back = _round_trip(obj, tmp_path / "ck.safetensors")
    np.testing.assert_array_equal(back["w"].numpy(), obj["w"].numpy())
    assert back["state"][0]["step"] == 4 and back["n"] == [1, "a"]


def test_rng_state_round_trips_through_a_checkpoint():
    lucid.manual_seed(4)
    lucid.randn(3)
    state = _round_trip({"rng": lucid.get_rng_state()})["rng"]
    expected = (lucid.randn(5).numpy(), nn.functional.dropout(lucid.ones(50)).numpy())
    lucid.manual_seed(99)
    lucid.set_rng_state(state)
    np.testing.assert_array_equal(lucid.randn(5).numpy(), expected[0])
    np.testing.assert_array_equal(nn.functional.dropout(lucid.ones(50)).numpy(), expected[1])
    with pytest.raises(TypeError, match="get_rng_state"):
        lucid.set_rng_state({"bit_generator": "MT19937"})


# ------------------------------------------------------------------------- optimizer state
def _net(seed=0):
    lucid.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4, dtype=lucid.float64), nn.Tanh(), nn.Linear(4, 1, dtype=lucid.float64))


def _step(net, opt, x):
    opt.zero_grad()
    (net(x) ** 2).mean().backward()
    opt.step()


@pytest.mark.parametrize("make", [lambda p: optim.Adam(p, lr=0.01, amsgrad=True), lambda p: optim.AdamW(p, lr=0.01),
                                  lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)])
def test_optimizer_state_dict_layout_and_bit_identical_resume(make):
    x = lucid.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    net, other = _net(), _net()
    opt = make(net.parameters())
    for _ in range(3):
        _step(net, opt, x)
    state = opt.state_dict()
    assert sorted(state) == ["param_groups", "state"] and list(state["state"]) == [0, 1, 2, 3]
    assert state["param_groups"][0]["params"] == [0, 1, 2, 3]
    saved = _round_trip({"model": net.state_dict(), "optimizer": state})
    other.load_state_dict(saved["model"])
    resumed = make(other.parameters())
    resumed.load_state_dict(saved["optimizer"])
    for _ in range(3):
        _step(net, opt, x)
        _step(other, resumed, x)
    for a, b in zip(net.parameters(), other.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())


def test_optimizer_load_state_dict_checks_groups_and_copies():
    net = _net()
    opt = optim.Adam([{"params": list(net.parameters())[:2]}, {"params": list(net.parameters())[2:], "lr": 0.5}])
    _step(net, opt, lucid.ones(2, 3, dtype="float64"))
    state = opt.state_dict()
    fresh = optim.Adam([{"params": list(net.parameters())[:2]}, {"params": list(net.parameters())[2:]}])
    fresh.load_state_dict(state)
    assert fresh.param_groups[1]["lr"] == 0.5 and fresh.param_groups[1]["params"][0] is list(net.parameters())[2]
    exp_avg = fresh.state[list(net.parameters())[0]]["exp_avg"]
    assert not np.shares_memory(exp_avg, state["state"][0]["exp_avg"].numpy())
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam(net.parameters()).load_state_dict(state)
    with pytest.raises(ValueError, match="group of 1 parameters"):
        optim.Adam([{"params": list(net.parameters())[:2]}, {"params": list(net.parameters())[2:3]}]) \
            .load_state_dict(state)
    with pytest.raises(TypeError, match="state_dict"):
        fresh.load_state_dict({"state": {}})


def test_optimizer_loads_a_torch_adam_state_dict():
    torch = pytest.importorskip("torch")
    w0 = np.random.default_rng(1).standard_normal((3, 2))
    tw = torch.nn.Parameter(torch.tensor(w0))
    topt = torch.optim.Adam([tw], lr=0.05)
    for _ in range(2):
        topt.zero_grad()
        (tw ** 3).sum().backward()
        topt.step()
    theirs = topt.state_dict()
    converted = {"state": {k: {n: (lucid.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v)
                               for n, v in s.items()} for k, s in theirs["state"].items()},
                 "param_groups": theirs["param_groups"]}
    lw = nn.Parameter(lucid.tensor(tw.detach().numpy().copy()))
    lopt = optim.Adam([lw], lr=0.05)
    lopt.load_state_dict(converted)
    assert lopt.state[lw]["step"] == 2
    for _ in range(2):
        topt.zero_grad()
        (tw ** 3).sum().backward()
        topt.step()
        lopt.zero_grad()
        (lw ** 3).sum().backward()
        lopt.step()
    np.testing.assert_allclose(lw.numpy(), tw.detach().numpy(), rtol=1e-13)


# ------------------------------------------------------------------------- gradient clipping
def _with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(lucid.zeros(*g.shape, dtype="float64"))
        p.grad = lucid.tensor(g.copy())
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_scales_by_the_total_norm(norm_type, max_norm):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 1, 2))]
    params = _with_grads(grads) + [nn.Parameter(lucid.zeros(2))]          # one without a gradient
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if norm_type == math.inf else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    got = clip_grad_norm_(params, max_norm, norm_type)
    assert got.item() == pytest.approx(total, rel=1e-12)
    factor = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * factor, rtol=1e-13)
    assert params[-1].grad is None


def test_clip_grad_value_total_norm_helpers_and_errors():
    params = _with_grads([np.array([-3.0, 0.2, 5.0])])
    clip_grad_value_(params, 1.0)
    assert params[0].grad.tolist() == [-1.0, 0.2, 1.0]
    assert get_total_norm([lucid.tensor([3.0, 4.0])]).item() == 5.0 and get_total_norm([]).item() == 0.0
    clip_grads_with_norm_(params, 1.0, 2.0)
    np.testing.assert_allclose(params[0].grad.numpy(), np.array([-1.0, 0.2, 1.0]) / (2.0 + 1e-6))
    bad = _with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="max_norm"):
        clip_grad_norm_(params, "1")
    with pytest.raises(TypeError, match="parameters"):
        clip_grad_value_(3, 1.0)


def test_clipping_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal((4, 3)) * 3, rng.standard_normal(7)]
    for norm_type in (2.0, math.inf, 1.5):
        ours = _with_grads(grads)
        theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g.copy())
        a = clip_grad_norm_(ours, 1.0, norm_type)
        b = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
        assert a.item() == pytest.approx(b.item(), rel=1e-14)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-14)
    ours, theirs = _with_grads(grads), [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g.copy())
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
