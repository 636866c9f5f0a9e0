"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``: ``LambdaLR``, ``MultiplicativeLR``, ``StepLR``,
``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``, ``PolynomialLR``, ``CosineAnnealingLR``,
``SequentialLR``, ``ChainedScheduler``, ``OneCycleLR`` and ``ReduceLROnPlateau``.

>>> import lucid
>>> opt = lucid.optim.Adam([lucid.nn.Parameter(lucid.zeros(1))], lr=0.1)
>>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
>>> sched = SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=4)], milestones=[2])
>>> rates = [round(sched.get_last_lr()[0], 4)]          # epoch 0: warm-up from 0.5 * lr
>>> for epoch in range(6):
...     opt.step(); sched.step(); rates.append(round(sched.get_last_lr()[0], 4))
>>> rates
[0.05, 0.075, 0.1, 0.0854, 0.05, 0.0146, 0.0]
"""
from ._scheduler_base import (
                              ConstantLR,
                              CosineAnnealingLR,
                              ExponentialLR,
                              LambdaLR,
                              LinearLR,
                              LRScheduler,
                              MultiplicativeLR,
                              MultiStepLR,
                              PolynomialLR,
                              StepLR,
)
from ._scheduler_composite import ChainedScheduler, OneCycleLR, ReduceLROnPlateau, SequentialLR

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR", "ChainedScheduler", "OneCycleLR",
           "ReduceLROnPlateau"]
