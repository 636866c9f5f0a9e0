"""Neural-network layers, spelled like ``torch.nn``: Module, Parameter, Conv1d, ConvTranspose1d,
Sequential, ModuleList, MSELoss, the activations (ReLU, LeakyReLU, Tanh, Sigmoid, SiLU, GELU, Softplus,
Softmax, LogSoftmax, GLU), AvgPool1d, MaxPool1d, Linear, Identity, Dropout, LayerNorm,
GroupNorm, CrossEntropyLoss, L1Loss, and the ``functional``, ``init`` and ``utils`` modules."""
from . import functional, init, utils
from .activation import GELU, GLU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .conv import Conv1d
from .conv_transpose import ConvTranspose1d
from .dropout import Dropout
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, L1Loss
from .module import Module
from .modules import ModuleList, MSELoss, Sequential
from .normalization import GroupNorm, LayerNorm
from .parameter import Parameter
from .pooling import AvgPool1d, MaxPool1d

__all__ = ["Module", "Parameter", "Conv1d", "Sequential", "ReLU", "MSELoss", "functional", "init", "utils",
           "Tanh", "Sigmoid", "SiLU", "GELU", "Softplus", "Softmax", "LogSoftmax", "AvgPool1d", "MaxPool1d",
           "Linear", "Identity", "Dropout", "LayerNorm", "GroupNorm", "CrossEntropyLoss", "L1Loss", "GLU",
           "ConvTranspose1d", "LeakyReLU", "ModuleList"]
