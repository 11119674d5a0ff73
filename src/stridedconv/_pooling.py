"""Pooling: a reduction over the window axes of `windows`, with PyTorch's options."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._dask import is_dask, refuse_out, run_lazily
from ._dtypes import Plan, check_cast, extreme_plan, mean_plan, natural_dtype, sum_plan
from ._engine import forced_strategy, reduce_windows
from ._geometry import Geometry, ceil_mode_pads, make_geometry
from ._module import set_module
from ._results import allocate, check_out, finish, fixed_dtype, requested_dtype
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, DTypeLike, IntOrTuple, PoolMode
from ._validation import (
    as_batch,
    as_index,
    batch_layout,
    channels_first,
    check_bool,
    count,
    int_tuple,
    items_of,
    padding_spec,
    word,
)

POOL_MODES = ("max", "avg", "min", "sum")
#: The padding words of `pool`, with the meaning they have for `conv`.
POOL_PAD_WORDS = ("valid", "same", "full")
#: The reduction of each mode: the mean is a sum divided by the window's count.
UFUNCS = {"max": np.maximum, "min": np.minimum, "avg": np.add, "sum": np.add}


@set_module("stridedconv")
def pool(
    images: ArrayLike,
    kernel_shape: IntOrTuple,
    stride: IntOrTuple | None = None,
    mode: PoolMode = "max",
    *,
    padding: ConvPadding = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    data_format: DataFormat = "channels_last",
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Max, average, min or sum pooling of a batch, per channel, over `d` spatial axes.

    Parameters
    ----------
    images : array_like, shape (m, s1, ..., sd, c) or (m, c, s1, ..., sd)
        `m` samples of `d` spatial axes and `c` channels, laid out as `data_format` says;
        ``(m, h, w, c)`` for the classic 2-D case.
    kernel_shape : int or tuple of d ints
        Window size; ``d = len(kernel_shape)``. An int is a square 2-D window.
    stride : int or tuple of d ints, optional
        Step between neighbouring windows; by default the window, ``kernel_shape`` (PyTorch's
        default: windows that tile the images).
    mode : {'max', 'avg', 'min', 'sum'}, default 'max'
        The maximum, mean, minimum or sum of each window.
    padding : {'valid', 'same', 'full'} or int or tuple of d ints or d (before, after) pairs
        Default 0, no padding. Words as in `conv` (``'same'``: output ``ceil(s / stride)``).
        Explicit amounts may be at most half the window, ``kernel_shape[i] // 2`` on each
        side, as in PyTorch. Padding is never selected by ``'max'`` or ``'min'``: it holds
        -inf (``'max'``) or +inf (``'min'``), the dtype's extreme value for integers.
    dilation : int or tuple of d ints, default 1
        Step between neighbouring taps of a window.
    ceil_mode : bool, default False
        Round the output size up instead of down (PyTorch's rule): a last, partial window is
        added where it starts inside the input or its leading padding. The part of it beyond
        the padding holds no values.
    count_include_pad : bool, default True
        For ``'avg'``: divide by the number of taps inside the input and its padding
        (PyTorch's default); False divides by the number inside the input only.
    data_format : {'channels_last', 'channels_first'} or letters, default 'channels_last'
        Layout of `images` and of the result; ``'NHWC'``, ``'NCHW'`` and the like as in
        `conv`. Every word of every argument may be written in any case.
    out : ndarray, optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype: a float dtype for ``'avg'`` (its arithmetic), any number dtype
        for the others, an integer one only where it holds every possible value (checked
        before any work).

    Returns
    -------
    ndarray, shape (m, o1, ..., od, c) or (m, c, o1, ..., od)
        With ``o_i = (s_i + before_i + after_i - (k_i - 1) * dilation_i - 1) // stride_i + 1``
        (rounded up with `ceil_mode`). A new, C-contiguous, writeable array. ``'max'`` and
        ``'min'`` keep the dtype of `images`; ``'sum'`` keeps float dtypes and gives exact
        integers for integers and bools (int64, or Python ints in an object array only when
        a sum does not fit in int64); ``'avg'`` keeps float dtypes and gives float64 for
        integers and bools, the exact mean correctly rounded. float16 is accumulated in
        float32.

    Raises
    ------
    TypeError
        For non-numeric arrays, None, a window, stride, dilation or padding not made of
        ints, `ceil_mode` or `count_include_pad` not a bool, a word that is not a string,
        ``'max'`` or ``'min'`` of complex numbers (they have no order), and a `dtype` or
        `out` that cannot hold the result (see `conv`).
    ValueError
        For images without ``d + 2`` axes, a window larger than the padded images, a window,
        stride or dilation below 1 or of the wrong length, padding above half the window,
        an unknown `mode`, padding word or `data_format`, an integer `dtype` too narrow, and
        an `out` of the wrong shape, read-only or sharing memory with `images`.
    MemoryError
        At once, naming the shapes, when the result cannot be allocated.

    See Also
    --------
    pool_vjp : The gradient of a pooling.
    windows : The zero-copy window view that the reduction runs on.

    Notes
    -----
    Windows that would run past the end of an axis are dropped (unless `ceil_mode` keeps
    them), as in PyTorch and TensorFlow. ``'max'`` and ``'min'`` propagate NaN: a window
    holding a NaN gives NaN. A dilated window whose taps all fall in the padding gives
    -inf for ``'max'`` (as in PyTorch) and the mean of no values, NaN, for ``'avg'`` with
    ``count_include_pad=False``.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.arange(16).reshape(1, 4, 4, 1)
    >>> pool(images, (2, 2))[..., 0]  # the stride is the window by default
    array([[[ 5,  7],
            [13, 15]]])
    >>> pool(images, (2, 2), (2, 2), mode="avg")[..., 0]
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])

    PyTorch's options, on a 1-D signal of one channel:

    >>> signal = np.array([[[1.0], [5.0], [2.0], [4.0], [3.0]]])
    >>> pool(signal, (2,), 2, padding=1)[0, :, 0]
    array([1., 5., 4.])
    >>> pool(signal, (2,), 2, mode="avg", ceil_mode=True)[0, :, 0]
    array([3., 3., 3.])
    >>> pool(signal, (3,), 1, mode="avg", padding=1, count_include_pad=False)[0, :, 0]
    array([3.        , 2.66666667, 3.66666667, 3.        , 3.5       ])
    """
    problem = check_pool(
        images,
        kernel_shape,
        stride,
        mode,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        data_format=data_format,
    )
    return run_pool(problem, out=out, dtype=dtype)


