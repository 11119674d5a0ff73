"""The gradient of pooling with respect to its input, for every `pool` option and mode.

`pool_vjp` checks its arguments through `check_pool`, the forward call's own entry path.
Chunk by chunk of the batch, each window's gradient is routed tap by tap into a strided view
of a padded buffer, as the forward pass reads it: to every tap for sums, divided by the
window's count for means, to the window's maximum (minimum) for max (min) pooling by a tie
rule; the padding, which holds no input, is then cut off. A dask `dy` or `x` gives a lazy
dask gradient, `_route` on each batch chunk.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

from ._chunks import for_each_chunk
from ._dask import is_dask
from ._dtypes import INT64_LIMIT, Plan, check_range, max_abs
from ._engine import _chunk_source
from ._geometry import extent, tap_reads
from ._module import set_module
from ._pooling import (
    PoolProblem,
    _never_selected,
    _window_counts,
    check_pool,
    run_pool,
)
from ._results import allocate
from ._staging import Staging
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PoolMode
from ._validation import as_result_gradient, given_shape, word
from ._windows import at_tap

#: How max and min pooling share a window's gradient among tied extremes: the first in
#: row-major window order (PyTorch's and JAX's rule), every one in full (the course's), or
#: split equally.
TIES = ("first", "all", "split")


@set_module("stridedconv")
def pool_vjp(
    dy: ArrayLike,
    x: ArrayLike,
    kernel_shape: IntOrTuple,
    stride: IntOrTuple | None = None,
    mode: PoolMode = "max",
    *,
    padding: ConvPadding = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    data_format: DataFormat = "channels_last",
    ties: str = "first",
) -> Array:
    """The gradient of ``sum(dy * pool(x, ...))`` with respect to `x`.

    Parameters
    ----------
    dy : array_like
        The gradient of a loss with respect to ``pool(x, ...)``: exactly its shape. A dask
        `dy` or `x` gives a lazy dask gradient (see Notes).
    x : array_like, shape (m, s1, ..., sd, c) or (m, c, s1, ..., sd)
        The input, as given to `pool`.
    kernel_shape : int or tuple of d ints
        The window, as given to `pool`.
    stride : int or tuple of d ints, optional
        As given to `pool` (by default the window).
    mode : {'max', 'avg', 'min', 'sum'}, default 'max'
        As given to `pool`.
    padding : int or tuple of d ints or d (before, after) pairs, default 0
        As given to `pool`; padding never receives gradient.
    dilation : int or tuple of d ints, default 1
        As given to `pool`.
    ceil_mode : bool, default False
        As given to `pool`.
    count_include_pad : bool, default True
        As given to `pool`.
    data_format : {'channels_last', 'channels_first'} or letters, default 'channels_last'
        As given to `pool`.
    ties : {'first', 'all', 'split'}, default 'first'
        For ``'max'`` and ``'min'``: the gradient of a window goes to its first extreme in
        row-major window order (PyTorch's and JAX's rule; a NaN counts as the extreme, as in
        PyTorch), to every tied extreme in full (the rule the course grades), or is split
        equally among them.

    Returns
    -------
    ndarray, the shape of `x`
        ``'sum'``, and ``'max'``/``'min'`` with ties ``'first'`` or ``'all'``, give `dy`'s
        dtype for floats and exact int64 for integers; ``'avg'`` and ties ``'split'`` give
        floats (float64 for integers). A dask array for a dask `dy` or `x`.

    Raises
    ------
    TypeError, ValueError
        As `pool` raises them, in the same words; and for a `dy` whose shape is not the
        forward result's (the message names both shapes) and an unknown `ties` word.

    See Also
    --------
    pool : The forward pooling.
    pool_backward : The course's form, ties ``'all'``.

    Notes
    -----
    *Dask*: when `dy` or `x` is a dask array, the arguments are checked at once from shapes
    and dtypes, and a lazy dask array is returned: one task per batch and channel chunk of
    `x` (of `dy` when `x` is a NumPy array, which is then cut alike), whose spatial chunks
    are merged; the other array is rechunked to match. Only ``'max'`` and ``'min'`` read
    `x`. Exact integers are declared int64, and a chunk whose values could overflow it
    raises, naming `dtype`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1], [3], [3], [2]]])                  # (m, s, c) = (1, 4, 1)
    >>> dy = np.array([[[10], [20]]])                         # pool(x, (2,)) is [[3], [3]]
    >>> pool_vjp(dy, x, (2,))[0, :, 0]
    array([ 0, 10, 20,  0])
    >>> pool_vjp(dy, x, (3,), 1, ties="all")[0, :, 0]         # both windows see 3 twice
    array([ 0, 30, 30,  0])
    >>> pool_vjp(dy, x, (2,), mode="avg")[0, :, 0]
    array([ 5.,  5., 10., 10.])
    """
    problem = check_pool(
        x,
        kernel_shape,
        stride,
        mode,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        data_format=data_format,
        batch_name="x",
    )
    return vjp_of(problem, dy, word(ties, "ties", TIES))


def vjp_of(
    problem: PoolProblem, dy: object, rule: str, dy_name: str = "dy", x_name: str = "x"
) -> Array:
    """The input gradient of a checked pooling `problem` for `dy`, ties by `rule`; the
    caller calls them `dy_name` and `x_name`."""
    first = problem.channels_first
    inputs = f"{x_name} of shape {given_shape(problem.x, first)}"
    gradient = as_result_gradient(dy, dy_name, problem.result_shape, "pool", inputs, first)
    if is_dask(gradient) or is_dask(problem.x):
        lazy: Array = _lazy_route(gradient, problem, rule, inputs)
        return lazy
    result = _route(gradient, problem, rule, inputs)
    if problem.channels_first:
        return np.ascontiguousarray(np.moveaxis(result, -1, 1))
    return result


def _lazy_route(dy: Any, problem: PoolProblem, rule: str, inputs: str) -> Any:
    """`_route` on each batch and channel chunk of a dask `dy` or `x` (channels last,
    checked), the spatial chunks merged; `x` is read for max and min only. Exact integers
    are int64, every chunk held to it."""
    from ._dask import batch_aligned, channels_first_of, map_batches

    x, dy = batch_aligned(problem.x, dy, keep_channels=True)
    dtype = _gradient_dtype(dy, problem.mode, rule)
    held = dtype.kind in "iu"
    in_shape = problem.geometry.in_shape
    # The tasks carry no dask array (dask hashes them): the problem without its batch.
    empty = np.empty((0,) * x.ndim, x.dtype)
    template = dataclasses.replace(problem, x=empty, channels_first=False)

    def part(grads: Array, samples: Array | None = None) -> Array:
        if samples is None:  # only x's shape matters: a read-only view of one zero
            shape = (grads.shape[0], *in_shape, grads.shape[-1])
            samples = np.broadcast_to(np.zeros((), template.x.dtype), shape)
        return _route(grads, dataclasses.replace(template, x=samples), rule, inputs, held)

    arrays = [dy, x] if problem.mode in ("max", "min") else [dy]
    result = map_batches(part, arrays, [*((n,) for n in in_shape), x.chunks[-1]], dtype)
    return channels_first_of(result, problem.channels_first)


def _gradient_dtype(dy: Array, mode: str, rule: str) -> np.dtype[np.generic]:
    """Floats for means and split ties, else dy's float dtype or exact integers."""
    if mode == "avg" or (mode in ("max", "min") and rule == "split"):
        return np.result_type(dy.dtype, np.float64 if dy.dtype.kind in "biu" else dy.dtype)
    if dy.dtype.kind in "biu":
        return np.dtype(np.int64)
    return dy.dtype.newbyteorder("=")


