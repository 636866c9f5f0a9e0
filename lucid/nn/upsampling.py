"""``nn.Upsample``, as ``torch.nn.Upsample`` for 1-D data (see :func:`lucid.nn.functional.interpolate`)."""
from __future__ import annotations

from .._errors import check_choice
from ..tensor import Tensor
from ._functional_resample import MODES, interpolate
from .module import Module


class Upsample(Module):
    """Resample the last dimension of ``(N, C, L)`` input by ``scale_factor`` or to ``size``.

    Modes ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'`` and ``'area'``,
    PyTorch's index rules; the U-Net decoder's ``Upsample(scale_factor=2)``.

    >>> import lucid, lucid.nn as nn
    >>> up = nn.Upsample(scale_factor=2, mode="linear")
    >>> up
    Upsample(scale_factor=2.0, mode='linear')
    >>> up(lucid.zeros(1, 2, 8)).shape
    (1, 2, 16)
    """

    def __init__(self, size: int | tuple[int, ...] | None = None,
                 scale_factor: float | tuple[float, ...] | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor: float | tuple[float, ...] | None = tuple(float(s) for s in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = check_choice("Upsample", "mode", mode, MODES)
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor)``."""
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"
