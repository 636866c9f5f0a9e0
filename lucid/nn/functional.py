"""``nn.functional``: conv1d, conv_transpose1d, pad, relu, mse_loss, the activations, softmax and pooling.

:func:`conv1d` is the single entry point of every 1-D convolution in lucid
(``nn.Conv1d`` calls it too; :func:`conv_transpose1d` poses its three
problems on the matching convolution the same way).  It checks every argument up front, describes
the problem as a :class:`~lucid.algos.spec.ConvSpec` and hands the forward
pass and both backward passes to :func:`lucid.algos.planner.execute`, which
chooses the algorithm; nothing here computes a convolution itself.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from .._errors import bad_type, bad_value, check_choice, check_int, dtype_fix, tensor_fix
from ..algos.spec import ConvSpec
from ..ops import conv, shape
from ..tensor import Tensor, apply
from ._activation_functional import (  # noqa: F401
    elu,
    gelu,
    glu,
    leaky_relu,
    log_softmax,
    prelu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from ._checks import single  # F.single: nn.Conv1d's checks use it too
from ._pooling_functional import avg_pool1d, max_pool1d  # noqa: F401  (re-exported: F.max_pool1d, ...)
from .parameter import Parameter

__all__ = ["conv1d", "conv_transpose1d", "pad", "linear", "embedding", "dropout", "relu", "leaky_relu", "elu",
           "prelu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "glu", "avg_pool1d",
           "max_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "interpolate", "layer_norm", "group_norm",
           "batch_norm", "instance_norm", "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def padding_amounts(padding: int | str, kernel_size: int, dilation: int) -> tuple[int, int]:
    """Zeros added on (left, right) for an already checked ``padding``.

    ``'same'`` pads ``d*(K-1)`` in total, the odd one on the right (PyTorch's rule);
    ``'causal'`` pads ``d*(K-1)`` on the left only (Keras's rule), so output ``t``
    sees inputs up to ``t*s`` and no later.
    """
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = dilation * (kernel_size - 1)
        return total // 2, total - total // 2
    if padding == "causal":
        return dilation * (kernel_size - 1), 0
    return int(padding), int(padding)


def check_padding(where: str, padding: Any, stride: int) -> int | str:
    """``padding`` as a non-negative int, ``'same'`` (only with ``stride=1``), ``'valid'`` or ``'causal'``."""
    if isinstance(padding, str):
        if padding not in ("same", "valid", "causal"):
            raise bad_value(where, "padding", "an int, 'same', 'valid' or 'causal'", padding)
        if padding == "same" and stride != 1:
            raise bad_value(where, "padding", f"an int or 'valid' when stride={stride} ('same' needs stride=1)",
                            padding)
        return padding
    return single(where, "padding", padding, 0)


def _floating(where: str, argument: str, value: Any, ranks: str, allowed: tuple[int, ...],
              fix: str | None = None) -> Tensor:
    if not isinstance(value, Tensor):
        raise bad_type(where, argument, "a lucid.Tensor", value)
    if value.ndim not in allowed:
        raise bad_value(where, argument, f"a {ranks} tensor", value, fix)
    if value.data.dtype.kind != "f":
        raise bad_type(where, argument, "a float32 or float64 tensor", value)
    return value


def _other_dtype(data: Any, weight: Any) -> str | None:
    """``weight``'s dtype name if ``lucid.tensor(data)`` would give another one (NumPy's float64), else None."""
    if not (isinstance(weight, Tensor) and weight.data.dtype.kind == "f"):
        return None
    kind = str(getattr(data, "dtype", "float32")).rsplit(".", 1)[-1]       # lists of floats become float32
    return None if kind == weight.dtype.name else weight.dtype.name


def _channel_fix(shape: tuple[int, ...], channels: int) -> str | None:
    """The usual reason an input has the wrong number of channels, as its fix."""
    if len(shape) == 2 and channels == 1:
        return f"for a batch of {shape[0]} one-channel signals add the channel dimension: x.unsqueeze(1)"
    if len(shape) == 3 and shape[2] == channels:
        return "if it is channels-last (N, L, C), move the channels: x.transpose(1, 2)"
    return None


def conv_spec(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,  # noqa: A002
              dilation: Any, groups: Any) -> ConvSpec:
    """Check every argument of :func:`conv1d` and describe the batched problem (N = 1 if unbatched)."""
    w = "conv1d"
    if not isinstance(input, Tensor):                 # the usual fix: lucid.tensor(x), in the weight's dtype
        raise bad_type(w, "input", "a lucid.Tensor", input, tensor_fix(input, _other_dtype(input, weight)))
    flat = None                                       # the fix is worded only for the error it explains
    if input.ndim == 1 and isinstance(weight, Tensor) and weight.ndim == 3 and weight.shape[1] == 1 and groups == 1:
        flat = "add the batch and channel dimensions: x.reshape(1, 1, -1)"
    _floating(w, "input", input, "2-D (C_in, L) or 3-D (N, C_in, L)", (2, 3), flat)
    _floating(w, "weight", weight, "3-D (C_out, C_in // groups, K)", (3,))
    if weight.data.dtype != input.data.dtype:
        if isinstance(weight, Parameter):             # a layer's weight: the data is what to convert
            raise bad_type(w, "input", f"of the weight's dtype {weight.dtype}", input,
                           dtype_fix(weight.dtype, input.dtype))
        raise bad_type(w, "weight", f"of the input's dtype {input.dtype}", weight, dtype_fix(input.dtype))
    c_out, cig, k = weight.shape
    n, c_in, length = (1,) + input.shape if input.ndim == 2 else input.shape
    if length < 1:
        raise bad_value(w, "input", "a tensor with a length (last dimension) of at least 1", input)
    if c_out < 1 or k < 1:
        raise bad_value(w, "weight", "non-empty in its output-channel and kernel dimensions (C_in // groups "
                        "may be 0)", weight)
    if bias is not None:
        _floating(w, "bias", bias, "1-D (C_out,)", (1,))
        if bias.shape != (c_out,) or bias.data.dtype != input.data.dtype:
            raise bad_value(w, "bias", f"None or a tensor of shape ({c_out},) and dtype {input.dtype}", bias)
    stride = single(w, "stride", stride, 1)
    dilation = single(w, "dilation", dilation, 1)
    groups = check_int(w, "groups", groups, 1)
    padding = check_padding(w, padding, stride)
    if c_out % groups:
        raise bad_value(w, "groups", f"a divisor of the output channels weight.shape[0]={c_out}", groups)
    if c_in != cig * groups:
        raise bad_value(w, "input", f"a tensor with {cig * groups} channel{'s' if cig * groups != 1 else ''} "
                        f"(weight.shape[1] * groups = {cig} * {groups}) in dim {input.ndim - 2}", input,
                        _channel_fix(input.shape, cig * groups))
    left, right = padding_amounts(padding, k, dilation)
    span = dilation * (k - 1) + 1
    if length + left + right < span:
        raise bad_value(w, "input", f"at least {span - left - right} samples long: kernel_size={k} at "
                        f"dilation={dilation} spans {span} and padding adds {left + right}", input)
    return ConvSpec.trusted(n, c_in, c_out, length, k, stride, (left, right), dilation, groups, input.dtype.name)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1,  # noqa: A002
           padding: int | str = 0, dilation: int = 1, groups: int = 1, *, algorithm: str | None = None) -> Tensor:
    """1-D cross-correlation, the definition of ``torch.nn.functional.conv1d``.

    .. math::

        y[n, o, t] = b[o] + \\sum_{c < C_{in}/g} \\sum_{k < K} x_{pad}[n, g_o C_{in}/g + c, t s + k d]\\, w[o, c, k]

    where ``g_o = o // (C_out / groups)`` is the group of output channel ``o``.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, L) or unbatched (C_in, L); float32 or float64
    weight : Tensor, shape (C_out, C_in // groups, K), the input's dtype
    bias : Tensor of shape (C_out,), optional
    stride, dilation : int, positive
    padding : int, 'same', 'valid' or 'causal'
        Zeros added on both sides; ``'same'`` (stride 1 only) keeps the length,
        adding ``d*(K-1)`` zeros with the odd one on the right.  ``'causal'``
        (an extension of PyTorch's API, as Keras's ``Conv1D(padding="causal")``)
        adds ``d*(K-1)`` zeros on the left only: ``L_out = ceil(L / s)``, and
        output ``t`` depends on no input after ``t*s``.
    groups : int, positive, dividing C_in and C_out
    algorithm : str, optional
        Force an algorithm of :mod:`lucid.algos` for this call (``"direct"``,
        ``"fft"``, ...); ``None`` lets the planner choose (see
        :func:`lucid.algos.use` and ``LUCID_CONV_ALGO``).

    Returns
    -------
    Tensor, shape (N, C_out, L_out) or (C_out, L_out), with
    ``L_out = (L + pad_left + pad_right - d*(K-1) - 1) // s + 1``.

    Notes
    -----
    Cost: that of the chosen algorithm (direct: ``2*N*C_out*L_out*(C_in/g)*K``
    FLOPs); the backward pass runs backward-data and backward-filter only for
    the operands that require gradients.  Every invalid argument raises
    ValueError / TypeError naming it before any work is done.  An empty batch
    (N = 0) returns an empty output without calling the planner.  Zero input
    channels (``C_in = 0``, weight ``(C_out, 0, K)``) make every sum empty: the
    output is ``bias`` broadcast over ``(N, C_out, L_out)`` (zeros without
    bias).  PyTorch returns an ``(N, 0, L)`` tensor there instead.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.conv1d(lucid.ones(1, 1, 5), lucid.ones(1, 1, 3), padding=1)
    tensor([[[2., 3., 3., 3., 2.]]])
    """
    spec = conv_spec(input, weight, bias, stride, padding, dilation, groups)
    if algorithm is not None and not isinstance(algorithm, str):
        raise bad_type("conv1d", "algorithm", "None or an algorithm name (str)", algorithm)
    parents = (input, weight) if bias is None else (input, weight, bias)
    rule = conv.conv1d(input.data, weight.data, None if bias is None else bias.data, spec, algorithm)
    return apply(rule, parents, "Conv1d")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:  # noqa: A002
    """Pad the trailing dimensions of ``input``, as ``torch.nn.functional.pad``.

    ``pad = (left, right)`` pads the last dimension, ``(left, right, top,
    bottom)`` the last two, and so on.  Modes: ``'constant'`` (with ``value``),
    ``'reflect'`` (mirror without repeating the edge; each pad < that size),
    ``'replicate'`` (repeat the edge) and ``'circular'`` (wrap around; each pad
    <= that size).  Pads must be non-negative.  The gradient sums the copies
    back onto the samples they came from; cost ``O(output size)``.

    >>> import lucid, lucid.nn.functional as F
    >>> F.pad(lucid.tensor([1., 2., 3.]), (2, 1), mode="reflect")
    tensor([3., 2., 1., 2., 3., 2.])
    """
    if not isinstance(input, Tensor):
        raise bad_type("pad", "input", "a lucid.Tensor", input)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise bad_value("pad", "pad", f"a tuple of (left, right) pairs, at most {input.ndim} of them", pad)
    amounts = [check_int("pad", "pad", p, 0) for p in pad]
    check_choice("pad", "mode", mode, PAD_MODES)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type("pad", "value", "a real number", value)
    out = input
    for i in range(len(amounts) // 2):
        left, right = amounts[2 * i], amounts[2 * i + 1]
        axis = input.ndim - 1 - i
        size = input.shape[axis]
        limit = {"reflect": size - 1, "circular": size, "replicate": None if size else -1}.get(mode)
        if limit is not None and max(left, right) > limit:
            raise bad_value("pad", "pad", f"at most {limit} in dim {axis} (size {size}) for mode={mode!r}", tuple(pad))
        if left or right:
            out = apply(shape.pad_axis(out.data, axis, left, right, mode, value), (out,), mode.capitalize() + "Pad")
    return out


def relu(input: Tensor) -> Tensor:  # noqa: A002
    """``max(input, 0)`` elementwise; the gradient passes where ``input > 0`` (rule:
    :func:`lucid.ops.elementwise.relu`)."""
    if not isinstance(input, Tensor):
        raise bad_type("relu", "input", "a lucid.Tensor", input)
    return input.relu()


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared error ``(input - target)**2``, averaged (``'mean'``), summed or kept (``'none'``)."""
    for name, value in (("input", input), ("target", target)):
        if not isinstance(value, Tensor):
            raise bad_type("mse_loss", name, "a lucid.Tensor", value)
    if target.shape != input.shape:
        raise bad_value("mse_loss", "target", f"of the input's shape {input.shape}", target)
    check_choice("mse_loss", "reduction", reduction, ("mean", "sum", "none"))
    diff = input - target
    squared = diff * diff
    return squared if reduction == "none" else squared.mean() if reduction == "mean" else squared.sum()


# Layers, norms and losses of issues #17 and #25, and #24's conv_transpose1d (bodies in their own modules).
from ._conv_transpose_functional import conv_transpose1d  # noqa: E402,F401
from ._functional_batchnorm import batch_norm, instance_norm  # noqa: E402,F401
from ._functional_layers import dropout, embedding, linear  # noqa: E402,F401
from ._functional_loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, nll_loss  # noqa: E402,F401
from ._functional_norm import group_norm, layer_norm  # noqa: E402,F401
from ._functional_resample import adaptive_avg_pool1d, adaptive_max_pool1d, interpolate  # noqa: E402,F401
