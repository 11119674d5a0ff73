"""Evaluation: the batch in chunks sized to a memory budget, a strategy chosen by shape.

Each chunk is padded on its own (never the whole batch), evaluated by one strategy of
`_contractions` or `_fft` (convolution) or `_reductions` (pooling), and written into its
slice of the preallocated result; an image too large for a chunk is computed in blocks of
output rows. Tests and benchmarks force a strategy with `forced`.

The chunks of a large batch run on a few threads, the calling thread among them: NumPy
releases the GIL inside its loops. Strategies that call BLAS do so only where BLAS can be
held to one thread meanwhile (`_blas`, with threadpoolctl); otherwise they run their chunks
one after another and leave the threads to BLAS: two levels of threads on one core pool
would compete for the same cores.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import numpy as np

from . import _fft
from ._blas import available as blas_threads_settable
from ._blas import single_threaded
from ._contractions import CONTRACTIONS
from ._dtypes import INTEGER_PATHS, Plan, finish_object
from ._gather import compact, gather, is_sparse, source_indices
from ._geometry import Geometry, extent, row_blocks
from ._reductions import REDUCTIONS
from ._separable import rank_one
from ._staging import Staging
from ._typing import Array, ArrayLike

#: The direct strategies: every output within the direct error bound of its own window.
CONV_STRATEGIES = tuple(CONTRACTIONS)
#: The FFT strategy (`_fft`), whose error bound is relative to a whole tile.
FFT_STRATEGY = "fft"
POOL_STRATEGIES = tuple(REDUCTIONS)
#: Working-set bytes per chunk (measured best on this project's 2-core machines). A chunk
#: holds at least one image, so the memory beyond the result is a few chunks, whatever the
#: batch size.
CHUNK_BYTES = 4 * 2**20
#: For a single image whose windows take up to this many bytes, copying them into one matrix
#: for one matmul beats a few calls per kernel tap (measured on one 28x28 grayscale image,
#: 3x3: 77 us against 96 us; a 14x14x64 -> 64 layer: 201 us against 330 us).
SINGLE_IMAGE_IM2COL_BYTES = 2**20
#: Threads pay for themselves on large problems only: with less work in all, or in smaller
#: chunks, handing chunks to threads (and their contention for the GIL between short NumPy
#: calls) costs more than it saves; measured, ~200 us per chunk of one 28x28 image when
#: every chunk was handed to a thread of its own.
#: Forcing ``threads`` (tests) skips both limits.
PARALLEL_BYTES = 8 * 2**20
THREAD_CHUNK_BYTES = 2**20
#: An image whose working set (under the chosen strategy) takes more than this is computed
#: in blocks of output rows (`row_blocks`), so that memory stays within a few chunks for
#: images of any size and padding of any width.
IMAGE_BYTES = 4 * CHUNK_BYTES
#: Chunks per thread when the batch is split for threads: enough that a thread rarely waits
#: for the other at the end, few enough that each chunk's fixed cost (a few dozen NumPy
#: calls) stays small. Measured on 1000 28x28 images, us per image: 1 a thread 2.8, 2 a
#: thread 2.4, 4 a thread 3.1, 8 a thread 3.4.
CHUNKS_PER_THREAD = 2
#: Up to this many input channels, contracting channels first ("planes") beats BLAS calls
#: whose inner dimension is the channel count.
FEW_CHANNELS = 4
#: Beyond this many input channels, one GEMM per tap (K = c) is long enough for BLAS.
MANY_CHANNELS = 16
#: FFTs beat the direct strategies from this many kernel taps per log2 of the FFT's size,
#: for one input channel and up to this many outputs per group (`fft_pays`).
FFT_TAPS_PER_LOG2 = 2.75
FFT_FEATURES = 8


def _default_threads() -> int:
    """STRIDEDCONV_NUM_THREADS if set, else the cores this process may run on."""
    setting = os.environ.get("STRIDEDCONV_NUM_THREADS", "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(cores) if cores else (os.cpu_count() or 1)


#: Threads for the chunks of BLAS-free strategies.
THREADS = _default_threads()

_KNOWN = {
    "conv": (*CONV_STRATEGIES, FFT_STRATEGY),
    "pool": POOL_STRATEGIES,
    "integers": INTEGER_PATHS,
    "threads": None,  # a positive int
    "rows": None,  # a positive int: output rows per block of every image (`row_blocks`)
    "gather": ("always", "never"),
    "adjoint": ("correlate", "scatter"),
    "kernel_gradient": ("dots", "im2col", "taps"),
}
_forced: ContextVar[dict[str, object] | None] = ContextVar("stridedconv_forced", default=None)


@contextmanager
def forced(**strategies: object) -> Iterator[None]:
    """Use the named strategies inside a ``with`` block, for tests and benchmarks.

    Keys:
    - ``conv``: one of `CONV_STRATEGIES`, or `FFT_STRATEGY`;
    - ``pool``: one of `POOL_STRATEGIES`;
    - ``integers``: one of `INTEGER_PATHS` (it can only widen the exact path the bound
      allows);
    - ``threads``: a positive int, the threads for the chunks;
    - ``rows``: a positive int: every image of more output rows in blocks of that many;
    - ``gather``: ``'always'`` or ``'never'``: gather the windows of every problem, or of
      none (see `_gather`);
    - ``adjoint``: ``'correlate'`` or ``'scatter'``, how `_transpose.scatter` computes the
      adjoint of a convolution of stride 1;
    - ``kernel_gradient``: ``'dots'``, ``'im2col'`` or ``'taps'`` (see `_gradients`).
    """
    for key, value in strategies.items():
        choices = _KNOWN.get(key, ())
        valid = value in choices if choices is not None else isinstance(value, int) and value > 0
        if key not in _KNOWN or not valid:
            msg = f"unknown strategy {key}={value!r}; known: {_KNOWN}"
            raise ValueError(msg)
    token = _forced.set({**(_forced.get() or {}), **strategies})
    try:
        yield
    finally:
        _forced.reset(token)


def forced_strategy(key: str) -> str | None:
    """The strategy forced for `key` in the current context, if any."""
    value = (_forced.get() or {}).get(key)
    return None if value is None else str(value)


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _executor(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of `threads` threads, made on first use."""
    with _pools_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="stridedconv")
        return _pools[threads]


