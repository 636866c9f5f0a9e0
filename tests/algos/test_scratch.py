"""Per-thread scratch (lucid.algos.scratch): shrinking, release and accounting over threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from lucid.algos import scratch

MB = 1 << 20


def scratch_in_new_thread(requests):
    """Run ``requests`` [(name, count)] in a fresh thread; return its buffer sizes after each."""
    sizes = []

    def work():
        for name, count in requests:
            scratch.thread_scratch(name, count, np.float32)
            sizes.append(scratch._local.store.buffers[name].nbytes)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return sizes


def test_scratch_shrinks_to_the_largest_recent_request_after_a_window_of_much_smaller_ones():
    big, small, smaller = 4 * MB // 4, 64 * 1024 // 4, 1024                # counts of float32
    sizes = scratch_in_new_thread([("t", big)] + [("t", small), ("t", smaller)] * scratch.SHRINK_AFTER)
    assert sizes[0] == 4 * MB and sizes[scratch.SHRINK_AFTER - 1] == 4 * MB
    assert sizes[scratch.SHRINK_AFTER] == 64 * 1024 and sizes[-1] == 64 * 1024


def test_a_run_whose_blocks_vary_in_size_does_not_reallocate():
    """Blocks of one run ask for a big size once and small sizes after it: no shrink while the
    big request is in the window, so the next run does not grow the buffer again."""
    big, small = 4 * MB // 4, 16 * 1024
    run = [("t", big)] + [("t", small)] * (scratch.SHRINK_AFTER - 2)
    sizes = scratch_in_new_thread(run * 5)
    assert set(sizes) == {4 * MB}


def test_alternating_sizes_do_not_shrink():
    big, small = 4 * MB // 4, 64 * 1024 // 4
    sizes = scratch_in_new_thread([("t", big), ("t", small)] * scratch.SHRINK_AFTER)
    assert set(sizes) == {4 * MB}


def test_small_buffers_never_shrink():
    sizes = scratch_in_new_thread([("t", 1000)] + [("t", 1)] * (2 * scratch.SHRINK_AFTER))
    assert set(sizes) == {4000}


def test_release_and_accounting_cover_every_thread():
    ready, done = threading.Event(), threading.Event()

    def hold():
        scratch.thread_scratch("held", 3 * MB // 4, np.float32)
        scratch.thread_scratch("tiny", 16, np.float32)
        ready.set()
        done.wait()
    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait()
    try:
        before = scratch.scratch_bytes()
        assert before >= 3 * MB + 64
        scratch.release_scratch()
        assert before - scratch.scratch_bytes() >= 3 * MB                # the large one went, the tiny one stays
    finally:
        done.set()
        thread.join()


@pytest.mark.parametrize("count", [0, 1, 1000])
def test_scratch_views_have_the_asked_size_and_dtype(count):
    view = scratch.thread_scratch("view", count, np.float64)
    assert view.shape == (count,) and view.dtype == np.float64
