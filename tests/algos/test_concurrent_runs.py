"""Concurrent calls of one shape run in parallel and give exactly the serial results (issue #13).

direct, im2col and winograd plans take only per-thread scratch (and publish
weight transforms atomically), so they run without a lock; an fft plan hands
each concurrent run its own runner (FFTW-bound buffers and plans).  Eight threads call one layer
shape, each with its own input and weight, forward and both backward passes;
every result must equal, bit for bit, the same call made serially.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import lucid
import lucid.nn.functional as F

THREADS, ROUNDS = 8, 6
# algorithm -> (N, C_in, C_out, L, K, conv kwargs); each shape serves all three ops on that algorithm
SHAPES = {
    "direct": ((2, 6, 6, 300, 5), dict(padding=2)),
    "direct-depthwise": ((2, 8, 8, 400, 9), dict(padding=4, groups=8)),
    "im2col": ((2, 8, 4, 250, 7), dict(padding=3, stride=2)),
    "winograd": ((2, 8, 8, 333, 3), dict(padding=1)),
    "fft": ((2, 4, 4, 600, 65), dict(padding=32)),
}


def call(algorithm: str, x0: np.ndarray, w0: np.ndarray, dy: np.ndarray, kwargs: dict):
    x, w = lucid.tensor(x0, requires_grad=True), lucid.tensor(w0, requires_grad=True)
    y = F.conv1d(x, w, algorithm=algorithm.split("-")[0], **kwargs)
    y.backward(dy)
    return y.numpy(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_eight_threads_on_one_shape_match_serial_runs_bit_for_bit(case):
    (n, c_in, c_out, length, k), kwargs = SHAPES[case]
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    with lucid.no_grad():
        l_out = F.conv1d(lucid.zeros(1, c_in, length, dtype=lucid.float64),
                         lucid.zeros(c_out, c_in // groups, k, dtype=lucid.float64), **kwargs).shape[-1]
    inputs = [(rng.standard_normal((n, c_in, length)), rng.standard_normal((c_out, c_in // groups, k)),
               rng.standard_normal((n, c_out, l_out))) for _ in range(THREADS)]
    serial = [call(case, x0, w0, dy, kwargs) for x0, w0, dy in inputs]
    mismatches: list[str] = []
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        barrier.wait()
        for r in range(ROUNDS):
            for part, got, want in zip(("y", "dx", "dw"), call(case, *inputs[i], kwargs), serial[i]):
                if not np.array_equal(got, want):
                    mismatches.append(f"thread {i} round {r}: {part}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a run hung"
    assert not mismatches, mismatches[:5]


def test_an_fft_plan_gives_each_concurrent_run_its_own_runner():
    """Two runs at once on one fft plan: the second finds no idle runner and builds one, which
    stays; serial runs afterwards reuse one runner and build nothing."""
    from lucid.algos import fft, registry
    from lucid.algos.spec import ConvSpec
    spec = ConvSpec(2, 4, 4, 600, 65, 1, (32, 32), 1, 1, "float64")
    plan = registry.get("fft").prepare(spec, 1 << 30)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    want = plan.run(x, w)
    inside, release = threading.Event(), threading.Event()
    original = fft._FftRunner.run

    def held_run(self, a, b):
        if not inside.is_set():
            inside.set()
            release.wait(10)               # the first run holds its runner until the second has run
        return original(self, a, b)

    fft._FftRunner.run = held_run
    try:
        first = threading.Thread(target=lambda: plan.run(x, w))
        first.start()
        inside.wait(10)
        second = plan.run(x, w)            # must not wait for the first
        release.set()
        first.join(10)
    finally:
        fft._FftRunner.run = original
    assert np.array_equal(second, want) and len(plan._idle) == 2
    held = plan.held_bytes()
    for _ in range(3):
        assert np.array_equal(plan.run(x, w), want)
    assert len(plan._idle) == 2 and plan.held_bytes() == held
