"""``optim.SGD``: stochastic gradient descent with momentum, as ``torch.optim.SGD``."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._errors import bad_value
from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, updating parameters in place.

    For each parameter ``p`` with gradient ``g``, in step ``t``::

        g = g + weight_decay * p
        b = g                                   (t = 0)
        b = momentum * b + (1 - dampening) * g  (t > 0)
        g = g + momentum * b if nesterov else b        (when momentum != 0)
        p = p - lr * g

    exactly PyTorch's rule.  Parameters keep their objects and arrays (modules
    hold the same Parameters after every step); ``p.grad`` is left untouched.

    Parameters
    ----------
    params : iterable of Tensor, or of dicts with ``"params"`` and per-group options
    lr : float, default 1e-3
    momentum, dampening, weight_decay : float, default 0
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening = 0``.

    Examples
    --------
    >>> import lucid
    >>> w = lucid.nn.Parameter(lucid.tensor([1.0]))
    >>> opt = SGD([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    Parameter containing:
    tensor([0.], requires_grad=True)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def _check_group(self, group: dict) -> None:
        self._non_negative(group, "lr", "momentum", "dampening", "weight_decay")
        self._flag(group, "nesterov")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise bad_value("SGD", "nesterov", "False unless momentum > 0 and dampening = 0", True)

    def _update(self) -> None:
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.data
                if group["weight_decay"]:
                    d_p = d_p + group["weight_decay"] * p.data          # a new array: p.grad stays as it is
                if momentum:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(d_p, copy=True)
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * d_p
                    d_p = d_p + momentum * buf if group["nesterov"] else buf
                p.data[...] -= lr * d_p
