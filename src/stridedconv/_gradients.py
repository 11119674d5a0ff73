"""Gradients of a convolution: with respect to its input, its kernels and its bias.

`conv_vjp` checks its arguments through `check_conv`, the forward call's own entry path,
then computes each gradient asked for: the input's by the adjoint scatter of
`conv_transpose` (gradient that reached reflected, replicated or wrapped padding folded back
onto the samples it was copied from), the kernels' and the bias's as sums over the batch in
fixed parts added in order (`_batch_sums`). A dask `dy` or `x` gives dask gradients,
computed per batch chunk by the same functions (`_lazy_gradients`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ._batch_sums import (
    bias_dtypes,
    bias_gradient,
    bias_part_images,
    kernel_gradient,
    kernel_part_images,
    kernel_parts,
)
from ._chooser import forced_strategy
from ._conv_nd import ConvProblem, check_conv
from ._dask import is_dask
from ._dtypes import (
    conv_plan,
    finish_object,
    natural_dtype,
)
from ._module import set_module
from ._results import allocate
from ._transpose import scatter
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PaddingMode
from ._validation import as_result_gradient, given_shape, word

#: The arguments a gradient may be asked for.
WRT = ("x", "kernels", "bias")


@set_module("stridedconv")
class ConvGradients(NamedTuple):
    """The gradients of ``sum(dy * conv(x, kernels, bias=b, **kw))``; None where not asked.

    `conv_vjp` returns it; unpack it as ``dx, dk, db = grads`` or read its fields by name.

    Parameters
    ----------
    x : ndarray or None
        The gradient with respect to the input, of the input's shape.
    kernels : ndarray or None
        The gradient with respect to the kernels, of their shape.
    bias : ndarray or None
        The gradient with respect to the bias, of shape ``(nc,)``.

    See Also
    --------
    conv_vjp : The function that computes them.

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


