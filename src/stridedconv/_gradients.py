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
from ._chooser import forced_strategy, kernel_gradient_path
from ._chunks import PART_BYTES, for_each_chunk, parts_of
from ._conv_nd import ConvProblem, check_conv
from ._dask import is_dask
from ._dtypes import (
    INT64_LIMIT,
    Plan,
    check_range,
    conv_plan,
    finish_object,
    float_plan,
    max_abs,
    natural_dtype,
)
from ._engine import _by_row_blocks, _chunk_source, _rows_per_block
from ._gather import compact, is_sparse
from ._geometry import Geometry
from ._module import set_module
from ._results import allocate
from ._staging import Staging
from ._transpose import scatter
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PaddingMode
from ._validation import as_result_gradient, given_shape, word
from ._windows import at_tap

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

        def kernel_parts(samples: Array, grads: Array) -> Array:
            part = dataclasses.replace(template, x=samples)
            # Exact integers may be computed in float64: the parts as declared.
            return _kernel_parts(grads, part, part_dtype)[1].astype(part_dtype, copy=False)

        shape, what = problem.kernels.shape, "the kernel gradient"
        images = kernel_part_images(template, plan.compute)
        dk = sum_over_batches(kernel_parts, [x, dy], shape, part_dtype, total, what, images)
    if "bias" in asked:
        compute, result = _bias_dtypes(dy.dtype)
        bias_parts = functools.partial(_bias_gradient, part=True)
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


def _kernel_gradient(
    dy: Array, problem: ConvProblem, dtype: np.dtype[np.generic] | None = None
) -> Array:
    """The gradient with respect to the kernels, ``(k1..kd, c // groups, nc)``, in `dtype`
    if given (for integers: exact, or raising, naming `dtype`, where it could overflow):
    the sum, in batch order, of the parts of `_kernel_parts`."""
    plan, stack = _kernel_parts(dy, problem, dtype)
    total = stack[0].copy() if len(stack) else np.zeros(problem.kernels.shape, stack.dtype)
    for part in stack[1:]:  # in order: the same bits for any threads and any chunking
        total += part
    if plan.result is None:
        return finish_object(total)
    return total.astype(plan.result, copy=False)


def kernel_part_images(problem: ConvProblem, compute: np.dtype[np.generic]) -> int:
    """The images of each part of `_kernel_parts` (from one image's problem alone)."""
    return _kernel_layout(problem, compute)[1]


