"""Throughput of one layer shape called from 1 and from 2 threads at once (issue #13).

Each algorithm is forced in turn on one shape; every thread makes back-to-back
forward calls for a fixed time, and the calls completed per second are
compared.  Every plan runs concurrently: direct, im2col and winograd take
per-thread scratch, fft a runner per concurrent call.  On a machine with as many cores as lucid's pool
already uses (2 here), a second calling thread can only fill the gaps the
first leaves (Python between NumPy calls, serial passes): expect ~1x there and
up to the number of free cores on a larger machine.

Run: ``python benchmarks/concurrent_throughput.py [--seconds 2] [--json results/concurrent-throughput.json]``
"""
from __future__ import annotations

import argparse
import json
import threading
import time

import numpy as np

import lucid
import lucid.nn.functional as F

SHAPE = (4, 32, 32, 2048, 3)          # N, C_in, C_out, L, K: a TCN-sized layer


def calls_per_second(algorithm: str, threads: int, seconds: float) -> float:
    """Forward calls per second of all ``threads`` together, each calling back to back."""
    n, c_in, c_out, length, k = SHAPE
    rng = np.random.default_rng(0)
    operands = [(lucid.tensor(rng.standard_normal((n, c_in, length)).astype(np.float32)),
                 lucid.tensor(rng.standard_normal((c_out, c_in, k)).astype(np.float32))) for _ in range(threads)]
    for x, w in operands:
        F.conv1d(x, w, padding=1, algorithm=algorithm)            # plan and warm up
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    deadline: list[float] = []

    def work(i: int) -> None:
        x, w = operands[i]
        start.wait()
        while time.perf_counter() < deadline[0]:
            F.conv1d(x, w, padding=1, algorithm=algorithm)
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    began = time.perf_counter()
    deadline.append(began + seconds)
    start.wait()
    for t in workers:
        t.join()
    return sum(counts) / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rows = []
    for algorithm in ("direct", "im2col", "winograd", "fft"):
        ratios = []
        for _ in range(args.rounds):         # alternate 1 and 2 threads; the median ratio cancels drift
            one = calls_per_second(algorithm, 1, args.seconds)
            two = calls_per_second(algorithm, 2, args.seconds)
            ratios.append(two / one)
        rows.append({"algorithm": algorithm, "two_threads_over_one": round(float(np.median(ratios)), 3),
                     "ratios": [round(r, 3) for r in ratios]})
        print(f"{algorithm:9s} 2 calling threads / 1: {rows[-1]['two_threads_over_one']:.2f}x  {rows[-1]['ratios']}")
    result = {"shape": SHAPE, "pool_threads": lucid.get_num_threads(), "seconds": args.seconds, "rows": rows}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
