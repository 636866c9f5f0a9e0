"""lucid: 1-D convolution that picks the fastest correct algorithm per call.

A NumPy-backed Tensor with reverse-mode autograd and a PyTorch-like ``nn``
(``lucid.nn.Conv1d``, ``lucid.nn.functional.conv1d``) whose convolutions are
served by the algorithms in :mod:`lucid.algos` (direct, im2col, FFT, Winograd).

>>> import lucid, lucid.nn as nn
>>> conv = nn.Conv1d(in_channels=1, out_channels=8, kernel_size=3, padding=1)
>>> conv(lucid.zeros(4, 1, 16)).shape
(4, 8, 16)
"""
from ._version import __version__ as __version__  # noqa: I001  (nn and optim after Tensor, see below)
from . import _pyfftw_import  # noqa: F401,I001  (imports pyfftw without dask, before the algorithms do)
from . import algos, allocator, nn, optim  # noqa: E402,I001  (after Tensor: they build on it)
from .dtypes import bool_ as bool  # noqa: A004  (torch's name: lucid.bool)
from .dtypes import device, dtype, float32, float64, int64
from .factories import arange, empty, from_numpy, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .factories import get_rng_state, set_rng_state
from .functions import abs, amax, cat, exp, log, max, sigmoid, sqrt, stack, tanh  # noqa: A004  (torch's names)
from .functions import (amin, argmax, argmin, clamp, clip, clone, eq, ge, gt, le, lt, matmul, maximum,  # noqa: A004
                        mean, min, minimum, ne, std, sum, var, where)
from .grad_mode import enable_grad, inference_mode, set_grad_enabled
from .serialization import load, save
from .grad_mode import is_grad_enabled, no_grad
from .tensor import Tensor
from .algos._parallel import get_num_threads, set_num_threads


__all__ = ["Tensor", "tensor", "zeros", "ones", "empty", "randn", "rand", "zeros_like", "ones_like", "arange",
           "from_numpy", "manual_seed", "no_grad", "is_grad_enabled", "dtype", "device", "float32", "float64",
           "int64", "nn", "optim", "algos", "allocator", "exp", "log", "tanh", "sigmoid", "abs", "sqrt", "cat",
           "stack", "amax", "max", "save", "load", "bool", "sum", "mean", "matmul", "where", "clamp", "clip",
           "maximum", "minimum", "min", "amin", "argmax", "argmin", "var", "std", "clone", "eq", "ne", "lt", "le",
           "gt", "ge", "enable_grad", "inference_mode", "set_grad_enabled", "get_rng_state", "set_rng_state",
           "get_num_threads", "set_num_threads"]

allocator.configure_from_environment()     # keep freed arrays for reuse (see lucid.allocator)