def _route(dy: Array, problem: PoolProblem, rule: str, inputs: str, held: bool = False) -> Array:
    """The input gradient ``(m, s.., c)`` of channels-last `dy` ``(m, o.., c)``; `inputs`
    names them for the message of a gradient too large to allocate. Exact integers are
    `held` to int64 (raising, naming `dtype`, where they could overflow it) rather than
    computed in Python ints."""
    x, g, mode = problem.x, problem.geometry, problem.mode
    dtype = _gradient_dtype(dy, mode, rule)
    shown = given_shape(x, problem.channels_first)

    def result(dtype: np.dtype[np.generic]) -> Array:
        return allocate(x.shape, dtype, lambda: f"for the gradient of {inputs}", shown)

    out = result(dtype)  # before any pass over the values
    # Each input sample receives from at most `taps` windows: Python ints beyond int64.
    if dtype.kind in "iu" and max_abs(dy) * math.prod(g.kernel) >= INT64_LIMIT:
        if held:
            check_range(max_abs(dy) * math.prod(g.kernel), dtype, True, "the pooling gradient")
        dtype = np.dtype(object)
        out = result(dtype)
    extremes = mode in ("max", "min")  # each window's extreme is compared with its taps
    counts = None
    if mode == "avg":
        plan = Plan(np.dtype(dtype), np.dtype(dtype))
        counts = _window_counts(g, problem.pads, problem.count_include_pad, plan)
    fill = _never_selected(mode, x) if mode in ("max", "min") else 0
    # The windows' values, for max and min: staged, or gathered where they read little of
    # the padded input (huge strides, dilations or paddings), as `pool` reads them.
    take, windows, gathered = _chunk_source(x, g, fill=fill)
    per_image = math.prod(g.in_shape) * x.shape[-1] * dtype.itemsize * 2
    if extremes:
        per_image += (math.prod(Staging(windows).sizes) * x.shape[-1] + gathered) * x.itemsize
    # Per tap, the windows whose tap reads the input and the samples it reads there: the
    # padding takes no gradient, so the gradient is scattered into the input's samples only.
    targets = [tap_reads(g, tap) for tap in itertools.product(*map(range, g.kernel))]
    # Windows that share no sample (stride at least the window's span on every axis): each
    # tap's share is written, not added.
    spans = (extent(k, dil) for k, dil in zip(g.kernel, g.dilation, strict=True))
    disjoint = all(s >= span for s, span in zip(g.stride, spans, strict=True))
    # Windows that tile the input exactly (2x2 windows of stride 2 on even sizes): every
    # sample is written once, by the one tap of the one window that reads it.
    tiled = disjoint and all(
        k == s and o * s == n and pad == (0, 0)
        for k, s, o, n, pad in zip(g.kernel, g.stride, g.out_shape, g.in_shape, g.pad, strict=True)
    )

    def route(chunk: slice, staging: Staging, masked: bool) -> None:
        """Scatter the gradient of `chunk`; `masked` routes 0/1 masks by `where=`, not by a
        product (which would spread a NaN or inf gradient over the other taps; a 4x slower
        ufunc loop where windows overlap, so only for images that need it)."""
        grads = dy[chunk].astype(dtype)
        if counts is not None:  # a mean's gradient: shared by the window's count
            np.true_divide(grads, counts, out=grads)
        buffer = out[chunk]
        if masked or not (tiled and extremes):
            buffer.fill(0)
        routes: list[Array | None] = [None] * len(targets)
        if extremes:
            # The forward result of this chunk, as `pool` computes it.
            chunk_of = dataclasses.replace(problem, x=x[chunk], channels_first=False)
            staged = staging.stage(take(chunk), x.dtype.newbyteorder("="), fill=fill)
            win = staging.image_windows(staged, grads.shape[0])
            routes = _routes(win, run_pool(chunk_of), targets, rule)
        for target, share in zip(targets, routes, strict=True):
            if target is None:
                continue  # this tap of every window reads padding
            outs, reads = target
            view = buffer[(slice(None), *reads, slice(None))]
            part = grads[(slice(None), *outs, slice(None))]
            if share is None:
                view += part
                continue
            share = share[(slice(None), *outs, slice(None))]
            if share.dtype == bool and masked:
                np.add(view, part, out=view, where=share)
            elif disjoint:
                np.multiply(part, share, out=view)
            else:
                view += part * share

    # Images whose gradient holds NaN or inf are routed again, alone, by masks: the others
    # keep the products, so no image's bits depend on what its neighbours hold.
    redo = set()
    if dtype.kind in "fc" and extremes and not np.isfinite(dy).all():
        redo = set(np.flatnonzero(~np.isfinite(dy).reshape(len(dy), -1).all(axis=1)).tolist())

    def work(chunk: slice, staging: Staging) -> None:
        route(chunk, staging, masked=False)
        for i in sorted(redo.intersection(range(chunk.start, chunk.stop))):
            route(slice(i, i + 1), staging, masked=True)

    # Chunks write disjoint slices of `out`: on the engine's threads (not Python ints).
    with np.errstate(all="ignore"):
        parallel = dtype.kind != "O"
        for_each_chunk(x.shape[0], per_image, Staging(windows), work, parallel=parallel)
    return out


