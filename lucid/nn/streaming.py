"""Streaming: feed a model a live signal chunk by chunk and get its offline result, chunk by chunk.

``with lucid.nn.streaming(module) as stream:`` makes every :class:`~lucid.nn.Conv1d`
and :class:`~lucid.nn.ConvTranspose1d` in ``module`` keep, between calls, what
the next outputs still need
(moshi's ``StreamingConv1d`` and RAVE's cached convolutions do the same):

* the **history**: the padded input from the first sample of the next output
  on -- at most ``dilation*(K-1)`` samples -- and, when the stride jumps past
  the samples received so far, how many of the next ones no output uses (the
  stride's phase: output ``t`` starts at ``t*stride``, exactly);
* the **left padding**, made when the signal starts: zeros, or (``reflect``,
  ``replicate``) from the first samples once they have arrived;
* the **last raw samples**, for the right padding that :meth:`Stream.flush`
  applies when the signal ends;

and every :class:`~lucid.nn.ConvTranspose1d` the **overlap-add tail**: the
outputs that later inputs still add to, and, when padding crops the end, the
last outputs until the end is known.

``module(chunk)`` returns the outputs that the inputs so far determine;
``stream.flush()`` (for a single layer) returns the rest.  The outputs of all
calls plus ``flush()``, joined along time, equal the layer applied to the whole
signal, for any chunking down to one sample.  A model whose convolutions are
causal (``padding="causal"``: no right padding) needs no flush: its calls'
outputs are its offline output, so pointwise ops between the convolutions
(gates, residual adds, 1x1s) see aligned chunks.  Circular padding needs the
end of the signal before its start and is refused.

Each chunk's convolution is an ordinary :func:`lucid.nn.functional.conv1d`
call on ``history + chunk``: the planner plans it like any call, once per
shape, so a fixed chunk size plans once and a long filter can stream through
FFT where that is faster.  Leaving the context clears the state; outside it
nothing changes.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._errors import bad_type, bad_value
from ..functions import cat
from ..tensor import Tensor
from . import functional as F
from .conv import Conv1d
from .conv_transpose import ConvTranspose1d
from .module import Module

__all__ = ["streaming", "Stream"]


def _batched(state: Any, where: str, chunk: Any) -> Tensor:
    """``chunk`` as ``(N, C, T)``, remembering in ``state.unbatched`` whether the stream is unbatched."""
    if not isinstance(chunk, Tensor):
        raise bad_type(where, "input", "a lucid.Tensor chunk of shape (N, C, T) or (C, T)", chunk)
    if chunk.ndim not in (2, 3):
        raise bad_value(where, "input", "a chunk of shape (N, C, T) or (C, T)", chunk)
    unbatched = chunk.ndim == 2
    if state.unbatched is not None and unbatched != state.unbatched:
        raise bad_value(where, "input", "chunks all batched or all unbatched", chunk)
    state.unbatched = unbatched
    return chunk.unsqueeze(0) if unbatched else chunk


class _ConvState:
    """The streaming state of one :class:`Conv1d` (see the module docstring)."""

    def __init__(self, conv: Conv1d) -> None:
        padding: Any = conv.padding if isinstance(conv.padding, str) else conv.padding[0]
        self.conv = conv
        self.kernel, self.stride, self.dilation = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        self.left, self.right = F.padding_amounts(padding, self.kernel, self.dilation)
        self.mode = {"zeros": "constant"}.get(conv.padding_mode, conv.padding_mode)
        if self.mode == "circular" and (self.left or self.right):
            raise bad_value("streaming", "module", "convolutions without circular padding (circular padding "
                            "needs the end of the signal before its start)", conv)
        self.span = self.dilation * (self.kernel - 1) + 1
        self.history: Tensor | None = None       # padded input from the next output's first sample on
        self.waiting: Tensor | None = None       # raw samples held back until the left padding can be made
        self.last: Tensor | None = None          # the last right + 1 raw samples (the right padding's source)
        self.unbatched: bool | None = None
        self.skip = 0                            # samples of the next chunks before the next output's start

    def _left_pad(self, raw: Tensor) -> Tensor | None:
        """``raw`` (the signal's first samples) with the left padding before it, or None until enough
        samples have arrived to make it (``reflect`` needs ``left + 1``, ``replicate`` one)."""
        needed = {"reflect": self.left + 1, "replicate": 1}.get(self.mode, 0) if self.left else 0
        if raw.shape[-1] < needed:
            return None
        return F.pad(raw, (self.left, 0), mode=self.mode) if self.left else raw

    def _emit(self, final: bool = False) -> Tensor:
        """Convolve what the history holds into every output it determines, and drop what they consumed."""
        assert self.history is not None
        length = self.history.shape[-1]
        n_out = (length - self.span) // self.stride + 1 if length >= self.span else 0
        conv = self.conv
        if n_out == 0:
            out = self._empty(self.history)
        else:
            out = F.conv1d(self.history, conv.weight, conv.bias, self.stride, 0, self.dilation, conv.groups,
                           algorithm=conv.algorithm)
            consumed = n_out * self.stride              # where the next output starts (may be past the end)
            self.skip = max(consumed - length, 0)
            self.history = self.history[..., consumed:]
            out = out[0] if self.unbatched else out
        if final:
            self.history = None
        return out

    def step(self, chunk: Any) -> Tensor:
        """The outputs that the inputs so far determine, after appending ``chunk``."""
        x = _batched(self, "streaming Conv1d", chunk)
        if self.right:
            self.last = x if self.last is None else cat([self.last, x], dim=-1)
            self.last = self.last[..., -(self.right + 1):]
        if self.history is None:
            self.waiting = x if self.waiting is None else cat([self.waiting, x], dim=-1)
            self.history = self._left_pad(self.waiting)
            if self.history is None:
                return self._empty(x)
            self.waiting = None
        else:
            self._append(x)
        return self._emit()

    def _append(self, x: Tensor) -> None:
        """Add ``x`` to the history, less the samples that fall before the next output's start."""
        assert self.history is not None
        dropped = min(self.skip, x.shape[-1])
        self.skip -= dropped
        self.history = cat([self.history, x[..., dropped:]], dim=-1)

    def flush(self) -> Tensor:
        """The outputs left once the signal has ended: the right padding applied, the state cleared."""
        if self.history is None:
            if self.waiting is None:
                raise bad_value("Stream.flush", "stream", "a stream that has received at least one chunk", None)
            self.history = F.pad(self.waiting, (self.left, 0), mode=self.mode) if self.left else self.waiting
        if self.right:
            assert self.last is not None
            self._append(F.pad(self.last, (0, self.right), mode=self.mode)[..., self.last.shape[-1]:])
        out = self._emit(final=True)
        self.waiting = self.last = None
        self.skip = 0
        return out

    def _empty(self, x: Tensor) -> Tensor:
        """No outputs yet: a ``(N, C_out, 0)`` tensor (``(C_out, 0)`` unbatched) of the input's dtype."""
        out = Tensor._wrap(np.zeros((x.shape[0], self.conv.out_channels, 0), x.data.dtype))
        return out[0] if self.unbatched else out


class _TransposeState:
    """The streaming state of one :class:`ConvTranspose1d`: the overlap-add tail.

    In the coordinates of the uncropped output ``y_full`` (input ``i`` spreads
    over ``i*s + k*d``), a chunk of ``T`` inputs starting at input ``i0`` adds
    ``conv_transpose(chunk)`` at ``i0*s``; positions before ``(i0 + T)*s`` are
    then final.  The output is ``y_full[p : p + L_out]`` with ``p + L_out =
    L*s + c``, ``c = d(K-1) + 1 - s - p + output_padding``, so the first ``p``
    positions are dropped, and when ``c < 0`` the last ``-c`` final positions
    are held back until :meth:`flush` knows where the signal ends.
    """

    def __init__(self, conv: ConvTranspose1d) -> None:
        self.conv = conv
        self.kernel, self.stride, self.dilation = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        self.padding, self.output_padding = conv.padding[0], conv.output_padding[0]
        self.reach = self.dilation * (self.kernel - 1) + 1 - self.stride - self.padding + self.output_padding
        self.inputs = 0                          # inputs received
        self.start = 0                           # the y_full position of acc's first sample
        self.acc: Tensor | None = None           # y_full from ``start`` on: final samples held back, then the tail
        self.unbatched: bool | None = None

    def step(self, chunk: Any) -> Tensor:
        """The outputs final once ``chunk`` is added."""
        x = _batched(self, "streaming ConvTranspose1d", chunk)
        conv = self.conv
        if x.shape[-1] == 0:                     # an empty chunk (an earlier strided layer emitted nothing yet)
            out = Tensor._wrap(np.zeros((x.shape[0], conv.out_channels, 0), x.data.dtype))
            return out[0] if self.unbatched else out
        part = F.conv_transpose1d(x, conv.weight, None, self.stride, 0, 0, conv.groups, self.dilation,
                                  algorithm=conv.algorithm)
        self._add(part, self.inputs * self.stride)
        self.inputs += x.shape[-1]
        return self._emit(self.inputs * self.stride + min(self.reach, 0))

    def _add(self, part: Tensor, at: int) -> None:
        """Add ``part`` (y_full values from position ``at`` on) into the accumulator."""
        if self.acc is None:
            self.acc, self.start = part, at
            return
        end = max(self.start + self.acc.shape[-1], at + part.shape[-1])
        self.acc = F.pad(self.acc, (0, end - self.start - self.acc.shape[-1])) + \
            F.pad(part, (at - self.start, end - at - part.shape[-1]))

    def _emit(self, limit: int) -> Tensor:
        """Emit the output positions below ``limit`` (y_full ``[max(start, p), limit)``), with the bias."""
        assert self.acc is not None
        have = self.start + self.acc.shape[-1]
        if limit > have:                          # output_padding past y_full: zeros (the bias alone)
            self.acc = F.pad(self.acc, (0, limit - have))
        first = max(self.padding - self.start, 0)
        cut = max(limit - self.start, 0)
        out = self.acc[..., min(first, cut):cut]
        self.acc = self.acc[..., cut:]
        self.start += cut
        if self.conv.bias is not None:
            out = out + self.conv.bias[:, None]
        return out[0] if self.unbatched else out

    def flush(self) -> Tensor:
        """The held-back outputs and the tail, cropped where the signal's output ends; the state cleared."""
        if self.acc is None:
            raise bad_value("Stream.flush", "stream", "a stream that has received at least one chunk", None)
        out = self._emit(self.inputs * self.stride + self.reach)
        self.acc, self.inputs, self.start = None, 0, 0
        return out


class Stream:
    """What ``lucid.nn.streaming(module)`` yields: the per-layer states, and :meth:`flush`."""

    def __init__(self, module: Module) -> None:
        if not isinstance(module, Module):
            raise bad_type("streaming", "module", "a lucid.nn.Module", module)
        self.module = module
        self._states: dict[int, _ConvState | _TransposeState] = {}
        for layer in module.modules():
            if isinstance(layer, Conv1d):
                self._states[id(layer)] = _ConvState(layer)
            elif isinstance(layer, ConvTranspose1d):
                self._states[id(layer)] = _TransposeState(layer)
        if not self._states:
            raise bad_value("streaming", "module", "a module with at least one Conv1d or ConvTranspose1d", module)
        for layer in module.modules():
            state = self._states.get(id(layer))
            if state is not None:
                layer.forward = state.step  # type: ignore[method-assign]  # an instance attribute shadows forward

    def flush(self) -> Tensor:
        """The rest of a single streamed layer's output (its right padding applied); the state is cleared,
        so the next call starts a new signal.  A model streams its causal convolutions without flushing."""
        if not isinstance(self.module, (Conv1d, ConvTranspose1d)):
            raise bad_value("Stream.flush", "module", "a single Conv1d or ConvTranspose1d (a model of causal "
                            "convolutions needs no flush: its calls' outputs are the offline output)", self.module)
        return self._states[id(self.module)].flush()

    def close(self) -> None:
        """Restore every layer's own forward and drop the state."""
        for layer in self.module.modules():
            if id(layer) in self._states:
                layer.__dict__.pop("forward", None)
        self._states.clear()


@contextlib.contextmanager
def streaming(module: Module) -> Iterator[Stream]:
    """Stream ``module``'s convolutions chunk by chunk inside the block (see the module docstring).

    >>> import lucid, lucid.nn as nn
    >>> conv = nn.Conv1d(1, 1, 3, padding="causal", bias=False)
    >>> x = lucid.randn(1, 1, 10)
    >>> with nn.streaming(conv):
    ...     parts = [conv(x[..., i:i + 4]) for i in range(0, 10, 4)]
    >>> bool(abs(lucid.cat(parts, dim=-1) - conv(x)).max() < 1e-6)
    True
    """
    stream = Stream(module)
    try:
        yield stream
    finally:
        stream.close()
