"""BatchNorm1d's training step (forward + backward) in lucid and in PyTorch, float32 (issue #25).

The issue's acceptance: on ``(32, 64, 1024)`` lucid's step takes at most 1.0x
torch's time.  One step is ``y = bn(x); y.backward(g)`` with ``x`` requiring
grad and the module in training mode (batch statistics, running statistics
updated, gradients of ``x``, ``weight`` and ``bias``); gradients are cleared
before each step.  Both run with their default threads (lucid: the shared
pool of :mod:`lucid.algos._parallel`; torch: its intra-op pool).  Steps are
timed in blocks of back-to-back calls, in rotated order, with an idle pause
after torch's blocks (its OpenMP workers spin; :func:`lucid.bench.timing.block_timing`);
the figure is the median of the per-round ratios lucid / torch.

Run: ``PYTHONPATH=. python benchmarks/batchnorm.py [--shape 32 64 1024] [--rounds 15] [--json PATH]``
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

import lucid
import lucid.nn as nn
from lucid.bench.timing import block_timing, raise_mmap_threshold, round_ratios


def steps(shape: tuple[int, ...], seed: int = 0) -> dict:
    """Zero-argument training steps of lucid's and torch's BatchNorm1d on the same data (checked equal)."""
    import torch

    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape).astype(np.float32)
    g0 = rng.standard_normal(shape).astype(np.float32)
    bn, x, g = nn.BatchNorm1d(shape[1]), lucid.tensor(x0, requires_grad=True), lucid.tensor(g0)
    tbn, tx, tg = torch.nn.BatchNorm1d(shape[1]), torch.tensor(x0, requires_grad=True), torch.tensor(g0)

    def lucid_step():
        x.grad = bn.weight.grad = bn.bias.grad = None
        bn(x).backward(g)
        return x.grad

    def torch_step():
        tx.grad = tbn.weight.grad = tbn.bias.grad = None
        tbn(tx).backward(tg)
        return tx.grad

    got, want = lucid_step().numpy(), torch_step().numpy()
    error = float(np.abs(got - want).max() / np.abs(want).max())
    if error > 1e-4:
        raise AssertionError(f"lucid's input gradient differs from torch's: relative error {error:.2e}")
    return {"lucid": lucid_step, "torch": torch_step}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[32, 64, 1024], help="N C [L]")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", default=None, help="write the result here")
    args = parser.parse_args(argv)
    import torch

    raise_mmap_threshold()
    shape = tuple(args.shape)
    methods = steps(shape)
    for fn in methods.values():
        fn()
    timing = block_timing(methods, args.rounds)
    mine, theirs = timing["lucid"]["per_call_s"], timing["torch"]["per_call_s"]
    result = {"shape": list(shape), "dtype": "float32", "lucid_ms": round(statistics.median(mine) * 1e3, 3),
              "torch_ms": round(statistics.median(theirs) * 1e3, 3), "ratio": round(round_ratios(mine, theirs), 3),
              "rounds": len(mine), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
              "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "load_average": os.getloadavg()[2]}
    print(f"BatchNorm1d training step {shape} float32: lucid {result['lucid_ms']:.2f} ms, torch "
          f"{result['torch_ms']:.2f} ms ({result['torch_threads']} threads), ratio lucid/torch {result['ratio']:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)
    return result


if __name__ == "__main__":
    main()
