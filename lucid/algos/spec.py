"""The shape of one convolution problem, as a small frozen value.

A :class:`ConvSpec` describes a batched, grouped, strided, dilated 1-D
cross-correlation with zero padding::

    y[n, g*Cog + o, t] = sum_{c < Cig, k < K} x_pad[n, g*Cig + c, t*s + k*d] * w[g*Cog + o, c, k]

where ``Cig = C_in // groups``, ``Cog = C_out // groups`` and ``x_pad`` is ``x``
with ``padding[0]`` zeros on the left and ``padding[1]`` on the right.  Every
algorithm in :mod:`lucid.algos` solves exactly this problem; the backward passes
are lowered onto it by :mod:`lucid.algos.lowering`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

DTYPES = ("float32", "float64")
#: The problems posed on one convolution: ``forward`` computes ``y`` from ``(x, w)``,
#: ``backward_data`` ``dx`` from ``(dy, w)``, ``backward_filter`` ``dw`` from ``(dy, x)``.
OPS = ("forward", "backward_data", "backward_filter")


@dataclass(frozen=True)
class ConvSpec:
    """Shape, hyper-parameters and dtype of one forward convolution problem.

    Parameters
    ----------
    n, c_in, c_out, length, kernel_size : int
        Batch, input channels, output channels, input length ``L`` and taps ``K``.
        ``n`` and ``c_in`` may be 0 (an empty batch, an empty sum):
        :func:`~lucid.nn.functional.conv1d` answers those without an algorithm.
    stride, dilation, groups : int
        As in :func:`lucid.nn.functional.conv1d`.
    padding : tuple of int
        Zeros added on the (left, right); asymmetric for ``padding='same'``.
    dtype : str
        ``"float32"`` or ``"float64"``.
    op : str
        The problem posed on this convolution, one of :data:`OPS` (default
        ``"forward"``).  Algorithms solve the ops in their ``ops``; the planner
        poses a backward op natively to an algorithm that lists it and lowers
        it to a forward spec for the others (:mod:`lucid.algos.lowering`).
    """

    n: int
    c_in: int
    c_out: int
    length: int
    kernel_size: int
    stride: int = 1
    padding: tuple[int, int] = (0, 0)
    dilation: int = 1
    groups: int = 1
    dtype: str = "float32"
    op: str = "forward"

    @classmethod
    def trusted(cls, n: int, c_in: int, c_out: int, length: int, kernel_size: int, stride: int,
                padding: tuple[int, int], dilation: int, groups: int, dtype: str) -> ConvSpec:
        """A forward spec from values its caller has already validated (``F.conv1d`` checks
        every argument and names it in its errors), built without checking them again.

        Cost: one dict update (``ConvSpec(...)`` also runs :meth:`__post_init__`).
        """
        spec = object.__new__(cls)
        vars(spec).update(zip(_FIELDS, (n, c_in, c_out, length, kernel_size, stride, padding, dilation, groups,
                                        dtype, "forward")))
        return spec

    def __post_init__(self) -> None:
        for name in ("n", "c_in", "c_out", "length", "kernel_size", "stride", "dilation", "groups"):
            value = getattr(self, name)
            least = 0 if name in ("n", "c_in") else 1
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"ConvSpec.{name} must be a {('positive', 'non-negative')[least == 0]} int, "
                                 f"got {value!r}")
        if len(self.padding) != 2 or min(self.padding) < 0:
            raise ValueError(f"ConvSpec.padding must be two non-negative ints, got {self.padding!r}")
        if self.c_in % self.groups or self.c_out % self.groups:
            raise ValueError(f"ConvSpec: groups={self.groups} must divide c_in={self.c_in} and c_out={self.c_out}")
        if self.dtype not in DTYPES:
            raise ValueError(f"ConvSpec.dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.op not in OPS:
            raise ValueError(f"ConvSpec.op must be one of {OPS}, got {self.op!r}")
        if self.l_out < 1:
            raise ValueError(f"ConvSpec: output length {self.l_out} < 1 for {self}")

    @property
    def l_padded(self) -> int:
        """Input length after zero padding, ``L + pad_left + pad_right``."""
        return self.length + self.padding[0] + self.padding[1]

    @property
    def span(self) -> int:
        """Receptive field of one output, ``d*(K-1) + 1``."""
        return self.dilation * (self.kernel_size - 1) + 1

    @property
    def l_out(self) -> int:
        """Output length ``floor((L_pad - d*(K-1) - 1) / s) + 1``."""
        return (self.l_padded - self.span) // self.stride + 1

    @property
    def cig(self) -> int:
        """Input channels per group."""
        return self.c_in // self.groups

    @property
    def cog(self) -> int:
        """Output channels per group."""
        return self.c_out // self.groups

    @property
    def np_dtype(self) -> np.dtype:
        """The NumPy dtype of inputs, weights and outputs."""
        return np.dtype(self.dtype)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.np_dtype.itemsize

    @property
    def direct_flops(self) -> float:
        """FLOPs of the definition: ``2 * N * C_out * L_out * Cig * K``."""
        return 2.0 * self.n * self.c_out * self.l_out * self.cig * self.kernel_size

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(N, C_in, L)``."""
        return (self.n, self.c_in, self.length)

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        """``(C_out, C_in // groups, K)``."""
        return (self.c_out, self.cig, self.kernel_size)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """``(N, C_out, L_out)``."""
        return (self.n, self.c_out, self.l_out)

    def describe(self) -> str:
        """A compact one-line form, e.g. ``N8 C64->64 L4096 K3 s1 p(1,1) d1 g1 float32``
        (followed by the op when it is not ``forward``)."""
        return (f"N{self.n} C{self.c_in}->{self.c_out} L{self.length} K{self.kernel_size} "
                f"s{self.stride} p({self.padding[0]},{self.padding[1]}) d{self.dilation} "
                f"g{self.groups} {self.dtype}" + ("" if self.op == "forward" else f" {self.op}"))


_FIELDS = tuple(field.name for field in fields(ConvSpec))
