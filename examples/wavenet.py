"""A gated WaveNet learns next-sample prediction on a synthetic audio-like signal.

The stack of van den Oord et al. (2016): a 1x1 input convolution, then one
gated residual block per dilation 1, 2, 4, ..., 512 (receptive field 1024
samples), each

    h = causal dilated conv, K=2 (C -> 2C)      left-padded by the dilation
    z = tanh(h_filter) * sigmoid(h_gate)
    x = x + conv1x1_residual(z);  skip += conv1x1_skip(z)

and the output ReLU -> 1x1 -> ReLU -> 1x1 on the sum of the skips.  The
objective is next-sample regression (MSE), trained with Adam.  Every
convolution goes through lucid's planner; the last lines say which algorithm
it chose for each layer shape (``--report``: and why).

    python examples/wavenet.py          # 60 steps, about 15 s on 2 cores
    python examples/wavenet.py --report
"""
from __future__ import annotations

import argparse

import numpy as np

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.optim as optim

DILATIONS = tuple(2 ** i for i in range(10))      # 1 ... 512
SIZES = dict(channels=16, skip_channels=16, dilations=DILATIONS, batch=2, length=1024)


class GatedResidualBlock(nn.Module):
    """Causal dilated K=2 convolution, tanh * sigmoid gate, 1x1 residual and skip convolutions."""

    def __init__(self, channels, skip_channels, dilation, dtype=None):
        super().__init__()
        self.channels, self.dilation = channels, dilation
        self.dilated = nn.Conv1d(channels, 2 * channels, kernel_size=2, dilation=dilation, dtype=dtype)
        self.residual = nn.Conv1d(channels, channels, kernel_size=1, dtype=dtype)
        self.skip = nn.Conv1d(channels, skip_channels, kernel_size=1, dtype=dtype)

    def forward(self, x):
        h = self.dilated(F.pad(x, (self.dilation, 0)))           # causal: pad the past only
        filter_, gate = h.chunk(2, dim=1)                          # split once: one gradient buffer for h
        z = lucid.tanh(filter_) * lucid.sigmoid(gate)
        return x + self.residual(z), self.skip(z)


class WaveNet(nn.Module):
    """``(N, 1, L)`` signal -> ``(N, 1, L)`` prediction of the next sample at every step."""

    def __init__(self, channels=16, skip_channels=16, dilations=DILATIONS, dtype=None):
        super().__init__()
        self.input = nn.Conv1d(1, channels, kernel_size=1, dtype=dtype)
        self.blocks = nn.Sequential(*[GatedResidualBlock(channels, skip_channels, d, dtype) for d in dilations])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(skip_channels, skip_channels, 1, dtype=dtype),
                                  nn.ReLU(), nn.Conv1d(skip_channels, 1, 1, dtype=dtype))

    def forward(self, x):
        x = self.input(x)
        skips = 0
        for block in self.blocks:
            x, skip = block(x)
            skips = skips + skip
        return self.head(skips)


def make_data(batch=2, length=1024, seed=0, dtype=lucid.float32):
    """Audio-like signals: a random pitch with decaying harmonics, vibrato, an envelope and a little noise.

    Returns ``(inputs, targets)`` of shape ``(batch, 1, length)``: targets are the inputs one sample later.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(length + 1)
    pitch = rng.uniform(0.004, 0.02, (batch, 1, 1)) * (1 + 0.01 * np.sin(2 * np.pi * t / rng.uniform(300, 900)))
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(pitch, (batch, 1, length + 1)), axis=-1)
    signal = sum(rng.uniform(0.2, 1.0, (batch, 1, 1)) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
                 for k in range(1, 5))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * t / length + rng.uniform(0, 2 * np.pi, (batch, 1, 1)))
    signal = signal * envelope + 0.01 * rng.standard_normal((batch, 1, length + 1))
    signal = signal / signal.std()
    return lucid.tensor(signal[..., :-1], dtype=dtype), lucid.tensor(signal[..., 1:], dtype=dtype)


def loss_fn(model, data):
    """Mean squared error of the next-sample prediction."""
    inputs, targets = data
    return F.mse_loss(model(inputs), targets)


def build(seed=0, channels=16, skip_channels=16, dilations=DILATIONS, batch=2, length=1024, dtype=lucid.float32):
    """A freshly initialised model (seeded) and its training batch."""
    lucid.manual_seed(seed)
    model = WaveNet(channels, skip_channels, dilations, dtype=dtype)
    return model, make_data(batch, length, seed, dtype)


def fit(model, data, steps, lr=3e-3, log_every=0):
    """``steps`` Adam steps on ``data``; returns the loss before each step."""
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        opt.zero_grad()
        loss = loss_fn(model, data)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d}  loss {losses[-1]:.5f}", flush=True)
    return losses


def train(steps=60, seed=0, lr=3e-3, log_every=0, **sizes):
    """Build the model (sizes as :func:`build`) and train it; returns the losses."""
    model, data = build(seed, **sizes)
    return fit(model, data, steps, lr, log_every)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="print the planner's full report (every candidate "
                        "and why) instead of one line per layer shape")
    report = parser.parse_args(argv).report
    print(f"WaveNet, dilations 1..512, sizes {SIZES}: next-sample MSE")
    losses = train(log_every=10, **SIZES)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}\n")
    print(lucid.algos.report() if report else lucid.algos.summary() + "\n(--report: every candidate and why)")


if __name__ == "__main__":
    main()
