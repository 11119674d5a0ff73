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
    wide_wrap = g.padding_mode == "circular" and any(
        max(pad) > n for n, pad in zip(g.in_shape, g.pad, strict=True)
    )
    if not spatial or wide_wrap or 0 in g.out_shape or x.shape[0] == 0:
        x = x.rechunk({axis: -1 for axis in range(1, x.ndim - 1)})
        result = _blocks(flat, x, run, g.out_shape, dtype, fixed)
    else:
        result = _halos(flat, x, run, dtype, fill, divisor)
    if getattr(problem, "squeeze", False):
        return result[..., 0]
    return result if not problem.channels_first else result.transpose(0, -1, *range(1, x.ndim - 1))


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

    channels = (problem.kernels.shape[-1],) if hasattr(problem, "kernels") else x.chunks[-1]
    return x.map_blocks(
        block,
        dtype=dtype,
        chunks=(x.chunks[0], *((n,) for n in out_shape), channels),
        meta=np.empty((0,) * x.ndim, dtype),
    )


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
