"""The Dask front door: a dask array in, a lazy dask array out, one task per batch chunk.

`check_conv` and `check_pool` check a dask batch like any other, from its shape and dtype
alone (its values are never read at call time); `run_conv` and `run_pool` then hand the
checked problem here, and every batch chunk is computed by the same `run_conv` /
`run_pool` on NumPy blocks. The declared dtype and chunks are those of the computed blocks:
exact integer results are declared int64 and every block computes in int64 (a block whose
values could overflow it raises, naming `dtype`).

Chunks along the channel axis are merged for convolutions (which sum over channels) and
kept for pooling. Chunks along spatial axes are kept: the batch is
padded lazily (`da.pad`, in the padding mode), the output is cut into blocks aligned with
the input chunks and the stride, and each output block reads the slice of the padded batch
its windows need (its halo) and is computed as a 'valid' problem with the same windows;
means divide by the counts of the whole problem. Circular padding wider than an axis, which
`da.pad` cannot make, merges that problem's spatial chunks instead, and so do convolutions
whose strategy calls BLAS or takes FFTs, for images up to `WHOLE_IMAGE_BYTES`: their
GEMMs and tiles cover whole images, so blocks would change the bits. Inside a task the engine
runs on `STRIDEDCONV_DASK_THREADS` threads (default 1) with BLAS on one thread, so that a
dask worker's threads are not oversubscribed.

The gradients (`conv_transpose`, `conv_vjp`, `pool_vjp` and the course's functions) run
per batch chunk too (`batch_aligned`, `map_batches`): chunks along the spatial axes are
merged, and along the channel axis too except for pooling; a NumPy `x` or `dy` beside a dask
one is cut into the same batch chunks. The kernels' and the bias's gradients are sums over
the batch: the parts of the NumPy sum (`parts_of` images each), added in batch order by a
chain of small tasks (`sum_over_batches`), so that they have NumPy's bits for any chunking;
exact integer sums are added in a tree, where an int64 sum that does not fit raises, naming
`dtype`.

Dask is imported only when a dask array is given.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._blas import single_threaded
from ._dtypes import check_range
from ._typing import Array

#: Spatially chunked images up to this size are computed whole when blocks would change
#: their bits (`_blocks_change_bits`).
WHOLE_IMAGE_BYTES = 64 * 2**20


def is_dask(value: object) -> bool:
    """Whether `value` is a dask array (without importing dask)."""
    return type(value).__module__.startswith("dask.array")


def refuse_out(out: object) -> None:
    """Refuse an `out` array for a dask batch, whose result is lazy."""
    if out is not None:
        msg = "out must be None for a dask array: the result is a lazy dask array"
        raise TypeError(msg)


def channels_first_of(result: Any, channels_first: bool) -> Any:
    """A lazy channels-last `result` in the caller's layout."""
    if not channels_first:
        return result
    return result.transpose(0, result.ndim - 1, *range(1, result.ndim - 1))


def _task_threads() -> int:
    setting = os.environ.get("STRIDEDCONV_DASK_THREADS", "")
    return int(setting) if setting.isdigit() and int(setting) > 0 else 1


def run_lazily(
    problem: Any,
    run: Callable[..., Array],
    dtype: np.dtype[np.generic],
    fixed: bool,
    *,
    fill: object = 0,
    divisor: Any = None,
) -> Any:
    """`run(problem with x = block, dtype=...)` on the blocks of the problem's dask batch
    ``problem.x`` (channels last): a dask array of `dtype` laid out as the caller's result.
    `fixed` passes `dtype` to every block. Spatially chunked batches are padded with `fill`
    (zero padding mode) and, for means, `divisor` (``_window_counts``) divides block sums."""
    # Convolutions sum over channels: one chunk of them. Pooling keeps its channel chunks.
    per_channel = not hasattr(problem, "kernels")
    x = problem.x if per_channel else problem.x.rechunk({problem.x.ndim - 1: -1})
    g = problem.geometry
    channels_last = dict(channels_first=False)
    channels_last |= {"squeeze": False} if hasattr(problem, "squeeze") else {}
    flat = dataclasses.replace(problem, **channels_last)
    spatial = any(len(chunks) > 1 for chunks in x.chunks[1:-1])
    wide_wrap = g.padding_mode in ("circular", "symmetric") and any(
        max(pad) > n for n, pad in zip(g.in_shape, g.pad, strict=True)
    )
    whole = spatial and _blocks_change_bits(problem, dtype)
    if not spatial or whole or wide_wrap or 0 in g.out_shape or x.shape[0] == 0:
        x = x.rechunk({axis: -1 for axis in range(1, x.ndim - 1)})
        result = _blocks(flat, x, run, g.out_shape, dtype, fixed)
    else:
        result = _halos(flat, x, run, dtype, fill, divisor)
    if getattr(problem, "squeeze", False):
        return result[..., 0]
    return channels_first_of(result, problem.channels_first)


