"""The Dask front door: a dask array in, a lazy dask array out, one task per batch chunk.

`check_conv` and `check_pool` check a dask batch like any other, from its shape and dtype
alone (its values are never read at call time); `run_conv` and `run_pool` then hand the
checked problem here, and every batch chunk is computed by the same `run_conv` /
`run_pool` on NumPy blocks. The declared dtype and chunks are those of the computed blocks:
exact integer results are declared int64 and every block computes in int64 (a block whose
values could overflow it raises, naming `dtype`).

Chunks along the channel axis are merged. Chunks along spatial axes are kept: the batch is
padded lazily (`da.pad`, in the padding mode), the output is cut into blocks aligned with
the input chunks and the stride, and each output block reads the slice of the padded batch
its windows need (its halo) and is computed as a 'valid' problem with the same windows;
means divide by the counts of the whole problem. Circular padding wider than an axis, which
`da.pad` cannot make, merges that problem's spatial chunks instead. Inside a task the engine
runs on `STRIDEDCONV_DASK_THREADS` threads (default 1) with BLAS on one thread, so that a
dask worker's threads are not oversubscribed.

Dask is imported only when a dask array is given.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ._blas import single_threaded
from ._typing import Array


def is_dask(value: object) -> bool:
    """Whether `value` is a dask array (without importing dask)."""
    return type(value).__module__.startswith("dask.array")


def _task_threads() -> int:
    setting = os.environ.get("STRIDEDCONV_DASK_THREADS", "")
    return int(setting) if setting.isdigit() and int(setting) > 0 else 1


def run_lazily(
    problem: Any,
    run: Callable[..., Array],
    result_shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    fixed: bool,
    *,
    fill: object = 0,
    divisor: Any = None,
) -> Any:
    """`run(problem with x = block, dtype=...)` on the blocks of the problem's dask batch
    ``problem.x`` (channels last), as a dask array of `result_shape` and `dtype` (in the
    caller's layout); `fixed` passes `dtype` to every block. Spatially chunked batches are
    padded with `fill` (zero padding mode) and, for means, `divisor` (``_window_counts``)
    divides block sums."""
    x = problem.x.rechunk({x_axis: -1 for x_axis in (problem.x.ndim - 1,)})
    g = problem.geometry
    spatial = any(len(chunks) > 1 for chunks in x.chunks[1:-1])
    wide_wrap = g.padding_mode == "circular" and any(
        max(pad) > n for n, pad in zip(g.in_shape, g.pad, strict=True)
    )
    if not spatial or wide_wrap or 0 in g.out_shape:
        x = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
        return _blocks(problem, x, run, result_shape, dtype, fixed)
    return _halos(problem, x, run, result_shape, dtype, fixed, fill, divisor)


def _blocks(
    problem: Any,
    x: Any,
    run: Callable[..., Array],
    result_shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    fixed: bool,
    divide: Array | None = None,
) -> Any:
    """`run` on every batch chunk of `x` (whole samples), the problem's batch replaced."""
    from ._engine import forced  # the engine's threads per task

    threads = _task_threads()
    # The task function carries the problem without its batch: dask names the result by
    # hashing the function, which would otherwise hash the whole input graph.
    template = dataclasses.replace(problem, x=np.empty((0,) * x.ndim, x.dtype))

    def block(samples: Array) -> Array:
        with forced(threads=threads), single_threaded():
            part = dataclasses.replace(template, x=samples)
            result = run(part, dtype=dtype if fixed else None)
            return result if divide is None else np.true_divide(result, divide, dtype=dtype)

    chunks = (x.chunks[0], *((n,) for n in result_shape[1:]))
    return x.map_blocks(
        block,
        dtype=dtype,
        chunks=chunks,
        drop_axis=list(range(len(result_shape), x.ndim)),
        new_axis=list(range(x.ndim, len(result_shape))),
        meta=np.empty((0,) * len(result_shape), dtype),
    )


def _halos(
    problem: Any,
    x: Any,
    run: Callable[..., Array],
    result_shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    fixed: bool,
    fill: object,
    divisor: Any,
) -> Any:
    """Output blocks aligned with the spatial chunks of `x`, each computed from its halo
    as a 'valid' problem; assembled channels last, then laid out as the caller's."""
    import dask.array as da

    from ._geometry import extent, make_geometry

    g = problem.geometry
    d = len(g.kernel)
    modes = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    widths = ((0, 0), *g.pad, (0, 0))
    if g.padding_mode == "zeros":
        padded = da.pad(x, widths, mode="constant", constant_values=fill)
    else:
        padded = da.pad(x, widths, mode=modes[g.padding_mode])
    # Output blocks along each axis start where an input chunk starts, rounded up to the
    # stride, so that they follow the input's chunking.
    starts = []
    for axis in range(d):
        before, s, o = g.pad[axis][0], g.stride[axis], g.out_shape[axis]
        edges = np.cumsum((0, *x.chunks[1 + axis]))[1:-1] + before
        firsts = sorted({0, *(min(-(-int(e) // s), o) for e in edges)} - {o})
        starts.append([*firsts, o])
    valid = ((0, 0),) * d
    # Channels last and not squeezed, as the engine computes; means as sums, divided below.
    flat: dict[str, Any] = {"channels_first": False}
    flat |= {"squeeze": False} if hasattr(problem, "squeeze") else {"pads": valid}
    if divisor is not None:
        flat["mode"] = "sum"
    channels = problem.kernels.shape[-1] if hasattr(problem, "kernels") else x.shape[-1]
    grid = np.empty([len(axis) - 1 for axis in starts], dtype=object)
    for index in np.ndindex(*grid.shape):
        region, out_region = [], []
        for axis, i in enumerate(index):
            a, b = starts[axis][i], starts[axis][i + 1]
            span = extent(g.kernel[axis], g.dilation[axis])
            region.append(slice(a * g.stride[axis], (b - 1) * g.stride[axis] + span))
            out_region.append(slice(a, b))
        halo = padded[(slice(None), *region, slice(None))]
        halo = halo.rechunk({axis: -1 for axis in range(1, halo.ndim)})
        geometry = make_geometry(halo.shape[1:-1], g.kernel, g.stride, valid, dilation=g.dilation)
        part = dataclasses.replace(problem, geometry=geometry, **flat)
        out_shape = (result_shape[0], *(r.stop - r.start for r in out_region), channels)
        divide = divisor
        if np.ndim(divisor):  # counts per window: this block's
            divide = divisor[(slice(None), *out_region, slice(None))]
        grid[index] = _blocks(part, halo, run, out_shape, dtype, True, divide)
    # Blocks joined along the last spatial axis first, then the ones before it.
    while grid.ndim:
        joined = np.empty(grid.shape[:-1], dtype=object)
        for index in np.ndindex(*joined.shape):
            joined[index] = da.concatenate(list(grid[index]), axis=grid.ndim)  # type: ignore[no-untyped-call]
        grid = joined
    result = grid[()]
    if getattr(problem, "squeeze", False):
        return result[..., 0]
    return da.moveaxis(result, -1, 1) if problem.channels_first else result
