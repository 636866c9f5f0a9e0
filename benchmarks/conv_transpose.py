"""``F.conv_transpose1d`` against ``torch.nn.functional.conv_transpose1d`` on the decoder layers of issue #24.

Seven up-sampling layers of audio decoders (HiFi-GAN's three, Demucs', EnCodec's,
Conv-TasNet's decoder and an iSTFT-like synthesis filterbank), float32, each
timed two ways on both sides:

``forward``
    ``y = conv_transpose1d(x, w, b)`` without recording a graph (``lucid.no_grad``,
    ``torch.no_grad``);
``train``
    a layer's training step: the forward with ``x``, ``w`` and ``b`` requiring
    gradients, then ``y.backward(g)`` (input, weight and bias gradients), the
    gradients reset to ``None`` first.

Method: :func:`lucid.bench.timing.block_timing` -- after one warm-up call per
method, blocks of back-to-back calls of at least 50 ms, one block of every
method per round in rotated order, 0.15 s pause after each torch block (its
OpenMP workers spin); a 64 MiB array is freed first (glibc's mmap threshold,
both sides warm).  The figure is the **median of the per-round ratios** lucid /
torch.  PyTorch runs on as many threads as lucid's pool.  The planner's choice
of each of the three problems (``called_as`` in the records) is printed too.

Run: ``PYTHONPATH=. python benchmarks/conv_transpose.py [--rounds R] [--only NAME ...] [--mode measure]
[--json PATH]``
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import asdict, dataclass

import numpy as np

import lucid
import lucid.nn.functional as F
from lucid import algos
from lucid.bench.timing import block_timing, raise_mmap_threshold, round_ratios


@dataclass(frozen=True)
class Layer:
    """One transposed-convolution layer: ``(N, C_in, L) -> (N, C_out, L_out)``."""

    name: str
    n: int
    c_in: int
    c_out: int
    length: int
    kernel_size: int
    stride: int
    padding: int = 0

    @property
    def l_out(self) -> int:
        return (self.length - 1) * self.stride - 2 * self.padding + self.kernel_size


#: The issue's decoder shapes.
LAYERS = (
    Layer("hifigan_up1", 4, 512, 256, 64, 16, 8, 4),
    Layer("hifigan_up2", 4, 256, 128, 512, 16, 8, 4),
    Layer("hifigan_up3", 4, 128, 64, 4096, 4, 2, 1),
    Layer("demucs_decoder", 4, 256, 128, 1024, 8, 4),
    Layer("encodec_up", 4, 128, 64, 2048, 16, 8, 4),
    Layer("convtasnet_decoder", 8, 512, 1, 2000, 16, 8),
    Layer("istft_synthesis", 4, 257, 1, 400, 512, 128),
)


def _methods(layer: Layer, torch) -> dict:
    """The four timed calls of ``layer``, sharing one set of float32 operands."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((layer.n, layer.c_in, layer.length)).astype(np.float32)
    w = (rng.standard_normal((layer.c_in, layer.c_out, layer.kernel_size)) / np.sqrt(layer.c_in)).astype(np.float32)
    b = rng.standard_normal(layer.c_out).astype(np.float32)
    g = rng.standard_normal((layer.n, layer.c_out, layer.l_out)).astype(np.float32)
    args = dict(stride=layer.stride, padding=layer.padding)
    lx, lw, lb = (lucid.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b))
    tg = torch.from_numpy(g)

    def lucid_forward():
        with lucid.no_grad():
            return F.conv_transpose1d(lx, lw, lb, **args)

    def torch_forward():
        with torch.no_grad():
            return torch.nn.functional.conv_transpose1d(tx, tw, tb, **args)

    def lucid_train():
        lx.grad = lw.grad = lb.grad = None
        F.conv_transpose1d(lx, lw, lb, **args).backward(g)

    def torch_train():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv_transpose1d(tx, tw, tb, **args).backward(tg)

    return {"forward": (lucid_forward, torch_forward), "train": (lucid_train, torch_train)}


def _picks() -> dict[str, str]:
    """``called_as -> algorithm`` of the records so far."""
    return {r["called_as"]: r["algorithm"] for r in algos.records() if r["called_as"]}


def measure(layer: Layer, rounds: int, torch) -> dict:
    """Time forward and train of ``layer`` on both sides; one JSON-ready row."""
    algos.clear_records()
    row: dict = {**asdict(layer), "l_out": layer.l_out}
    for kind, (mine, theirs) in _methods(layer, torch).items():
        mine()
        theirs()
        timed = block_timing({"lucid": mine, "torch": theirs}, rounds)
        lucid_s, torch_s = timed["lucid"]["per_call_s"], timed["torch"]["per_call_s"]
        row[kind] = {"lucid_ms": statistics.median(lucid_s) * 1e3, "torch_ms": statistics.median(torch_s) * 1e3,
                     "ratio": round_ratios(lucid_s, torch_s), "ratio_per_round": [a / b for a, b in
                                                                                zip(lucid_s, torch_s)]}
    row["planner"] = _picks()
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per layer and kind (default 7)")
    parser.add_argument("--only", nargs="+", choices=[layer.name for layer in LAYERS], help="these layers only")
    parser.add_argument("--mode", choices=("heuristic", "measure"), default="heuristic",
                        help="the planner's mode (default heuristic; measure races the candidates once per problem)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("benchmarks/conv_transpose.py compares with PyTorch: pip install torch")
    torch.set_num_threads(lucid.get_num_threads())
    raise_mmap_threshold()
    rows = []
    print(f"{'layer':20s} {'fwd lucid':>10s} {'torch':>8s} {'ratio':>6s} | {'train lucid':>11s} {'torch':>8s} "
          f"{'ratio':>6s} | planner: forward (backward_data), grad_input (forward), grad_weight (backward_filter)")
    for layer in LAYERS:
        if args.only and layer.name not in args.only:
            continue
        with algos.use(mode=args.mode):
            row = measure(layer, args.rounds, torch)
        rows.append(row)
        fwd, train, picks = row["forward"], row["train"], row["planner"]
        print(f"{layer.name:20s} {fwd['lucid_ms']:8.2f}ms {fwd['torch_ms']:6.2f}ms {fwd['ratio']:6.2f} | "
              f"{train['lucid_ms']:9.2f}ms {train['torch_ms']:6.2f}ms {train['ratio']:6.2f} | "
              + ", ".join(picks.get(name, "-") for name in ("conv_transpose1d", "conv_transpose1d.grad_input",
                                                             "conv_transpose1d.grad_weight")), flush=True)
    if args.json:
        doc = {"threads": lucid.get_num_threads(), "rounds": args.rounds, "mode": args.mode,
               "fingerprint": algos.fingerprint(),
               "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None, "rows": rows}
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1)
    return rows


if __name__ == "__main__":
    main()