@dataclass(frozen=True)
class PoolProblem:
    """The checked arguments of one pooling: nothing after `check_pool` checks again.

    Attributes
    ----------
    x : ndarray, shape (m, s1..sd, c)
        Channels last (a view of channels-first input).
    geometry : Geometry
        With the overhang of `ceil_mode` in its padding.
    mode : str
        One of `POOL_MODES`.
    pads : tuple of (int, int)
        The padding proper, without that overhang: the means count it.
    count_include_pad : bool
    channels_first : bool
    """

    x: Array
    geometry: Geometry
    mode: str
    pads: tuple[tuple[int, int], ...]
    count_include_pad: bool
    channels_first: bool

    @property
    def result_shape(self) -> tuple[int, ...]:
        """The shape of the result, in the caller's data format."""
        m, out, c = self.x.shape[0], self.geometry.out_shape, self.x.shape[-1]
        return (m, c, *out) if self.channels_first else (m, *out, c)


def check_pool(
    images: ArrayLike,
    kernel_shape: object,
    stride: object = None,
    mode: object = "max",
    *,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: object = False,
    count_include_pad: object = True,
    data_format: object = "channels_last",
    batch_name: str = "images",
) -> PoolProblem:
    """Check the arguments of `pool` once; every front end of pooling goes through here,
    then hands the `PoolProblem` to `run_pool`. Raises as `pool` documents, naming the
    batch `batch_name`."""
    images = as_batch(images, batch_name)
    d = _spatial_axes(kernel_shape)
    first = channels_first(data_format, d)
    if images.ndim != d + 2:
        msg = (
            f"{batch_name} must be a {d + 2}-D array of shape {batch_layout(d, first)}, "
            f"got shape {images.shape}"
        )
        if d != 2:
            msg += f" (kernel_shape {kernel_shape!r} has {count(d, 'spatial axis')})"
        raise ValueError(msg)
    window = int_tuple(kernel_shape, "kernel_shape", d, minimum=1)
    steps = window if stride is None else int_tuple(stride, "stride", d, minimum=1)
    dilations = int_tuple(dilation, "dilation", d, minimum=1)
    how = word(mode, "mode", POOL_MODES)
    if how in ("max", "min") and images.dtype.kind == "c":
        msg = (
            f"mode={mode!r} needs real {batch_name} (complex numbers have no order), "
            f"got {images.dtype}"
        )
        raise TypeError(msg)
    ceil = check_bool(ceil_mode, "ceil_mode")
    include_pad = check_bool(count_include_pad, "count_include_pad")
    spec = padding_spec(padding, d, words=POOL_PAD_WORDS, pairs=True)
    if not isinstance(spec, str):
        _check_half_window(spec, window)
    x = np.moveaxis(images, 1, -1) if first else images  # a view
    in_shape = x.shape[1:-1]
    # 'same' has ceil(n / s) windows already: ceil_mode changes nothing there.
    if ceil and spec != "same":
        # `pads`, the padding proper, for the means: the overhang that ceil_mode adds holds
        # no values and counts none.
        pads = _amounts(spec, in_shape, window, steps, dilations)
        geometry = make_geometry(
            in_shape,
            window,
            steps,
            ceil_mode_pads(in_shape, window, steps, dilations, pads),
            dilation=dilations,
            kernel_name="kernel_shape",
            input_name=batch_name,
        )
    else:
        geometry = make_geometry(
            in_shape,
            window,
            steps,
            spec,
            dilation=dilations,
            kernel_name="kernel_shape",
            input_name=batch_name,
        )
        pads = geometry.pad
    return PoolProblem(x, geometry, how, pads, include_pad, first)


