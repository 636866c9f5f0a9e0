"""Stream a causal model over a live signal in 256-sample chunks, and check it against the offline run.

The model is a small causal WaveNet-style denoiser: causal dilated K=3
convolutions (``padding="causal"``), tanh * sigmoid gates, residual 1x1s, a
stride-2 down-sampling convolution.  ``lucid.nn.streaming(model)`` makes each
convolution keep the history its next outputs need, so feeding the signal
chunk by chunk gives exactly the offline output.  Each chunk's convolutions go
through the planner like any call (one plan per chunk shape).

    python examples/streaming.py          # a few seconds
"""
from __future__ import annotations

import time

import numpy as np

import lucid
import lucid.nn as nn

RATE = 16_000           # samples per second of the synthetic signal
CHUNK = 256             # 16 ms at 16 kHz


class GatedBlock(nn.Module):
    """A causal dilated convolution, a tanh * sigmoid gate and a residual 1x1."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.dilated = nn.Conv1d(channels, 2 * channels, 3, dilation=dilation, padding="causal")
        self.residual = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        filter_, gate = self.dilated(x).chunk(2, dim=1)
        return x + self.residual(filter_.tanh() * gate.sigmoid())


def build(channels: int = 32, seed: int = 0) -> nn.Module:
    """The causal model: (N, 1, L) -> (N, 1, ceil(L / 2))."""
    lucid.manual_seed(seed)
    return nn.Sequential(nn.Conv1d(1, channels, 1), *[GatedBlock(channels, 2 ** i) for i in range(8)],
                         nn.Conv1d(channels, channels, 4, stride=2, padding="causal"), nn.ReLU(),
                         nn.Conv1d(channels, 1, 1))


def stream(model: nn.Module, signal: lucid.Tensor, chunk: int = CHUNK) -> tuple[lucid.Tensor, float]:
    """``model`` over ``signal`` chunk by chunk; returns the joined output and the seconds it took."""
    start = time.perf_counter()
    with lucid.no_grad(), nn.streaming(model):
        parts = [model(signal[..., i:i + chunk]) for i in range(0, signal.shape[-1], chunk)]
    return lucid.cat(parts, dim=-1), time.perf_counter() - start


def main() -> None:
    model = build()
    t = np.arange(4 * RATE) / RATE
    rng = np.random.default_rng(0)
    signal = lucid.tensor((np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(t.size))[None, None],
                          dtype=lucid.float32)
    start = time.perf_counter()
    with lucid.no_grad():
        offline = model(signal)
    offline_s = time.perf_counter() - start
    streamed, streamed_s = stream(model, signal)
    seconds = signal.shape[-1] / RATE
    print(f"{seconds:.1f} s of audio at {RATE} Hz in {CHUNK}-sample chunks ({1e3 * CHUNK / RATE:.0f} ms each)")
    print(f"offline:  {offline_s:.3f} s (real-time factor {offline_s / seconds:.3f})")
    print(f"streamed: {streamed_s:.3f} s (real-time factor {streamed_s / seconds:.3f})")
    print(f"largest difference streamed vs offline: {float(abs(streamed - offline).max()):.2e}")


if __name__ == "__main__":
    main()
