"""``optim.SGD``: stochastic gradient descent with momentum, as ``torch.optim.SGD``."""
from __future__ import annotations

import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ._errors import bad_type, bad_value
from .tensor import Tensor, no_grad

_DEFAULTS = ("lr", "momentum", "dampening", "weight_decay", "nesterov")


class SGD:
    """Stochastic gradient descent, updating parameters in place.

    For each parameter ``p`` with gradient ``g``, in step ``t``::

        g = g + weight_decay * p
        b = g                                   (t = 0)
        b = momentum * b + (1 - dampening) * g  (t > 0)
        g = g + momentum * b if nesterov else b        (when momentum != 0)
        p = p - lr * g

    exactly PyTorch's rule.  Parameters keep their objects and arrays (modules
    hold the same Parameters after every step).

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
        self.defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                         "nesterov": nesterov}
        if isinstance(params, Tensor):
            raise bad_type("SGD", "params", "an iterable of Tensors or of dicts", params)
        params = list(params)
        if not params:
            raise bad_value("SGD", "params", "a non-empty iterable (the optimizer got no parameters)", params)
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = [self._group(g) for g in groups]
        self.state: dict[Tensor, dict[str, Any]] = {}

    def _group(self, group: dict) -> dict:
        if not isinstance(group, dict) or "params" not in group:
            raise bad_type("SGD", "params", "an iterable of Tensors or of dicts with a 'params' key", group)
        unknown = set(group) - {"params", *_DEFAULTS}
        if unknown:
            raise bad_value("SGD", "params", f"param groups with keys among {('params',) + _DEFAULTS}",
                            sorted(unknown))
        full = {**self.defaults, **group}
        tensors = [group["params"]] if isinstance(group["params"], Tensor) else list(group["params"])
        for p in tensors:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise bad_type("SGD", "params", "leaf Tensors", p)
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            value = full[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise bad_type("SGD", name, "a non-negative number", value)
            if value < 0:
                raise bad_value("SGD", name, "a non-negative number", value)
        if not isinstance(full["nesterov"], bool):
            raise bad_type("SGD", "nesterov", "a bool", full["nesterov"])
        if full["nesterov"] and (full["momentum"] <= 0 or full["dampening"] != 0):
            raise bad_value("SGD", "nesterov", "False unless momentum > 0 and dampening = 0", True)
        return {**full, "params": tensors}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``None``, or zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    @no_grad()
    def _update(self) -> None:
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.data
                if group["weight_decay"]:
                    d_p = d_p + group["weight_decay"] * p.data
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

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """Apply one update to every parameter that has a gradient.

        ``closure``, if given, re-evaluates the model and returns the loss
        (called with gradients enabled before the update).
        """
        loss = closure() if closure is not None else None
        self._update()
        return loss