def _blocks_change_bits(problem: Any, dtype: np.dtype[np.generic]) -> bool:
    """Whether computing `problem`'s images in spatial blocks would change the bits of a
    float result, and an image is small enough (`WHOLE_IMAGE_BYTES`) to be computed whole
    instead: its strategy calls BLAS (whose GEMMs cover one image, not one block) or takes
    FFTs (whose tiles lie on the whole image). Sums along one axis at a time (one channel
    per group, no BLAS) give every output the same bits in any block."""
    from ._chooser import FFT_STRATEGY, calls_blas, choose_conv
    from ._dtypes import float_plan

    if not hasattr(problem, "kernels") or dtype.kind not in "fc":
        return False  # pooling, and exact integers: the same values in any order
    image = math.prod(problem.x.shape[1:]) * problem.x.dtype.itemsize
    if image > WHOLE_IMAGE_BYTES:
        return False  # too large to be one task: blocks, within the documented bounds
    compute = float_plan(dtype).compute
    weights = np.ascontiguousarray(problem.kernels, dtype=compute)
    strategy = choose_conv(problem.geometry, weights, problem.groups, compute, dtype)
    return strategy == FFT_STRATEGY or calls_blas(strategy, weights.shape[-2])


def _blocks(
    problem: Any,
    x: Any,
    run: Callable[..., Array],
    out_shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    fixed: bool,
    divide: Array | None = None,
) -> Any:
    """`run` on every block of `x` (whole samples, channels last), the problem's batch
    replaced: a channels-last result of spatial shape `out_shape` (and `divide`d, for
    means). Convolutions give one chunk of output channels, pooling keeps x's."""
    # The task function carries the problem without its batch: dask names the result by
    # hashing the function, which would otherwise hash the whole input graph.
    template = dataclasses.replace(problem, x=np.empty((0,) * x.ndim, x.dtype))

    def block(samples: Array) -> Array:
        part = dataclasses.replace(template, x=samples)
        result = run(part, dtype=dtype if fixed else None)
        return result if divide is None else np.true_divide(result, divide, dtype=dtype)

    channels = (problem.kernels.shape[-1],) if hasattr(problem, "kernels") else x.chunks[-1]
    return map_batches(block, [x], (*((n,) for n in out_shape), channels), dtype)


def batch_aligned(*arrays: Any, keep_channels: bool = False) -> list[Any]:
    """`arrays` (batch first, channels last; dask or NumPy, at least one dask) as dask arrays
    of the same batch chunks, those of the first dask one, with one chunk along every
    spatial axis, and along the channel axis too unless `keep_channels` (then the first
    dask array's channel chunks). NumPy arrays are cut into those chunks (`da.asarray`)."""
    import dask.array as da

    first = next(array for array in arrays if is_dask(array))
    channels = first.chunks[-1] if keep_channels else -1

    def aligned(array: Any) -> Any:
        chunks = (first.chunks[0], *(-1,) * (array.ndim - 2), channels)
        if is_dask(array):
            return array.rechunk(chunks)
        return da.asarray(array, chunks=chunks)  # type: ignore[no-untyped-call]

    return [aligned(array) for array in arrays]


def _in_task(function: Callable[..., Array]) -> Callable[..., Array]:
    """`function` run with the engine's threads of a task (`STRIDEDCONV_DASK_THREADS`) and
    BLAS on one thread."""
    from ._chooser import forced

    threads = _task_threads()

    def task(*blocks: Array) -> Array:
        with forced(threads=threads), single_threaded():
            return function(*blocks)

    return task