def _routes(
    win: Array,
    extremes: Array,
    targets: list[tuple[tuple[slice, ...], tuple[slice, ...]] | None],
    rule: str,
) -> list[Array | None]:
    """Per tap (row-major), what share of each window's gradient it gets, for max and min
    by `rule`: a 0/1 mask or a fraction. A tap where the window reads padding (not in its
    `targets`) gets none: padding ties with an input extreme only at the dtype's limit."""
    d = (win.ndim - 2) // 2  # (b, o.., k.., c)
    every = list(itertools.product(*map(range, win.shape[1 + d : 1 + 2 * d])))
    undecided = None
    if extremes.dtype.kind in "fc" and np.isnan(extremes).any():
        undecided = np.isnan(extremes)
    hits = []
    outs = extremes.shape[1:-1]
    for tap, target in zip(every, targets, strict=True):
        if target is None:
            hits.append(np.zeros(extremes.shape, dtype=bool))
            continue
        inside = (slice(None), *target[0], slice(None))
        everywhere = all(sl.stop - sl.start == o for sl, o in zip(target[0], outs, strict=True))
        value = at_tap(win, tap)[inside]
        hit = value == extremes[inside]
        if undecided is not None:  # a NaN is the extreme of its window, as in PyTorch
            hit |= np.isnan(value) & undecided[inside]
        if not everywhere:
            part, hit = hit, np.zeros(extremes.shape, dtype=bool)
            hit[inside] = part
        hits.append(hit)
    if rule == "all":
        return list(hits)
    if rule == "split":
        count = np.sum(hits, axis=0)
        return [hit / np.maximum(count, 1) for hit in hits]
    taken = np.zeros_like(hits[0])
    firsts = []
    for hit in hits:
        first = hit & ~taken
        taken |= first
        firsts.append(first)
    return list(firsts)
