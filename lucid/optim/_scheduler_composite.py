"""Schedulers built from others or from phases: ``SequentialLR``, ``ChainedScheduler``, ``OneCycleLR``
and ``ReduceLROnPlateau``, as in ``torch.optim.lr_scheduler`` (see :mod:`._scheduler_base`)."""
from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import bad_type, bad_value, check_choice, check_int
from ._scheduler_base import LRScheduler, check_real
from .optimizer import Optimizer


def _per_group(where: str, name: str, value: Any, optimizer: Optimizer) -> list[float]:
    """A number, or one per param group, as a list of floats (PyTorch's ``_format_param``)."""
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise bad_value(where, name, f"a number or {groups} numbers (one per param group)", value)
    return [check_real(where, name, v) for v in values]


def _schedulers(where: str, schedulers: Any, optimizer: Optimizer | None) -> list[LRScheduler]:
    if not isinstance(schedulers, (list, tuple)) or not schedulers:
        raise bad_value(where, "schedulers", "a non-empty list of schedulers", schedulers)
    for i, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
            raise bad_type(where, f"schedulers[{i}]", "an LRScheduler other than ReduceLROnPlateau", scheduler)
        if optimizer is not None and scheduler.optimizer is not optimizer:
            raise bad_value(where, f"schedulers[{i}]", "a scheduler of the same optimizer", scheduler)
    return list(schedulers)


class _Container(LRScheduler):
    """State handling of schedulers that hold others: their state dicts are saved in a list."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        """Own attributes, with ``_schedulers`` as the list of the children's state dicts."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore own attributes and each child's."""
        state = dict(state_dict)
        children = state.pop("_schedulers", [])
        self.__dict__.update(state)
        for scheduler, child in zip(self._schedulers, children):
            scheduler.load_state_dict(child)


class SequentialLR(_Container):
    """Run ``schedulers[i]`` from ``milestones[i - 1]`` on, as ``torch.optim.lr_scheduler.SequentialLR``
    (e.g. ``LinearLR`` warm-up, then ``CosineAnnealingLR``); each later scheduler starts from epoch 0."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        where = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise bad_type(where, "optimizer", "a lucid.optim.Optimizer", optimizer)
        self._schedulers = _schedulers(where, schedulers, optimizer)
        if not isinstance(milestones, (list, tuple)) or len(milestones) != len(self._schedulers) - 1:
            raise bad_value(where, "milestones", f"{len(self._schedulers) - 1} epochs (one fewer than the "
                            "schedulers)", milestones)
        self._milestones = [check_int(where, "milestones", m, 0) for m in milestones]
        self.last_epoch = check_int(where, "last_epoch", last_epoch, -1) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:                      # undo the constructors' steps
            scheduler.last_epoch -= 1
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:  # type: ignore[override]
        """Step the scheduler of the current epoch; at a milestone, start the next one at epoch 0."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Container):
    """Step every scheduler of ``schedulers`` at each step (their factors multiply)."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        first = _schedulers("ChainedScheduler", schedulers, None)
        self.optimizer = optimizer or first[0].optimizer
        self._schedulers = _schedulers("ChainedScheduler", schedulers, self.optimizer)
        self._last_lr = self._current()

    def step(self) -> None:  # type: ignore[override]
        """``scheduler.step()`` for each, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), as ``torch.optim.lr_scheduler.OneCycleLR``: the rate rises from
    ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of ``total_steps`` steps, then anneals to
    ``initial_lr / final_div_factor``; momentum (SGD's ``momentum`` or Adam's ``beta1``) moves inversely
    between ``max_momentum`` and ``base_momentum``.  Step it after every batch.  The phases and group keys
    (``initial_lr``, ``max_lr``, ``min_lr``, ``max_momentum``, ``base_momentum``) are PyTorch's."""

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum: float | list = 0.85,
                 max_momentum: float | list = 0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        where = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise bad_type(where, "optimizer", "a lucid.optim.Optimizer", optimizer)
        if total_steps is not None:
            self.total_steps = check_int(where, "total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = check_int(where, "epochs", epochs, 1) * check_int(where, "steps_per_epoch",
                                                                                 steps_per_epoch, 1)
        else:
            raise bad_value(where, "total_steps", "an int, or epochs and steps_per_epoch given", total_steps)
        pct = check_real(where, "pct_start", pct_start, 0.0, 1.0)
        phases = [(pct * self.total_steps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if three_phase:
            phases.append((2 * pct * self.total_steps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"))
            phases.append((self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"))
        else:
            phases.append((self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"))
        self._schedule_phases: list[dict[str, Any]] = [
            {"end_step": float(end), "start_lr": a, "end_lr": b, "start_momentum": c, "end_momentum": d}
            for end, a, b, c, d in phases]
        self._anneal_func_type = check_choice(where, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        max_lrs = _per_group(where, "max_lr", max_lr, optimizer)
        div = check_real(where, "div_factor", div_factor, 0.0, low_open=True)
        final_div = check_real(where, "final_div_factor", final_div_factor, 0.0, low_open=True)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div
        if not isinstance(cycle_momentum, bool):
            raise bad_type(where, "cycle_momentum", "a bool", cycle_momentum)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise bad_value(where, "cycle_momentum", "False for an optimizer without momentum or betas", True)
            self.use_beta1 = "betas" in optimizer.defaults
            highs = _per_group(where, "max_momentum", max_momentum, optimizer)
            lows = _per_group(where, "base_momentum", base_momentum, optimizer)
            if last_epoch == -1:
                for high, low, group in zip(highs, lows, optimizer.param_groups):
                    if self.use_beta1:
                        group["betas"] = (high, *group["betas"][1:])
                    else:
                        group["momentum"] = high
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The rate (and momentum, set in the group) of step ``last_epoch`` within its phase."""
        step = self.last_epoch
        if step > self.total_steps:
            raise bad_value("OneCycleLR.step", "step", f"at most total_steps={self.total_steps} steps", step)
        rates = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start = phase["end_step"]
            rates.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return rates


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric stopped improving for ``patience`` epochs, as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``; call ``step(metric)``."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        where = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise bad_type(where, "optimizer", "a lucid.optim.Optimizer", optimizer)
        self.factor = check_real(where, "factor", factor, 0.0)
        if self.factor >= 1.0:
            raise bad_value(where, "factor", "a number < 1.0", factor)
        self.optimizer = optimizer
        self.min_lrs = _per_group(where, "min_lr", min_lr, optimizer)
        self.patience = check_int(where, "patience", patience, 0)
        self.cooldown = check_int(where, "cooldown", cooldown, 0)
        self.eps = check_real(where, "eps", eps, 0.0)
        self.mode = check_choice(where, "mode", mode, ("min", "max"))
        self.threshold = check_real(where, "threshold", threshold, 0.0)
        self.threshold_mode = check_choice(where, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.last_epoch = 0
        self._last_lr = self._current()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.threshold_mode == "rel":
            scale = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            return a < best * scale if self.mode == "min" else a > best * scale
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record ``metrics`` (a number or one-element tensor); reduce the rates after ``patience`` bad epochs."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, low)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current()
