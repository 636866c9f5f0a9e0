"""``nn.Embedding``, as ``torch.nn.Embedding`` (see :func:`lucid.nn.functional.embedding`)."""
from __future__ import annotations

from typing import Any

from .._errors import bad_value, check_int
from ..dtypes import DeviceLike, DTypeLike
from ..factories import empty
from ..tensor import Tensor, no_grad
from . import init
from ._checks import flag, floating, real
from ._functional_layers import embedding
from .linear import floating_dtype
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``, looked up by int64 indices
    (speaker or class conditioning, token embeddings).

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int, optional
        That row starts at zeros and gets no gradient (negative counts from the end).
    max_norm : float, optional
        Looked-up rows are rescaled in place to ``norm_type``-norm at most ``max_norm``.
    norm_type : float, default 2.0
    scale_grad_by_freq : bool, default False
    sparse : bool, default False
        Must be False (dense gradients only).
    device : None or 'cpu'
    dtype : lucid.float32 (default) or lucid.float64

    Attributes
    ----------
    weight : Parameter, shape (num_embeddings, embedding_dim)
        ``N(0, 1)``, as PyTorch.

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> table = nn.Embedding(10, 3, padding_idx=0)
    >>> table
    Embedding(10, 3, padding_idx=0)
    >>> table(lucid.tensor([[1, 2, 0]])).shape
    (1, 3, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        where = "Embedding"
        self.num_embeddings = check_int(where, "num_embeddings", num_embeddings, 0)
        self.embedding_dim = check_int(where, "embedding_dim", embedding_dim, 0)
        if padding_idx is not None:
            padding_idx = check_int(where, "padding_idx", padding_idx)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise bad_value(where, "padding_idx", f"an index in [{-num_embeddings}, {num_embeddings})",
                                padding_idx)
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else real(where, "max_norm", max_norm, 0.0)
        self.norm_type = real(where, "norm_type", norm_type, 0.0)
        self.scale_grad_by_freq = flag(where, "scale_grad_by_freq", scale_grad_by_freq)
        if sparse:
            raise bad_value(where, "sparse", "False (lucid computes dense gradients only)", sparse)
        self.sparse = False
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=floating_dtype(where, device, dtype)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            floating(where, "_weight", _weight)
            if _weight.shape != (num_embeddings, embedding_dim):
                raise bad_value(where, "_weight", f"a tensor of shape ({num_embeddings}, {embedding_dim})", _weight)
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """``weight`` from ``N(0, 1)``, the ``padding_idx`` row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose table is ``embeddings`` (shared, not copied), frozen unless ``freeze=False``."""
        floating("Embedding.from_pretrained", "embeddings", embeddings)
        if embeddings.ndim != 2:
            raise bad_value("Embedding.from_pretrained", "embeddings", "a 2-D tensor", embeddings)
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=flag("Embedding.from_pretrained", "freeze", freeze))

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """``F.embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)``."""
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        """PyTorch's wording."""
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text
