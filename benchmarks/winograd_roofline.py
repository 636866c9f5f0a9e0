"""Where a Winograd F(m, r) run spends its time: per pass, per batch item, on one core.

Usage: ``PYTHONPATH=. python benchmarks/winograd_roofline.py [workload ...]`` (default: the K=3
suite workloads).  For each tile size it times, on the calling thread with
single-threaded BLAS, the passes of one box (scaled to one batch item) and
prints them with the bytes each moves and the FLOPs it does, next to the
machine's measured copy bandwidth and sgemm rate: the roofline of
results/winograd-roofline.md.  Reads plan internals (``_sources``, ``_box``),
so it is a measurement aid, not an API.  The machine is shared: take the
minimum of repeats (the figure least disturbed by other processes).
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import numpy as np

from lucid.algos import registry
from lucid.algos._blas_threads import single_threaded
from lucid.algos._winograd_tiles import gemm_in_chunks
from lucid.algos.winograd import TILES, tile_algorithm
from lucid.suite import SUITE

REPEATS = 15


def best(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """Fastest of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> tuple[float, float]:
    """L2 copy bandwidth (bytes read + written per second, 512 KiB arrays: a box's passes stay
    in L2) and sgemm FLOP/s (1024^3), one core."""
    a, b = np.ones(128 << 10, np.float32), np.empty(128 << 10, np.float32)
    bandwidth = 2 * a.nbytes / best(lambda: np.copyto(b, a), 200)
    x = np.ones((1024, 1024), np.float32)
    with single_threaded():
        rate = 2 * 1024 ** 3 / best(lambda: x @ x, 20)
    return bandwidth, rate


def passes(name: str, workload: str) -> dict[str, tuple[float, float, float]]:
    """``{pass: (seconds, bytes, flops)}`` per batch item of algorithm ``name`` on ``workload``."""
    spec = next(w for w in SUITE if w.name == workload).spec()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(spec.input_shape).astype(spec.np_dtype)
    w = rng.standard_normal(spec.weight_shape).astype(spec.np_dtype)
    plan = registry.get(name).prepare(spec, 1 << 31)
    lay, it = plan.layout, spec.itemsize
    xs = np.empty(math.prod(plan._xs_shape), spec.np_dtype).reshape(plan._xs_shape)
    u = plan._cache.get(w, plan._kernel_transform)
    y = np.empty(spec.output_shape, spec.np_dtype)
    box = plan._boxes[0]
    n0, n1, b0, b1, q0, q1 = box
    t, a, cin, co = (n1 - n0) * (b1 - b0) * (q1 - q0), lay.alpha, plan._cin, spec.c_out
    per_item = spec.n * lay.rows * lay.dil / t / spec.n          # boxes per batch item
    xbuf, v, mbuf = (np.empty((a, c, t), spec.np_dtype) for c in (cin, cin, co))
    buf = np.zeros(plan._box_size, spec.np_dtype)                # allocated once, as thread_scratch does
    plan._stack(xs, x, 0, spec.n)
    sources = plan._sources(xs, n0, n1, b0, b1 - b0, q0, q1)

    def gather() -> None:
        for i, src in enumerate(sources):
            np.copyto(xbuf[i].reshape(src.shape), src)

    gemm_flops = 2 * a * co * (cin // spec.groups) * t
    with single_threaded():
        timed = {
            "stack": (best(lambda: plan._stack(xs, x, 0, spec.n)) / spec.n, (x[0].nbytes + xs[0].nbytes), 0.0),
            "gather X": (best(gather), 2.0 * a * cin * t * it, 0.0),
            "B^T X": (best(lambda: np.matmul(plan._bt, xbuf.reshape(a, -1), out=v.reshape(a, -1))),
                      2.0 * a * cin * t * it, 2.0 * a * a * cin * t),
            "GEMMs": (best(lambda: gemm_in_chunks(u, v.reshape(a, spec.groups, -1, t),
                                                  mbuf.reshape(a, spec.groups, -1, t), plan._chunk)),
                      (a * (cin + co) * t + u.size) * it, float(gemm_flops)),
            "box (all but stack)": (best(lambda: plan._box(box, xs, buf, u, y)), 0.0, 0.0),
        }
    out = {}
    for key, (seconds, moved, flops) in timed.items():
        scale = 1.0 if key == "stack" else per_item
        out[key] = (seconds * scale, moved * scale, flops * scale)
    box_s = out.pop("box (all but stack)")[0]
    out["A^T M + write y"] = (box_s - sum(out[k][0] for k in ("gather X", "B^T X", "GEMMs")),
                              (a + lay.m) * co * t * it * per_item, 2.0 * lay.m * a * co * t * per_item)
    return out


def main(workloads: list[str]) -> None:
    bandwidth, rate = machine()
    print(f"one core: L2 copy {bandwidth / 1e9:.1f} GB/s (read+write), sgemm 1024^3 {rate / 1e9:.0f} GFLOP/s")
    for workload in workloads:
        for m in TILES:
            name = tile_algorithm(m).name
            if registry.get(name).supports(next(w for w in SUITE if w.name == workload).spec()) is not None:
                continue
            rows = passes(name, workload)
            total = sum(s for s, _, _ in rows.values())
            print(f"{workload} {name}: {total * 1e3:.3f} ms per item on one core")
            for key, (s, moved, flops) in rows.items():
                floor = max(moved / bandwidth, flops / rate)
                print(f"  {key:16s} {s * 1e3:7.3f} ms  {moved / 1e6:6.2f} MB  {flops / 1e6:7.1f} MFLOP  "
                      f"roofline {floor * 1e3:6.3f} ms ({s / floor if floor else float('nan'):4.1f}x)")


if __name__ == "__main__":
    main(sys.argv[1:] or ["dense_k3_L4096", "dense_k3_C256", "wavenet_k3_d8", "wavenet_k3_d256", "wavenet_k2_d256"])