@set_module("stridedconv")
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
    cval: complex = 0,
    data_format: DataFormat = "channels_last",
    wrt: Sequence[str] = WRT,
) -> ConvGradients:
    """Gradients of a convolution: the vector-Jacobian product of `conv` with `dy`.

    Parameters
    ----------
    dy : array_like, shape (m, o1, ..., od, nc) or (m, nc, o1, ..., od)
        The gradient of a loss with respect to ``conv(x, kernels, ...)``: exactly its shape.
        A dask `dy` or `x` gives dask gradients (see Notes).
    x : array_like, shape (m, s1, ..., sd, c) or (m, c, s1, ..., sd)
        The input, as given to `conv`.
    kernels : array_like, shape (k1, ..., kd, c // groups, nc)
        The kernels, as given to `conv`.
    stride : int or tuple of d ints, default 1
        As given to `conv`.
    padding : {'valid', 'same', 'full'} or int or tuple, default 'valid'
        As given to `conv`.
    dilation : int or tuple of d ints, default 1
        As given to `conv`.
    groups : int, default 1
        As given to `conv`.
    padding_mode : str, default 'zeros'
        As given to `conv`. ``'symmetric'``, ``'reflect'``, ``'replicate'`` and
        ``'circular'`` padding copies samples, so their gradient is folded back onto the
        samples it copies; zeros and ``'constant'`` padding take no gradient.
    cval : scalar, default 0
        As given to `conv`: the value of ``'constant'`` padding, which takes part in the
        kernels' gradient.
    data_format : {'channels_last', 'channels_first'} or letters, default 'channels_last'
        As given to `conv`.
    wrt : sequence of {'x', 'kernels', 'bias'}, default all three
        The gradients to compute; the others are None and cost nothing.

    Returns
    -------
    ConvGradients
        A named tuple ``(x, kernels, bias)`` of the gradients of ``sum(dy * conv(x, kernels,
        bias=b, **kw))``, of shapes ``x.shape``, ``kernels.shape`` and ``(nc,)``. Integer and
        bool inputs give exact int64 gradients (Python ints in an object array only beyond
        int64); floats keep their precision, as in `conv`. Dask arrays for a dask `dy` or
        `x`.

    Raises
    ------
    TypeError, ValueError
        As `conv` raises them, in the same words; and for a `dy` whose shape is not the
        forward result's (the message names both shapes) and an unknown `wrt` entry.

    See Also
    --------
    conv_transpose : The gradient with respect to `x` of zero-padded convolutions, on its own.
    ConvGradients : The named tuple returned.

    Notes
    -----
    *Dask*: when `dy` or `x` is a dask array, the arguments are checked at once from shapes
    and dtypes and lazy dask arrays are returned. Both are cut into the batch chunks of `x`
    (of `dy` when `x` is a NumPy array), with their spatial and channel chunks merged. The
    gradient with respect to `x` is one task per batch chunk, which reads `dy` only; those
    with respect to the kernels and the bias are sums of the same fixed parts of the batch as
    NumPy's, added in batch order by a chain of small tasks (the same bits for any chunking;
    exact integers in a tree of tasks). Exact integers are declared int64: a chunk whose
    values could overflow it, or a sum that does, raises, naming `dtype`.

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
        cval=cval,
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
    if is_dask(gradient) or is_dask(problem.x):
        return _lazy_gradients(gradient, problem, asked, inputs)
    dx = _input_gradient(gradient, problem, inputs) if "x" in asked else None
    dk = kernel_gradient(gradient, problem) if "kernels" in asked else None
    db = bias_gradient(gradient) if "bias" in asked else None
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


def _lazy_gradients(dy: Any, problem: ConvProblem, asked: set[str], inputs: str) -> ConvGradients:
    """The gradients `asked` as dask arrays, for a dask `dy` or `x` (channels last, checked):
    the input's per batch chunk of `x`, which it does not read; the kernels' and the bias's
    as sums over the batch chunks of each chunk's gradient. Exact integers are int64, every
    chunk and every sum held to it."""
    from ._dask import batch_aligned, channels_first_of, map_batches, sum_over_batches

    x, dy = batch_aligned(problem.x, dy)
    sample, nc = x.shape[1:], problem.kernels.shape[-1]
    # The tasks carry no dask array (dask hashes them): the problem without its batch.
    empty = np.empty((0, *sample), x.dtype)
    template = dataclasses.replace(problem, x=empty, channels_first=False)
    dx = dk = db = None
    if "x" in asked:
        natural = natural_dtype((np.empty(0, dy.dtype), problem.kernels))
        held = natural if natural.kind in "iu" else None

        def input_part(grads: Array) -> Array:
            # Only x's shape matters: a read-only view of one zero, of this chunk's shape.
            shaped = np.broadcast_to(np.zeros((), template.x.dtype), (grads.shape[0], *sample))
            part = dataclasses.replace(template, x=shaped)
            return _input_gradient(grads, part, inputs, held)

        dx = map_batches(input_part, [dy], [(n,) for n in sample], natural)
        dx = channels_first_of(dx, problem.channels_first)
    if "kernels" in asked:
        # The dtypes of the whole gradient, from the dtypes alone; each chunk's part in
        # its compute dtype (int64 for integers).
        plan = conv_plan(template.x, np.empty((0, nc), dy.dtype))
        total = plan.result
        assert total is not None  # no values, no Python ints
        part_dtype = total if total.kind in "iu" else plan.compute

        def block_parts(samples: Array, grads: Array) -> Array:
            part = dataclasses.replace(template, x=samples)
            # Exact integers may be computed in float64: the parts as declared.
            return kernel_parts(grads, part, part_dtype)[1].astype(part_dtype, copy=False)

        shape, what = problem.kernels.shape, "the kernel gradient"
        images = kernel_part_images(template, plan.compute)
        dk = sum_over_batches(block_parts, [x, dy], shape, part_dtype, total, what, images)
    if "bias" in asked:
        compute, result = bias_dtypes(dy.dtype)
        bias_parts = functools.partial(bias_gradient, part=True)
        images = bias_part_images(dy.shape[1:], dy.dtype)
        what = "the bias gradient"
        db = sum_over_batches(bias_parts, [dy], (nc,), compute, result, what, images)
    return ConvGradients(dx, dk, db)


def _input_gradient(
    dy: Array, problem: ConvProblem, inputs: str, dtype: np.dtype[np.generic] | None = None
) -> Array:
    """The adjoint scatter of `conv_transpose`, in the forward geometry of `x`; `inputs`
    names them for the message of a gradient too large to allocate. An integer `dtype`
    holds exact results to it (raising, naming `dtype`, where they could overflow it)."""
    shown = given_shape(problem.x, problem.channels_first)

    def result(dtype: np.dtype[np.generic]) -> Array:
        return allocate(problem.x.shape, dtype, lambda: f"for the gradient of {inputs}", shown)

    # Allocated before any pass over the values (the plan's bound scans integers).
    out = result(natural_dtype((dy, problem.kernels)))
    swapped = np.swapaxes(problem.kernels, -1, -2)  # the bound per input channel
    plan = conv_plan(
        dy, swapped, forced_strategy("integers"), None, dtype, what="the input gradient"
    )
    if plan.result is None:  # exact values beyond int64: Python ints
        out = result(np.dtype(object))
    out = scatter(dy, problem.kernels, problem.geometry, plan.compute, out, problem.groups, None)
    return out if plan.result is not None else finish_object(out)
