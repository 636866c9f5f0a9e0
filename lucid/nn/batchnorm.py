"""``nn.BatchNorm1d`` and ``nn.InstanceNorm1d``, as in ``torch.nn`` (same parameters, buffers,
``state_dict`` keys and train/eval behaviour; maths in :mod:`lucid.ops.batch_norm`)."""
from __future__ import annotations

from typing import Any

from .._errors import bad_type, bad_value, check_int
from ..dtypes import DeviceLike, DTypeLike, int64
from ..factories import ones, tensor, zeros
from ..tensor import Tensor
from . import init
from ._checks import flag, real
from ._functional_batchnorm import batch_norm, instance_norm
from .linear import floating_dtype
from .module import Module
from .normalization import _AffineNorm


class _NormBase(_AffineNorm):
    """What BatchNorm1d and InstanceNorm1d share: ``weight``/``bias`` and the running statistics."""

    def __init__(self, where: str, num_features: int, eps: float, momentum: float | None, affine: bool,
                 track_running_stats: bool, device: DeviceLike, dtype: DTypeLike) -> None:
        Module.__init__(self)
        self.num_features = check_int(where, "num_features", num_features, 1)
        self.eps = real(where, "eps", eps, 0.0)
        self.momentum = None if momentum is None else real(where, "momentum", momentum, 0.0, 1.0)
        self.affine = flag(where, "affine", affine)
        self.track_running_stats = flag(where, "track_running_stats", track_running_stats)
        kind = floating_dtype(where, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=kind))
            self.register_buffer("running_var", ones(num_features, dtype=kind))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self._affine_parameters((num_features,), affine, True, kind)

    def reset_running_stats(self) -> None:
        """``running_mean`` to zeros, ``running_var`` to ones, ``num_batches_tracked`` to 0."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """The running statistics, then ``weight`` to ones and ``bias`` to zeros."""
        if "_buffers" in self.__dict__ and "running_mean" in self._buffers:
            self.reset_running_stats()
        super().reset_parameters()

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_NormBase):
    r"""Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input, as ``torch.nn.BatchNorm1d``.

    .. math:: y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta

    per channel, over the batch and the length.  In training mode the batch's
    statistics normalise (biased variance) and the running statistics move
    towards them: ``running = (1 - momentum) running + momentum batch``, the
    variance entering unbiased; ``momentum=None`` takes the cumulative average
    (factor ``1 / num_batches_tracked``).  In evaluation mode (``eval()``) the
    running statistics normalise, unless ``track_running_stats=False``, when
    the batch's are used in both modes.  ``num_batches_tracked`` counts the
    training batches, so a PyTorch ``BatchNorm1d``'s ``state_dict`` loads as is.

    Parameters
    ----------
    num_features : int
        ``C``.
    eps : float, default 1e-5
    momentum : float or None, default 0.1
    affine : bool, default True
        Learn ``weight`` (ones) and ``bias`` (zeros) of shape ``(C,)``.
    track_running_stats : bool, default True
        Keep the buffers ``running_mean`` (zeros), ``running_var`` (ones) and
        ``num_batches_tracked`` (int64 0).
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> bn = nn.BatchNorm1d(4)
    >>> bn
    BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    >>> bn(lucid.randn(8, 4, 16)).shape, int(bn.num_batches_tracked)
    ((8, 4, 16), 1)
    >>> sorted(bn.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__("BatchNorm1d", num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.batch_norm`` with this module's buffers and mode (see the class docstring)."""
        if not isinstance(input, Tensor):
            raise bad_type("BatchNorm1d", "input", "a lucid.Tensor", input)
        if input.ndim not in (2, 3):
            raise bad_value("BatchNorm1d", "input", "a 2-D (N, C) or 3-D (N, C, L) tensor", input)
        if input.shape[1] != self.num_features:
            raise bad_value("BatchNorm1d", "input", f"a tensor with num_features={self.num_features} channels "
                            "in dim 1", input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                          self.weight, self.bias, use_batch, factor, self.eps)


class InstanceNorm1d(_NormBase):
    r"""Instance normalisation of ``(N, C, L)`` or unbatched ``(C, L)`` input, as ``torch.nn.InstanceNorm1d``.

    Every channel of every sample is standardised over its length (biased
    variance), then scaled and shifted per channel if ``affine``.  With
    ``track_running_stats`` the running statistics follow the batch average
    of the per-instance statistics while training and normalise in
    evaluation mode; ``num_batches_tracked`` exists but is never advanced, as
    in PyTorch.

    Parameters
    ----------
    num_features : int
    eps : float, default 1e-5
    momentum : float or None, default 0.1
    affine : bool, default False
    track_running_stats : bool, default False
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> nn.InstanceNorm1d(3)
    InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)
    >>> nn.InstanceNorm1d(3)(lucid.randn(2, 3, 10)).shape
    (2, 3, 10)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__("InstanceNorm1d", num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """``F.instance_norm`` with this module's buffers; a ``(C, L)`` input is one sample."""
        if not isinstance(input, Tensor):
            raise bad_type("InstanceNorm1d", "input", "a lucid.Tensor", input)
        if input.ndim not in (2, 3):
            raise bad_value("InstanceNorm1d", "input", "a 2-D (C, L) or 3-D (N, C, L) tensor", input)
        if self.affine and input.shape[-2] != self.num_features:
            raise bad_value("InstanceNorm1d", "input", f"a tensor with num_features={self.num_features} "
                            "channels (dim -2)", input)
        batched: Any = input if input.ndim == 3 else input.unsqueeze(0)
        out = instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out if input.ndim == 3 else out.squeeze(0)
