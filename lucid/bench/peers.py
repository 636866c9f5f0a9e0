"""Other libraries timed beside lucid: PyTorch and SciPy, both optional.

A peer turns ``(op, spec, a, b)`` into a zero-argument call that returns the
result as a NumPy array, or gives the reason it cannot (not installed, op not
offered, too much memory).  A missing peer is reported in the table, never an
error.  Operands follow :func:`lucid.algos.planner.execute`: forward ``(x, w)``,
backward_data ``(dy, w)``, backward_filter ``(dy, x)``.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from ..algos._parallel import get_num_threads  # peers get as many threads as lucid's pool
from ..algos.spec import ConvSpec

PEERS = ("torch", "scipy")
#: Largest broadcast product the SciPy peer may build (bytes of complex64 spectra).
SCIPY_MEMORY_CAP = 256 << 20

Call = Callable[[], np.ndarray]


def make(peer: str, op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray) -> Call | str:
    """A call computing ``op`` of ``spec`` on ``a, b`` with ``peer``, or why it cannot.

    Parameters
    ----------
    peer : {"torch", "scipy"}
    op : {"forward", "backward_data", "backward_filter"}
    spec : ConvSpec
    a, b : ndarray
        The op's operands (see the module docstring).

    Returns
    -------
    callable or str
        A zero-argument function returning the ``op``'s result as an ndarray,
        or a sentence saying why the peer is not timed.
    """
    if peer not in PEERS:
        raise ValueError(f"peer must be one of {PEERS}, got {peer!r}")
    try:
        module = importlib.import_module(peer)
    except ImportError:
        return f"{peer} is not installed"
    if peer == "torch":
        return _torch(module, op, spec, a, b)
    return _scipy(op, spec, a, b)


def _torch(torch, op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray) -> Call | str:
    """``torch.nn.functional.conv1d`` and ``torch.nn.grad.conv1d_input/weight`` on CPU."""
    torch.set_num_threads(get_num_threads())
    left, right = spec.padding
    symmetric = left == right
    pad = left if symmetric else 0
    kw = dict(stride=spec.stride, padding=pad, dilation=spec.dilation, groups=spec.groups)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    padded = (spec.n, spec.c_in, spec.l_padded)

    def padx(x):
        return x if symmetric else torch.nn.functional.pad(x, (left, right))

    if op == "forward":
        def call():
            return torch.nn.functional.conv1d(padx(ta), tb, **kw).numpy()
    elif op == "backward_data":
        size = spec.input_shape if symmetric else padded

        def call():
            dx = torch.nn.grad.conv1d_input(size, tb, ta, **kw)
            return (dx if symmetric else dx[:, :, left:left + spec.length]).numpy()
    else:
        def call():
            return torch.nn.grad.conv1d_weight(padx(tb), spec.weight_shape, ta, **kw).numpy()
    return call


def torch_train_step(spec: ConvSpec, x: np.ndarray, w: np.ndarray, dy: np.ndarray) -> Callable[[], tuple] | str:
    """A PyTorch training step of one convolution, or why it cannot run.

    The step is ``y = conv1d(x, w)`` on leaves that require grad, then
    ``y.backward(dy)`` (backward_data and backward_filter); it returns
    ``(y, dx, dw)`` as ndarrays.  Grads are reset to ``None`` first, so every
    step does the same work (no accumulation).
    """
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    torch.set_num_threads(get_num_threads())
    left, right = spec.padding
    pad = left if left == right else 0
    tx, tw, tg = (torch.from_numpy(v.copy()) for v in (x, w, dy))
    tx.requires_grad_(True)
    tw.requires_grad_(True)

    def step() -> tuple:
        tx.grad = tw.grad = None
        padded = tx if left == right else torch.nn.functional.pad(tx, (left, right))
        y = torch.nn.functional.conv1d(padded, tw, None, spec.stride, pad, spec.dilation, spec.groups)
        y.backward(tg)
        assert tx.grad is not None and tw.grad is not None
        return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()
    return step


def _scipy(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray) -> Call | str:
    """Forward only: ``scipy.signal.fftconvolve`` broadcast over (batch, group, out, in) channels.

    Each group's ``x[n, g, c]`` is convolved with the flipped, dilated taps
    ``w[g, o, c]`` along the last axis, summed over ``c`` and subsampled by the
    stride — how a SciPy user computes a grouped conv1d without a loop.  The
    broadcast holds ``N*C_out*Cig`` spectra, so large dense layers are refused.
    """
    if op != "forward":
        return "scipy has no convolution backward; timed forward only"
    from scipy import fft, signal

    nfft = spec.l_padded + spec.span - 1
    need = spec.n * spec.c_out * spec.cig * nfft * 8
    if need > SCIPY_MEMORY_CAP:
        return f"scipy broadcast needs {need / 2**20:.0f} MiB > {SCIPY_MEMORY_CAP >> 20} MiB cap"
    g, cig, cog = spec.groups, spec.cig, spec.cog
    left, right = spec.padding

    def call() -> np.ndarray:
        x = np.pad(a, ((0, 0), (0, 0), (left, right))).reshape(spec.n, g, 1, cig, spec.l_padded)
        taps = np.zeros((g, cog, cig, spec.span), dtype=b.dtype)
        taps[..., ::spec.dilation] = b.reshape(g, cog, cig, spec.kernel_size)
        with fft.set_workers(get_num_threads()):
            y = signal.fftconvolve(x, taps[None, ..., ::-1], mode="valid", axes=-1).sum(axis=3)
        return y[..., ::spec.stride].reshape(spec.output_shape)
    return call