def run_pool(problem: PoolProblem, *, out: object = None, dtype: object = None) -> Array:
    """The pooling of checked arguments, in `dtype` or into `out` if given; the result is
    allocated (or `out` checked) before any pass over the values."""
    p, x = problem, problem.x
    natural = _natural(p.mode, x)
    wanted = requested_dtype(dtype)
    if wanted is not None:
        wanted = check_cast(natural, wanted, f"the {p.mode} pooling")
    target = natural if wanted is None else wanted
    if is_dask(x):
        refuse_out(out)
        # Exact integer sums are declared int64, and every block is held to it.
        hold = wanted is not None or (p.mode == "sum" and target.kind in "iu")
        # Spatial chunks: padding that is never selected, and means that divide block sums
        # by the counts of the whole problem (in the result dtype: no pass over values).
        counts = None
        if p.mode == "avg":
            counts = _window_counts(p.geometry, p.pads, p.count_include_pad, Plan(target, target))
        lazy: Array = run_lazily(
            p,
            run_pool,
            target,
            hold,
            fill=_never_selected(p.mode, x) if p.mode in ("max", "min") else 0,
            divisor=counts,
        )
        return lazy
    shape = (x.shape[0], *p.geometry.out_shape, x.shape[-1])

    def context() -> str:
        return f"for images of shape {problem_input_shape(p)}"

    given = None if out is None else check_out(out, p.result_shape, target, {"images": x})
    direct = given is not None and given.dtype == target and not p.channels_first
    direct = direct and given is not None and given.flags.c_contiguous
    result = given if direct else allocate(shape, target, context, p.result_shape)
    assert result is not None
    count = math.prod(p.geometry.kernel)
    fixed, name = fixed_dtype(wanted, given)
    force = forced_strategy("integers")
    if p.mode in ("max", "min"):
        plan = extreme_plan(x, fixed, name)
        fill = _never_selected(p.mode, x)
    elif p.mode == "sum":
        plan, fill = sum_plan(x, count, force, fixed, name), 0
    else:
        plan, fill = mean_plan(x, count, force, wanted), 0
    if plan.result is None:  # exact beyond what int64 may hold: Python ints
        result = allocate(shape, np.dtype(object), context, p.result_shape)
    divisor = None
    if p.mode == "avg":
        divisor = _window_counts(p.geometry, p.pads, p.count_include_pad, plan)
    result = reduce_windows(x, p.geometry, UFUNCS[p.mode], plan, result, fill=fill, divisor=divisor)
    return finish(result, given, p.channels_first, wanted)


