"""The executor: the batch in chunks sized to a memory budget, on a few threads.

Each chunk is padded on its own (never the whole batch), evaluated by the strategy that
`_chooser` picks for one image of the problem — one of `_contractions` or `_fft`
(convolution), or `_reductions` (pooling) — and written into its slice of the
preallocated result; an image too large for a chunk is computed in blocks of output rows.

Chunks and threads decide only who computes an image, never how: every strategy computes
each image as it would alone (a GEMM covers whole single images: a stacked ``matmul`` over
the images of a chunk), so the bits of an image's result are the same in any batch, chunk
or thread count. The chunks of a large batch run on a few threads, the calling thread among
them: NumPy releases the GIL inside its loops. BLAS runs on one thread meanwhile, always
(`_blas`, with threadpoolctl): BLAS threads spinning beside the engine's would compete for
the same cores, and a BLAS thread count that changed with the batch would change the bits.
Without threadpoolctl, strategies that call BLAS run their chunks one after another and
leave the threads to BLAS.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import _fft
from ._blas import available as blas_threads_settable
from ._chooser import (
    CONV_STRATEGIES,
    FFT_STRATEGY,
    POOL_STRATEGIES,
    calls_blas,
    choose_conv,
    forced,
    forced_strategy,
    pool_strategy,
)
from ._chunks import CHUNK_BYTES, for_each_chunk
from ._contractions import CONTRACTIONS
from ._dtypes import Plan, finish_object
from ._gather import compact, gather, is_sparse, source_indices
from ._geometry import Geometry, extent, row_blocks
from ._reductions import REDUCTIONS
from ._staging import Staging
from ._typing import Array, ArrayLike

__all__ = [  # the executor, and the chooser's names that tests and benchmarks use from here
    "CHUNK_BYTES",
    "CONTRACTIONS",
    "CONV_STRATEGIES",
    "FFT_STRATEGY",
    "POOL_STRATEGIES",
    "correlate",
    "forced",
    "forced_strategy",
    "reduce_windows",
]

#: An image whose working set (under the chosen strategy) takes more than this is computed
#: in blocks of output rows (`row_blocks`), so that memory stays within a few chunks for
#: images of any size and padding of any width.
IMAGE_BYTES = 4 * CHUNK_BYTES


def _threaded(strategy: str, channels: int, dtype: np.dtype[np.generic]) -> bool:
    """Whether chunks of `strategy` should run on threads: not for Python ints (which hold
    the GIL), and for BLAS strategies only where BLAS can be held to one thread meanwhile
    (measured faster than BLAS's own threads on every CNN layer and grid cell tried)."""
    if dtype.kind == "O":
        return False
    return not calls_blas(strategy, channels) or blas_threads_settable()


def _conv_bytes_per_image(
    strategy: str, staging: Staging, kernels: Array, channels: int, groups: int, itemsize: int
) -> int:
    """Bytes of the working set of one image of `channels` under `strategy`."""
    c, (cg, nc) = channels, kernels.shape[-2:]
    if strategy == FFT_STRATEGY:
        return _fft.bytes_per_image(staging.geometry, c, nc, itemsize)
    ng = nc // groups
    pixels = math.prod(staging.sizes)
    taps = math.prod(kernels.shape[:-2])
    last_taps = kernels.shape[-3]
    outputs = math.prod(staging.geometry.out_shape)
    per_pixel = {
        "taps": c + 2 * nc,
        "separable": c + 3 * nc,
        "stripes": c + 2 * nc,
        "planes": c + cg * last_taps + taps // last_taps * ng + ng,
        "columns": c + taps * cg + ng,
        "im2col": c + ng * outputs / max(pixels, 1),  # copies in blocks: IM2COL_BLOCK_BYTES
        "einsum": c + nc,
    }[strategy]
    return int(pixels * per_pixel * itemsize)


def _bias_values(bias: Array, out: Array, plan: Plan) -> Array:
    """`bias` in the dtype it is added in: exact Python ints for an object result, the
    compute dtype for floats (float16 results get their bias before their one rounding)."""
    if out.dtype.kind == "O":
        return np.array([int(value) for value in bias.flat], dtype=object)
    if out.dtype.kind in "fc":
        return bias.astype(plan.compute)
    return bias.astype(out.dtype)  # exact: `conv_plan` bounds the sum with the bias


def _chunk_source(
    x: Array, geometry: Geometry, *, fill: object
) -> tuple[Callable[[slice], Array], Geometry, int]:
    """How each chunk of `x` is read, the geometry it is then read with, and the bytes per
    image (and byte of itemsize) that gathering adds: the chunk itself, or, for windows that
    read little of their padded input (`is_sparse`), the chunk's windows gathered into a
    compact problem with `fill` in its zero padding."""
    chosen = forced_strategy("gather")
    fill = geometry.cval if geometry.padding_mode == "constant" else fill  # the padding's value
    if not (is_sparse(geometry) if chosen is None else chosen == "always"):
        return x.__getitem__, geometry, 0
    indices = source_indices(geometry)
    blocks = compact(geometry)

    def take(chunk: slice) -> Array:
        return gather(x[chunk], indices, fill)

    return take, blocks, math.prod(blocks.in_shape) * x.shape[-1]


def _rows_per_block(geometry: Geometry, per_image: int) -> int | None:
    """Output rows per block for an image whose working set, `per_image` bytes, exceeds
    `IMAGE_BYTES`, or None: blocks read their own rows of the input (and the halo their
    windows need), so only padding that does not depend on the input (zeros, or pooling's
    fill) is cut; sparse windows are gathered instead (`_gather`)."""
    if geometry.padding_mode != "zeros" or geometry.out_shape[0] < 2:
        return None
    if forced_strategy("gather") == "always" or is_sparse(geometry):
        return None
    forced_rows = forced_strategy("rows")
    if forced_rows is not None:  # tests: blocks of this many rows, on images of more
        return int(forced_rows) if geometry.out_shape[0] > int(forced_rows) else None
    if per_image <= IMAGE_BYTES:
        return None
    # The input rows a block may read to stay within a chunk, less the halo of its windows;
    # but blocks read at most twice their own rows (a halo wider than that, as of a huge
    # dilation, would stage the same rows over and over: 25x the time for 3x3 windows of
    # dilation 300 on a 28x28 image).
    readable = geometry.padded_shape[0] * CHUNK_BYTES // per_image
    span, step = extent(geometry.kernel[0], geometry.dilation[0]), geometry.stride[0]
    rows = max(1, (readable - span + 1) // step, -(-(span - 1) // step))
    # Blocks that each read half the image or more would save nothing.
    return rows if 2 * (rows * step + span - 1) <= geometry.padded_shape[0] else None


def _by_row_blocks(
    m: int,
    geometry: Geometry,
    rows: int,
    block: Callable[[int, slice, slice, Geometry], None],
    *,
    parallel: bool,
) -> None:
    """``block(image, output rows, input rows, block geometry)`` for every image and block
    of `rows` output rows, the blocks on the engine's threads (BLAS on one meanwhile)."""
    tasks = [(i, *rows_of) for i in range(m) for rows_of in row_blocks(geometry, rows)]

    def work(chunk: slice, _: Staging) -> None:
        for task in tasks[chunk]:
            block(*task)

    staging = Staging(geometry)
    for_each_chunk(len(tasks), CHUNK_BYTES, staging, work, parallel=parallel, calls_blas=True)


def correlate(
    x: Array,
    kernels: Array,
    geometry: Geometry,
    plan: Plan,
    out: Array,
    *,
    bias: Array | None = None,
    groups: int = 1,
) -> Array:
    """Cross-correlate a batch with a bank of kernels into `out`, then add `bias` if given.

    Parameters
    ----------
    x : ndarray, shape (m, s1..sd, c)
    kernels : ndarray, shape (k1..kd, c // groups, nc)
    geometry : Geometry
        Padding, stride and output size of the `d` spatial axes.
    plan : Plan
        Compute and result dtypes (from `conv_plan`, given the bias when there is one).
    out : ndarray, shape (m, o1..od, nc)
        Where the result goes: C-contiguous, of dtype ``plan.result`` (object when that is
        None), sharing no memory with `x` or `kernels`.
    bias : ndarray, shape (nc,), optional
        Added to every output position.
    groups : int, default 1
        Output channel `f` sees only the input channels of group ``f // (nc // groups)``.

    Returns
    -------
    ndarray, shape (m, o1..od, nc)
        `out`; for exact Python-int results, int64 when every value fits (see `Plan`).
    """
    m, cg = x.shape[0], kernels.shape[-2]
    if out.size == 0:
        return out if plan.result is not None else out.astype(np.int64)
    weights = np.ascontiguousarray(kernels, dtype=plan.compute)  # one layout: the same bits
    whole = geometry
    take, geometry, gathered = _chunk_source(x, geometry, fill=0)
    strategy = choose_conv(geometry, weights, groups, plan.compute, out.dtype)
    contract = _fft.fft if strategy == FFT_STRATEGY else CONTRACTIONS[strategy]
    staging = Staging(geometry)
    per_image = (
        _conv_bytes_per_image(
            strategy, staging, kernels, x.shape[-1], groups, plan.compute.itemsize
        )
        + gathered * x.dtype.itemsize
    )
    rows = None if gathered else _rows_per_block(whole, per_image)
    if rows is not None:  # a large image: blocks of its output rows, one after another
        inner = Plan(plan.compute, out.dtype)  # Python ints are finished here, once

        def block(i: int, out_rows: slice, in_rows: slice, part: Geometry) -> None:
            source, dest = x[i : i + 1, in_rows], out[i : i + 1, out_rows]
            correlate(source, kernels, part, inner, dest, bias=bias, groups=groups)

        _by_row_blocks(m, whole, rows, block, parallel=plan.compute.kind != "O")
        return out if plan.result is not None else finish_object(out)
    shift = None if bias is None else _bias_values(bias, out, plan)
    # A float result narrower than its compute dtype (float16) gets its bias before rounding.
    widen = shift is not None and out.dtype.kind in "fc" and plan.compute != out.dtype

    def work(chunk: slice, staging: Staging) -> None:
        dest = out[chunk]
        if shift is None:
            contract(take(chunk), staging, weights, dest, groups)
        elif widen:
            total = staging.scratch("biased", dest.shape, plan.compute)
            contract(take(chunk), staging, weights, total, groups)
            np.add(total, shift, out=dest)
        else:
            contract(take(chunk), staging, weights, dest, groups)
            np.add(dest, shift, out=dest)

    # IEEE semantics without warnings: the windows that straddle two images (computed, then
    # dropped) must not warn about values the caller never sees.
    with np.errstate(all="ignore"):
        parallel = _threaded(strategy, cg, plan.compute)
        blas = calls_blas(strategy, cg)
        products = math.prod(geometry.out_shape) * weights.size  # multiply-adds an image
        for_each_chunk(
            m, per_image, staging, work, parallel=parallel, calls_blas=blas, multiply_adds=products
        )
    return out if plan.result is not None else finish_object(out)


def reduce_windows(
    x: Array,
    geometry: Geometry,
    ufunc: np.ufunc,
    plan: Plan,
    out: Array,
    *,
    fill: object = 0,
    divisor: ArrayLike | None = None,
) -> Array:
    """Reduce every window of a batch with `ufunc` into `out`, then divide by `divisor`.

    Parameters
    ----------
    x : ndarray, shape (m, s1..sd, c)
    geometry : Geometry
        Window, stride, dilation, padding and output size of the `d` spatial axes.
    ufunc : numpy.ufunc
        ``np.maximum``, ``np.minimum`` or ``np.add``.
    plan : Plan
        Compute and result dtypes.
    out : ndarray, shape (m, o1..od, c)
        Where the result goes, as in `correlate`.
    fill : scalar, default 0
        The value of the padding: one that `ufunc` never selects.
    divisor : scalar or ndarray of shape (1, o1..od, 1), optional
        The number of values of each window (for a mean).

    Returns
    -------
    ndarray, shape (m, o1..od, c)
        `out`, as in `correlate`.
    """
    m = x.shape[0]
    result = out.dtype
    if out.size == 0:
        return out if plan.result is not None else out.astype(np.int64)
    per_image = math.prod(geometry.padded_shape) * x.shape[-1] * plan.compute.itemsize * 2
    rows = _rows_per_block(geometry, per_image)
    if rows is not None:  # a large image: blocks of its output rows, one after another
        inner = Plan(plan.compute, out.dtype)

        def block(i: int, out_rows: slice, in_rows: slice, part: Geometry) -> None:
            # Means divide by the counts of the whole problem's windows.
            counts = divisor
            if isinstance(divisor, np.ndarray) and divisor.ndim:
                counts = divisor[:, out_rows]
            source, dest = x[i : i + 1, in_rows], out[i : i + 1, out_rows]
            reduce_windows(source, part, ufunc, inner, dest, fill=fill, divisor=counts)

        _by_row_blocks(m, geometry, rows, block, parallel=plan.compute.kind != "O")
        return out if plan.result is not None else finish_object(out)
    reduction = REDUCTIONS[pool_strategy(geometry)]
    in_place = plan.compute == result
    take, geometry, gathered = _chunk_source(x, geometry, fill=fill)

    def work(chunk: slice, staging: Staging) -> None:
        dest = out[chunk]
        total = dest if in_place else staging.scratch("total", dest.shape, plan.compute)
        source = take(chunk)
        if geometry.is_padded:
            buffer = staging.stage(source, plan.compute, fill=fill)
            source = staging.images(buffer, source.shape[0])
        reduction(source, geometry, ufunc, total, staging.scratch)
        if divisor is not None:
            np.true_divide(total, divisor, out=total)
        if not in_place:
            dest[...] = total

    with np.errstate(all="ignore"):
        per_image = math.prod(geometry.padded_shape) * x.shape[-1] * plan.compute.itemsize * 2
        per_image += gathered * x.dtype.itemsize
        parallel = plan.compute.kind != "O"
        for_each_chunk(m, per_image, Staging(geometry), work, parallel=parallel)
    return out if plan.result is not None else finish_object(out)
