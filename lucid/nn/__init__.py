"""Neural-network layers, spelled like ``torch.nn``: Module, Parameter, Conv1d,
Sequential, ReLU, MSELoss, and the ``functional`` and ``init`` modules."""
from . import functional, init
from .conv import Conv1d
from .module import Module
from .modules import MSELoss, ReLU, Sequential
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Conv1d", "Sequential", "ReLU", "MSELoss", "functional", "init"]
