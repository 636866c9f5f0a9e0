"""The benchmark suite: realistic 1-D convolution workloads, defined once.

Used by ``lucid-bench``, the pytest-benchmark suite in ``benchmarks/`` and the
planner's quality checks.  Each workload names the algorithm expected to win
and the target ratio against ``torch.nn.functional.conv1d`` (CPU, as many threads as lucid's pool)
from the algorithms issue.
"""
from __future__ import annotations

from dataclasses import dataclass

from .algos.spec import ConvSpec


@dataclass(frozen=True)
class Workload:
    """One named convolution shape of the suite.

    ``padding`` is the symmetric zero padding of ``F.conv1d``; ``target`` is a
    human-readable speed goal versus PyTorch, ``quick`` marks the small subset.
    """

    name: str
    n: int
    c_in: int
    c_out: int
    length: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    groups: int
    target: str
    quick: bool = False

    def spec(self, dtype: str = "float32") -> ConvSpec:
        """The forward :class:`ConvSpec` of this workload."""
        return ConvSpec(self.n, self.c_in, self.c_out, self.length, self.kernel_size, self.stride,
                        (self.padding, self.padding), self.dilation, self.groups, dtype)


SUITE: tuple[Workload, ...] = (
    Workload("dense_k3_L4096", 8, 64, 64, 4096, 3, 1, 1, 1, 1, "winograd <= 1.25x torch", quick=True),
    Workload("dense_k3_C256", 32, 256, 256, 512, 3, 1, 1, 1, 1, "winograd or im2col <= 1.25x torch"),
    Workload("wavenet_k3_d8", 4, 64, 64, 16000, 3, 1, 8, 8, 1, "<= 1.25x torch"),
    Workload("wavenet_k3_d256", 4, 64, 64, 16000, 3, 1, 256, 256, 1, "<= 1.25x torch"),
    Workload("wavenet_k2_d256", 4, 64, 64, 16000, 2, 1, 0, 256, 1, "<= 1.25x torch"),
    Workload("dw_mamba_k4", 8, 512, 512, 2048, 4, 1, 3, 1, 512, "direct <= 1.25x torch", quick=True),
    Workload("dw_conformer_k31", 8, 256, 256, 1024, 31, 1, 15, 1, 256, "fft >= 3x faster than torch"),
    Workload("dw_long_k1025", 4, 64, 64, 8192, 1025, 1, 512, 1, 64, "fft >= 50x faster than torch", quick=True),
    Workload("dense_long_k257", 2, 32, 32, 16384, 257, 1, 128, 1, 1, "fft >= 6x faster than torch"),
    Workload("speech_frontend", 8, 1, 512, 16000, 10, 5, 0, 1, 1, ">= 1.1x faster than torch"),
    Workload("pointwise", 16, 256, 256, 1024, 1, 1, 0, 1, 1, "<= 1.05x torch", quick=True),
)


def workload(name: str) -> Workload:
    """The suite workload called ``name`` (ValueError listing the names otherwise)."""
    for item in SUITE:
        if item.name == name:
            return item
    raise ValueError(f"workload must be one of {[w.name for w in SUITE]}, got {name!r}")