def map_batches(
    function: Callable[..., Array],
    arrays: Sequence[Any],
    sample_chunks: Sequence[tuple[int, ...]],
    dtype: np.dtype[np.generic],
) -> Any:
    """`function(*blocks)` on the blocks of the dask `arrays` (aligned by `batch_aligned`),
    one task each: an array of `dtype` with the batch chunks of `arrays` and
    `sample_chunks` along the other axes. `function` must hold no dask array: dask names
    the result by hashing it."""
    import dask.array as da

    ndim = 1 + len(sample_chunks)
    return da.map_blocks(  # type: ignore[no-untyped-call]
        _in_task(function),
        *arrays,
        dtype=dtype,
        chunks=(arrays[0].chunks[0], *sample_chunks),
        meta=np.empty((0,) * ndim, dtype),
    )


def sum_over_batches(
    function: Callable[..., Array],
    arrays: Sequence[Any],
    shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    result: np.dtype[np.generic],
    what: str,
    part_images: int,
) -> Any:
    """The sum over the batch of the dask `arrays` (aligned by `batch_aligned`, every axis
    but the batch in one chunk): `function(*blocks)` gives a block's parts, ``(parts,
    *shape)`` in `dtype`, one per `part_images` images of the whole batch, and the parts are
    added in batch order, then cast to `result`: the same bits as NumPy's sum of the same
    parts, for any chunking: the chunks are first aligned with the parts. Exact integers,
    whose sums do not depend on the order, keep their chunks and are added in a tree of
    tasks; an int64 sum that does not fit raises, naming `dtype` and `what` is summed."""
    import dask.array as da

    exact = dtype.kind in "iu"  # any order gives the same sum: the chunks as they are
    arrays = list(arrays) if exact else _aligned_with_parts(arrays, part_images)
    task = _in_task(function)
    # Axis names: 0 the batch, then the other axes of each array, then those of `shape`.
    names = itertools.count(1)
    given = [(0, *(next(names) for _ in range(array.ndim - 1))) for array in arrays]
    new = tuple(next(names) for _ in shape)
    parts = da.blockwise(  # type: ignore[no-untyped-call]
        task,
        (0, *new),
        *(item for array, axes in zip(arrays, given, strict=True) for item in (array, axes)),
        new_axes=dict(zip(new, shape, strict=True)),
        adjust_chunks={0: lambda n: -(-n // part_images)},
        dtype=dtype,
        meta=np.empty((0,) * (1 + len(shape)), dtype),
        concatenate=True,
    )
    if exact:
        add = functools.partial(_add_parts, what=what)
        meta = np.empty((0,) * len(shape), dtype)
        total = da.reduction(  # type: ignore[no-untyped-call]
            parts, add, add, combine=add, axis=0, dtype=dtype, meta=meta
        )
    else:
        import dask

        running = None
        for block in parts.to_delayed().ravel():  # in batch order, one cheap task each
            running = dask.delayed(_fold, pure=True)(running, block)  # type: ignore[attr-defined]
        total = da.from_delayed(running, shape, dtype=dtype)  # type: ignore[no-untyped-call]
    return total if result == dtype else total.astype(result)


def _aligned_with_parts(arrays: Sequence[Any], part_images: int) -> list[Any]:
    """`arrays` with batch chunks that start at multiples of `part_images`."""
    sizes = arrays[0].chunks[0]
    m = sum(sizes)
    ends = [0]
    for end in itertools.accumulate(sizes):
        aligned = min(-(-end // part_images) * part_images, m)
        if aligned > ends[-1]:
            ends.append(aligned)
    chunks = tuple(b - a for a, b in itertools.pairwise(ends))
    if not chunks or chunks == tuple(sizes):  # (an empty batch has no parts)
        return list(arrays)
    return [array.rechunk({0: chunks}) for array in arrays]


def _fold(total: Array | None, parts: Array) -> Array:
    """`total` plus each of `parts` in order (the first part itself when `total` is None;
    zeros for an empty batch)."""
    with np.errstate(all="ignore"):  # IEEE sums without warnings, as in the engine
        for part in parts:
            total = part.copy() if total is None else total + part  # a task's input stays
    return np.zeros(parts.shape[1:], parts.dtype) if total is None else total


def _add_parts(parts: Array, axis: Any, keepdims: bool, what: str) -> Array:
    """The sum of `parts` along `axis` in their dtype; for int64, exact or raising."""
    with np.errstate(all="ignore"):  # IEEE sums without warnings, as in the engine
        total: Array = parts.sum(axis=axis, keepdims=keepdims, dtype=parts.dtype)
        if parts.dtype != np.int64 or parts.size == 0:
            return total
        # int64 sums wrap modulo 2**64, so the total is exact when it fits: float64 sums of
        # n parts, off by at most n**2 * 2**11 (below 2**61 for any n < 2**25), say so
        # unless they come near 2**63.
        rough = np.abs(parts.sum(axis=axis, dtype=np.float64)).max()
    if rough >= 2.0**62:
        exact = parts.astype(object).sum(axis=axis)
        check_range(max(abs(v) for v in np.ravel(exact)), parts.dtype, True, what)
    return total


def _halos(
    problem: Any,
    x: Any,
    run: Callable[..., Array],
    dtype: np.dtype[np.generic],
    fill: object,
    divisor: Any,
) -> Any:
    """Output blocks aligned with the spatial chunks of `x`, each computed from its halo
    as a 'valid' problem; channels last."""
    import dask.array as da

    from ._geometry import extent, make_geometry
    from ._staging import NP_PAD_MODES

    g = problem.geometry
    d = len(g.kernel)
    widths = ((0, 0), *g.pad, (0, 0))
    if g.padding_mode == "zeros":
        padded = da.pad(x, widths, mode="constant", constant_values=fill)
    elif g.padding_mode == "constant":  # x's dtype holds cval (`check_conv` sees to it)
        padded = da.pad(x, widths, mode="constant", constant_values=g.cval)
    else:
        padded = da.pad(x, widths, mode=NP_PAD_MODES[g.padding_mode])
    # Output blocks along each axis start where an input chunk starts, rounded up to the
    # stride, so that they follow the input's chunking.
    starts = []
    for axis in range(d):
        before, s, o = g.pad[axis][0], g.stride[axis], g.out_shape[axis]
        edges = np.cumsum((0, *x.chunks[1 + axis]))[1:-1] + before
        firsts = sorted({0, *(min(-(-int(e) // s), o) for e in edges)} - {o})
        starts.append([*firsts, o])
    valid = ((0, 0),) * d
    # A 'valid' problem per block; means as sums, divided by the whole image's counts.
    per_channel = not hasattr(problem, "kernels")  # pooling keeps its channel chunks
    flat: dict[str, Any] = {"pads": valid} if per_channel else {}
    if divisor is not None:
        flat["mode"] = "sum"
    # Every block is held to the declared dtype (means sum in it), except bool: the maxima
    # and minima of bools, in their own dtype, which `dtype=` cannot name (it asks for numbers).
    hold = dtype.kind != "b"
    grid = np.empty([len(axis) - 1 for axis in starts], dtype=object)
    for index in np.ndindex(*grid.shape):
        region, out_region = [], []
        for axis, i in enumerate(index):
            a, b = starts[axis][i], starts[axis][i + 1]
            span = extent(g.kernel[axis], g.dilation[axis])
            region.append(slice(a * g.stride[axis], (b - 1) * g.stride[axis] + span))
            out_region.append(slice(a, b))
        halo = padded[(slice(None), *region, slice(None))]
        merged = range(1, halo.ndim - 1 if per_channel else halo.ndim)
        halo = halo.rechunk({axis: -1 for axis in merged})
        geometry = make_geometry(halo.shape[1:-1], g.kernel, g.stride, valid, dilation=g.dilation)
        part = dataclasses.replace(problem, geometry=geometry, **flat)
        divide = divisor
        if np.ndim(divisor):  # counts per window: this block's
            divide = divisor[(slice(None), *out_region, slice(None))]
        out_shape = tuple(r.stop - r.start for r in out_region)
        grid[index] = _blocks(part, halo, run, out_shape, dtype, hold, divide)
    # Blocks joined along the last spatial axis first, then the ones before it.
    while grid.ndim:
        joined = np.empty(grid.shape[:-1], dtype=object)
        for index in np.ndindex(*joined.shape):
            parts = list(grid[index])
            joined[index] = da.concatenate(parts, axis=grid.ndim)  # type: ignore[no-untyped-call]
        grid = joined
    return grid[()]
