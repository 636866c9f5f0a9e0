"""What the non-finite check costs on the suite (issue 7: must stay under 3 % of a call).

For every suite workload the planner's own choice (``auto``) runs forward; the
check is one dot product over the raw output, and only for algorithms that are
not ``local_nonfinite``.  Because a 1 % effect drowns in the ±20 % noise of a
shared machine, the script times the check itself (``planner.cache._finite_sum`` on
the real output, median of 15) and divides by the median call time (check
included); it also reports the interleaved on/off call medians for reference.

Run: ``python benchmarks/check_finite_cost.py [results/check-finite-cost.json]``
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from lucid import algos
from lucid.algos import planner, registry
from lucid.bench.timing import clock
from lucid.suite import SUITE


def _median_seconds(call, repeats: int) -> float:
    return statistics.median(clock(call)[0] for _ in range(repeats))


def _row(name: str, spec, x: np.ndarray, w: np.ndarray, algorithm: str, forced: str | None) -> dict:
    checked = not registry.get(algorithm).local_nonfinite
    y = planner.execute("forward", spec, x, w, algorithm=forced)
    check_s = _median_seconds(lambda: planner.cache._finite_sum(y), 15) if checked else 0.0
    on, off = [], []
    for _ in range(5):                           # interleaved on/off calls
        for flag, bucket in ((True, on), (False, off)):
            with algos.use(check_finite=flag):
                bucket.append(_median_seconds(lambda: planner.execute("forward", spec, x, w, algorithm=forced), 1))
            time.sleep(0.13)
    call_s = statistics.median(on)
    row = {"workload": name, "algorithm": algorithm, "forced": forced is not None, "checked": checked,
           "check_ms": round(check_s * 1e3, 4), "call_ms": round(call_s * 1e3, 3),
           "check_share_pct": round(100 * check_s / call_s, 3),
           "call_on_off_ratio": round(call_s / statistics.median(off), 3)}
    print(f"{name:18s} {algorithm:9s}{' (forced)' if forced else ' (auto)  '} check {check_s * 1e3:7.3f} ms of "
          f"{call_s * 1e3:8.2f} ms = {100 * check_s / call_s:5.2f} %   (on/off {row['call_on_off_ratio']:.3f})",
          flush=True)
    return row


def main(path: str | None = None) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for workload in SUITE:
        spec = workload.spec()
        x = rng.standard_normal(spec.input_shape).astype(np.float32)
        w = rng.standard_normal(spec.weight_shape).astype(np.float32)
        chosen = algos.choose(spec)
        spreading = [a.name for a in registry.algorithms()
                     if not a.local_nonfinite and a.name != chosen and a.supports(spec) is None]
        for forced in [None] + spreading:        # the planner's pick, and every checked algorithm forced
            rows.append(_row(workload.name, spec, x, w, forced or chosen, forced))
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"fingerprint": algos.fingerprint(), "rows": rows}, handle, indent=1)
    return rows


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
