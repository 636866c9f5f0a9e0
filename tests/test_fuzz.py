"""Fuzzed agreement: every algorithm that supports a random valid call, forced, against the oracle.

Hypothesis draws a configuration of ``nn.Conv1d`` / ``F.conv1d`` (N 1-4, channels
1-16 with groups dividing them, L 1-300, K 1-40, stride 1-4, dilation 1-6, int /
'same' / 'valid' padding, every padding mode within PyTorch's limits, bias,
float32/float64, batched or not).  For each registered algorithm whose
``supports`` accepts the equivalent forward :class:`ConvSpec` (after the
pre-padding of non-zero modes), the call is forced onto it -- through the
``algorithm=`` argument, the layer attribute or ``lucid.algos.use`` -- and the
output and the input, weight and bias gradients are compared with
``tests/reference.py``'s float64 tap loop on the same (dtype-rounded) values.

Profiles (``tests/conftest.py``): ``ci`` (default, fixed seed, 300 examples)
and ``HYPOTHESIS_PROFILE=thorough`` (2000 random examples).  A shrunk failure
becomes a named case in ``tests/test_regressions.py`` via :func:`check`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from helpers import relative_error
from hypothesis import given
from hypothesis import strategies as st
from reference import conv1d_grads_ref_taps, conv1d_ref_taps

import lucid
import lucid.algos
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.algos import registry
from lucid.algos.spec import ConvSpec

TOLERANCE = {"float32": 2e-5, "float64": 1e-10}
#: Condition number up to which the tolerance is plain normwise relative (see :func:`check`).
KAPPA = 100.0
FORCING = ("argument", "module", "use")


class Config(NamedTuple):
    """One valid call: shapes, options, how the algorithm is forced and the data seed."""

    n: int
    groups: int
    cig: int
    cog: int
    length: int
    kernel_size: int
    stride: int
    dilation: int
    padding: int | str
    padding_mode: str
    bias: bool
    dtype: str
    batched: bool
    forcing: str
    seed: int

    @property
    def pad_amounts(self) -> tuple[int, int]:
        return F.padding_amounts(self.padding, self.kernel_size, self.dilation)

    def forward_spec(self) -> ConvSpec:
        """The forward problem the planner sees (non-zero modes are pre-padded, then padding 0)."""
        left, right = self.pad_amounts
        zeros = self.padding_mode == "zeros"
        length = self.length if zeros else self.length + left + right
        return ConvSpec(self.n, self.groups * self.cig, self.groups * self.cog, length, self.kernel_size,
                        self.stride, (left, right) if zeros else (0, 0), self.dilation, self.groups, self.dtype)


@st.composite
def configs(draw) -> Config:
    groups = draw(st.integers(1, 16))
    cig, cog = draw(st.integers(1, 16 // groups)), draw(st.integers(1, 16 // groups))
    kernel_size, dilation, stride = draw(st.integers(1, 40)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    forms = [st.integers(0, 60), st.just("valid")] + ([st.just("same")] if stride == 1 else [])
    padding = draw(st.one_of(*forms))
    mode = draw(st.sampled_from(("zeros", "reflect", "replicate", "circular")))
    left, right = F.padding_amounts(padding, kernel_size, dilation)
    shortest = max(1, dilation * (kernel_size - 1) + 1 - left - right)
    if mode == "reflect":           # PyTorch: reflect needs pad < L, circular pad <= L
        shortest = max(shortest, max(left, right) + 1)
    elif mode == "circular":
        shortest = max(shortest, max(left, right))
    length = draw(st.integers(shortest, 300))
    batched = draw(st.booleans())
    return Config(draw(st.integers(1, 4)) if batched else 1, groups, cig, cog, length, kernel_size, stride, dilation,
                  padding, mode,
                  draw(st.booleans()), draw(st.sampled_from(("float32", "float64"))), batched,
                  draw(st.sampled_from(FORCING)), draw(st.integers(0, 2**32 - 1)))


def _operands(cfg: Config):
    """x, w, b (or None) and dy, rounded to ``cfg.dtype`` and held as float64 for the oracle."""
    rng = np.random.default_rng(cfg.seed)
    spec = cfg.forward_spec()
    round_ = lambda a: a.astype(cfg.dtype).astype(np.float64)   # noqa: E731
    x = round_(rng.standard_normal((cfg.n, spec.c_in, cfg.length)))
    w = round_(rng.standard_normal(spec.weight_shape))
    b = round_(rng.standard_normal(spec.c_out)) if cfg.bias else None
    dy = round_(rng.standard_normal((cfg.n, spec.c_out, spec.l_out)))
    return x, w, b, dy


def _run(cfg: Config, name: str, x, w, b, dy):
    """Forward + backward forced onto ``name`` the way ``cfg.forcing`` says; (y, dx, dw, db) batched."""
    dtype = getattr(lucid, cfg.dtype)
    unbatch = (lambda a: a[0]) if not cfg.batched else (lambda a: a)
    xt = lucid.tensor(unbatch(x), dtype=dtype, requires_grad=True)
    conv = nn.Conv1d(cfg.groups * cfg.cig, cfg.groups * cfg.cog, cfg.kernel_size, cfg.stride, cfg.padding,
                     cfg.dilation, cfg.groups, cfg.bias, cfg.padding_mode, dtype=dtype)
    if cfg.forcing == "module":
        conv.algorithm = name           # the layer attribute, set after construction
    conv.load_state_dict({"weight": w, **({"bias": b} if cfg.bias else {})})
    if cfg.forcing == "argument":
        inp = xt if cfg.padding_mode == "zeros" else F.pad(xt, cfg.pad_amounts, mode=cfg.padding_mode)
        padding = cfg.padding if cfg.padding_mode == "zeros" else 0
        y = F.conv1d(inp, conv.weight, conv.bias, cfg.stride, padding, cfg.dilation, cfg.groups, algorithm=name)
        y.backward(lucid.tensor(unbatch(dy), dtype=dtype))
    else:
        with lucid.algos.use(name if cfg.forcing == "use" else None):
            y = conv(xt)
            y.backward(lucid.tensor(unbatch(dy), dtype=dtype))     # backward plans under the same scope
    rebatch = (lambda a: a[None]) if not cfg.batched else (lambda a: a)
    db = conv.bias.grad.data if cfg.bias else None
    return rebatch(y.data), rebatch(xt.grad.data), conv.weight.grad.data, db


def _magnitudes(cfg: Config, x, w, b, dy) -> dict[str, float]:
    """Per result, the scale of its rounding errors beyond the result's own norm:
    ``max(||oracle on |operands|||, ||a|| * ||b||)`` with ``a, b`` the two operands of its product."""
    ref = dict(stride=cfg.stride, padding=cfg.padding, dilation=cfg.dilation, groups=cfg.groups,
               padding_mode=cfg.padding_mode)
    y = conv1d_ref_taps(abs(x), abs(w), None if b is None else abs(b), **ref)
    dx, dw, db = conv1d_grads_ref_taps(abs(x), abs(w), abs(dy), **ref)
    norm = np.linalg.norm
    products = {"y": norm(x) * norm(w) + (0.0 if b is None else norm(b)), "dx": norm(dy) * norm(w),
                "dw": norm(dy) * norm(x), "db": norm(dy)}
    return {k: max(norm(v), products[k]) for k, v in {"y": y, "dx": dx, "dw": dw, "db": db}.items()}


def check(cfg: Config) -> int:
    """Run ``cfg`` on every supporting algorithm; assert agreement; return how many ran.

    Criterion: ``||got - want|| <= tol * max(||want||, M / KAPPA)``, where ``M`` is
    the larger of the oracle's norm on absolute values and ``||a|| * ||b||`` for
    the result's operands (see :func:`_magnitudes`).  For the usual draws
    (condition ``M / ||want|| <= KAPPA``) that is the plain normwise relative
    ``tol``.  Two cases found by the thorough profile are ill-conditioned: a
    float32 weight gradient of 389 terms cancelling 2600-fold (any float32
    summation order loses ``tol * condition / KAPPA``), and an input gradient
    that is exactly zero because every tap reads padding (FFT returns ~1e-9
    there: its error is relative to ``||a|| * ||b||``, as for any transform
    method).  There the tolerance is taken relative to ``M`` instead.
    """
    x, w, b, dy = _operands(cfg)
    ref = dict(stride=cfg.stride, padding=cfg.padding, dilation=cfg.dilation, groups=cfg.groups,
               padding_mode=cfg.padding_mode)
    want = dict(zip(("dx", "dw", "db"), conv1d_grads_ref_taps(x, w, dy, **ref)), y=conv1d_ref_taps(x, w, b, **ref))
    spec, tol = cfg.forward_spec(), TOLERANCE[cfg.dtype]
    magnitudes = None
    ran = 0
    for algorithm in registry.algorithms():
        if algorithm.supports(spec) is not None:
            continue
        lucid.algos.clear_plans()
        lucid.algos.clear_records()
        got = dict(zip(("y", "dx", "dw", "db"), _run(cfg, algorithm.name, x, w, b, dy)))
        ran_on = {r["op"]: (r["mode"], r["algorithm"]) for r in lucid.algos.records()}
        assert ran_on["forward"] == ("forced", algorithm.name), (cfg.forcing, ran_on)
        y = got["y"]
        assert y.shape == want["y"].shape and y.dtype == np.dtype(cfg.dtype), (algorithm.name, y.shape, y.dtype)
        for what in ("y", "dx", "dw", "db") if cfg.bias else ("y", "dx", "dw"):
            err = relative_error(got[what], want[what])
            if err <= tol:
                continue
            magnitudes = magnitudes or _magnitudes(cfg, x, w, b, dy)
            scale = max(np.linalg.norm(want[what]), magnitudes[what] / KAPPA)
            loss = np.linalg.norm(np.asarray(got[what], np.float64) - want[what]) / scale
            assert loss <= tol, (f"{algorithm.name} {what}: normwise error {err:.2e}, {loss:.2e} of the "
                                 f"conditioned scale > {tol:.0e} on {cfg} ({spec.describe()})")
        ran += 1
    assert ran >= 1, f"no algorithm supports {spec.describe()}"
    return ran


@given(configs())
def test_every_supporting_algorithm_agrees_with_reference(cfg):
    check(cfg)

