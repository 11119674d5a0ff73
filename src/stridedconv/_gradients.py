"""Gradients of a convolution: with respect to its input, its kernels and its bias.

`conv_vjp` checks its arguments through `check_conv`, the forward call's own entry path,
then computes each gradient asked for: the input's by the adjoint scatter of
`conv_transpose` (gradient that reached reflected, replicated or wrapped padding folded back
onto the samples it was copied from), the kernels' tap by tap as ``windows^T @ dy``
accumulated chunk by chunk of the batch, the bias's as a sum. A dask `dy` or `x` gives dask
gradients, computed per batch chunk by the same functions (`_lazy_gradients`).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ._blas import available as blas_threads_settable
from ._conv_nd import ConvProblem, check_conv
from ._dask import is_dask
from ._dtypes import (
    INT64_LIMIT,
    check_range,
    conv_plan,
    finish_object,
    float_plan,
    max_abs,
    natural_dtype,
)
from ._engine import (
    _by_row_blocks,
    _chunk_source,
    _for_each_chunk,
    _rows_per_block,
    forced_strategy,
)
from ._geometry import Geometry
from ._results import allocate
from ._staging import Staging
from ._transpose import scatter
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PaddingMode
from ._validation import as_result_gradient, given_shape, word
from ._windows import at_tap

#: The arguments a gradient may be asked for.
WRT = ("x", "kernels", "bias")
#: Up to this many pairs of input and output channels per group, the kernel gradient takes
#: one dot product per pair and tap over channels-first planes rather than one GEMM per
#: tap (measured, 200,000 positions on one thread: 3 x 3 channels 0.16 ms against 1.04,
#: 1 x 6 0.11 against 0.32, 6 x 16 2.13 against 1.47).
DOT_PAIRS = 24
#: From this many input channels per group, one GEMM per tap (``K`` the positions, ``M``
#: the channels) beats one GEMM of the copied windows (lenet2, 256x14x14x6 -> 16, 5x5:
#: im2col 3.3 ms, per tap 7.0; 32x56x56x64 -> 64, 3x3: per tap 49.8 ms, im2col 54.7).
GEMM_CHANNELS = 16


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
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default 'zeros'
        As given to `conv`; gradient that reached the padding is folded back onto the
        samples it was copied from.
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
    with respect to the kernels and the bias are sums over the batch chunks, one part per
    chunk added in a tree of tasks. Exact integers are declared int64: a chunk whose values
    could overflow it, or a sum that does, raises, naming `dtype`.

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
    if is_dask(gradient) or is_dask(problem.x):
        return _lazy_gradients(gradient, problem, asked, inputs)
    dx = _input_gradient(gradient, problem, inputs) if "x" in asked else None
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

        def kernel_part(samples: Array, grads: Array) -> Array:
            part = dataclasses.replace(template, x=samples)
            return _kernel_gradient(grads, part, part_dtype)

        shape = problem.kernels.shape
        dk = sum_over_batches(kernel_part, [x, dy], shape, part_dtype, total, "the kernel gradient")
    if "bias" in asked:
        compute, result = _bias_dtypes(dy.dtype)
        bias_part = functools.partial(_bias_gradient, part=True)
        db = sum_over_batches(bias_part, [dy], (nc,), compute, result, "the bias gradient")
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


def _kernel_gradient(
    dy: Array, problem: ConvProblem, dtype: np.dtype[np.generic] | None = None
) -> Array:
    """Per kernel tap, the windows of a chunk at that tap, transposed, times `dy`, the
    chunks on the engine's threads and their sums added in batch order (the same result on
    any number of threads): ``(k1..kd, c // groups, nc)``, in `dtype` if given (for
    integers: exact, or raising, naming `dtype`, where it could overflow).

    Three ways, by the channels of a group (`kernel_gradient_path`):
    - ``dots``, few pairs of channels: the chunk staged channels first; its windows form
      one strided view of the staged planes (`Staging`), with stride 1 one contiguous plane
      per tap and channel; `dy` laid out alike, with zeros at the windows that straddle two
      rows or images; one dot product per tap and pair of channels;
    - ``im2col``, a few channels: the windows copied into one ``(positions, taps * cg)``
      matrix per group, one GEMM with `dy`;
    - ``taps``, many channels: one GEMM ``(cg, positions) @ (positions, ng)`` per tap and
      group over the merged windows, channels last.
    A chunk that holds NaN or inf is read image by image (``im2col``), so that no
    straddling window multiplies one by zero."""
    x, kernels, groups = problem.x, problem.kernels, problem.groups
    cg, nc = kernels.shape[-2:]
    ng = nc // groups
    # Each entry sums x times dy over the batch and the positions: the bound of conv_plan
    # with dy's values as the weights of each output channel.
    force = forced_strategy("integers")
    plan = conv_plan(x, dy.reshape(-1, nc), force, None, dtype, what="the kernel gradient")
    compute = plan.compute
    # Windows that read little of their padded input are gathered, as `conv` gathers them.
    take, geometry, gathered = _chunk_source(x, problem.geometry, fill=0)
    d = len(geometry.kernel)
    staging = Staging(geometry)
    every_tap = list(itertools.product(*map(range, geometry.kernel)))
    path = kernel_gradient_path(cg, ng)
    per_pixel = x.shape[-1] + 2 * nc
    if path == "im2col":
        per_pixel += len(every_tap) * cg
    per_image = math.prod(staging.sizes) * per_pixel * compute.itemsize
    per_image += gathered * x.dtype.itemsize
    result_dtype = np.dtype(object) if plan.result is None else plan.result
    rows = None if gathered else _rows_per_block(problem.geometry, per_image)
    if rows is not None:  # large images: the sum of the gradients of blocks of rows
        parts: dict[tuple[int, int], Array] = {}

        def block(i: int, out_rows: slice, in_rows: slice, part: Geometry) -> None:
            rows_of = dataclasses.replace(problem, x=x[i : i + 1, in_rows], geometry=part)
            parts[i, out_rows.start] = _kernel_gradient(dy[i : i + 1, out_rows], rows_of, dtype)

        _by_row_blocks(x.shape[0], problem.geometry, rows, block, parallel=compute.kind != "O")
        total = np.zeros(kernels.shape, result_dtype)  # Python ints where int64 may not hold
        for key in sorted(parts):  # in order: the same result on any number of threads
            total += parts[key]
        return total if plan.result is not None else finish_object(total)
    sums: dict[int, Array] = {}

    def work(chunk: slice, staging: Staging) -> None:
        source = take(chunk)
        b = source.shape[0]
        grads = dy[chunk].astype(compute)
        total = np.empty((len(every_tap), groups, cg, ng), compute)
        buffer = staging.stage(source, compute, channels_first=path == "dots")
        if compute.kind in "fc" and path != "im2col" and not np.isfinite(buffer).all():
            buffer = staging.stage(source, compute)  # channels last, image by image
            _im2col_products(staging.image_windows(buffer, b), grads, total)
        elif path == "im2col":
            _im2col_products(staging.image_windows(buffer, b), grads, total)
        elif path == "dots":
            win = staging.merged_windows(buffer, b, planes=True)  # (c, Q, J.., k..)
            rows = staging.scratch("dy", (nc, *win.shape[1 : 1 + d]), compute)
            rows.fill(0)
            staging.crop(rows, b, planes=True)[...] = np.moveaxis(grads, -1, 0)
            for i, tap in enumerate(every_tap):
                for g, a, f in itertools.product(range(groups), range(cg), range(ng)):
                    at: tuple[object, ...] = (g * cg + a, Ellipsis, *tap)
                    plane = win[at].ravel()  # type: ignore[index]  # a view for stride 1
                    total[i, g, a, f] = np.dot(plane, rows[g * ng + f].ravel())
        else:
            win = staging.merged_windows(buffer, b)  # (Q, J.., k.., c)
            rows = staging.scratch("dy", (*win.shape[:d], nc), compute)
            rows.fill(0)
            staging.crop(rows, b)[...] = grads
            _tap_products(win, rows, every_tap, total)
        sums[chunk.start] = total

    with np.errstate(all="ignore"):  # IEEE results without warnings, as in `conv`
        parallel = compute.kind != "O" and blas_threads_settable()
        _for_each_chunk(x.shape[0], per_image, staging, work, parallel=parallel, calls_blas=True)
    total = np.zeros((len(every_tap), groups, cg, ng), compute)
    for start in sorted(sums):
        total += sums[start]
    # (taps, g, cg, ng) -> (k.., cg, g * ng)
    result = total.transpose(0, 2, 1, 3).reshape(kernels.shape)
    if plan.result is None:
        return finish_object(result)
    return result.astype(plan.result, copy=False)


def kernel_gradient_path(cg: int, ng: int) -> str:
    """How `_kernel_gradient` contracts `cg` channels in with `ng` out per group: forced,
    or by the measurements of `DOT_PAIRS` and `GEMM_CHANNELS`."""
    chosen = forced_strategy("kernel_gradient")
    if chosen is not None:
        return chosen
    if cg * ng <= DOT_PAIRS:
        return "dots"
    return "taps" if cg >= GEMM_CHANNELS else "im2col"


def _im2col_products(win: Array, grads: Array, total: Array) -> None:
    """``total[:, g] = windows.T @ grads`` per group, the windows ``(b, o.., k.., c)`` of
    each image copied into a ``(positions, taps * cg)`` matrix: one GEMM per group."""
    taps, groups, cg, ng = total.shape
    rows = grads.reshape(-1, groups, ng)
    for g in range(groups):
        cols = win[..., g * cg : (g + 1) * cg].reshape(rows.shape[0], taps * cg)  # copies
        total[:, g] = (cols.T @ rows[:, g]).reshape(taps, cg, ng)


def _tap_products(win: Array, grads: Array, taps: list[tuple[int, ...]], total: Array) -> None:
    """``total[i, g] = win[..., taps[i], g-th cg channels].T @ grads[..., g-th ng]``: one
    GEMM per tap and group, for windows ``(.., k.., c)`` and gradients ``(.., nc)`` with
    the same leading axes."""
    groups, cg, ng = total.shape[1:]
    rows = grads.reshape(-1, groups, ng)
    for i, tap in enumerate(taps):
        part = at_tap(win, tap).reshape(-1, groups, cg)  # a view for merged stride-1 windows
        for g in range(groups):  # (cg, p) @ (p, ng) -> (cg, ng)
            np.matmul(part[:, g].T, rows[:, g], out=total[i, g])


def _bias_dtypes(dtype: np.dtype[np.generic]) -> tuple[np.dtype[np.generic], np.dtype[np.generic]]:
    """The compute and result dtypes of the bias gradient of a `dy` of `dtype`: exact int64
    for integers (Python ints only beyond), floats in their precision (float16 summed in
    float32), in native byte order."""
    if dtype.kind in "biu":
        return np.dtype(np.int64), np.dtype(np.int64)
    native = dtype.newbyteorder("=")
    return float_plan(native).compute, native


def _bias_gradient(dy: Array, part: bool = False) -> Array:
    """The sum of `dy` over all but its channel axis, exact for integers (in int64 where
    no sum can overflow it, else in Python ints), in native byte order. A `part` of a lazy
    sum is in the compute dtype: int64, raising (naming `dtype`) where it could overflow."""
    axes = tuple(range(dy.ndim - 1))
    compute, result = _bias_dtypes(dy.dtype)
    if dy.dtype.kind in "biu":
        terms = dy.size // max(dy.shape[-1], 1)
        if dy.dtype.itemsize < 8 or max_abs(dy) * terms < INT64_LIMIT:
            exact: Array = dy.astype(np.int64).sum(axis=axes)
            return exact
        if part:
            check_range(max_abs(dy) * terms, compute, True, "the bias gradient")
        return finish_object(np.asarray(dy.astype(object).sum(axis=axes), dtype=object))
    total: Array = dy.sum(axis=axes, dtype=compute)
    return total if part else total.astype(result)
