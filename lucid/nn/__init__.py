"""Neural-network layers, spelled like ``torch.nn``: Module, Parameter, Conv1d, ConvTranspose1d,
Sequential, ModuleList, ModuleDict, the activations (ReLU, LeakyReLU, ELU, PReLU, Tanh, Sigmoid, SiLU,
GELU, Softplus, Softmax, LogSoftmax, GLU), pools (also adaptive), Upsample, Flatten, Unflatten, Linear,
Embedding, Identity, Dropout, LayerNorm, GroupNorm, BatchNorm1d, InstanceNorm1d, the losses, streaming,
and the ``functional``, ``init`` and ``utils`` modules."""
from . import functional, init, utils
from .activation import ELU, GELU, GLU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d, InstanceNorm1d
from .conv import Conv1d
from .conv_transpose import ConvTranspose1d
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, NLLLoss
from .module import Module
from .module_dict import ModuleDict
from .modules import ModuleList, MSELoss, Sequential
from .normalization import GroupNorm, LayerNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d
from .sparse import Embedding
from .streaming import Stream, streaming
from .upsampling import Upsample

__all__ = ["Module", "Parameter", "Conv1d", "Sequential", "ReLU", "MSELoss", "functional", "init", "utils", "Tanh",
           "Sigmoid", "SiLU", "GELU", "Softplus", "Softmax", "LogSoftmax", "AvgPool1d", "MaxPool1d",
           "Linear", "Identity", "Dropout", "LayerNorm", "GroupNorm", "CrossEntropyLoss", "L1Loss", "GLU",
           "streaming", "Stream", "BatchNorm1d", "InstanceNorm1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d",
           "Flatten", "Unflatten", "Upsample", "Embedding", "ModuleDict", "PReLU", "ELU",
           "BCEWithLogitsLoss", "BCELoss", "NLLLoss", "ConvTranspose1d", "LeakyReLU", "ModuleList"]
