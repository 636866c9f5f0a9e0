"""Memory under shape churn (issue #13): random shapes, forward and backward, RSS every 100 calls.

The loop of the issue: K 1-257, C up to 64, N up to 4, L up to 6,000, strides,
dilations, groups and depthwise layers, no operand over 6 MB; every call runs
the forward pass and both backward passes in auto mode.  When PyTorch is
installed it is the oracle, in the same process: the output and both gradients
of every call are compared with torch's float64 result (relative Frobenius
error; float32 tolerance 1e-4, as the conditioning of K*C-long sums allows).

Run: ``python benchmarks/soak_memory.py [--calls 1500] [--seed 0] [--json results/soak-memory.json]``
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

import lucid
import lucid.nn.functional as F
from lucid import algos

#: Bytes of unfolded input the oracle's float64 convolution may build at once.
ORACLE_CHUNK_BYTES = 32 << 20
#: Relative error allowed against the float64 oracle (float32 sums of up to 64*257 terms).
TOLERANCE = 1e-4


def _status_mb(field: str) -> float | None:
    """``field`` (``VmRSS``, ``VmHWM``) of Linux's /proc/self/status in MB, or None elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB: Linux's VmHWM, which starts afresh at
    exec (``ru_maxrss`` keeps the high-water mark of the parent that forked it), else ru_maxrss."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 1024 if sys.platform != "darwin" else maxrss / 2**20


def rss_mb() -> float:
    """Resident set size of this process now, in MB (the peak where /proc is missing)."""
    now = _status_mb("VmRSS")
    return peak_rss_mb() if now is None else now


def random_call(rng: np.random.Generator) -> dict:
    """One configuration of the issue's loop (rejection-sampled until valid and small)."""
    while True:
        k = int(rng.integers(1, 258))
        dilation, stride = int(rng.choice([1, 1, 2, 4, 8])), int(rng.choice([1, 1, 2, 3]))
        if rng.random() < 0.2:
            groups = c_in = c_out = int(rng.integers(1, 65))
        else:
            groups = int(rng.choice([1, 1, 2, 4]))
            c_in, c_out = groups * int(rng.integers(1, 17)), groups * int(rng.integers(1, 17))
        n, length, padding = int(rng.integers(1, 5)), int(rng.integers(1, 6001)), int(rng.integers(0, k))
        if (length + 2 * padding >= dilation * (k - 1) + 1 and n * c_in * length * 4 <= 6e6
                and c_out * (c_in // groups) * k * 4 <= 6e6):
            return dict(n=n, c_in=c_in, c_out=c_out, length=length, k=k, stride=stride, padding=padding,
                        dilation=dilation, groups=groups)


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """Frobenius-norm relative error (0 for two zero arrays)."""
    scale = float(np.linalg.norm(want))
    return float(np.linalg.norm(got - want)) / scale if scale else float(np.linalg.norm(got))


def torch_oracle(torch, x0: np.ndarray, w0: np.ndarray, dy: np.ndarray, c: dict) -> tuple[np.ndarray, ...]:
    """``(y, dx, dw)`` in float64 by PyTorch, over chunks of output positions.

    torch's float64 CPU convolution unfolds its input (``C_in/g * K * L_out``
    values per sample: 790 MB at C=64, K=257, L=6000), which would dominate the
    RSS this benchmark measures; chunks of :data:`ORACLE_CHUNK_BYTES` keep the
    oracle's own memory small.  Autograd sums the chunks' gradients.
    """
    f = torch.nn.functional
    tx = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    stride, dilation, groups = c["stride"], c["dilation"], c["groups"]
    span = dilation * (c["k"] - 1) + 1
    padded = f.pad(tx, (c["padding"], c["padding"]))
    l_out = dy.shape[-1]
    per_position = 8 * c["n"] * (c["c_in"] // groups) * c["k"] * c["c_out"] // max(1, c["c_out"] // groups)
    chunk = max(1, ORACLE_CHUNK_BYTES // max(1, per_position))
    y = np.empty(dy.shape)
    for t0 in range(0, l_out, chunk):
        t1 = min(l_out, t0 + chunk)
        segment = padded[..., t0 * stride:(t1 - 1) * stride + span]
        part = f.conv1d(segment, tw, stride=stride, dilation=dilation, groups=groups)
        part.backward(torch.from_numpy(dy[..., t0:t1].astype(np.float64)))
        y[..., t0:t1] = part.detach().numpy()
    return y, tx.grad.numpy(), tw.grad.numpy()


def soak(calls: int, seed: int, torch=None) -> dict:
    """Run the loop; return RSS samples, peak, error statistics and the final cache_info()."""
    rng = np.random.default_rng(seed)
    samples, worst, checked = [], 0.0, 0
    peak, jump = peak_rss_mb(), {"mb": 0.0}
    start = time.perf_counter()
    for i in range(1, calls + 1):
        c = random_call(rng)
        x0 = rng.standard_normal((c["n"], c["c_in"], c["length"])).astype(np.float32)
        w0 = rng.standard_normal((c["c_out"], c["c_in"] // c["groups"], c["k"])).astype(np.float32)
        kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=c["groups"])
        x, w = lucid.tensor(x0, requires_grad=True), lucid.tensor(w0, requires_grad=True)
        y = F.conv1d(x, w, **kw)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(dy)
        now = peak_rss_mb()
        if now - peak > jump["mb"]:
            jump = {"mb": round(now - peak, 1), "call": i, "config": c,
                    "algorithms": [r["algorithm"] for r in algos.records()[-3:]]}
        peak = now
        if torch is not None:
            want = torch_oracle(torch, x0, w0, dy, c)
            for got, expected in zip((y, x.grad, w.grad), want):
                worst = max(worst, relative_error(got.numpy().astype(np.float64), expected))
            checked += 1
        if i % 100 == 0 or i == calls:
            samples.append({"calls": i, "rss_mb": round(rss_mb(), 1), "peak_rss_mb": round(peak_rss_mb(), 1),
                            "seconds": round(time.perf_counter() - start, 1)})
    first = next(s for s in samples if s["calls"] >= min(100, calls))
    return {"calls": calls, "seed": seed, "samples": samples,
            "rss_growth_after_first_100_mb": round(max(s["rss_mb"] for s in samples) - first["rss_mb"], 1),
            "peak_rss_mb": samples[-1]["peak_rss_mb"], "oracle": "torch float64" if torch is not None else None,
            "largest_peak_step": jump, "checked_calls": checked, "worst_relative_error": worst, "tolerance": TOLERANCE,
            "cache_info": algos.cache_info()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the figures here (e.g. results/soak-memory.json)")
    parser.add_argument("--no-oracle", action="store_true", help="do not compare with PyTorch")
    args = parser.parse_args(argv)
    torch = None
    if not args.no_oracle:
        try:
            import torch
        except ImportError:
            print("torch not installed: running without the oracle", file=sys.stderr)
    result = soak(args.calls, args.seed, torch)
    for sample in result["samples"]:
        print(f"{sample['calls']:5d} calls  RSS {sample['rss_mb']:7.1f} MB  peak {sample['peak_rss_mb']:7.1f} MB"
              f"  {sample['seconds']:6.1f} s")
    print(f"RSS growth after the first 100 calls: {result['rss_growth_after_first_100_mb']} MB; "
          f"peak {result['peak_rss_mb']} MB; worst error vs {result['oracle']}: {result['worst_relative_error']:.2e}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    return 0 if result["worst_relative_error"] <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
