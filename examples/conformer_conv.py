"""The Conformer's convolution module learns to denoise multichannel signals.

The module of Gulati et al. (2020), on features laid out ``(N, L, C)`` as in a
Transformer::

    h = LayerNorm(x)                       over the C features of each step
    a, b = pointwise conv (C -> 2C)        split in two halves
    h = a * sigmoid(b)                     GLU gate
    h = SiLU(depthwise conv K=31, 'same')  one 31-tap filter per channel
    y = x + pointwise conv (C -> C)(h)     residual

(the original has a BatchNorm before the SiLU; it is left out here).  The
task: smooth random signals buried in white noise, the target the clean
signal, the loss MSE.  The residual path starts at the identity, whose loss is
the noise power; training must go well below it.

    python examples/conformer_conv.py [--report]
"""
from __future__ import annotations

import argparse

import numpy as np

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.optim as optim

SIZES = dict(channels=64, kernel_size=31, batch=8, length=512)
NOISE = 0.5


class ConformerConvModule(nn.Module):
    """``(N, L, C) -> (N, L, C)``: LayerNorm, pointwise conv + GLU, depthwise conv, SiLU, pointwise conv, residual."""

    def __init__(self, channels=64, kernel_size=31, dropout=0.0, dtype=None):
        super().__init__()
        self.channels = channels
        self.norm = nn.LayerNorm(channels, dtype=dtype)
        self.pointwise_in = nn.Conv1d(channels, 2 * channels, 1, dtype=dtype)
        self.depthwise = nn.Conv1d(channels, channels, kernel_size, padding="same", groups=channels, dtype=dtype)
        self.pointwise_out = nn.Conv1d(channels, channels, 1, dtype=dtype)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        h = self.pointwise_in(self.norm(x).transpose(1, 2))           # (N, 2C, L): convolutions want channels first
        h = F.glu(h, dim=1)                                            # first half * sigmoid(second half)
        h = self.pointwise_out(F.silu(self.depthwise(h)))
        return x + self.dropout(h).transpose(1, 2)


def make_data(batch=8, length=512, channels=64, seed=0, dtype=lucid.float32):
    """``(noisy, clean)`` of shape ``(batch, length, channels)``: smooth unit-power signals plus white noise."""
    rng = np.random.default_rng(seed)
    taps = np.exp(-0.5 * (np.arange(-24, 25) / 6.0) ** 2)            # a Gaussian low-pass filter
    white = rng.standard_normal((batch, channels, length + len(taps) - 1))
    clean = np.apply_along_axis(lambda row: np.convolve(row, taps, mode="valid"), -1, white)
    clean = (clean / clean.std()).transpose(0, 2, 1)
    noisy = clean + NOISE * rng.standard_normal(clean.shape)
    return lucid.tensor(noisy, dtype=dtype), lucid.tensor(clean, dtype=dtype)


def loss_fn(model, data):
    """Mean squared error between the denoised and the clean signal."""
    noisy, clean = data
    return F.mse_loss(model(noisy), clean)


def build(seed=0, channels=64, kernel_size=31, batch=8, length=512, dtype=lucid.float32):
    """A freshly initialised module (seeded) and its training batch."""
    lucid.manual_seed(seed)
    model = ConformerConvModule(channels, kernel_size, dtype=dtype)
    return model, make_data(batch, length, channels, seed, dtype)


def fit(model, data, steps, lr=1e-2, log_every=0):
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
            print(f"step {step:4d}  loss {losses[-1]:.4f}", flush=True)
    return losses


def train(steps=80, seed=0, lr=1e-2, log_every=0, **sizes):
    """Build the module (sizes as :func:`build`) and train it; returns the losses."""
    model, data = build(seed, **sizes)
    return fit(model, data, steps, lr, log_every)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="print the planner's full report (every candidate "
                        "and why) instead of one line per layer shape")
    report = parser.parse_args(argv).report
    print(f"Conformer convolution module, sizes {SIZES}: denoising MSE (the noisy input scores {NOISE ** 2:.3f})")
    model, data = build(**SIZES)
    losses = fit(model, data, 80, log_every=10)
    with lucid.no_grad():
        test = make_data(SIZES["batch"], SIZES["length"], SIZES["channels"], seed=1)
        held_out = loss_fn(model.eval(), test).item()
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; on held-out signals {held_out:.4f} "
          f"({held_out / NOISE ** 2:.0%} of the noise power left)\n")
    print(lucid.algos.report() if report else lucid.algos.summary() + "\n(--report: every candidate and why)")


if __name__ == "__main__":
    main()
