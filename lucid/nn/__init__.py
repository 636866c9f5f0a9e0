"""Neural-network layers, spelled like ``torch.nn``: Module, Parameter, Conv1d,
Sequential, ReLU, MSELoss, and the ``functional`` and ``init`` modules."""
from . import functional, init
from .conv import Conv1d
from .dropout import Dropout
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, L1Loss
from .module import Module
from .modules import MSELoss, ReLU, Sequential
from .normalization import GroupNorm, LayerNorm
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Conv1d", "Sequential", "ReLU", "MSELoss", "functional", "init",
           "Linear", "Identity", "Dropout", "LayerNorm", "GroupNorm", "CrossEntropyLoss", "L1Loss"]
