"""Throughput of a long-kernel filterbank over a multi-GiB signal: ``lucid.dask.conv1d`` against
``dask.array.map_overlap`` with ``scipy.signal.oaconvolve`` in each block (the dask-image way).

Both run the same depthwise filterbank (C channels, one K = 1025 tap filter each, ``'same'``
zero padding: ``map_overlap`` with ``depth = 512`` and ``boundary = 0``) over the same lazily
generated float32 signal, on the same chunks and the threaded scheduler with 2 workers, and
reduce it to the mean of squares per channel.  Timing: the two pipelines alternate in rounds
(rotated order, :func:`lucid.bench.timing.block_timing`, one warm-up run each); the reported
ratio is the median of the per-round ratios.  Both results are checked to agree on slices
(the two edges and across a chunk boundary), and the reductions to agree.

It then runs the issue's out-of-core acceptance, ``benchmarks/dask_out_of_core.py 4`` (a 4 GiB
signal filtered and reduced; peak RSS must stay under half of it), in a subprocess.

Run: ``PYTHONPATH=. python benchmarks/dask_filterbank.py [--gib 2] [--rounds 3]``; writes
``results/dask-filterbank.json``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from scipy.signal import oaconvolve

import lucid.dask
from lucid.bench.timing import block_timing

ROOT = Path(__file__).resolve().parents[1]
CHANNELS, KERNEL, PERIOD = 8, 1025, 4099
CHUNK = 1 << 21                     # samples per channel per chunk: 64 MiB chunks of 8 channels


def _noise_block(block_info=None) -> np.ndarray:
    """Samples ``[start, stop)`` of a seeded noise of period ``PERIOD`` (cheap to generate lazily)."""
    (_, _), (_, _), (start, stop) = block_info[None]["array-location"]
    period = np.random.default_rng(0).standard_normal((CHANNELS, PERIOD)).astype(np.float32)
    rolled = np.roll(period, -(start % PERIOD), axis=-1)
    return np.tile(rolled, (1, -(-(stop - start) // PERIOD)))[None, :, :stop - start]


def filterbank() -> np.ndarray:
    """``(C, 1, K)``: Hann-windowed band-pass filters, one octave band per channel."""
    t = np.arange(KERNEL) - KERNEL // 2
    window = np.hanning(KERNEL)
    bands = [(0.25 / 2**c, 0.5 / 2**c) for c in range(CHANNELS)]
    taps = [window * (np.sinc(2 * high * t) * 2 * high - np.sinc(2 * low * t) * 2 * low) for low, high in bands]
    return np.array(taps, np.float32)[:, None, :]


def _oaconvolve_block(block: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    return oaconvolve(block, flipped, mode="same", axes=-1).astype(np.float32, copy=False)


def pipelines(gib: float) -> tuple[dict[str, da.Array], da.Array]:
    """The two filtered signals (lazy) and the input."""
    length = int(gib * 2**30) // (4 * CHANNELS)
    x = da.map_blocks(_noise_block, dtype=np.float32, chunks=((1,), (CHANNELS,), da.core.normalize_chunks(
        CHUNK, (length,))[0]), meta=np.empty((0, 0, 0), np.float32))
    w = filterbank()
    half = KERNEL // 2
    return {"lucid.dask.conv1d": lucid.dask.conv1d(x, w, padding="same", groups=CHANNELS),
            "map_overlap+oaconvolve": x.map_overlap(_oaconvolve_block, depth={0: 0, 1: 0, 2: half},
                                                    boundary={2: 0}, flipped=w[None, :, 0, ::-1],
                                                    dtype=np.float32)}, x


def agreement(outputs: dict[str, da.Array]) -> dict[str, float]:
    """Largest relative difference of the two results on three slices: both edges and a chunk boundary."""
    ours, theirs = outputs.values()
    length = ours.shape[-1]
    slices = {"start": slice(0, 4096), "chunk_boundary": slice(CHUNK - 2048, CHUNK + 2048),
              "end": slice(length - 4096, length)}
    out = {}
    for name, where in slices.items():
        a, b = da.compute(ours[..., where], theirs[..., where], scheduler="threads")
        out[name] = float(np.abs(a - b).max() / np.abs(b).max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0, help="signal size in GiB (default 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--acceptance-gib", type=float, default=4.0, help="out-of-core run size, 0 to skip")
    parser.add_argument("--json", default=str(ROOT / "results" / "dask-filterbank.json"))
    args = parser.parse_args()
    outputs, x = pipelines(args.gib)
    checks = agreement(outputs)
    means = {name: (y.astype(np.float64) ** 2).mean(axis=(0, 2)) for name, y in outputs.items()}
    reduced: dict[str, np.ndarray] = {}

    def run(name: str):
        def call() -> None:
            with dask.config.set(scheduler="threads", num_workers=2):
                reduced[name] = means[name].compute()
        return call

    timing = block_timing({name: run(name) for name in outputs}, args.rounds, min_block_s=0.0, min_rounds=1,
                          spinning=())
    seconds = {name: statistics.median(t["per_call_s"]) for name, t in timing.items()}
    ours, theirs = outputs
    ratios = [b / a for a, b in zip(timing[ours]["per_call_s"], timing[theirs]["per_call_s"])]
    result = {
        "signal": {"shape": list(x.shape), "dtype": "float32", "bytes": x.nbytes, "chunk_bytes": 4 * CHANNELS * CHUNK},
        "filterbank": {"channels": CHANNELS, "kernel_size": KERNEL, "groups": CHANNELS, "padding": "same"},
        "scheduler": "threads, 2 workers", "rounds": args.rounds,
        "seconds_per_run": timing, "median_seconds": seconds,
        "gb_per_s": {name: x.nbytes / s / 1e9 for name, s in seconds.items()},
        "speedup_lucid_over_map_overlap": {"median_of_round_ratios": statistics.median(ratios), "per_round": ratios},
        "agreement_max_rel_diff": checks,
        "mean_square_rel_diff": float(np.max(np.abs(reduced[ours] - reduced[theirs]) / reduced[theirs])),
    }
    if args.acceptance_gib:
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dask_out_of_core.py"),
                               str(args.acceptance_gib)], capture_output=True, text=True, check=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        accepted = json.loads(done.stdout.strip().splitlines()[-1])
        accepted["peak_rss_under_half"] = accepted["peak_rss_bytes"] < accepted["signal_bytes"] / 2
        result["out_of_core_acceptance"] = accepted
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("gb_per_s", "speedup_lucid_over_map_overlap", "agreement_max_rel_diff",
                                             "mean_square_rel_diff")}, indent=1))


if __name__ == "__main__":
    main()
