"""Loss modules, as in ``torch.nn``: ``CrossEntropyLoss``, ``NLLLoss``, ``BCELoss``, ``BCEWithLogitsLoss``,
``L1Loss`` (and ``MSELoss``, defined in :mod:`lucid.nn.modules`, re-exported here)."""
from __future__ import annotations

from .._errors import bad_value, check_choice, check_int
from ..tensor import Tensor
from ._checks import floating, real
from ._functional_loss import (
    REDUCTIONS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    nll_loss,
)
from .module import Module
from .modules import MSELoss

__all__ = ["CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]


class L1Loss(Module):
    """Mean absolute error (see :func:`lucid.nn.functional.l1_loss`).

    >>> import lucid, lucid.nn as nn
    >>> nn.L1Loss(reduction="sum")(lucid.tensor([1.0, -2.0]), lucid.zeros(2)).item()
    3.0
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_choice("L1Loss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.l1_loss(input, target, reduction)``."""
        return l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """Cross-entropy of logits against class indices (see :func:`lucid.nn.functional.cross_entropy`).

    Parameters
    ----------
    weight : Tensor of shape (C,), optional
        Per-class rescaling, registered as a buffer (as in PyTorch).
    ignore_index : int, default -100
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    label_smoothing : float in [0, 1], default 0.0

    Examples
    --------
    >>> import lucid, lucid.nn as nn
    >>> loss = nn.CrossEntropyLoss()(lucid.zeros(3, 5), lucid.tensor([0, 4, 2]))
    >>> round(loss.item(), 4)
    1.6094
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        where = "CrossEntropyLoss"
        if weight is not None:
            floating(where, "weight", weight)
            if weight.ndim != 1:
                raise bad_value(where, "weight", "None or a 1-D tensor of one weight per class", weight)
        self.register_buffer("weight", weight)
        self.ignore_index = check_int(where, "ignore_index", ignore_index)
        self.reduction = check_choice(where, "reduction", reduction, REDUCTIONS)
        self.label_smoothing = real(where, "label_smoothing", label_smoothing, 0.0, 1.0)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)``."""
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities (see :func:`lucid.nn.functional.nll_loss`);
    ``weight`` is a buffer, as in PyTorch.

    >>> import lucid, lucid.nn as nn
    >>> nn.NLLLoss()(lucid.tensor([[-1.0, -2.0]]), lucid.tensor([1])).item()
    2.0
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        if weight is not None:
            floating("NLLLoss", "weight", weight)
        self.register_buffer("weight", weight)
        self.ignore_index = check_int("NLLLoss", "ignore_index", ignore_index)
        self.reduction = check_choice("NLLLoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.nll_loss(input, target, weight, ignore_index, reduction)``."""
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(Module):
    """Binary cross-entropy of probabilities (see :func:`lucid.nn.functional.binary_cross_entropy`)."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = check_choice("BCELoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.binary_cross_entropy(input, target, weight, reduction)``."""
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of logits, stable for any logit (see
    :func:`lucid.nn.functional.binary_cross_entropy_with_logits`); ``weight`` and ``pos_weight`` are buffers.

    >>> import lucid, lucid.nn as nn
    >>> round(nn.BCEWithLogitsLoss()(lucid.tensor([0.0, 100.0]), lucid.tensor([1.0, 1.0])).item(), 4)
    0.3466
    """

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = check_choice("BCEWithLogitsLoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """``F.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)``."""
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
