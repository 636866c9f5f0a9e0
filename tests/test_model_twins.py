"""Issue #25's acceptance: a ResNet-1d classifier and a small 1-D U-Net train in lucid with loss curves
equal to their PyTorch twins (float64, 1e-9 relative, 6 steps, Adam with a scheduler and gradient
clipping), and a checkpoint written mid-run resumes bit-identically in fresh objects.

Each model is written once against a library namespace (``lucid`` or ``torch``: the spelling is the
same), so the twins are the same code.  The PyTorch comparison is skipped without torch; the resume
test always runs.
"""
from __future__ import annotations

import numpy as np
import pytest

import lucid

STEPS = 6


def resnet1d(lib):
    """Stem conv + BN + max-pool, two residual blocks (one down-sampling with a 1x1 projection),
    global average pooling, Flatten, Linear."""
    nn, F = lib.nn, lib.nn.functional
    f64 = lib.float64

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv1d(cin, cout, 3, stride=stride, padding=1, bias=False, dtype=f64)
            self.bn1 = nn.BatchNorm1d(cout, dtype=f64)
            self.conv2 = nn.Conv1d(cout, cout, 3, padding=1, bias=False, dtype=f64)
            self.bn2 = nn.BatchNorm1d(cout, dtype=f64)
            self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv1d(cin, cout, 1, stride=stride, bias=False, dtype=f64), nn.BatchNorm1d(cout, dtype=f64))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    return nn.Sequential(
        nn.Conv1d(2, 8, 7, stride=2, padding=3, bias=False, dtype=f64), nn.BatchNorm1d(8, dtype=f64), nn.ReLU(),
        nn.MaxPool1d(3, stride=2, padding=1), Block(8, 8, 1), Block(8, 16, 2),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 5, dtype=f64))


def unet1d(lib):
    """Two strided-conv down-samplings, linear and nearest up-sampling with F.interpolate, skip
    concatenations, BatchNorm1d throughout, a 1x1 head."""
    nn, F = lib.nn, lib.nn.functional
    f64 = lib.float64

    def conv_bn(cin, cout):
        return nn.Sequential(nn.Conv1d(cin, cout, 3, padding=1, dtype=f64), nn.BatchNorm1d(cout, dtype=f64),
                             nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = conv_bn(1, 8)
            self.down1 = nn.Conv1d(8, 16, 4, stride=2, padding=1, dtype=f64)
            self.enc2 = conv_bn(16, 16)
            self.down2 = nn.Conv1d(16, 32, 4, stride=2, padding=1, dtype=f64)
            self.mid = nn.Sequential(nn.BatchNorm1d(32, dtype=f64), nn.ReLU())
            self.dec2 = conv_bn(48, 16)
            self.dec1 = conv_bn(24, 8)
            self.head = nn.Conv1d(8, 1, 1, dtype=f64)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(self.down1(e1))
            m = self.mid(self.down2(e2))
            d2 = self.dec2(lib.cat([F.interpolate(m, scale_factor=2, mode="linear"), e2], dim=1))
            d1 = self.dec1(lib.cat([F.interpolate(d2, scale_factor=2, mode="nearest"), e1], dim=1))
            return self.head(d1)

    return UNet()


def _data(kind):
    rng = np.random.default_rng(25)
    if kind == "resnet":
        return rng.standard_normal((8, 2, 64)), rng.integers(0, 5, 8)
    clean = np.sin(np.linspace(0, 6 * np.pi, 32))[None, None] * rng.uniform(0.5, 1.5, (6, 1, 1))
    return clean + 0.3 * rng.standard_normal(clean.shape), clean


def _training(lib, kind, model):
    """(optimizer, scheduler, one-step function returning the loss) for ``model`` in ``lib``."""
    nn, F, sched = lib.nn, lib.nn.functional, lib.optim.lr_scheduler
    x0, y0 = _data(kind)
    x = lib.tensor(x0, dtype=lib.float64)
    y = lib.tensor(y0) if kind == "resnet" else lib.tensor(y0, dtype=lib.float64)
    opt = lib.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    if kind == "resnet":
        scheduler = sched.OneCycleLR(opt, max_lr=0.05, total_steps=2 * STEPS)
    else:
        scheduler = sched.SequentialLR(opt, [sched.LinearLR(opt, start_factor=0.2, total_iters=2),
                                             sched.CosineAnnealingLR(opt, T_max=STEPS)], milestones=[2])

    def step():
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y) if kind == "resnet" else F.mse_loss(out, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        scheduler.step()
        return loss.item()
    return opt, scheduler, step


MODELS = {"resnet": resnet1d, "unet": unet1d}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_trains_like_its_pytorch_twin(kind):
    torch = pytest.importorskip("torch")
    lucid.manual_seed(0)
    ours = MODELS[kind](lucid)
    theirs = MODELS[kind](torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    _, _, our_step = _training(lucid, kind, ours)
    _, _, their_step = _training(torch, kind, theirs)
    ours_losses = [our_step() for _ in range(STEPS)]
    their_losses = [their_step() for _ in range(STEPS)]
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-9)
    assert ours_losses[-1] < ours_losses[0]                     # it learns
    theirs_state = theirs.state_dict()
    assert set(ours.state_dict()) == set(theirs_state)
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), theirs_state[name].numpy(), rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_checkpoint_mid_run_resumes_bit_identically(kind, tmp_path):
    with lucid.algos.use(deterministic=True):       # no races: every call of a shape runs the same algorithm
        _resume_bit_identically(kind, tmp_path)


def _resume_bit_identically(kind, tmp_path):
    lucid.manual_seed(0)
    model = MODELS[kind](lucid)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    _, _, step = _training(lucid, kind, model)
    straight = [step() for _ in range(STEPS)]
    final = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    lucid.manual_seed(1)                                             # different initial weights, overwritten
    model = MODELS[kind](lucid)
    model.load_state_dict(initial)
    opt, scheduler, step = _training(lucid, kind, model)
    first = [step() for _ in range(STEPS // 2)]
    lucid.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": scheduler.state_dict(),
                "step": STEPS // 2}, tmp_path / "checkpoint.npz")
    del model, opt, scheduler, step

    lucid.manual_seed(2)
    fresh = MODELS[kind](lucid)
    checkpoint = lucid.load(tmp_path / "checkpoint.npz")
    fresh.load_state_dict(checkpoint["model"])
    opt, scheduler, step = _training(lucid, kind, fresh)
    opt.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    rest = [step() for _ in range(STEPS - checkpoint["step"])]
    assert first + rest == straight
    for name, value in fresh.state_dict().items():
        assert np.array_equal(value.numpy(), final[name]), name
