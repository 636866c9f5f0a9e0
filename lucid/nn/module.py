"""``nn.Module``: the base class of layers, spelled like ``torch.nn.Module``.

Assigning a :class:`~lucid.nn.Parameter` or a :class:`Module` as an attribute
registers it; :meth:`Module.parameters`, :meth:`Module.state_dict` and friends
walk the registered tree in assignment order.  Forward pre-hooks
(:meth:`Module.register_forward_pre_hook`) run before ``forward`` on every call
(``nn.utils.weight_norm`` recomputes the weight in one).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple, cast

import numpy as np

from .._errors import bad_type, bad_value
from ..dtypes import DTYPES, float32, float64, to_device, to_dtype
from ..tensor import Tensor
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` did not match (empty lists when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """What :meth:`Module.register_forward_pre_hook` returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks: OrderedDict, key: int) -> None:
        self._hooks, self.id = hooks, key

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._hooks.pop(self.id, None)


class Module:
    """Base class of all layers: subclasses set attributes in ``__init__`` and define ``forward``.

    >>> import lucid.nn as nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.conv = nn.Conv1d(1, 2, 3)
    ...     def forward(self, x):
    ...         return self.conv(x)
    >>> [name for name, _ in Net().named_parameters()]
    ['conv.weight', 'conv.bias']
    """

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it (call the module, not ``forward``)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for hook in tuple(self.__dict__.get("_forward_pre_hooks", {}).values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``, in registration order (as PyTorch).

        A hook returning something other than ``None`` replaces the positional
        arguments (a non-tuple is wrapped in one).  Returns a handle whose
        ``remove()`` unregisters it.
        """
        if not callable(hook):
            raise bad_type("register_forward_pre_hook", "hook", "a callable hook(module, args)", hook)
        hooks = self.__dict__.setdefault("_forward_pre_hooks", OrderedDict())
        key = max(hooks, default=-1) + 1
        hooks[key] = hook
        return RemovableHandle(hooks, key)

    # --------------------------------------------------------- registration
    def _registries(self) -> tuple[OrderedDict, ...]:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to {type(self).__name__} before Module.__init__() is called")
        return self._parameters, self._buffers, self._modules

    def __setattr__(self, name: str, value: Any) -> None:
        params, buffers, modules = self._registries()
        if isinstance(value, (Parameter, Module)):
            for registry in (params, buffers, modules):
                registry.pop(name, None)
            if isinstance(value, Parameter):
                self.register_parameter(name, value)
            else:
                self.__dict__.pop(name, None)
                modules[name] = value
        elif name in params or name in modules:
            if value is not None:
                kind = "an nn.Parameter" if name in params else "an nn.Module"
                raise bad_type(type(self).__name__, name, f"{kind} or None", value)
            (params if name in params else modules)[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise bad_type(type(self).__name__, name, "a lucid.Tensor or None (it is a buffer)", value)
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in self._registries():
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``, a declared but absent parameter such as ``bias``)."""
        self._check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise bad_type("register_parameter", "param", "an nn.Parameter or None", param)
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable tensor saved in :meth:`state_dict` (unless not ``persistent``)."""
        self._check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise bad_type("register_buffer", "tensor", "a lucid.Tensor or None", tensor)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def _check_name(self, where: str, name: str) -> None:
        self._registries()
        if not isinstance(name, str):
            raise bad_type(where, "name", "a str", name)
        if not name or "." in name:
            raise bad_value(where, "name", "a non-empty attribute name without '.'", name)

    # -------------------------------------------------------------- walking
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module and every descendant, each once."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct sub-modules."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def _named(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        walk = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in walk:
            for name, value in getattr(module, registry).items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{path}.{name}" if path else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, each parameter once."""
        return cast(Iterator[tuple[str, Parameter]], self._named("_parameters", prefix, recurse))

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module (and its descendants if ``recurse``), each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs, each buffer once."""
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every registered buffer, each once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ---------------------------------------------------------------- state
    def train(self, mode: bool = True) -> Module:
        """Set :attr:`training` on this module and its descendants; returns ``self``."""
        if not isinstance(mode, bool):
            raise bad_type("train", "mode", "a bool", mode)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """``train(False)``."""
        return self.train(False)

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every descendant, then on this module (post-order, as PyTorch); returns
        ``self``.  The usual use is custom initialisation: ``net.apply(init_weights)``."""
        if not callable(fn):
            raise bad_type("apply", "fn", "a function of a module", fn)
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (freeze with ``False``); returns ``self``."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Convert every floating parameter, its gradient and every floating buffer to ``dtype``, in place
        (the Parameter objects stay, as in PyTorch); ``device`` may only be the CPU.  Accepts
        ``to(dtype)``, ``to(device)``, ``to(device, dtype)`` and ``to(tensor)``; returns ``self``."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) and arg not in DTYPES or type(arg).__name__ == "device":
                device = arg
            else:
                dtype = arg
        to_device(device, "to")
        kind = to_dtype(dtype, "Module.to") if dtype is not None else None
        if kind is None:
            return self
        if not kind.is_floating_point:
            raise bad_type("Module.to", "dtype", "a floating dtype (lucid.float32 or lucid.float64)", kind)
        tensors = [t for _, t in self.named_parameters()] + [t for _, t in self.named_buffers()]
        for t in tensors:
            if t._data.dtype.kind == "f":
                t._data = t._data.astype(kind.dtype)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(kind.dtype)
        return self

    def float(self) -> Module:
        """``to(lucid.float32)``."""
        return self.to(float32)

    def double(self) -> Module:
        """``to(lucid.float64)``."""
        return self.to(float64)

    def cpu(self) -> Module:
        """``self`` (the CPU is lucid's only device)."""
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (``None``, or zeros in place)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.data[...] = 0

    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, detached but sharing memory."""
        state = OrderedDict((name, p.detach()) for name, p in self.named_parameters())
        for path, module in self.named_modules():
            skip = module.__dict__.get("_non_persistent", ())
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in skip:
                    state[f"{path}.{name}" if path else name] = buffer.detach()
        return state

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state_dict``'s values into the existing parameters and buffers, in place.

        With ``strict`` (default) missing or unexpected keys raise ValueError;
        a shape mismatch always does.
        """
        if not hasattr(state_dict, "items"):
            raise bad_type("load_state_dict", "state_dict", "a mapping of names to tensors", state_dict)
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise bad_value("load_state_dict", "state_dict", f"the keys of {type(self).__name__}.state_dict() "
                            f"(missing: {missing}, unexpected: {unexpected})", sorted(state_dict))
        for name, value in state_dict.items():
            if name in own:
                array = np.asarray(value.data if isinstance(value, Tensor) else value)
                if array.shape != own[name].shape:
                    raise bad_value("load_state_dict", f"state_dict[{name!r}]", f"of shape {own[name].shape}",
                                    array)
                np.copyto(own[name].data, array, casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The configuration shown inside ``Name(...)``; subclasses override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        if not lines and not children:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines + children) + "\n)"