def _forget_pools_after_fork() -> None:
    """In a forked child: the pools' threads did not survive the fork (only the forking
    thread does), and a lock may have been held by one of them. Start afresh."""
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


def _for_each_chunk(
    m: int,
    bytes_per_image: int,
    staging: Staging,
    work: Callable[[slice, Staging], None],
    *,
    parallel: bool,
    calls_blas: bool = False,
) -> None:
    """Call ``work(chunk, staging)`` for every chunk of `m` images; each thread has its own
    `Staging` (buffers are reused from chunk to chunk, never shared between threads). Work
    that `calls_blas` runs on threads with BLAS on one thread (`_blas`)."""
    forced_threads = forced_strategy("threads")
    threads = int(forced_threads or THREADS) if parallel else 1
    per_image = max(bytes_per_image, 1)
    step = max(1, CHUNK_BYTES // per_image)
    if threads > 1 and forced_threads is None and m * per_image < PARALLEL_BYTES:
        threads = 1
    if threads > 1:
        smallest = 1 if forced_threads else -(-THREAD_CHUNK_BYTES // per_image)
        step = min(step, max(smallest, -(-m // (CHUNKS_PER_THREAD * threads))))
    chunks = [slice(start, min(start + step, m)) for start in range(0, m, step)]
    threads = min(threads, len(chunks))
    if threads <= 1:
        for chunk in chunks:
            work(chunk, staging)
        return
    # The calling thread works too, and every thread takes the next chunk when it is done
    # with one: a helper is woken once per call, not once per chunk.
    pending = iter(chunks)
    lock = threading.Lock()
    failed = threading.Event()

    def drain(own: Staging) -> None:
        # errstate is per thread: IEEE results, no warnings (see `correlate`).
        with np.errstate(all="ignore"):
            while not failed.is_set():
                with lock:
                    chunk = next(pending, None)
                if chunk is None:
                    return
                try:
                    work(chunk, own)
                except BaseException:
                    failed.set()  # the others stop after their current chunk
                    raise

    with single_threaded() if calls_blas else nullcontext():
        helpers = [
            _executor(threads - 1).submit(drain, Staging(staging.geometry))
            for _ in range(threads - 1)
        ]
        try:
            drain(staging)
        finally:
            # A helper still queued (behind another call's work) has nothing left to do:
            # cancel it rather than wait for it. Wait for the running ones before the
            # buffers go (and before BLAS gets its threads back).
            running = [helper for helper in helpers if not helper.cancel()]
            for helper in running:
                helper.exception()
    for helper in running:
        helper.result()  # re-raise a helper's error


def conv_strategy(
    channels: int,
    features: int,
    dtype: np.dtype[np.generic],
    *,
    groups: int = 1,
    im2col_bytes: int | None = None,
    separable: bool = False,
    fourier: bool = False,
) -> str:
    """The convolution strategy for `channels` in and `features` out per group, computed in
    `dtype`; `im2col_bytes` is the size of the copied windows when
    the batch is one image; `separable` whether the kernels are outer products, one per
    channel (`_separable`): two passes of ``kh + kw`` taps then beat ``kh * kw``;
    `fourier` whether FFTs would cost less than the direct strategies (`fft_pays`).

    The rules come from `benchmarks/grid.py` (32x32 float32 images, 'same', c x nc x k in
    {1, 3, 16, 64} x {1, 6, 16, 64} x {3, 5}, every strategy forced; AVX-512 Xeon, OpenBLAS
    SkylakeX, times relative to the best strategy of each cell):
    - one channel in and out per group (grayscale, depthwise): two 1-D passes for outer
      products (``separable``; 64x256x256 Gaussians: 0.65x ``taps`` at 3x3, 0.1x at
      15x15), else one einsum per kernel column (``stripes``; random kernels: 0.7x
      ``taps`` at 3x3, 0.3x at 15x15; 16x56x56x64 depthwise 3x3: 0.75x);
    - one channel in, a few out: ``columns`` (one GEMM of K = taps), 0.8-0.95x ``planes``
      and 0.15-0.3x the scaled copies chosen before (LeNet-5's first layer);
    - at least 16 out from at most 16 in: ``im2col`` (K = taps * c), 0.3-0.9x ``planes``;
      from 64 in, ``im2col`` only from 64 out (0.8-1.1x ``taps`` below that);
    - a few channels in (<= 16) and out: ``planes``; many in, few out: ``taps``.
    Grouped convolutions keep the rules measured for them (`FEW_CHANNELS`).
    """
    chosen = forced_strategy("conv")
    if chosen is not None:
        return chosen
    if dtype.kind == "O":
        return "taps"  # no BLAS for Python ints
    if im2col_bytes is not None and im2col_bytes <= SINGLE_IMAGE_IM2COL_BYTES:
        return "im2col"  # one copy and one matmul instead of a few calls per tap
    if separable:
        return "separable"
    if fourier:
        return FFT_STRATEGY
    if channels == 1 and features == 1:
        return "stripes"
    if groups > 1 or channels > MANY_CHANNELS:
        if channels == 1:
            return "taps"  # depthwise, several outputs a channel: a broadcast product per tap
        if groups == 1 and features >= 64:
            return "im2col"
        return "planes" if channels <= FEW_CHANNELS else "taps"
    if channels == 1 and features < 16:
        return "columns"
    if features >= 16:
        return "im2col"
    if features == 1 and channels > FEW_CHANNELS:
        return "taps"
    return "planes"


def fft_pays(geometry: Geometry, channels: int, features: int) -> bool:
    """Whether FFTs of tiles (`_fft`) cost less than a direct strategy, for one input channel
    and up to `FFT_FEATURES` outputs per group (grayscale filtering, depthwise layers, a
    first layer) and stride 1: when the taps outnumber `FFT_TAPS_PER_LOG2` times
    ``log2(N)``, N the samples of one FFT, times the samples transformed per output (tiles
    overlap and round up to a fast length).

    Measured with random float32 kernels, 'same', FFT time over `stripes` time at 5x5 /
    7x7 / 9x9 / 11x11 (ratio of taps to ``log2(N) * overhead`` in brackets): 4000x28x28
    0.78 (1.9) / 0.50 (2.9) / 0.34 / 0.30; 500x64x64 1.10 (1.6) / 0.93 (3.1) / 0.46 / 0.38;
    64x256x256 1.47 (1.4) / 0.85 (2.7) / 0.72 / 0.46; 4x1024x1024 1.95 (1.3) / 1.24 (2.6) /
    0.79 (4.3) / 0.50. Several outputs from one channel (one forward transform, one inverse
    per output), over the chosen direct strategy ('columns'), 32x32 / 256x256 images at
    5x5 / 7x7 / 11x11: 3 outputs 0.97 / 0.62 / 0.17 and 0.98 / 0.40 / 0.10; 6 outputs 1.27
    / 0.83 / 0.25 and 1.67 / 0.57 / 0.20; 16 outputs 1.76 / 1.20 / 0.93 and 1.86 / 1.18 /
    1.19.
    """
    if channels != 1 or features > FFT_FEATURES or any(s != 1 for s in geometry.stride):
        return False
    tiles = _fft.tiling(geometry)
    samples = math.prod(length for _, length, _ in tiles)
    overhead = math.prod(length * count for _, length, count in tiles) / max(
        math.prod(geometry.out_shape), 1
    )
    return math.prod(geometry.kernel) >= FFT_TAPS_PER_LOG2 * math.log2(samples) * overhead


def _calls_blas(strategy: str, channels: int) -> bool:
    """Whether `strategy` calls BLAS (a ``matmul``) for `channels` per group."""
    return strategy in ("im2col", "planes", "columns") or (strategy == "taps" and channels > 1)


def _threaded(strategy: str, channels: int, dtype: np.dtype[np.generic]) -> bool:
    """Whether chunks of `strategy` should run on threads: not for Python ints (which hold
    the GIL), and for BLAS strategies only where BLAS can be held to one thread meanwhile
    (measured faster than BLAS's own threads on every CNN layer and grid cell tried)."""
    if dtype.kind == "O":
        return False
    return not _calls_blas(strategy, channels) or blas_threads_settable()


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
    _for_each_chunk(len(tasks), CHUNK_BYTES, staging, work, parallel=parallel, calls_blas=True)


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
    m, (cg, nc) = x.shape[0], kernels.shape[-2:]
    if out.size == 0:
        return out if plan.result is not None else out.astype(np.int64)
    weights = kernels.astype(plan.compute)
    whole = geometry
    take, geometry, gathered = _chunk_source(x, geometry, fill=0)
    taps = math.prod(kernels.shape[:-2])
    im2col_bytes = None
    if m == 1:
        im2col_bytes = math.prod(geometry.out_shape) * taps * x.shape[-1] * plan.compute.itemsize
    # Two passes pay for their second sweep from 2x2 kernels on (measured: see `_separable`).
    one_copy = im2col_bytes is not None and im2col_bytes <= SINGLE_IMAGE_IM2COL_BYTES
    separable = (
        not one_copy  # a single small image goes to im2col: no need to factor the kernels
        and len(geometry.kernel) == 2
        and min(geometry.kernel) > 1
        and kernels.shape[-2:] == (1, groups)
        and rank_one(weights) is not None
    )
    # FFTs for large kernels, on real floats only (see `_fft`; measured: `fft_pays`).
    fourier = (
        not one_copy
        and _fft.applies(plan.compute, out.dtype)
        and fft_pays(geometry, cg, nc // groups)
    )
    strategy = conv_strategy(
        cg,
        nc // groups,
        plan.compute,
        groups=groups,
        im2col_bytes=im2col_bytes,
        separable=separable,
        fourier=fourier,
    )
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
        calls_blas = _calls_blas(strategy, cg)
        _for_each_chunk(m, per_image, staging, work, parallel=parallel, calls_blas=calls_blas)
    return out if plan.result is not None else finish_object(out)


def pool_strategy(geometry: Geometry) -> str:
    """The pooling strategy for `geometry`."""
    chosen = forced_strategy("pool")
    return chosen if chosen is not None else "separable"


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
        _for_each_chunk(m, per_image, Staging(geometry), work, parallel=parallel)
    return out if plan.result is not None else finish_object(out)
