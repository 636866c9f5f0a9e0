"""A small HiFi-GAN-style vocoder learns mel -> waveform on synthetic audio, and loads PyTorch-trained weights.

The generator of Kong et al. (2020, HiFi-GAN), module for module and name for
name (so a HiFi-GAN ``state_dict`` loads as it is):

    conv_pre            Conv1d(mel -> C, K=7), weight-normalised
    per stage i         LeakyReLU(0.1) -> ups[i] = ConvTranspose1d(C/2**i -> C/2**(i+1), K=k_i, stride u_i,
                        padding (k_i - u_i)/2), weight-normalised: the signal gets u_i times longer
                        -> the mean of the multi-receptive-field blocks resblocks[i*R + j]
    each resblock       x = x + conv2(lrelu(conv1(lrelu(x)))) for each dilation, conv1 dilated,
                        K = 3, 7, 11 (HiFi-GAN's ResBlock1)
    conv_post           LeakyReLU(0.01) -> Conv1d(C/2**S -> 1, K=7), weight-normalised -> tanh

Every weight is ``nn.utils.weight_norm``-ed, as in HiFi-GAN's checkpoints
(``weight_g`` / ``weight_v``); :meth:`Generator.remove_weight_norm` folds them
back for inference.  The task is synthetic: audio-like waveforms (harmonics of
a drifting pitch under an envelope) and their log-mel-like spectrogram (Hann
window, magnitude spectrum, triangular mel filters), trained with Adam on the
L1 distance of the waveform (no discriminator: this is a check of the layers,
not a vocoder recipe).  Its PyTorch twin is ``make("vocoder")`` in
``examples/torch_twins.py``; :func:`load_weights` loads a ``state_dict`` given
as arrays or tensors, or a ``.safetensors`` file read with safetensors' NumPy
API (no PyTorch needed).

    python examples/vocoder.py          # 60 steps of a small model, about 10 s on 2 cores
"""
from __future__ import annotations

import argparse
import os

import numpy as np

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.optim as optim

LRELU_SLOPE = 0.1
#: HiFi-GAN V2's generator (its ``upsample_initial_channel`` is 128) on 32 frames of an 80-band mel.
SIZES = dict(mel_channels=80, channels=128, upsample_rates=(8, 8, 2, 2), upsample_kernels=(16, 16, 4, 4),
             resblock_kernels=(3, 7, 11), resblock_dilations=((1, 3, 5), (1, 3, 5), (1, 3, 5)), batch=4, frames=32)
#: What ``python examples/vocoder.py`` trains.
DEMO = dict(mel_channels=32, channels=64, upsample_rates=(8, 4), upsample_kernels=(16, 8), resblock_kernels=(3, 7, 11),
            resblock_dilations=((1, 3, 5), (1, 3, 5), (1, 3, 5)), batch=4, frames=16)


def get_padding(kernel_size, dilation=1):
    """'Same' padding of an odd kernel: ``d * (K - 1) / 2``."""
    return dilation * (kernel_size - 1) // 2


class ResBlock(nn.Module):
    """HiFi-GAN's ResBlock1: per dilation, ``x + conv2(lrelu(conv1_dilated(lrelu(x))))``."""

    def __init__(self, channels, kernel_size=3, dilations=(1, 3, 5), dtype=None):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.utils.weight_norm(nn.Conv1d(channels, channels, kernel_size, 1, dilation=d,
                                           padding=get_padding(kernel_size, d), dtype=dtype)) for d in dilations)
        self.convs2 = nn.ModuleList(
            nn.utils.weight_norm(nn.Conv1d(channels, channels, kernel_size, 1, dilation=1,
                                           padding=get_padding(kernel_size), dtype=dtype)) for _ in dilations)
        self.activation = nn.LeakyReLU(LRELU_SLOPE)

    def forward(self, x):
        for conv1, conv2 in zip(self.convs1, self.convs2):
            x = x + conv2(self.activation(conv1(self.activation(x))))
        return x


