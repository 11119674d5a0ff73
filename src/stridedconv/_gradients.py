"""Gradients of a convolution: with respect to its input, its kernels and its bias.

`conv_vjp` checks its arguments through `check_conv`, the forward call's own entry path,
then computes each gradient asked for: the input's by the adjoint scatter of
`conv_transpose` (gradient that reached reflected, replicated or wrapped padding folded back
onto the samples it was copied from), the kernels' tap by tap as ``windows^T @ dy``
accumulated chunk by chunk of the batch, the bias's as a sum.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._conv_nd import ConvProblem, check_conv
from ._dtypes import conv_plan, finish_object
from ._engine import CHUNK_BYTES, forced_strategy
from ._staging import Staging
from ._transpose import scatter
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PaddingMode
from ._validation import as_result_gradient, given_shape, word
from ._windows import at_tap

#: The arguments a gradient may be asked for.
WRT = ("x", "kernels", "bias")


class ConvGradients(NamedTuple):
    """The gradients of ``sum(dy * conv(x, kernels, bias=b, **kw))``; None where not asked.

    Examples
    --------
    >>> import numpy as np
    >>> grads = conv_vjp(np.ones((1, 2, 1)), np.ones((1, 3, 1)), np.ones((2, 1, 1)), wrt="x")
    >>> grads.x[0, :, 0], grads.kernels is None
    (array([1., 2., 1.]), True)
    """

    x: Array | None
    kernels: Array | None
    bias: Array | None


def conv_vjp(
    dy: ArrayLike,
    x: ArrayLike,
    kernels: ArrayLike,
    *,
    stride: IntOrTuple = 1,
    padding: ConvPadding = "valid",
    dilation: IntOrTuple = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    data_format: DataFormat = "channels_last",
    wrt: Sequence[str] = WRT,
) -> ConvGradients:
    """Gradients of a convolution: the vector-Jacobian product of `conv` with `dy`.

    Parameters
    ----------
    dy : array_like, shape (m, o1, ..., od, nc) or (m, nc, o1, ..., od)
        The gradient of a loss with respect to ``conv(x, kernels, ...)``: exactly its shape.
    x, kernels, stride, padding, dilation, groups, padding_mode, data_format
        As given to `conv`.
    wrt : sequence of {'x', 'kernels', 'bias'}, default all three
        The gradients to compute; the others are None and cost nothing.

    Returns
    -------
    ConvGradients
        A named tuple ``(x, kernels, bias)`` of the gradients of ``sum(dy * conv(x, kernels,
        bias=b, **kw))``, of shapes ``x.shape``, ``kernels.shape`` and ``(nc,)``. Integer and
        bool inputs give exact int64 gradients (Python ints in an object array only beyond
        int64); floats keep their precision, as in `conv`.

    Raises
    ------
    TypeError, ValueError
        As `conv` raises them, in the same words; and for a `dy` whose shape is not the
        forward result's (the message names both shapes) and an unknown `wrt` entry.

    See Also
    --------
    conv_transpose : the gradient with respect to `x` of zero-padded convolutions, on its own.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5)[None, :, None]                      # (m, s, c) = (1, 5, 1)
    >>> k = np.array([1, -1])[:, None, None]                 # (k, c, nc) = (2, 1, 1)
    >>> dy = np.ones((1, 4, 1), dtype=int)                   # d(sum of the outputs)
    >>> grads = conv_vjp(dy, x, k)
    >>> grads.x[0, :, 0], grads.kernels[:, 0, 0], grads.bias
    (array([ 1,  0,  0,  0, -1]), array([ 6, 10]), array([4]))
    """
    problem = check_conv(
        x,
        kernels,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=padding_mode,
        data_format=data_format,
    )
    return vjp_of(problem, dy, _wrt(wrt))


def vjp_of(problem: ConvProblem, dy: object, asked: set[str], dy_name: str = "dy") -> ConvGradients:
    """The gradients `asked` of a checked convolution `problem`, for `dy` (called `dy_name`
    by the caller)."""
    names, first = problem.names, problem.channels_first
    inputs = (
        f"{names.x} of shape {given_shape(problem.x, first)} and {names.kernels} of shape "
        f"{problem.kernels.shape}"
    )
    gradient = as_result_gradient(dy, dy_name, problem.result_shape, "conv", inputs, first)
    dx = _input_gradient(gradient, problem) if "x" in asked else None
    dk = _kernel_gradient(gradient, problem) if "kernels" in asked else None
    db = _bias_gradient(gradient) if "bias" in asked else None
    if dx is not None and problem.channels_first:
        dx = np.ascontiguousarray(np.moveaxis(dx, -1, 1))
    return ConvGradients(dx, dk, db)


def _wrt(wrt: object) -> set[str]:
    if isinstance(wrt, str):
        wrt = (wrt,)
    if not isinstance(wrt, Sequence):
        msg = f"wrt must be a sequence of 'x', 'kernels', 'bias', got {wrt!r}"
        raise TypeError(msg)
    return {word(item, "wrt", WRT) for item in wrt}


def _input_gradient(dy: Array, problem: ConvProblem) -> Array:
    """The adjoint scatter of `conv_transpose`, in the forward geometry of `x`."""
    swapped = np.swapaxes(problem.kernels, -1, -2)  # the bound per input channel
    plan = conv_plan(dy, swapped, forced_strategy("integers"))
    dtype = plan.result if plan.result is not None else np.dtype(object)
    out = np.empty(problem.x.shape, dtype)
    out = scatter(dy, problem.kernels, problem.geometry, plan.compute, out, problem.groups, None)
    return out if plan.result is not None else finish_object(out)


def _kernel_gradient(dy: Array, problem: ConvProblem) -> Array:
    """Per tap, the windows of the padded batch at that tap, transposed, times `dy`,
    accumulated chunk by chunk: ``(k1..kd, c // groups, nc)``."""
    x, kernels, groups = problem.x, problem.kernels, problem.groups
    cg, nc = kernels.shape[-2:]
    ng = nc // groups
    # Each entry sums x times dy over the batch and the positions: the bound of conv_plan
    # with dy's values as the weights of each output channel.
    plan = conv_plan(x, dy.reshape(-1, nc), forced_strategy("integers"))
    compute = plan.compute
    total = np.zeros(kernels.shape, compute)
    geometry = problem.geometry
    staging = Staging(geometry)
    per_image = math.prod(staging.sizes) * x.shape[-1] * compute.itemsize * 2
    step = max(1, CHUNK_BYTES // max(per_image, 1))
    with np.errstate(all="ignore"):  # IEEE results without warnings, as in `conv`
        for start in range(0, x.shape[0], step):
            chunk = x[start : start + step]
            buffer = staging.stage(chunk, compute)
            win = staging.image_windows(buffer, chunk.shape[0])  # (b, o.., k.., c)
            grads = dy[start : start + step].astype(compute)
            for tap in itertools.product(*map(range, geometry.kernel)):
                part = at_tap(win, tap)  # (b, o.., c)
                for g in range(groups):
                    # (cg, positions) @ (positions, ng) -> (cg, ng)
                    columns = part[..., g * cg : (g + 1) * cg].reshape(-1, cg)
                    rows = grads[..., g * ng : (g + 1) * ng].reshape(-1, ng)
                    total[tap][:, g * ng : (g + 1) * ng] += columns.T @ rows
    if plan.result is None:
        return finish_object(total)
    return total.astype(plan.result, copy=False)


def _bias_gradient(dy: Array) -> Array:
    """The sum of `dy` over all but its channel axis, exact for integers."""
    axes = tuple(range(dy.ndim - 1))
    if dy.dtype.kind in "biu":
        exact = dy.astype(np.int64 if dy.dtype.itemsize < 8 else object)
        return finish_object(np.asarray(exact.sum(axis=axes), dtype=object))
    dtype = np.float32 if dy.dtype == np.float16 else dy.dtype
    total: Array = dy.sum(axis=axes, dtype=dtype).astype(dy.dtype.newbyteorder("="))
    return total
