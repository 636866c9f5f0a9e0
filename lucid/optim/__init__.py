"""Optimisers, spelled like ``torch.optim``: :class:`SGD`, :class:`Adam`, :class:`AdamW`, and the
learning-rate schedulers of :mod:`lucid.optim.lr_scheduler`.

All share :class:`Optimizer` (param groups, per-parameter ``state``,
``zero_grad``, ``step(closure)``); they update parameters in place, skip
parameters whose ``grad`` is ``None`` and never modify ``p.grad``.

>>> import lucid, lucid.nn as nn
>>> net = nn.Conv1d(1, 2, 3)
>>> opt = lucid.optim.AdamW(net.parameters(), lr=1e-3)
>>> net(lucid.ones(1, 1, 8)).sum().backward(); opt.step(); opt.zero_grad()
>>> net.weight.grad is None
True
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
