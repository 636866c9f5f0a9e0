"""``F.conv_transpose1d``: the transposed 1-D convolution, checked here and planned as its matching convolution.

A transposed convolution is the adjoint (the input gradient) of a
convolution, so it needs no algorithm of its own: :func:`conv_transpose_spec`
describes the convolution whose input has the output's shape, and the rule
(:func:`lucid.ops.conv_transpose.conv_transpose1d`) poses its forward as that
convolution's backward_data, its input gradient as the forward and its weight
gradient as the backward_filter, each chosen by the planner.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._errors import bad_type, bad_value, check_int
from ..algos.spec import ConvSpec
from ..ops import conv_transpose
from ..tensor import Tensor, apply
from ._checks import floating, single

_WHERE = "conv_transpose1d"


def minimum_length(length: int, kernel_size: int, stride: int, padding: int, dilation: int) -> int:
    """The output length without ``output_padding``: ``(L - 1)*s - 2p + d*(K - 1) + 1``."""
    return (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1


def output_padding_for(where: str, output_size: Any, length: int, kernel_size: int, stride: int, padding: int,
                       dilation: int, ndim: int) -> int:
    """The ``output_padding`` that makes the output ``output_size`` long (``nn.ConvTranspose1d``'s
    ``forward(input, output_size)``).

    ``output_size`` is a sequence of ints: ``(L_out,)``, or the whole output
    shape (``ndim`` entries) of which the last is used, as in PyTorch.  The
    reachable lengths are ``minimum_length`` to ``minimum_length + stride - 1``.
    """
    if isinstance(output_size, (str, bytes)) or not isinstance(output_size, Sequence):
        raise bad_type(where, "output_size", "None or a sequence of ints, e.g. (L_out,)", output_size)
    if len(output_size) not in (1, ndim):
        raise bad_value(where, "output_size", f"(L_out,) or a full {ndim}-D output shape", output_size)
    for size in output_size:
        check_int(where, "output_size", size, 0)
    wanted = int(output_size[-1])
    low = minimum_length(length, kernel_size, stride, padding, dilation)
    high = low + stride - 1
    if not low <= wanted <= high:
        raise bad_value(where, "output_size", f"a length from {low} to {high} for an input of length {length} "
                        f"(kernel_size={kernel_size}, stride={stride}, padding={padding}, dilation={dilation})",
                        tuple(output_size))
    return wanted - low


def check_output_padding(where: str, output_padding: int, stride: int, dilation: int) -> None:
    """``output_padding`` below ``max(stride, dilation)``, PyTorch's limit, or a ValueError saying why."""
    if output_padding >= max(stride, dilation):
        raise bad_value(where, "output_padding", f"smaller than stride ({stride}) or dilation ({dilation}): it adds "
                        "samples at the end that only those can reach; pass a larger stride, or output_size "
                        "to nn.ConvTranspose1d", output_padding)


