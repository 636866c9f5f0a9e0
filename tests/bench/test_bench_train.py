"""lucid-bench --train: the training step against float64 loop oracles, the row, the table and the JSON."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from reference import conv1d_grads_ref, conv1d_ref

from lucid import algos
from lucid.algos.lowering import OPS
from lucid.algos.spec import ConvSpec
from lucid.bench import cli, peers, train
from lucid.bench.cases import Case
from lucid.nn.functional import padding_amounts

TINY = ["--quick", "--block", "0.002", "--repeats", "2", "--shape", "2,4,6,32,3", "--padding", "same", "--train"]


def _case(padding: int | str = 1, kernel_size: int = 3, stride: int = 1, dilation: int = 1,
          groups: int = 1) -> Case:
    spec = ConvSpec(2, 4, 6, 19, kernel_size, stride, padding_amounts(padding, kernel_size, dilation), dilation,
                    groups, "float64")
    return Case("tiny", spec, padding)


def _operands(spec: ConvSpec) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(3)
    return tuple(rng.standard_normal(shape) for shape in (spec.input_shape, spec.weight_shape, spec.output_shape))


def _oracle(case: Case, x, w, dy) -> tuple[np.ndarray, ...]:
    kw = case.conv_kwargs()
    dx, dw, _ = conv1d_grads_ref(x, w, dy, **kw)
    return conv1d_ref(x, w, **kw), dx, dw


CASES = [dict(), dict(stride=2, dilation=2, groups=2, padding=2), dict(kernel_size=4, padding="same")]


@pytest.mark.parametrize("shape", CASES)
def test_lucid_step_is_forward_and_both_gradients(shape):
    case = _case(**shape)
    x, w, dy = _operands(case.spec)
    step = train.lucid_train_step(case, x, w, dy)
    for _ in range(2):                                   # grads are reset, never accumulated
        for got, want in zip(step(), _oracle(case, x, w, dy)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", CASES)
def test_torch_step_is_forward_and_both_gradients(shape):
    pytest.importorskip("torch")
    case = _case(**shape)
    x, w, dy = _operands(case.spec)
    step = peers.torch_train_step(case.spec, x, w, dy)
    assert callable(step)
    for _ in range(2):
        for got, want in zip(step(), _oracle(case, x, w, dy)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_torch_step_without_torch_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    case = _case()
    assert peers.torch_train_step(case.spec, *_operands(case.spec)) == "torch is not installed"


def test_measure_train_without_torch_times_the_step_and_the_three_ops():
    case = _case()
    row = train.measure_train(case, torch=False, repeats=3, min_block_s=0.001)
    assert row.picks == {op: algos.choose(case.spec, op=op) for op in OPS}
    assert row.torch_ms is None and row.vs_torch is None and row.torch_skipped
    assert set(row.per_call_ms) == {"step", *OPS} and all(len(v) == 3 for v in row.per_call_ms.values())
    assert row.rounds == 3 and row.error < 1e-12 and row.step_ms > 0 and row.filter_vs_forward > 0
    assert row.backward_filter_ms == pytest.approx(float(np.median(row.per_call_ms["backward_filter"])))
    table = train.format_table([row])
    assert "filter/fwd" in table and "torch not timed: peers disabled" in table


def test_measure_train_with_torch_gives_the_per_round_ratio():
    pytest.importorskip("torch")
    row = train.measure_train(_case(), repeats=3, min_block_s=0.001)
    ratios = [a / b for a, b in zip(row.per_call_ms["step"], row.per_call_ms["torch"])]
    assert row.vs_torch == pytest.approx(float(np.median(ratios)))
    assert row.torch_error is not None and row.torch_error < 1e-12 and row.torch_skipped == ""


@pytest.mark.parametrize("torch_installed", [True, False])
def test_cli_train_writes_the_train_table_and_json(tmp_path, capsys, monkeypatch, torch_installed):
    if torch_installed:
        pytest.importorskip("torch")
    else:
        monkeypatch.setitem(sys.modules, "torch", None)
    path = tmp_path / "t.json"
    assert cli.main(TINY + ["--peers", "torch", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    table = out.split("== training step")[1].splitlines()
    assert table[1].split()[0] == "workload" and table[3].split()[0] == "custom"
    (row,) = json.loads(path.read_text())["train"]
    assert row["case"] == "custom" and row["rounds"] == 2 and row["error"] < 1e-5
    assert set(row["picks"]) == set(OPS) and row["filter_vs_forward"] > 0
    if torch_installed:
        assert row["vs_torch"] > 0 and row["torch_error"] < 1e-5
    else:
        assert row["vs_torch"] is None and row["torch_skipped"] == "torch is not installed"