class Generator(nn.Module):
    """``(N, mel_channels, frames)`` mel -> ``(N, 1, frames * prod(upsample_rates))`` waveform in (-1, 1)."""

    def __init__(self, mel_channels=80, channels=128, upsample_rates=(8, 8, 2, 2), upsample_kernels=(16, 16, 4, 4),
                 resblock_kernels=(3, 7, 11), resblock_dilations=((1, 3, 5),) * 3, dtype=None):
        super().__init__()
        self.num_kernels, self.num_upsamples = len(resblock_kernels), len(upsample_rates)
        self.conv_pre = nn.utils.weight_norm(nn.Conv1d(mel_channels, channels, 7, 1, padding=3, dtype=dtype))
        self.ups = nn.ModuleList(
            nn.utils.weight_norm(nn.ConvTranspose1d(channels // 2 ** i, channels // 2 ** (i + 1), k, u,
                                                    padding=(k - u) // 2, dtype=dtype))
            for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernels)))
        self.resblocks = nn.ModuleList(
            ResBlock(channels // 2 ** (i + 1), k, d, dtype=dtype)
            for i in range(self.num_upsamples) for k, d in zip(resblock_kernels, resblock_dilations))
        self.conv_post = nn.utils.weight_norm(nn.Conv1d(channels // 2 ** self.num_upsamples, 1, 7, 1, padding=3,
                                                        dtype=dtype))
        self.activation = nn.LeakyReLU(LRELU_SLOPE)

    def forward(self, x):
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(self.activation(x))
            blocks = self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            total = None
            for block in blocks:
                total = block(x) if total is None else total + block(x)
            x = total / self.num_kernels
        return lucid.tanh(self.conv_post(F.leaky_relu(x)))

    def remove_weight_norm(self):
        """Fold every ``weight_g`` / ``weight_v`` pair into one ``weight`` (for inference, as HiFi-GAN)."""
        for module in self.modules():
            if "weight_g" in module._parameters:
                nn.utils.remove_weight_norm(module)
        return self


def hop(upsample_rates):
    """Samples per mel frame: the product of the up-sampling rates."""
    return int(np.prod(upsample_rates))


def mel_filters(bands, bins, sample_rate=22050.0):
    """``(bands, bins)`` triangular filters equally spaced on the mel scale up to Nyquist."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hertz(m):
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hertz(np.linspace(0.0, mel(sample_rate / 2), bands + 2)) / (sample_rate / 2) * (bins - 1)
    grid = np.arange(bins)[None, :]
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (grid - low) / np.maximum(centre - low, 1e-9)
    falling = (high - grid) / np.maximum(high - centre, 1e-9)
    return np.clip(np.minimum(rising, falling), 0.0, None)


def make_data(batch=4, frames=32, mel_channels=80, upsample_rates=(8, 8, 2, 2), seed=0, dtype=lucid.float32):
    """``(mel, waveform)``: ``(batch, mel_channels, frames)`` log-mel features of ``(batch, 1, frames*hop)``
    audio-like waveforms (peak about 0.8), one Hann-windowed frame of ``4*hop`` samples per frame."""
    rng = np.random.default_rng(seed)
    step = hop(upsample_rates)
    length = frames * step
    t = np.arange(length)
    pitch = rng.uniform(0.002, 0.03, (batch, 1)) * (1 + 0.02 * np.sin(2 * np.pi * t / rng.uniform(200, 800)))
    phase = 2 * np.pi * np.cumsum(pitch * np.ones((batch, length)), axis=-1)
    wave = sum(rng.uniform(0.2, 1.0, (batch, 1)) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi, (batch, 1)))
               for k in range(1, 6))
    wave = wave * (0.6 + 0.4 * np.sin(2 * np.pi * t / length + rng.uniform(0, 2 * np.pi, (batch, 1))))
    wave = 0.8 * wave / np.abs(wave).max(axis=-1, keepdims=True)
    window = 4 * step
    padded = np.pad(wave, ((0, 0), (window // 2, window // 2)), mode="reflect")
    starts = np.arange(frames) * step + step // 2
    framed = padded[:, starts[:, None] + np.arange(window)[None, :]] * np.hanning(window)
    magnitude = np.abs(np.fft.rfft(framed, axis=-1))                          # (batch, frames, bins)
    mel = np.log(np.maximum(magnitude @ mel_filters(mel_channels, magnitude.shape[-1]).T, 1e-5))
    return (lucid.tensor(mel.transpose(0, 2, 1), dtype=dtype), lucid.tensor(wave[:, None, :], dtype=dtype))


def loss_fn(model, data):
    """L1 distance between the generated and the true waveform."""
    mel, wave = data
    return F.l1_loss(model(mel), wave)


def build(seed=0, mel_channels=80, channels=128, upsample_rates=(8, 8, 2, 2), upsample_kernels=(16, 16, 4, 4),
          resblock_kernels=(3, 7, 11), resblock_dilations=((1, 3, 5),) * 3, batch=4, frames=32, dtype=lucid.float32):
    """A freshly initialised generator (seeded) and its training batch."""
    lucid.manual_seed(seed)
    model = Generator(mel_channels, channels, upsample_rates, upsample_kernels, resblock_kernels, resblock_dilations,
                      dtype=dtype)
    return model, make_data(batch, frames, mel_channels, upsample_rates, seed, dtype)


def load_weights(model, source):
    """Load a ``state_dict`` into ``model``, strictly: a mapping of names to arrays (or anything
    ``np.asarray`` takes, PyTorch tensors included), or the path of a ``.safetensors`` file, read
    with ``safetensors.numpy`` (no PyTorch needed).  Returns ``model``."""
    if isinstance(source, (str, os.PathLike)):
        from safetensors.numpy import load_file  # optional: pip install 'lucid-conv[safetensors]'
        source = load_file(os.fspath(source))
    model.load_state_dict({name: np.asarray(value.detach() if hasattr(value, "detach") else value)
                           for name, value in source.items()})
    return model


def fit(model, data, steps, lr=5e-3, log_every=0):
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
            print(f"step {step:4d}  L1 {losses[-1]:.5f}", flush=True)
    return losses


def train(steps=60, seed=0, lr=5e-3, log_every=0, **sizes):
    """Build the model (sizes as :func:`build`) and train it; returns the losses."""
    model, data = build(seed, **sizes)
    return fit(model, data, steps, lr, log_every)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="print the planner's full report (every candidate "
                        "and why) instead of one line per layer shape")
    report = parser.parse_args(argv).report
    print(f"HiFi-GAN-style generator, sizes {DEMO}: mel -> waveform, L1")
    losses = train(log_every=10, **DEMO)
    print(f"L1 {losses[0]:.4f} -> {losses[-1]:.4f}\n")
    print(lucid.algos.report() if report else lucid.algos.summary() + "\n(--report: every candidate and why)")


if __name__ == "__main__":
    main()
