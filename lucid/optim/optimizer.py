"""``optim.Optimizer``: the param groups, per-parameter state, ``zero_grad`` and
``step`` that every optimiser shares, as ``torch.optim.Optimizer``.

A subclass names its hyper-parameters in ``defaults``, checks a group's values
in :meth:`Optimizer._check_group` and updates parameters in
:meth:`Optimizer._update` (run under :class:`~lucid.no_grad`).  Updates are in
place: parameters keep their objects and arrays, so modules hold the same
Parameters after every step.  ``p.grad`` is read, never written.
"""
from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .._errors import bad_type, bad_value
from ..tensor import Tensor, no_grad


class Optimizer:
    """Base class of lucid's optimisers.

    Parameters
    ----------
    params : iterable of Tensor, or of dicts with ``"params"`` and per-group options
        Leaf tensors to optimise.  A dict's other keys override ``defaults`` for
        its parameters (e.g. a different ``lr``).
    defaults : dict
        Every hyper-parameter the optimiser knows, with its default value.

    Attributes
    ----------
    param_groups : list of dict
        Each with ``"params"`` (a list of tensors) and every hyper-parameter.
    state : dict
        Per-parameter state (momentum buffers, moment estimates), keyed by the tensor.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        where = type(self).__name__
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise bad_type(where, "params", "an iterable of Tensors or of dicts", params)
        entries: list[Any] = list(params)
        if not entries:
            raise bad_value(where, "params", "a non-empty iterable (the optimizer got no parameters)", entries)
        groups: list[Any] = entries if isinstance(entries[0], dict) else [{"params": entries}]
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Check ``param_group`` (a dict with ``"params"``), fill in the defaults and append it."""
        where = type(self).__name__
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise bad_type(where, "params", "an iterable of Tensors or of dicts with a 'params' key", param_group)
        known = ("params",) + tuple(self.defaults)
        unknown = set(param_group) - set(known)
        if unknown:
            raise bad_value(where, "params", f"param groups with keys among {known}", sorted(unknown))
        raw = param_group["params"]
        tensors = [raw] if isinstance(raw, Tensor) else list(raw)
        for p in tensors:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise bad_type(where, "params", "leaf Tensors", p)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in tensors):
            raise bad_value(where, "params", "tensors that appear in only one parameter group", param_group)
        full = {**self.defaults, **param_group, "params": tensors}
        self._check_group(full)
        self.param_groups.append(full)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise TypeError / ValueError naming the first bad hyper-parameter of ``group``."""

    def _non_negative(self, group: dict[str, Any], *names: str) -> None:
        """Every ``group[name]`` is a real number >= 0 (not a bool)."""
        for name in names:
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise bad_type(type(self).__name__, name, "a non-negative number", value)
            if not float(value) >= 0:
                raise bad_value(type(self).__name__, name, "a non-negative number", value)

    def _flag(self, group: dict[str, Any], name: str) -> None:
        """``group[name]`` is a bool."""
        if not isinstance(group[name], bool):
            raise bad_type(type(self).__name__, name, "a bool", group[name])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``None``, or zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def _update(self) -> None:
        """Update every parameter that has a gradient (run with gradients disabled)."""
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """Apply one update to every parameter that has a gradient.

        ``closure``, if given, re-evaluates the model and returns the loss
        (called with gradients enabled before the update).
        """
        loss = closure() if closure is not None else None
        with no_grad():
            self._update()
        return loss

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state in PyTorch's format: ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are numbered in the order of the param groups (0, 1, ...);
        ``"param_groups"`` holds every group's hyper-parameters with ``"params"``
        replaced by those indices, ``"state"`` each parameter's state (arrays as
        tensors sharing memory with the optimiser's, as PyTorch's references;
        ``"step"`` as an int).  Save it with :func:`lucid.save`; a fresh optimiser
        over the same parameters continues bit for bit after
        :meth:`load_state_dict`.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {key: Tensor._wrap(value) if isinstance(value, np.ndarray) else value
                                for key, value in entries.items()}
                 for p, entries in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (copied: nothing is shared with ``state_dict`` afterwards).

        The groups must list as many parameters as this optimiser's, in the same
        order; each group's hyper-parameters (including keys a scheduler added,
        such as ``initial_lr``) are taken from ``state_dict``.  State arrays are
        cast to their parameter's dtype, ``"step"`` to an int (a PyTorch
        optimiser's float step tensor loads too).
        """
        where = "load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            raise bad_type(where, "state_dict", "a mapping with 'state' and 'param_groups' (from state_dict())",
                           state_dict)
        saved = state_dict["param_groups"]
        if not isinstance(saved, (list, tuple)) or len(saved) != len(self.param_groups):
            raise bad_value(where, "state_dict", f"{len(self.param_groups)} parameter groups, as this optimizer has",
                            f"{len(saved) if isinstance(saved, (list, tuple)) else saved!r} groups")
        by_index: dict[Any, Tensor] = {}
        for i, (group, entry) in enumerate(zip(self.param_groups, saved)):
            if not isinstance(entry, Mapping) or len(entry.get("params", ())) != len(group["params"]):
                raise bad_value(where, f"state_dict['param_groups'][{i}]", f"a group of {len(group['params'])} "
                                "parameters, as this optimizer's group", entry)
            by_index.update(zip(entry["params"], group["params"]))
        state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in dict(state_dict["state"]).items():
            if key not in by_index:
                raise bad_value(where, "state_dict['state']", "keys among the saved groups' parameter indices", key)
            param = by_index[key]
            state[param] = {name: _restore(name, value, param) for name, value in dict(entries).items()}
        groups = []
        for group, entry in zip(self.param_groups, saved):
            restored = {**copy.deepcopy({k: v for k, v in entry.items() if k != "params"}), "params": group["params"]}
            self._check_group(restored)
            groups.append(restored)
        self.param_groups, self.state = groups, state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join(lines + [")"])


def _restore(name: str, value: Any, param: Tensor) -> Any:
    """One saved state entry, copied: ``step`` as an int, arrays (tensors) in the parameter's dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if name == "step":
        return int(np.asarray(value).item())
    if isinstance(value, np.ndarray):
        kind = param.data.dtype if value.dtype.kind == "f" else value.dtype
        return np.array(value, dtype=kind, copy=True)
    return copy.deepcopy(value)
