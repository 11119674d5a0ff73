"""The gradient of pooling with respect to its input, for every `pool` option and mode.

`pool_vjp` checks its arguments through `check_pool`, the forward call's own entry path.
Chunk by chunk of the batch, each window's gradient is routed tap by tap into a strided view
of a padded buffer, as the forward pass reads it: to every tap for sums, divided by the
window's count for means, to the window's maximum (minimum) for max (min) pooling by a tie
rule; the padding, which holds no input, is then cut off.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from ._dtypes import INT64_LIMIT, Plan
from ._engine import _for_each_chunk
from ._geometry import Geometry, extent
from ._pooling import (
    PoolProblem,
    _never_selected,
    _window_counts,
    check_pool,
    run_pool,
)
from ._staging import Staging
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PoolMode
from ._validation import as_result_gradient, given_shape, word
from ._windows import at_tap, window_view

#: How max and min pooling share a window's gradient among tied extremes: the first in
#: row-major window order (PyTorch's and JAX's rule), every one in full (the course's), or
#: split equally.
TIES = ("first", "all", "split")


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
        The gradient of a loss with respect to ``pool(x, ...)``: exactly its shape.
    x, kernel_shape, stride, mode, padding, dilation, ceil_mode, count_include_pad, data_format
        As given to `pool` (with its defaults: the stride is the window).
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
        floats (float64 for integers).

    Raises
    ------
    TypeError, ValueError
        As `pool` raises them, in the same words; and for a `dy` whose shape is not the
        forward result's (the message names both shapes) and an unknown `ties` word.

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
    result = _route(gradient, problem, rule)
    if problem.channels_first:
        return np.ascontiguousarray(np.moveaxis(result, -1, 1))
    return result


def _gradient_dtype(dy: Array, mode: str, rule: str) -> np.dtype[np.generic]:
    """Floats for means and split ties, else dy's float dtype or exact integers."""
    if mode == "avg" or (mode in ("max", "min") and rule == "split"):
        return np.result_type(dy.dtype, np.float64 if dy.dtype.kind in "biu" else dy.dtype)
    if dy.dtype.kind in "biu":
        return np.dtype(np.int64)
    return dy.dtype.newbyteorder("=")


def _route(dy: Array, problem: PoolProblem, rule: str) -> Array:
    """The input gradient ``(m, s.., c)`` of channels-last `dy` ``(m, o.., c)``."""
    x, g, mode = problem.x, problem.geometry, problem.mode
    dtype = _gradient_dtype(dy, mode, rule)
    taps = math.prod(g.kernel)
    exact = dtype.kind in "iu"
    # Each input sample receives from at most `taps` windows: Python ints beyond int64.
    if exact and (dy.size and int(np.abs(dy.astype(object)).max()) * taps >= INT64_LIMIT):
        dtype = np.dtype(object)
    out = np.empty(x.shape, dtype)
    extremes = None
    if mode in ("max", "min"):
        # The forward result: each window's extreme, which its taps are compared with.
        extremes = run_pool(dataclasses.replace(problem, channels_first=False))
    scale = None
    if mode == "avg":
        plan = Plan(np.dtype(dtype), np.dtype(dtype))
        counts = _window_counts(g, problem.pads, problem.count_include_pad, plan)
        scale = np.true_divide(dy, counts, dtype=dtype)
    padded = g.padded_shape
    per_image = math.prod(padded) * x.shape[-1] * max(dtype.itemsize, x.dtype.itemsize) * 3
    keep = _interior(g)
    o = g.out_shape
    fill = _never_selected(mode, x) if mode in ("max", "min") else 0
    every_tap = list(itertools.product(*map(range, g.kernel)))

    # Windows that share no sample (stride at least the window's span on every axis): each
    # tap's share is written, not added. A NaN or inf gradient goes only where a mask
    # sends it (a product with the mask would spread it as NaN over the other taps).
    disjoint = all(
        s >= extent(k, dil) for k, dil, s in zip(g.kernel, g.dilation, g.stride, strict=True)
    )
    finite = dy.dtype.kind not in "fc" or bool(np.isfinite(dy).all())

    def work(chunk: slice, staging: Staging) -> None:
        grads = (scale if scale is not None else dy)[chunk].astype(dtype)
        shape = (grads.shape[0], *padded, x.shape[-1])
        # Without padding, the gradient is scattered straight into the result.
        buffer = staging.scratch("gradient", shape, dtype) if g.is_padded else out[chunk]
        buffer.fill(0)
        win = None
        if extremes is not None:
            staged = staging.stage(x[chunk], x.dtype.newbyteorder("="), fill=fill)
            win = staging.image_windows(staged, grads.shape[0])
        routes = _routes(win, extremes[chunk] if extremes is not None else None, g, rule)
        for tap, share in zip(every_tap, routes, strict=True):
            reads = tuple(
                slice(t * dil, t * dil + (n - 1) * s + 1, s)
                for t, dil, s, n in zip(tap, g.dilation, g.stride, o, strict=True)
            )
            view = buffer[(slice(None), *reads, slice(None))]
            if share is None:
                view += grads
            elif share.dtype == bool and not finite:
                np.add(view, grads, out=view, where=share)
            elif disjoint:
                np.multiply(grads, share, out=view)
            else:
                view += grads * share
        if g.is_padded:
            out[chunk] = buffer[(slice(None), *keep, slice(None))]

    # Chunks write disjoint slices of `out`: on the engine's threads (not Python ints).
    with np.errstate(all="ignore"):
        parallel = dtype.kind != "O"
        _for_each_chunk(x.shape[0], per_image, Staging(g), work, parallel=parallel)
    return out


def _interior(geometry: Geometry) -> tuple[slice, ...]:
    """Where the input lies in the padded axes."""
    return tuple(
        slice(before, before + n)
        for (before, _), n in zip(geometry.pad, geometry.in_shape, strict=True)
    )


def _routes(
    win: Array | None, extremes: Array | None, geometry: Geometry, rule: str
) -> list[Array | None]:
    """Per tap (row-major), what share of each window's gradient it gets: None for all of
    it (sums and means), else a 0/1 mask or a fraction (max and min by `rule`)."""
    every = list(itertools.product(*map(range, geometry.kernel)))
    if win is None or extremes is None:
        return [None] * len(every)
    undecided = None
    if extremes.dtype.kind in "fc" and np.isnan(extremes).any():
        undecided = np.isnan(extremes)
    # Padding ties with an input extreme only at the dtype's limit: it never takes the
    # gradient from a sample of the input.
    inside_windows = None
    if geometry.is_padded:
        inside = np.zeros((1, *geometry.padded_shape, 1), dtype=bool)
        inside[(slice(None), *_interior(geometry), slice(None))] = True
        inside_windows = window_view(inside, geometry.kernel, geometry.stride, geometry.dilation)
    hits = []
    for tap in every:
        value = at_tap(win, tap)
        hit = value == extremes
        if inside_windows is not None:
            hit &= at_tap(inside_windows, tap)
        if undecided is not None:  # a NaN is the extreme of its window, as in PyTorch
            hit |= np.isnan(value) & undecided
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
