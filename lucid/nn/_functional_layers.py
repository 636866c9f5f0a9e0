"""``F.linear``, ``F.dropout`` and ``F.embedding``: argument checks, then their rules in :mod:`lucid.ops.layers`."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import bad_type, bad_value, check_int
from ..factories import generator
from ..ops import layers
from ..tensor import Tensor, apply, no_grad
from ._checks import flag, floating, optional_shaped, real


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    r"""Affine map of the last dimension, as ``torch.nn.functional.linear``.

    .. math:: y[..., o] = \sum_i x[..., i]\, W[o, i] + b[o]

    Parameters
    ----------
    input : Tensor, shape (*, in_features), float32 or float64
        Any number of leading dimensions (none: a vector).
    weight : Tensor, shape (out_features, in_features), the input's dtype
    bias : Tensor of shape (out_features,), optional

    Returns
    -------
    Tensor, shape (*, out_features)

    Notes
    -----
    Gradients: ``dx = g W``, ``dW = g^T x`` and ``db = sum g`` over every
    leading dimension (one GEMM each, computed only for operands that require
    gradients).  Cost ``2 * numel(x) * out_features`` FLOPs per pass.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.linear(lucid.ones(2, 3), lucid.ones(4, 3), lucid.zeros(4)).shape
    (2, 4)
    """
    where = "linear"
    floating(where, "input", input)
    floating(where, "weight", weight, input)
    if weight.ndim != 2:
        raise bad_value(where, "weight", "a 2-D tensor (out_features, in_features)", weight)
    out_features, in_features = weight.shape
    if input.ndim < 1 or input.shape[-1] != in_features:
        raise bad_value(where, "input", f"a tensor whose last dimension is in_features={in_features}", input)
    optional_shaped(where, "bias", bias, (out_features,), input)
    rule = layers.linear(input.data, weight.data, None if bias is None else bias.data)
    return apply(rule, (input, weight) if bias is None else (input, weight, bias), "Linear")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    r"""Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``, as ``F.dropout``.

    .. math:: y = x \odot m / (1 - p), \qquad m_i \sim \text{Bernoulli}(1 - p)

    so ``E[y] = x``.  The mask is drawn from the generator :func:`lucid.manual_seed`
    seeds; the gradient is ``g * m / (1 - p)``.  With ``training=False`` or
    ``p = 0`` the input itself is returned; ``p = 1`` gives zeros.

    Parameters
    ----------
    input : Tensor, float32 or float64
    p : float in [0, 1], default 0.5
    training : bool, default True
    inplace : bool, default False
        Accepted for PyTorch compatibility; the result is always a new tensor.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.dropout(lucid.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    >>> sorted(set(F.dropout(lucid.ones(100), p=0.5).tolist()))
    [0.0, 2.0]
    """
    where = "dropout"
    floating(where, "input", input)
    p = real(where, "p", p, 0.0, 1.0)
    flag(where, "training", training)
    flag(where, "inplace", inplace)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return apply(layers.dropout(input.data, p, generator()), (input,), "Dropout")


class IndexRangeError(ValueError, IndexError):
    """An index outside a table: a ValueError, as every bad argument in lucid, and an IndexError, as
    PyTorch raises."""


def embedding_indices(where: str, input: Any, num_embeddings: int) -> np.ndarray:  # noqa: A002
    """``input`` as checked int64 indices into a table of ``num_embeddings`` rows."""
    if not isinstance(input, Tensor) or input.data.dtype.kind not in "iu":
        raise bad_type(where, "input", "an int64 tensor of indices", input)
    indices = input.data
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices[(indices < 0) | (indices >= num_embeddings)].flat[0]
        raise IndexRangeError(f"{where}(): input must hold indices in [0, {num_embeddings}) (index out of range "
                              f"in self), got {int(bad)}")
    return indices


def renorm_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` that ``indices`` name to norm at most ``max_norm``, in place (PyTorch's
    ``embedding_renorm_``: ``row *= max_norm / (norm + 1e-7)`` where ``norm > max_norm``)."""
    rows = np.unique(indices)
    table = weight.data
    norms = np.linalg.norm(table[rows], ord=norm_type, axis=1) if norm_type != 2 else \
        np.sqrt((table[rows] ** 2).sum(axis=1))
    over = norms > max_norm
    table[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(table.dtype)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` looked up by the int64 ``input``, as ``F.embedding``.

    Parameters
    ----------
    input : Tensor of int64 indices, any shape
        Each in ``[0, num_embeddings)``; the result has shape ``input.shape + (D,)``.
    weight : Tensor, shape (num_embeddings, D), float32 or float64
    padding_idx : int, optional
        That row gets no gradient (negative counts from the end).
    max_norm : float, optional
        Rows looked up are first rescaled in place to norm at most ``max_norm``
        (``norm_type``-norm), as PyTorch does.
    scale_grad_by_freq : bool, default False
        Divide each row's gradient by how often its index occurs in ``input``.
    sparse : bool, default False
        Must be False (lucid has no sparse gradients).

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.embedding(lucid.tensor([[2, 0]]), lucid.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])).tolist()
    [[[3.0, 3.0], [1.0, 1.0]]]
    """
    where = "embedding"
    floating(where, "weight", weight)
    if weight.ndim != 2:
        raise bad_value(where, "weight", "a 2-D tensor (num_embeddings, embedding_dim)", weight)
    indices = embedding_indices(where, input, weight.shape[0])
    if padding_idx is not None:
        padding_idx = check_int(where, "padding_idx", padding_idx)
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise bad_value(where, "padding_idx", f"an index in [{-weight.shape[0]}, {weight.shape[0]})", padding_idx)
        padding_idx %= weight.shape[0]
    flag(where, "scale_grad_by_freq", scale_grad_by_freq)
    if sparse:
        raise bad_value(where, "sparse", "False (lucid computes dense gradients only)", sparse)
    if max_norm is not None:
        with no_grad():
            renorm_rows(weight, indices, real(where, "max_norm", max_norm, 0.0), real(where, "norm_type", norm_type,
                                                                                      0.0))
    return apply(layers.embedding(weight.data, indices, padding_idx, scale_grad_by_freq), (weight,), "Embedding")
