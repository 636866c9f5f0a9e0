"""``optim.Adam`` and ``optim.AdamW``, matching ``torch.optim.Adam`` / ``AdamW`` step for step.

Each step updates every parameter and its moments in place, with one scratch array per
parameter (the operations in PyTorch's order, so results are bit-identical to the
out-of-place form) and no other temporaries.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._errors import bad_type, bad_value
from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with PyTorch's update rule, in place.

    For each parameter ``p`` with gradient ``g`` (skipped when ``p.grad is None``),
    at step ``t = 1, 2, ...``:

    .. math::

        g &\leftarrow g + \lambda p \qquad\text{(L2 penalty; AdamW instead: } p \leftarrow p (1 - \gamma\lambda))\\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2\\
        \hat v &= \max(\hat v_{t-1}, v) \text{ if amsgrad else } v\\
        p &\leftarrow p - \frac{\gamma}{1 - \beta_1^t}\,
             \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    with ``m = v = 0`` before the first step: ``eps`` is added *after* the square
    root of the bias-corrected second moment, as in PyTorch.  ``p.grad`` is never
    modified; state per parameter is ``step``, ``exp_avg``, ``exp_avg_sq`` (and
    ``max_exp_avg_sq`` with amsgrad), arrays of the parameter's dtype.

    Parameters
    ----------
    params : iterable of Tensor, or of dicts with ``"params"`` and per-group options
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
    weight_decay : float, default 0
        L2 penalty ``lambda`` added to the gradient (coupled), or with
        ``decoupled_weight_decay=True`` (or :class:`AdamW`) the decay
        ``p *= 1 - lr * lambda`` applied before the Adam step.
    amsgrad : bool, default False
        Normalise by the running maximum of ``v`` (Reddi et al., 2018).
    maximize : bool, default False (keyword only)
        Ascend instead of descend (``g = -g``).
    decoupled_weight_decay : bool, default False (keyword only)
        AdamW's decay (``Adam(..., decoupled_weight_decay=True)`` is AdamW).

    Examples
    --------
    >>> import lucid
    >>> w = lucid.nn.Parameter(lucid.tensor([1.0, -1.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w                       # the first step moves every coordinate by ~lr
    Parameter containing:
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad, "maximize": maximize,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _check_group(self, group: dict[str, Any]) -> None:
        where = type(self).__name__
        self._non_negative(group, "lr", "eps", "weight_decay")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise bad_type(where, "betas", "a pair of numbers (beta1, beta2)", betas)
        for i, beta in enumerate(betas):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
                raise bad_type(where, f"betas[{i}]", "a number in [0, 1)", beta)
            if not 0 <= float(beta) < 1:
                raise bad_value(where, f"betas[{i}]", "a number in [0, 1)", beta)
        group["betas"] = (float(betas[0]), float(betas[1]))
        for flag in ("amsgrad", "maximize", "decoupled_weight_decay"):
            self._flag(group, flag)

    def _update(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps, decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad.data if group["maximize"] else p.grad.data
                param = p.data
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(param)
                    state["exp_avg_sq"] = np.zeros_like(param)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros_like(param)
                state["step"] += 1
                t = state["step"]
                if decay:
                    if group["decoupled_weight_decay"]:
                        param *= 1 - lr * decay
                    else:
                        grad = grad + decay * param          # a new array: p.grad stays as it is
                m, v = state["exp_avg"], state["exp_avg_sq"]
                scratch = np.subtract(grad, m)               # torch's lerp (weight < 0.5 branch), in place
                scratch *= 1 - beta1
                m += scratch
                v *= beta2
                np.multiply(grad, 1 - beta2, out=scratch)    # (1 - beta2) * g * g
                scratch *= grad
                v += scratch
                if group["amsgrad"]:
                    vmax = state.setdefault("max_exp_avg_sq", np.zeros_like(param))
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                step_size = lr / (1 - beta1 ** t)
                denom = np.sqrt(v, out=scratch)              # sqrt(v) / sqrt(1 - beta2^t) + eps
                denom /= math.sqrt(1 - beta2 ** t)
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= step_size
                param -= denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Each step first shrinks every parameter, :math:`p \leftarrow p\,(1 - \gamma\lambda)`,
    then takes :class:`Adam`'s step on the unpenalised gradient.  Same
    parameters as :class:`Adam`, with ``weight_decay`` defaulting to ``1e-2``.

    Examples
    --------
    >>> import lucid
    >>> w = lucid.nn.Parameter(lucid.tensor([2.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = lucid.tensor([0.0]); opt.step()
    >>> w                       # zero gradient: only the decay 2 * (1 - 0.05)
    Parameter containing:
    tensor([1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
