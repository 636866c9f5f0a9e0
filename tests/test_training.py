"""Training works end to end: the issue's acceptance script, and SGD fitting a Conv1d."""
from __future__ import annotations

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
import lucid.optim as optim

ACCEPTANCE = '''
import lucid, lucid.nn as nn, lucid.nn.functional as F, lucid.optim as optim
conv = nn.Conv1d(in_channels=1, out_channels=8, kernel_size=3, padding=1)
assert conv(lucid.zeros(4, 1, 16)).shape == (4, 8, 16)
x, y = lucid.randn(4, 1, 16), lucid.zeros(4, 8, 16)
opt = optim.SGD(conv.parameters(), lr=0.1)
for _ in range(20):
    opt.zero_grad(); loss = F.mse_loss(conv(x), y); loss.backward(); opt.step()
with lucid.no_grad():
    for p in conv.parameters(): p -= 0.1 * p.grad
'''


def test_acceptance_script_runs_unchanged():
    lucid.manual_seed(0)
    namespace: dict = {}
    exec(compile(ACCEPTANCE, "acceptance", "exec"), namespace)
    conv, x, y = namespace["conv"], namespace["x"], namespace["y"]
    assert conv(x).shape == (4, 8, 16)
    assert F.mse_loss(conv(x), y).item() < namespace["loss"].item()      # the manual step still helped


@pytest.mark.parametrize("momentum,algorithm", [(0.0, None), (0.9, None), (0.0, "direct")])
def test_fifty_sgd_steps_cut_the_loss_tenfold(momentum, algorithm):
    """Fit a student Conv1d to a fixed teacher (a realisable, convex problem)."""
    lucid.manual_seed(1)
    teacher = nn.Conv1d(2, 4, 5, padding="same", dilation=2)
    student = nn.Conv1d(2, 4, 5, padding="same", dilation=2, algorithm=algorithm)
    x = lucid.randn(8, 2, 32)
    with lucid.no_grad():
        target = teacher(x)
    params = list(student.parameters())
    opt = optim.SGD(student.parameters(), lr=0.2 if momentum == 0 else 0.05, momentum=momentum)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = F.mse_loss(student(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] * 10 <= losses[0], losses[::10]
    assert list(student.parameters()) == params and all(p is q for p, q in zip(student.parameters(), params))


def test_training_a_small_network_with_relu():
    lucid.manual_seed(2)
    net = nn.Sequential(nn.Conv1d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv1d(8, 1, 3, padding=1))
    x = lucid.randn(16, 1, 24)
    target = lucid.tensor(np.roll(x.numpy(), 1, axis=-1))          # learn a one-sample delay
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()
    start = loss_fn(net(x), target).item()
    for _ in range(100):
        opt.zero_grad()
        loss = loss_fn(net(x), target)
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * start
