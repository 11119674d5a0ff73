"""Gradients that sum over the batch: with respect to a convolution's kernels and bias.

Each is a sum, over the images, of a part that each image contributes. So that the sum has
the same bits for any batch split, thread count or dask chunking, the images are taken in
parts of a fixed number (`parts_of`: from one image's working set, never the batch's), each
part computed from its own images alone (one dot product or GEMM over its positions), and
the parts added in batch order. Exact integer sums are the same in any order.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from ._blas import available as blas_threads_settable
from ._chooser import forced_strategy, kernel_gradient_path
from ._chunks import PART_BYTES, for_each_chunk, parts_of
from ._conv_nd import ConvProblem
from ._dtypes import INT64_LIMIT, Plan, check_range, conv_plan, finish_object, float_plan, max_abs
from ._engine import _by_row_blocks, _chunk_source, _rows_per_block
from ._gather import compact, is_sparse
from ._geometry import Geometry
from ._staging import Staging
from ._typing import Array
from ._windows import at_tap


def kernel_gradient(
    dy: Array, problem: ConvProblem, dtype: np.dtype[np.generic] | None = None
) -> Array:
    """The gradient with respect to the kernels, ``(k1..kd, c // groups, nc)``, in `dtype`
    if given (for integers: exact, or raising, naming `dtype`, where it could overflow):
    the sum, in batch order, of the parts of `_kernel_parts`."""
    plan, stack = kernel_parts(dy, problem, dtype)
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


def kernel_parts(
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
            blocks[i, out_rows.start] = kernel_parts(dy[i : i + 1, out_rows], rows_of, dtype)[1][0]

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


def bias_dtypes(dtype: np.dtype[np.generic]) -> tuple[np.dtype[np.generic], np.dtype[np.generic]]:
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
    return parts_of(math.prod(sample) * bias_dtypes(dtype)[0].itemsize)


def bias_gradient(dy: Array, part: bool = False) -> Array:
    """The sum of `dy` over all but its channel axis, exact for integers (in int64 where
    no sum can overflow it, else in Python ints), in native byte order. Floats are summed
    in parts of `bias_part_images` images, each laid out C-contiguous in the compute dtype,
    the parts added in batch order: the same bits for any memory layout, batch split or
    chunking. With `part`, the parts themselves ``(parts, nc)`` in the compute dtype (for a
    lazy sum; int64 raising, naming `dtype`, where a part could overflow)."""
    compute, result = bias_dtypes(dy.dtype)
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
