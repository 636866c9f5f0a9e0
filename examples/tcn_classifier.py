"""A temporal convolutional network (TCN) classifies synthetic sequences.

Residual blocks of two dilated K=3 convolutions (dilations 1, 2, 4, ...), each
followed by ``GroupNorm(1, C)`` and ReLU, with dropout between them; then
global average pooling over time, a Linear layer and cross-entropy, trained
with Adam.  The task: each sequence holds a noisy tone whose pitch band is its
class, among distracting weaker tones.  Prints the loss falling, the train
and test accuracy, and which convolution algorithm the planner chose per layer.

    python examples/tcn_classifier.py [--report]
"""
from __future__ import annotations

import argparse

import numpy as np

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.optim as optim

SIZES = dict(channels=32, blocks=4, classes=4, batch=64, length=128)


class TCNBlock(nn.Module):
    """``x + relu(norm(conv(dropout(relu(norm(conv(x)))))))``, both convolutions K=3 at ``dilation``."""

    def __init__(self, channels, dilation, dropout=0.1, dtype=None):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation, dtype=dtype)
        self.norm1 = nn.GroupNorm(1, channels, dtype=dtype)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation, dtype=dtype)
        self.norm2 = nn.GroupNorm(1, channels, dtype=dtype)

    def forward(self, x):
        h = self.dropout(F.relu(self.norm1(self.conv1(x))))
        return x + F.relu(self.norm2(self.conv2(h)))


class TCNClassifier(nn.Module):
    """``(N, 1, L)`` sequences -> ``(N, classes)`` logits."""

    def __init__(self, channels=32, blocks=4, classes=4, dropout=0.1, dtype=None):
        super().__init__()
        self.input = nn.Conv1d(1, channels, 1, dtype=dtype)
        self.blocks = nn.Sequential(*[TCNBlock(channels, 2 ** i, dropout, dtype) for i in range(blocks)])
        self.head = nn.Linear(channels, classes, dtype=dtype)

    def forward(self, x):
        h = self.blocks(self.input(x))
        return self.head(h.mean(dim=-1))          # global average pooling over time


def make_data(batch=64, length=128, classes=4, seed=0, dtype=lucid.float32):
    """``(sequences (batch, 1, length), labels (batch,) int64)``: class ``c`` is a tone in pitch band ``c``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, batch)
    bands = np.geomspace(0.02, 0.3, classes + 1)
    t = np.arange(length)

    def tones(freq, amplitude):
        return amplitude[:, None] * np.sin(2 * np.pi * freq[:, None] * t + rng.uniform(0, 2 * np.pi, (batch, 1)))
    signal = tones(rng.uniform(bands[labels], bands[labels + 1]), rng.uniform(0.8, 1.2, batch))
    signal += tones(rng.uniform(bands[0], bands[-1], batch), rng.uniform(0.2, 0.4, batch))   # distractor
    signal += 0.7 * rng.standard_normal((batch, length))
    return lucid.tensor(signal[:, None, :], dtype=dtype), lucid.tensor(labels)


def loss_fn(model, data):
    """Cross-entropy of the logits against the labels."""
    sequences, labels = data
    return F.cross_entropy(model(sequences), labels)


def accuracy(model, data):
    """Fraction of ``data`` classified correctly (in eval mode: no dropout)."""
    sequences, labels = data
    model.eval()
    with lucid.no_grad():
        predicted = model(sequences).numpy().argmax(axis=1)
    model.train()
    return float((predicted == labels.numpy()).mean())


def build(seed=0, channels=32, blocks=4, classes=4, batch=64, length=128, dropout=0.1, dtype=lucid.float32):
    """A freshly initialised model (seeded) and its training set of ``batch`` sequences."""
    lucid.manual_seed(seed)
    model = TCNClassifier(channels, blocks, classes, dropout, dtype=dtype)
    return model, make_data(batch, length, classes, seed, dtype)


def fit(model, data, steps, lr=3e-3, log_every=0):
    """``steps`` full-batch Adam steps on ``data``; returns the loss before each step."""
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


def train(steps=40, seed=0, lr=3e-3, log_every=0, **sizes):
    """Build the model (sizes as :func:`build`) and train it; returns the losses."""
    model, data = build(seed, **sizes)
    return fit(model, data, steps, lr, log_every)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="print the planner's full report (every candidate "
                        "and why) instead of one line per layer shape")
    report = parser.parse_args(argv).report
    print(f"TCN classifier, sizes {SIZES}: cross-entropy")
    model, data = build(**SIZES)
    losses = fit(model, data, 40, log_every=5)
    test = make_data(512, SIZES["length"], SIZES["classes"], seed=1)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; accuracy: train {accuracy(model, data):.1%}, "
          f"test {accuracy(model, test):.1%} (chance {1 / SIZES['classes']:.0%})\n")
    print(lucid.algos.report() if report else lucid.algos.summary() + "\n(--report: every candidate and why)")


if __name__ == "__main__":
    main()
