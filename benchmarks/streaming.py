"""What streaming costs (issue #26), block-timed in one process.

1. **A causal model streamed in 1024-sample chunks vs offline**:
   ``examples/streaming.py``'s gated, dilated causal stack (C=32, K=3,
   dilations 1..128, a stride-2 down-sampling convolution) over 2**17
   samples, once on the whole signal and once chunk by chunk inside
   ``lucid.nn.streaming``; the ratio streamed / offline (target
   <= 1.5).
2. **A depthwise FIR filter bank streamed in 512-sample chunks vs PyTorch**: 8
   channels, K=1025, causal.  lucid streams it (history kept by the layer, the
   planner picking the algorithm for the chunk-plus-history shape); PyTorch
   runs ``conv1d`` on each chunk with its 1024-sample history, the same
   arithmetic (target: lucid >= 2.5x faster).

Method: :func:`lucid.bench.timing.block_timing` (blocks >= 50 ms of
back-to-back calls, order rotated per round, a pause after PyTorch's blocks,
median of per-round ratios).  Run: ``python benchmarks/streaming.py [--json PATH]``.
"""
from __future__ import annotations

import argparse
import json
import statistics

import numpy as np

import lucid
import lucid.nn as nn
from lucid.bench.model_zoo import load_example
from lucid.bench.timing import block_timing, raise_mmap_threshold

SAMPLES = 2 ** 17


def causal_model(channels: int = 32) -> nn.Module:
    """The streamed model of part 1: ``examples/streaming.py``'s causal gated stack."""
    return load_example("streaming").build(channels=channels)


def _streamed(module: nn.Module, x: lucid.Tensor, chunk: int):
    def run():
        with lucid.no_grad(), nn.streaming(module):
            return [module(x[..., i:i + chunk]) for i in range(0, x.shape[-1], chunk)]
    return run


def model_vs_offline(rounds: int) -> dict:
    model = causal_model()
    x = lucid.randn(1, 1, SAMPLES)

    def offline():
        with lucid.no_grad():
            return model(x)
    streamed = _streamed(model, x, 1024)
    got = lucid.cat(streamed(), dim=-1).data
    error = float(np.abs(got - offline().data).max())
    timed = block_timing({"streamed": streamed, "offline": offline}, rounds, spinning=())
    ratios = [a / b for a, b in zip(timed["streamed"]["per_call_s"], timed["offline"]["per_call_s"])]
    return {"samples": SAMPLES, "chunk": 1024, "max_abs_difference": error, "ratio_streamed_over_offline":
            statistics.median(ratios), "streamed_ms": 1e3 * statistics.median(timed["streamed"]["per_call_s"]),
            "offline_ms": 1e3 * statistics.median(timed["offline"]["per_call_s"])}


def fir_vs_torch(rounds: int, chunks: int = 64) -> dict:
    lucid.manual_seed(1)
    fir = nn.Conv1d(8, 8, 1025, groups=8, padding="causal", bias=False)
    x = lucid.randn(1, 8, 512 * chunks)
    methods = {"lucid": _streamed(fir, x, 512)}
    out: dict = {"channels": 8, "kernel_size": 1025, "chunk": 512, "chunks": chunks}
    try:
        import torch
    except ImportError:
        out["torch"] = "not installed"
    else:
        torch.set_num_threads(lucid.get_num_threads())
        w = torch.tensor(fir.weight.data)
        padded = torch.nn.functional.pad(torch.tensor(x.data), (1024, 0))

        def torch_chunks():
            with torch.no_grad():
                return [torch.nn.functional.conv1d(padded[..., i:i + 512 + 1024], w, groups=8)
                        for i in range(0, 512 * chunks, 512)]
        methods["torch"] = torch_chunks
        want = np.concatenate([t.numpy() for t in torch_chunks()], axis=-1)
        out["max_abs_difference"] = float(np.abs(lucid.cat(methods["lucid"](), dim=-1).data - want).max())
    timed = block_timing(methods, rounds)
    out["lucid_us_per_chunk"] = 1e6 * statistics.median(timed["lucid"]["per_call_s"]) / chunks
    if "torch" in timed:
        out["torch_us_per_chunk"] = 1e6 * statistics.median(timed["torch"]["per_call_s"]) / chunks
        out["torch_over_lucid"] = statistics.median(
            b / a for a, b in zip(timed["lucid"]["per_call_s"], timed["torch"]["per_call_s"]))
    out["planner"] = sorted({f"{r['op']}: {r['algorithm']}" for r in lucid.algos.records() if "K1025" in r["key"]})
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", metavar="PATH", help="write the results there (default: print only)")
    args = parser.parse_args(argv)
    raise_mmap_threshold()
    doc = {"model_vs_offline": model_vs_offline(args.rounds), "fir_vs_torch": fir_vs_torch(args.rounds)}
    print(json.dumps(doc, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    return doc


if __name__ == "__main__":
    main()