def conv_transpose_spec(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,  # noqa: A002
                        output_padding: Any, groups: Any, dilation: Any) -> ConvSpec:
    """Check every argument of :func:`conv_transpose1d` and return the matching convolution's forward spec.

    The matching convolution maps ``(N, C_out, L_out)`` to ``(N, C_in, L)``
    with the same weight, stride ``s``, dilation ``d``, groups and padding
    ``(p, max(p - output_padding, 0))``: its output is then ``L`` long, or
    ``L + (output_padding - p) // s`` when ``output_padding - p >= s`` (the
    rule extends ``x`` with zeros there).
    """
    w = _WHERE
    floating(w, "input", input)
    if input.ndim not in (2, 3):
        raise bad_value(w, "input", "a 2-D (C_in, L) or 3-D (N, C_in, L) tensor", input)
    floating(w, "weight", weight, like=input)
    if weight.ndim != 3:
        raise bad_value(w, "weight", "a 3-D (C_in, C_out // groups, K) tensor", weight)
    c_in, cog, k = weight.shape
    n, channels, length = (1,) + input.shape if input.ndim == 2 else input.shape
    if min(c_in, cog, k) < 1:
        raise bad_value(w, "weight", "non-empty in every dimension (C_in, C_out // groups, K)", weight)
    if length < 1:
        raise bad_value(w, "input", "a tensor with a length (last dimension) of at least 1", input)
    stride = single(w, "stride", stride, 1)
    padding = single(w, "padding", padding, 0)
    output_padding = single(w, "output_padding", output_padding, 0)
    dilation = single(w, "dilation", dilation, 1)
    groups = check_int(w, "groups", groups, 1)
    if c_in % groups:
        raise bad_value(w, "groups", f"a divisor of the input channels weight.shape[0]={c_in}", groups)
    if channels != c_in:
        raise bad_value(w, "input", f"a tensor with {c_in} channels (weight.shape[0]) in dim {input.ndim - 2}",
                        input)
    c_out = cog * groups
    if bias is not None:
        floating(w, "bias", bias, like=input)
        if bias.shape != (c_out,):
            raise bad_value(w, "bias", f"None or a tensor of shape ({c_out},) (weight.shape[1] * groups)", bias)
    check_output_padding(w, output_padding, stride, dilation)
    l_out = minimum_length(length, k, stride, padding, dilation) + output_padding
    if l_out < 1:
        most = ((length - 1) * stride + dilation * (k - 1) + output_padding) // 2
        raise bad_value(w, "padding", f"at most {most} for an input of length {length}, kernel_size={k}, "
                        f"stride={stride}, dilation={dilation} (the output would have {l_out} samples)", padding)
    return ConvSpec.trusted(n, c_out, c_in, l_out, k, stride, (padding, max(padding - output_padding, 0)),
                            dilation, groups, input.dtype.name)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1,  # noqa: A002
                     padding: int = 0, output_padding: int = 0, groups: int = 1, dilation: int = 1, *,
                     algorithm: str | None = None) -> Tensor:
    """Transposed 1-D convolution ("deconvolution"), the definition of ``torch.nn.functional.conv_transpose1d``.

    .. math::

        y[n, g C_{og} + o, j] = b[g C_{og} + o] + \\sum_{c < C_{in}/g} \\sum_{i, k:\\; i s + k d - p = j}
        x[n, g C_{in}/g + c, i]\\, w[g C_{in}/g + c, o, k]

    Each input sample scatters ``K`` taps ``d`` apart into the output, inputs
    ``s`` apart; ``p`` samples are cropped from both ends and ``output_padding``
    samples added at the end.  It is the input gradient (adjoint) of
    ``F.conv1d`` with the same weight, stride, padding, dilation and groups.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, L) or unbatched (C_in, L); float32 or float64
    weight : Tensor, shape (C_in, C_out // groups, K), the input's dtype
    bias : Tensor of shape (C_out,), optional
    stride, dilation : int (or 1-tuple), positive
    padding : int (or 1-tuple), non-negative
        ``dilation*(K-1) - padding`` zeros of implicit padding of the
        convolution it is the adjoint of; no ``'same'``, as in PyTorch.
    output_padding : int (or 1-tuple), smaller than stride or dilation
        Samples added at the end of the output (where only a stride or
        dilation larger than one reaches); picks one of the ``stride`` input
        lengths a strided ``conv1d`` maps to the same length.
    groups : int, positive, dividing C_in
    algorithm : str, optional
        Force an algorithm of :mod:`lucid.algos` on the three problems of the
        matching convolution (as ``F.conv1d``'s ``algorithm``: a backward op it
        cannot serve falls back to the planner's choice; the forward problem,
        here the input gradient, raises ValueError).

    Returns
    -------
    Tensor, shape (N, C_out, L_out) or (C_out, L_out), with
    ``L_out = (L - 1)*s - 2p + d*(K - 1) + output_padding + 1``.

    Notes
    -----
    Computed as the matching convolution's problems, planned like ``conv1d``:
    the output is its backward_data (col2im natively, or lowered onto a forward
    algorithm), the input gradient its forward and the weight gradient its
    backward_filter; the planner's records name them ``conv_transpose1d``,
    ``conv_transpose1d.grad_input`` and ``conv_transpose1d.grad_weight``
    (``called_as``).  Cost: ``2*N*C_in*L*(C_out/g)*K`` FLOPs each (direct),
    backward parts only for operands that require gradients.  Every invalid
    argument raises ValueError / TypeError naming it before any work is done;
    a too large ``output_padding`` is a ValueError saying the limit (PyTorch
    raises RuntimeError).  An empty batch returns the bias broadcast.

    Examples
    --------
    >>> import lucid, lucid.nn.functional as F
    >>> F.conv_transpose1d(lucid.ones(1, 1, 3), lucid.ones(1, 1, 2), stride=2)
    tensor([[[1., 1., 1., 1., 1., 1.]]])
    """
    spec = conv_transpose_spec(input, weight, bias, stride, padding, output_padding, groups, dilation)
    if algorithm is not None and not isinstance(algorithm, str):
        raise bad_type(_WHERE, "algorithm", "None or an algorithm name (str)", algorithm)
    parents = (input, weight) if bias is None else (input, weight, bias)
    rule = conv_transpose.conv_transpose1d(input.data, weight.data, None if bias is None else bias.data, spec,
                                           algorithm)
    return apply(rule, parents, "ConvTranspose1d")
