"""Threads against the one shared planner: same answers, no exception, every shape planned once.

N threads x M calls each pick from a mix of shapes and planner modes (heuristic,
each algorithm forced, measure mode) with forward + backward passes; some calls
also save wisdom to a shared file.  Expected results come from a single-threaded
run on a fresh planner.  CI size: 4 x 30; ``LUCID_STRESS=1`` runs the issue's
8 x 500.
"""
from __future__ import annotations

import collections
import json
import os
import random
import threading
import warnings

import numpy as np
import pytest
from planner_fakes import reset_planner

import lucid
import lucid.algos as algos
import lucid.nn.functional as F

STRESS = os.environ.get("LUCID_STRESS", "").strip() not in ("", "0")
THREADS, CALLS = (8, 500) if STRESS else (4, 30)
JOIN_TIMEOUT_S = 1800 if STRESS else 300

# (name, settings for lucid.algos.use, (N, C_in, C_out, L, K), conv kwargs, backward?)
# Every shape appears under exactly one setting, so each (op, key) must be planned once.
TASKS = [
    ("heuristic-dense", {}, (2, 4, 6, 64, 5), dict(padding=2), True),
    ("heuristic-strided", {}, (1, 3, 3, 97, 7), dict(stride=2, dilation=3), True),
    ("heuristic-depthwise", {}, (2, 8, 8, 128, 9), dict(padding="same", groups=8), False),
    ("heuristic-long-kernel", {}, (1, 2, 2, 300, 33), dict(), True),
    ("forced-direct", {"algorithm": "direct"}, (3, 4, 4, 50, 3), dict(padding=1), True),
    ("forced-im2col", {"algorithm": "im2col"}, (2, 6, 4, 70, 4), dict(groups=2, stride=3), True),
    ("forced-fft", {"algorithm": "fft"}, (2, 4, 4, 200, 17), dict(padding="same"), True),
    ("forced-winograd", {"algorithm": "winograd"}, (2, 5, 7, 90, 3), dict(padding=1), True),
    ("measure-a", {"mode": "measure", "time_limit": 0.05}, (1, 4, 8, 120, 3), dict(padding=1), True),
    ("measure-b", {"mode": "measure", "time_limit": 0.05}, (2, 2, 2, 256, 15), dict(dilation=2), False),
]


class Case:
    """Fixed operands of one task and the call that runs it under its settings."""

    def __init__(self, index: int, name: str, settings: dict, shape: tuple, kwargs: dict, backward: bool) -> None:
        self.name, self.settings, self.kwargs, self.backward = name, settings, kwargs, backward
        n, c_in, c_out, length, k = shape
        rng = np.random.default_rng(index)
        groups = kwargs.get("groups", 1)
        self.x = rng.standard_normal((n, c_in, length))
        self.w = rng.standard_normal((c_out, c_in // groups, k))
        self.dy = None
        x, w = lucid.tensor(self.x, dtype=lucid.float64), lucid.tensor(self.w, dtype=lucid.float64)
        self.describe = F.conv_spec(x, w, None, **{"stride": 1, "padding": 0, "dilation": 1, "groups": 1,
                                                   **kwargs}).describe()

    def run(self) -> tuple[np.ndarray, ...]:
        """(y, dx, dw) or (y,), all float64."""
        x = lucid.tensor(self.x, dtype=lucid.float64, requires_grad=self.backward)
        w = lucid.tensor(self.w, dtype=lucid.float64, requires_grad=self.backward)
        with algos.use(**self.settings):
            y = F.conv1d(x, w, **self.kwargs)
            if not self.backward:
                return (y.data,)
            if self.dy is None:
                self.dy = np.random.default_rng(99).standard_normal(y.shape)
            y.backward(lucid.tensor(self.dy, dtype=lucid.float64))
        return y.data, x.grad.data, w.grad.data


@pytest.fixture()
def fresh():
    reset_planner()
    yield
    reset_planner()


def _chosen() -> dict[tuple[str, str], str]:
    return {(r["op"], r["key"]): r["algorithm"] for r in algos.records()}


def _raced() -> set[tuple[str, str]]:
    """The (op, key) pairs whose calls were raced (online mode): their results may differ in the last bits."""
    return {(r["op"], r["key"]) for r in algos.records() if r["race"] is not None}


def test_threads_agree_with_single_thread_and_plan_each_shape_once(fresh, tmp_path):
    cases = [Case(i, *task) for i, task in enumerate(TASKS)]
    expected = [case.run() for case in cases]
    single = _chosen()
    raced = _raced()
    reset_planner()

    wisdom_path = tmp_path / "wisdom.json"
    errors: list[BaseException] = []
    results: dict[int, list] = {i: [] for i in range(len(cases))}

    def worker(tid: int) -> None:
        order = random.Random(tid)
        try:
            for call in range(CALLS):
                index = order.randrange(len(cases))
                results[index].append(cases[index].run())
                if tid % 2 == 0 and call % 10 == 9:
                    algos.save_wisdom(wisdom_path)
        except BaseException as exc:     # reported below; a thread must not die silently
            errors.append(exc)

    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a wisdom save racing a save must not even warn
        threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock in the planner or the pool?)"
    assert not errors, f"{len(errors)} calls raised, first: {errors[0]!r}"
    assert sum(map(len, results.values())) == THREADS * CALLS

    records = [r for r in algos.records() if not (r["race"] and r["race"]["verdict"])]   # a verdict is no new plan
    fresh_plans = collections.Counter((r["op"], r["key"]) for r in records if not r["cache_hit"])
    every = collections.Counter((r["op"], r["key"]) for r in records)
    assert set(every) == set(single), "the threaded run planned other (op, shape) pairs than the single one"
    assert all(count == 1 for count in every.values()), [k for k, c in every.items() if c > 1]
    assert all(fresh_plans[key] == 1 for key in every), "a shape was never planned afresh"

    threaded = _chosen()
    raced |= _raced()
    for index, runs in results.items():
        case = cases[index]
        ops = ("forward", "backward_data", "backward_filter")[:len(expected[index])]
        for got in runs:
            for op, a, b in zip(ops, got, expected[index]):
                key = next(k for k in single if k[0] == op and k[1].startswith(case.describe + " "))
                same = threaded[key] == single[key] and algos.get(single[key]).deterministic and key not in raced
                if same:
                    np.testing.assert_array_equal(a, b, err_msg=f"{case.name} {op} ({single[key]})")
                else:
                    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max(),
                                               err_msg=f"{case.name} {op} ({single[key]} vs {threaded[key]})")

    saved = json.loads(wisdom_path.read_text())
    measured = {key for key in saved["decisions"]}
    assert len(measured) >= 2, f"measure-mode decisions missing from the saved wisdom: {measured}"