def _kernel_layout(
    problem: ConvProblem, compute: np.dtype[np.generic]
) -> tuple[int | None, int, str]:
    """Rows per block (None: whole images), images per part and the path of the kernel
    gradient of `problem` computed in `compute`."""
    cg, nc = problem.kernels.shape[-2:]
    geometry = problem.geometry
    gathered = forced_strategy("gather") == "always" or is_sparse(geometry)
    if gathered:
        geometry = compact(geometry)
    path = kernel_gradient_path(cg, nc // problem.groups)
    per_pixel = problem.x.shape[-1] + 2 * nc
    if path == "im2col":
        per_pixel += math.prod(geometry.kernel) * cg
    per_image = math.prod(Staging(geometry).sizes) * per_pixel * compute.itemsize
    if gathered:
        per_image += math.prod(geometry.in_shape) * problem.x.shape[-1] * problem.x.itemsize
        return None, parts_of(per_image), path
    rows = _rows_per_block(problem.geometry, per_image)
    return rows, 1 if rows is not None else parts_of(per_image), path


def _kernel_parts(
    dy: Array, problem: ConvProblem, dtype: np.dtype[np.generic] | None = None
) -> tuple[Plan, Array]:
    """The plan of the kernel gradient, and its parts ``(parts, k1..kd, cg, nc)`` in the
    compute dtype: one per `kernel_part_images` images of the batch, each a function of
    those images alone, computed on the engine's threads.

    Per kernel tap, the windows of a part at that tap, transposed, times `dy`; three ways,
    by the channels of a group (`kernel_gradient_path`):
    - ``dots``, few pairs of channels: the part staged channels first; its windows form
      one strided view of the staged planes (`Staging`), with stride 1 one contiguous plane
      per tap and channel; `dy` laid out alike, with zeros at the windows that straddle two
      rows or images; one dot product per tap and pair of channels;
    - ``im2col``, a few channels: the windows copied into one ``(positions, taps * cg)``
      matrix per group, one GEMM with `dy`;
    - ``taps``, many channels: one GEMM ``(cg, positions) @ (positions, ng)`` per tap and
      group over the merged windows, channels last.
    A part that holds NaN or inf is read image by image (``im2col``), so that no
    straddling window multiplies one by zero. Images larger than a chunk are parts of
    their own: the sum of the gradients of their blocks of rows, in order."""
    x, kernels, groups = problem.x, problem.kernels, problem.groups
    m, (cg, nc) = x.shape[0], kernels.shape[-2:]
    ng = nc // groups
    # Each entry sums x times dy over the batch and the positions: the bound of conv_plan
    # with dy's values as the weights of each output channel.
    force = forced_strategy("integers")
    fill = problem.geometry.cval  # constant padding's value: part of the windows' values
    plan = conv_plan(
        x, dy.reshape(-1, nc), force, None, dtype, what="the kernel gradient", fill=fill
    )
    compute = plan.compute
    rows, per_part, path = _kernel_layout(problem, compute)
    # Windows that read little of their padded input are gathered, as `conv` gathers them.
    take, geometry, _ = _chunk_source(x, problem.geometry, fill=0)
    d = len(geometry.kernel)
    every_tap = list(itertools.product(*map(range, geometry.kernel)))
    parts = np.empty((-(-m // per_part), len(every_tap), groups, cg, ng), compute)
    if rows is not None:  # large images: the sum of the gradients of blocks of rows
        blocks: dict[tuple[int, int], Array] = {}

        def block(i: int, out_rows: slice, in_rows: slice, part: Geometry) -> None:
            rows_of = dataclasses.replace(problem, x=x[i : i + 1, in_rows], geometry=part)
            blocks[i, out_rows.start] = _kernel_parts(dy[i : i + 1, out_rows], rows_of, dtype)[1][0]

        _by_row_blocks(m, problem.geometry, rows, block, parallel=compute.kind != "O")
        for i in range(m):  # each image's blocks in order
            starts = sorted(start for image, start in blocks if image == i)
            total = blocks[i, starts[0]].astype(compute)  # a copy; Python ints if need be
            for start in starts[1:]:
                total += blocks[i, start]
            parts[i] = _by_tap(total, groups)
        return plan, _by_kernel(parts, kernels.shape)

    def work(chunk: slice, staging: Staging) -> None:
        source = take(chunk)
        b = source.shape[0]
        grads = np.ascontiguousarray(dy[chunk], dtype=compute)  # one layout: the same bits
        total = parts[chunk.start // per_part]
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

    with np.errstate(all="ignore"):  # IEEE results without warnings, as in `conv`
        parallel = compute.kind != "O" and blas_threads_settable()
        per_image = PART_BYTES // per_part
        staging = Staging(geometry)
        products = math.prod(geometry.out_shape) * kernels.size  # multiply-adds an image
        for_each_chunk(
            m,
            per_image,
            staging,
            work,
            parallel=parallel,
            calls_blas=True,
            part=per_part,
            multiply_adds=products,
        )
    return plan, _by_kernel(parts, kernels.shape)


def _by_tap(total: Array, groups: int) -> Array:
    """A gradient ``(k.., cg, g * ng)`` as ``(taps, g, cg, ng)``."""
    cg, nc = total.shape[-2:]
    return total.reshape(-1, cg, groups, nc // groups).transpose(0, 2, 1, 3)


def _by_kernel(parts: Array, shape: tuple[int, ...]) -> Array:
    """Parts ``(parts, taps, g, cg, ng)`` as ``(parts, k.., cg, g * ng)``."""
    return parts.transpose(0, 1, 3, 2, 4).reshape(parts.shape[0], *shape)


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


def bias_part_images(sample: tuple[int, ...], dtype: np.dtype[np.generic]) -> int:
    """The images of each part of the bias gradient of a `dy` of `dtype` whose images are
    of shape `sample` (from one image's problem alone)."""
    return parts_of(math.prod(sample) * _bias_dtypes(dtype)[0].itemsize)


def _bias_gradient(dy: Array, part: bool = False) -> Array:
    """The sum of `dy` over all but its channel axis, exact for integers (in int64 where
    no sum can overflow it, else in Python ints), in native byte order. Floats are summed
    in parts of `bias_part_images` images, each laid out C-contiguous in the compute dtype,
    the parts added in batch order: the same bits for any memory layout, batch split or
    chunking. With `part`, the parts themselves ``(parts, nc)`` in the compute dtype (for a
    lazy sum; int64 raising, naming `dtype`, where a part could overflow)."""
    compute, result = _bias_dtypes(dy.dtype)
    step = bias_part_images(dy.shape[1:], dy.dtype)
    parts = [slice(start, start + step) for start in range(0, dy.shape[0], step)]
    if dy.dtype.kind in "biu":
        if part:
            sums = [_exact_sum(dy[chunk], part=True) for chunk in parts]
            return np.stack(sums) if sums else np.empty((0, dy.shape[-1]), compute)
        return _exact_sum(dy)
    axes = tuple(range(dy.ndim - 1))
    sums = [np.ascontiguousarray(dy[chunk], dtype=compute).sum(axis=axes) for chunk in parts]
    if part:
        return np.stack(sums) if sums else np.empty((0, dy.shape[-1]), compute)
    total = sums[0] if sums else np.zeros(dy.shape[-1], compute)
    for value in sums[1:]:  # in batch order
        total += value
    return total.astype(result)


def _exact_sum(dy: Array, part: bool = False) -> Array:
    """The exact sum of integer `dy` over all but its channel axis: int64 where no sum can
    overflow it, else Python ints (or, for a `part` of a lazy sum, raising)."""
    axes = tuple(range(dy.ndim - 1))
    terms = dy.size // max(dy.shape[-1], 1)
    if dy.dtype.itemsize < 8 or max_abs(dy) * terms < INT64_LIMIT:
        exact: Array = dy.astype(np.int64).sum(axis=axes)
        return exact
    if part:
        check_range(max_abs(dy) * terms, np.dtype(np.int64), True, "the bias gradient")
    return finish_object(np.asarray(dy.astype(object).sum(axis=axes), dtype=object))