def problem_input_shape(p: PoolProblem) -> tuple[int, ...]:
    """The shape of the images as the caller gave them."""
    return np.moveaxis(p.x, -1, 1).shape if p.channels_first else p.x.shape


def _natural(mode: str, x: Array) -> np.dtype[np.generic]:
    """The result dtype of `mode` when none is asked for (no pass over the values)."""
    if mode in ("max", "min"):
        return x.dtype.newbyteorder("=")
    if mode == "sum":
        return natural_dtype((x,))
    return np.dtype(np.float64) if x.dtype.kind in "biu" else x.dtype.newbyteorder("=")


def _spatial_axes(kernel_shape: object) -> int:
    """The number `d` of spatial axes: ``len(kernel_shape)``, or 2 for one int (the classic
    square window). The values themselves are checked by `int_tuple`."""
    items = None if as_index(kernel_shape) is not None else items_of(kernel_shape)
    if items is not None:
        d = len(items)
        if d == 0:
            msg = (
                "kernel_shape must be an int or a sequence of at least 1 positive int, "
                f"got {kernel_shape!r}"
            )
            raise ValueError(msg)
        return d
    return 2


def _check_half_window(pads: tuple[tuple[int, int], ...], window: tuple[int, ...]) -> None:
    """PyTorch's limit on explicit padding: at most half the window on each side, so that
    every window (without dilation) holds at least one value of the input."""
    for axis, ((before, after), k) in enumerate(zip(pads, window, strict=True)):
        if max(before, after) > k // 2:
            msg = (
                f"padding {(before, after)} of spatial axis {axis} must be at most half the "
                f"window on each side, kernel_shape[{axis}] // 2 = {k} // 2 = {k // 2}"
            )
            raise ValueError(msg)


def _amounts(
    spec: str | tuple[tuple[int, int], ...],
    in_shape: tuple[int, ...],
    window: tuple[int, ...],
    steps: tuple[int, ...],
    dilations: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """(before, after) per axis for a `padding_spec` result: pairs as they are, words by the
    rules of `make_geometry`."""
    if not isinstance(spec, str):
        return spec
    if spec == "valid":
        return ((0, 0),) * len(window)
    geometry = make_geometry(
        in_shape, window, steps, spec, dilation=dilations, kernel_name="kernel_shape"
    )
    return geometry.pad


def _never_selected(mode: str, x: Array) -> object:
    """The padding value of max (min) pooling: the lowest (highest) value of the dtype."""
    if x.dtype.kind == "b":
        return mode == "min"
    if x.dtype.kind == "f":
        return -np.inf if mode == "max" else np.inf
    info = np.iinfo(x.dtype)
    return info.min if mode == "max" else info.max


def _window_counts(
    geometry: Geometry, pads: tuple[tuple[int, int], ...], include_pad: bool, plan: Plan
) -> ArrayLike:
    """The divisor of each window's mean: how many of its taps fall inside the input, and
    inside `pads` too with `include_pad` (never in the overhang of `ceil_mode`). One scalar
    when every window counts the same, else an array ``(1, o1..od, 1)``; in the compute dtype,
    or Python ints (NaN for none) for exact Python-int sums."""
    per_axis = []
    for n, k, s, dil, (before, after), out in zip(
        geometry.in_shape,
        geometry.kernel,
        geometry.stride,
        geometry.dilation,
        pads,
        geometry.out_shape,
        strict=True,
    ):
        low, high = (-before, n + after) if include_pad else (0, n)
        taps = np.arange(out)[:, None] * s - before + np.arange(k)[None, :] * dil
        per_axis.append(((taps >= low) & (taps < high)).sum(axis=1))
    if any(counts.size == 0 for counts in per_axis):
        return 1  # no windows
    counts = per_axis[0]
    for more in per_axis[1:]:
        counts = np.multiply.outer(counts, more)
    divisor: Array = counts.astype(object if plan.compute.kind == "O" else plan.compute)
    if plan.compute.kind == "O":
        # Python ints divide exactly (int / int is correctly rounded) but raise on 0 / 0:
        # the mean of no values is NaN, as float64's 0 / 0 gives.
        divisor[counts == 0] = math.nan
    if (counts == counts.flat[0]).all():
        scalar: ArrayLike = divisor.flat[0]  # one scalar: a cheaper division
        return scalar
    return divisor[None, ..., None]
