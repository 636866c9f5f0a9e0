"""Weight normalisation (Salimans & Kingma, 2016), as ``torch.nn.utils.weight_norm``.

``weight_norm(module)`` replaces the parameter ``weight`` by a magnitude
``weight_g`` and a direction ``weight_v``::

    weight = weight_g * weight_v / ||weight_v||

the norm taken over every dimension but ``dim`` (so ``weight_g`` has the size
of ``weight`` along ``dim`` and 1 elsewhere), or over the whole tensor when
``dim`` is None (PyTorch's ``dim=-1`` means the same, and so it does here).
The weight is recomputed from ``weight_g`` and ``weight_v`` with lucid ops in
a forward pre-hook before every call, so gradients reach both; the parameters
are registered after the module's others, so ``state_dict`` has PyTorch's
keys in PyTorch's order (``bias``, ``weight_g``, ``weight_v``) and HiFi-GAN's
checkpoints load as they are.  ``remove_weight_norm`` folds them back into
one ``weight`` parameter.

Cost per forward: a few elementwise passes over the weight (square, sum,
square root, divide, multiply), each differentiable.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..._errors import bad_type, bad_value, check_int
from ...tensor import Tensor, no_grad
from ..module import Module
from ..parameter import Parameter


def _norm_except_dim(v: Tensor, dim: int | None) -> Tensor:
    """``sqrt(sum(v**2))`` over every dimension but ``dim``, or over all of ``v`` (``dim`` None),
    the summed dimensions kept with size 1 (no 0-d intermediate: several rules' backward
    passes do not take 0-d arrays)."""
    squares = v * v
    others = tuple(d for d in range(v.ndim) if d != dim)
    return squares.sum(dim=others, keepdim=True).sqrt() if others else squares.sqrt()


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: sets ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        """``g * v / ||v||`` from the module's current parameters, as a differentiable tensor."""
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def _hooks(module: Module) -> dict:
    return module.__dict__.setdefault("_forward_pre_hooks", {})


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparameterise ``module.<name>`` as ``<name>_g * <name>_v / ||<name>_v||``; returns ``module``.

    Parameters
    ----------
    module : nn.Module
        Holding a parameter ``name`` (``Conv1d``, ``ConvTranspose1d``, ``Linear``...).
    name : str
        The parameter, default ``"weight"``.
    dim : int or None
        The dimension kept out of the norm (default 0: one magnitude per output
        channel of a ``Conv1d``, per input channel of a ``ConvTranspose1d``, as
        PyTorch); negative counts from the end, except ``-1``, which (as in
        PyTorch) means the whole tensor, like ``None``.

    Notes
    -----
    ``<name>_g`` starts as ``||w||`` and ``<name>_v`` as ``w`` itself (sharing its
    array), so the module computes exactly what it did.  Applying it twice to
    one parameter is a ValueError (PyTorch raises RuntimeError).

    Examples
    --------
    >>> import lucid.nn as nn
    >>> conv = nn.utils.weight_norm(nn.Conv1d(4, 8, 3))
    >>> list(conv.state_dict())
    ['bias', 'weight_g', 'weight_v']
    >>> conv.weight_g.shape
    (8, 1, 1)
    """
    if not isinstance(module, Module):
        raise bad_type("weight_norm", "module", "an nn.Module", module)
    if not isinstance(name, str):
        raise bad_type("weight_norm", "name", "a str", name)
    for hook in _hooks(module).values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise bad_value("weight_norm", "name", f"a parameter without weight_norm already "
                            f"(call remove_weight_norm(module, {name!r}) first)", name)
    weight = module._parameters.get(name)
    if not isinstance(weight, Parameter):
        raise bad_value("weight_norm", "name", f"the name of a parameter of {type(module).__name__} "
                        f"(it has {[n for n, p in module._parameters.items() if p is not None]})", name)
    if dim is not None:
        dim = check_int("weight_norm", "dim", dim)
        if not -weight.ndim <= dim < weight.ndim:
            raise bad_value("weight_norm", "dim", f"None or a dimension of the {weight.ndim}-D {name}", dim)
        dim = None if dim == -1 else dim % weight.ndim
    hook = WeightNorm(name, dim)
    del module._parameters[name]
    with no_grad():
        magnitude = _norm_except_dim(weight, dim).data
    magnitude = np.array(magnitude.reshape(()) if dim is None else magnitude)      # dim None: one 0-d g
    module.register_parameter(name + "_g", Parameter(Tensor._wrap(magnitude)))
    module.register_parameter(name + "_v", Parameter(weight))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``; returns ``module``.

    The parameter holds ``g * v / ||v||`` as it is now, and is registered after
    the module's other parameters (as in PyTorch).  ValueError if ``weight_norm``
    was not applied to ``name``.
    """
    if not isinstance(module, Module):
        raise bad_type("remove_weight_norm", "module", "an nn.Module", module)
    hooks = _hooks(module)
    for key, hook in list(hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            with no_grad():
                weight = hook.compute_weight(module)
            del hooks[key]
            module.__dict__.pop(name, None)
            del module._parameters[name + "_g"], module._parameters[name + "_v"]
            module.register_parameter(name, Parameter(weight))
            return module
    raise bad_value("remove_weight_norm", "name", f"a parameter of {type(module).__name__} with weight_norm "
                    "applied", name)
