"""``LRScheduler`` and the schedulers that follow one formula, as ``torch.optim.lr_scheduler``.

Each scheduler sets ``group["lr"]`` of its optimizer's param groups when
constructed (the value for epoch 0) and at every :meth:`LRScheduler.step`.
``step()`` uses PyTorch's *chainable* forms — each new rate computed from the
current ``group["lr"]`` — so schedulers compose as in PyTorch and the rates
agree with PyTorch's bit for bit; ``step(epoch)`` uses the closed form.
``state_dict()`` is every attribute but the optimizer (plain numbers and
lists, so :func:`lucid.save` stores it); a fresh scheduler built on a restored
optimizer continues exactly after ``load_state_dict``.
"""
from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._errors import bad_type, bad_value, check_int
from .optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = ("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
                             "where possible. Please use `scheduler.step()` to step the scheduler. During the "
                             "deprecation, if epoch is different from None, the closed form is used instead of "
                             "the new chainable form, where available.")


def check_real(where: str, argument: str, value: Any, low: float | None = None, high: float | None = None,
               low_open: bool = False) -> float:
    """``value`` as a float within ``[low, high]`` (``(low, high]`` if ``low_open``); bools are refused."""
    text = "a number" + (f" in {'(' if low_open else '['}{low}, {high}]" if low is not None and high is not None
                         else f" > {low}" if low_open else f" >= {low}" if low is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(where, argument, text, value)
    v = float(value)
    if (low is not None and (v <= low if low_open else v < low)) or (high is not None and v > high):
        raise bad_value(where, argument, text, value)
    return v


class LRScheduler:
    """Base class: holds ``optimizer``, ``base_lrs`` (each group's ``initial_lr``) and ``last_epoch``.

    Subclasses define :meth:`get_lr` (the chainable form, from the groups'
    current rates) and may define ``_get_closed_form_lr``.  Unlike PyTorch,
    lucid does not wrap ``optimizer.step`` to warn when the scheduler is
    stepped first.
    """

    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        where = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise bad_type(where, "optimizer", "a lucid.optim.Optimizer", optimizer)
        last_epoch = check_int(where, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise bad_value(where, "last_epoch", f"-1 unless param_groups[{i}] has 'initial_lr' (resume by "
                                "loading the optimizer's state_dict first)", last_epoch)
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step made by the constructor: sets the rates of ``last_epoch + 1``."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except ``optimizer`` (a new dict; the lists in it are the scheduler's own)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Set the attributes saved by :meth:`state_dict`."""
        if not isinstance(state_dict, Mapping):
            raise bad_type(type(self).__name__ + ".load_state_dict", "state_dict", "a mapping", state_dict)
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """The rate of each param group set by the last step."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        """The rates of ``self.last_epoch``, computed from the current ones (chainable form)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or, deprecated as in PyTorch, jump to ``epoch``) and set the groups' rates."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class _LambdaBase(LRScheduler):
    """LambdaLR and MultiplicativeLR: one callable per group; ``state_dict`` keeps callable objects' attributes."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable | list | tuple, last_epoch: int = -1) -> None:
        where = type(self).__name__
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise bad_value(where, "lr_lambda", f"a function or {groups} functions (one per param group)",
                            len(lambdas))
        for fn in lambdas:
            if not callable(fn):
                raise bad_type(where, "lr_lambda", "a function of the epoch (or a list of them)", fn)
        self.lr_lambdas: list[Callable] = lambdas
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """As PyTorch: plain functions are not saved (``None``); callable objects save their ``__dict__``."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the attributes, and callable objects' attributes, keeping this scheduler's functions."""
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaBase):
    """``lr = initial_lr * lr_lambda(epoch)`` per param group, as ``torch.optim.lr_scheduler.LambdaLR``."""

    def get_lr(self) -> list[float]:
        """``base_lr * lmbda(last_epoch)``."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaBase):
    """``lr *= lr_lambda(epoch)`` at every step after the first, as ``torch.optim.lr_scheduler.MultiplicativeLR``."""

    def get_lr(self) -> list[float]:
        """``group['lr'] * lmbda(last_epoch)`` (unchanged on construction)."""
        if self._is_initial:
            return self._current()
        return [group["lr"] * fn(self.last_epoch) for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``lr = initial_lr * gamma ** (epoch // step_size)``.

    >>> import lucid
    >>> opt = lucid.optim.SGD([lucid.nn.Parameter(lucid.zeros(1))], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for _ in range(5):
    ...     rates.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> rates
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_int("StepLR", "step_size", step_size, 1)
        self.gamma = check_real("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``lr * gamma`` when ``last_epoch`` is a positive multiple of ``step_size``."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch in ``milestones`` (a repeated milestone counts again)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise bad_type("MultiStepLR", "milestones", "an iterable of ints", milestones)
        self.milestones = Counter(check_int("MultiStepLR", "milestones", m) for m in milestones)
        self.gamma = check_real("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the attributes; ``milestones`` becomes a ``Counter`` again (it is saved as a dict)."""
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)

    def get_lr(self) -> list[float]:
        """``lr * gamma ** count`` at a milestone."""
        if self.last_epoch not in self.milestones:
            return self._current()
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """``lr = initial_lr * factor`` for the first ``total_iters`` epochs, then ``initial_lr``."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = check_real("ConstantLR", "factor", factor, 0.0, 1.0)
        self.total_iters = check_int("ConstantLR", "total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``lr * factor`` at epoch 0, ``lr / factor`` at ``total_iters``."""
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return self._current()
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """The rate's factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs,
    as ``torch.optim.lr_scheduler.LinearLR`` (a warm-up with the defaults 1/3 -> 1 over 5)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = check_real("LinearLR", "start_factor", start_factor, 0.0, 1.0, low_open=True)
        self.end_factor = check_real("LinearLR", "end_factor", end_factor, 0.0, 1.0)
        self.total_iters = check_int("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's chainable ratio of consecutive factors."""
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        ratio = 1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * (self.end_factor - self.start_factor))
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (self.start_factor + (self.end_factor - self.start_factor)
                        * min(self.total_iters, self.last_epoch) / self.total_iters) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_real("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``lr * gamma`` (unchanged on construction)."""
        if self._is_initial:
            return self._current()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power``."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = check_int("PolynomialLR", "total_iters", total_iters, 1)
        self.power = check_real("PolynomialLR", "power", power)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's chainable ratio."""
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        decay = ((1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)
                 ) ** self.power
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from ``initial_lr`` to ``eta_min`` over ``T_max`` epochs (and back, periodically):
    :math:`\eta_t = \eta_{min} + (\eta_0 - \eta_{min}) (1 + \cos(\pi t / T_{max})) / 2`, in PyTorch's
    chainable form."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = check_int("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = check_real("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's recurrence (the closed form on the first step of a resumed schedule)."""
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base, group in zip(self.base_lrs, self.optimizer.param_groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)) * (group["lr"] - self.eta_min)
                + self.eta_min for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]
