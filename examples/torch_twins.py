"""Not an example: the three example architectures written again in PyTorch, to check lucid against.

Each twin is built independently from ``torch.nn`` with the same attribute
names as the lucid model, so that :func:`copy_weights` can move parameters
across by name (and checks that the names, order and shapes agree).  Used by
``tests/test_examples.py`` (loss curves equal to PyTorch's in float64) and by
``lucid-bench --model`` (PyTorch's time for the same training step).

    >>> twin = make("wavenet", channels=8, skip_channels=8, dilations=(1, 2))   # doctest: +SKIP
    >>> copy_weights(lucid_model, twin)                                        # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

NAMES = ("wavenet", "tcn", "conformer", "vocoder")


def _torch():
    import torch  # imported here: the examples themselves never need PyTorch
    return torch


def make(name, dtype=None, **sizes):
    """The PyTorch twin of example ``name`` built with the example's ``build`` sizes (data sizes ignored)."""
    torch = _torch()
    dtype = dtype or torch.float32
    nn, F = torch.nn, torch.nn.functional

    if name == "wavenet":
        class GatedResidualBlock(nn.Module):
            def __init__(self, channels, skip_channels, dilation):
                super().__init__()
                self.channels, self.dilation = channels, dilation
                self.dilated = nn.Conv1d(channels, 2 * channels, 2, dilation=dilation, dtype=dtype)
                self.residual = nn.Conv1d(channels, channels, 1, dtype=dtype)
                self.skip = nn.Conv1d(channels, skip_channels, 1, dtype=dtype)

            def forward(self, x):
                h = self.dilated(F.pad(x, (self.dilation, 0)))
                filter_, gate = h.chunk(2, dim=1)
                z = torch.tanh(filter_) * torch.sigmoid(gate)
                return x + self.residual(z), self.skip(z)

        class WaveNet(nn.Module):
            def __init__(self, channels=16, skip_channels=16, dilations=tuple(2 ** i for i in range(10))):
                super().__init__()
                self.input = nn.Conv1d(1, channels, 1, dtype=dtype)
                self.blocks = nn.Sequential(*[GatedResidualBlock(channels, skip_channels, d) for d in dilations])
                self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(skip_channels, skip_channels, 1, dtype=dtype),
                                          nn.ReLU(), nn.Conv1d(skip_channels, 1, 1, dtype=dtype))

            def forward(self, x):
                x = self.input(x)
                skips = 0
                for block in self.blocks:
                    x, skip = block(x)
                    skips = skips + skip
                return self.head(skips)
        return WaveNet(**_pick(sizes, "channels", "skip_channels", "dilations"))

    if name == "tcn":
        class TCNBlock(nn.Module):
            def __init__(self, channels, dilation, dropout):
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
            def __init__(self, channels=32, blocks=4, classes=4, dropout=0.1):
                super().__init__()
                self.input = nn.Conv1d(1, channels, 1, dtype=dtype)
                self.blocks = nn.Sequential(*[TCNBlock(channels, 2 ** i, dropout) for i in range(blocks)])
                self.head = nn.Linear(channels, classes, dtype=dtype)

            def forward(self, x):
                return self.head(self.blocks(self.input(x)).mean(dim=-1))
        return TCNClassifier(**_pick(sizes, "channels", "blocks", "classes", "dropout"))

    if name == "conformer":
        class ConformerConvModule(nn.Module):
            def __init__(self, channels=64, kernel_size=31, dropout=0.0):
                super().__init__()
                self.channels = channels
                self.norm = nn.LayerNorm(channels, dtype=dtype)
                self.pointwise_in = nn.Conv1d(channels, 2 * channels, 1, dtype=dtype)
                self.depthwise = nn.Conv1d(channels, channels, kernel_size, padding="same", groups=channels,
                                           dtype=dtype)
                self.pointwise_out = nn.Conv1d(channels, channels, 1, dtype=dtype)
                self.dropout = nn.Dropout(dropout)

            def forward(self, x):
                h = self.pointwise_in(self.norm(x).transpose(1, 2))
                h = torch.nn.functional.glu(h, dim=1)
                h = self.pointwise_out(F.silu(self.depthwise(h)))
                return x + self.dropout(h).transpose(1, 2)
        return ConformerConvModule(**_pick(sizes, "channels", "kernel_size", "dropout"))

    if name == "vocoder":
        import warnings

        def weight_norm(module):
            with warnings.catch_warnings():     # deprecated for parametrizations, still HiFi-GAN's (weight_g, weight_v)
                warnings.simplefilter("ignore")
                return torch.nn.utils.weight_norm(module)

        class ResBlock(nn.Module):
            def __init__(self, channels, kernel_size, dilations):
                super().__init__()
                self.convs1 = nn.ModuleList(weight_norm(nn.Conv1d(channels, channels, kernel_size, 1, dilation=d,
                                                                  padding=d * (kernel_size - 1) // 2, dtype=dtype))
                                            for d in dilations)
                self.convs2 = nn.ModuleList(weight_norm(nn.Conv1d(channels, channels, kernel_size, 1,
                                                                  padding=(kernel_size - 1) // 2, dtype=dtype))
                                            for _ in dilations)

            def forward(self, x):
                for c1, c2 in zip(self.convs1, self.convs2):
                    x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, 0.1)), 0.1))
                return x

        class Generator(nn.Module):
            def __init__(self, mel_channels=80, channels=128, upsample_rates=(8, 8, 2, 2),
                         upsample_kernels=(16, 16, 4, 4), resblock_kernels=(3, 7, 11),
                         resblock_dilations=((1, 3, 5),) * 3):
                super().__init__()
                self.num_kernels = len(resblock_kernels)
                self.conv_pre = weight_norm(nn.Conv1d(mel_channels, channels, 7, 1, padding=3, dtype=dtype))
                self.ups = nn.ModuleList(
                    weight_norm(nn.ConvTranspose1d(channels // 2 ** i, channels // 2 ** (i + 1), k, u,
                                                   padding=(k - u) // 2, dtype=dtype))
                    for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernels)))
                self.resblocks = nn.ModuleList(ResBlock(channels // 2 ** (i + 1), k, d)
                                               for i in range(len(upsample_rates))
                                               for k, d in zip(resblock_kernels, resblock_dilations))
                self.conv_post = weight_norm(nn.Conv1d(channels // 2 ** len(upsample_rates), 1, 7, 1, padding=3,
                                                       dtype=dtype))

            def forward(self, x):
                x = self.conv_pre(x)
                for i, up in enumerate(self.ups):
                    x = up(F.leaky_relu(x, 0.1))
                    xs = None
                    for j in range(self.num_kernels):
                        h = self.resblocks[i * self.num_kernels + j](x)
                        xs = h if xs is None else xs + h
                    x = xs / self.num_kernels
                return torch.tanh(self.conv_post(F.leaky_relu(x)))
        return Generator(**_pick(sizes, "mel_channels", "channels", "upsample_rates", "upsample_kernels",
                                 "resblock_kernels", "resblock_dilations"))
    raise ValueError(f"name must be one of {NAMES}, got {name!r}")


def _pick(sizes, *keys):
    return {key: sizes[key] for key in keys if key in sizes}


def copy_weights(source, twin):
    """Copy every parameter of the lucid model ``source`` into the PyTorch ``twin``, matched by name.

    Raises ValueError unless both have the same parameter names, in the same
    order, with the same shapes.
    """
    torch = _torch()
    mine, theirs = list(source.named_parameters()), list(twin.named_parameters())
    if [n for n, _ in mine] != [n for n, _ in theirs]:
        raise ValueError(f"parameter names differ: {[n for n, _ in mine]} vs {[n for n, _ in theirs]}")
    with torch.no_grad():
        for (name, p), (_, q) in zip(mine, theirs):
            if tuple(p.shape) != tuple(q.shape):
                raise ValueError(f"{name}: shape {tuple(p.shape)} vs {tuple(q.shape)}")
            q.copy_(torch.from_numpy(np.asarray(p.numpy())))
    return twin


def to_torch(data):
    """A tuple of lucid tensors (an example's batch) as PyTorch tensors sharing nothing with lucid."""
    torch = _torch()
    return tuple(torch.from_numpy(np.array(t.numpy())) for t in data)


def loss_fn(name, twin, data):
    """The example's loss on the PyTorch side; ``data`` as returned by :func:`to_torch`."""
    F = _torch().nn.functional
    if name == "tcn":
        return F.cross_entropy(twin(data[0]), data[1])
    if name == "vocoder":
        return F.l1_loss(twin(data[0]), data[1])
    return F.mse_loss(twin(data[0]), data[1])


if __name__ == "__main__":
    print(__doc__.split("\n\n")[0])
    print("It is the PyTorch side of these checks and timings; running it does nothing else:\n"
          "  python -m pytest tests/test_examples.py      lucid's loss curves and weights equal PyTorch's (float64)\n"
          "  lucid-bench --model wavenet|tcn|conformer    one training step, timed against PyTorch\n"
          "The examples themselves: python examples/wavenet.py, examples/tcn_classifier.py, "
          "examples/conformer_conv.py")
