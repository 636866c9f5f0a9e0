"""Neural-network layers, spelled like ``torch.nn``: Module, Parameter, Conv1d,
Sequential, MSELoss, the activations (ReLU, Tanh, Sigmoid, SiLU, GELU, Softplus,
Softmax, LogSoftmax, GLU), AvgPool1d, MaxPool1d, Linear, Identity, Dropout, LayerNorm,
GroupNorm, BatchNorm1d, InstanceNorm1d, CrossEntropyLoss, L1Loss, and the ``functional``, ``init`` and
``utils`` modules; issue #25 added Embedding, Upsample, Flatten, Unflatten, AdaptiveAvgPool1d,
AdaptiveMaxPool1d, ModuleDict, PReLU, ELU, NLLLoss, BCELoss and BCEWithLogitsLoss."""
from . import functional, init, utils
from .activation import ELU, GELU, GLU, LogSoftmax, PReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d, InstanceNorm1d
from .conv import Conv1d
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, NLLLoss
from .module import Module
from .module_dict import ModuleDict
from .modules import MSELoss, Sequential
from .normalization import GroupNorm, LayerNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d
from .sparse import Embedding
from .streaming import Stream, streaming
from .upsampling import Upsample

__all__ = ["Module", "Parameter", "Conv1d", "Sequential", "ReLU", "MSELoss", "functional", "init",
           "Tanh", "Sigmoid", "SiLU", "GELU", "Softplus", "Softmax", "LogSoftmax", "AvgPool1d", "MaxPool1d",
           "Linear", "Identity", "Dropout", "LayerNorm", "GroupNorm", "CrossEntropyLoss", "L1Loss", "GLU",
           "streaming", "Stream", "BatchNorm1d", "InstanceNorm1d", "utils", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d",
           "Flatten", "Unflatten", "Upsample", "Embedding", "ModuleDict", "PReLU", "ELU", "BCEWithLogitsLoss",
           "BCELoss", "NLLLoss"]
