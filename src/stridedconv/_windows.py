"""The core primitive: a read-only, zero-copy view of every window of a batch."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._geometry import extent
from ._module import set_module
from ._typing import Array, ArrayLike
from ._validation import as_array, as_index, count, int_tuple, items_of


def window_view(
    x: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out_shape: tuple[int, ...] | None = None,
) -> Array:
    """`windows` without argument checks, for callers that have checked them already.

    `out_shape` overrides the number of window positions per axis; the caller guarantees
    that every window it asks for lies inside the memory of `x` (the engine reads windows
    that run on into the next row of a buffer it made for that purpose).
    """
    d = len(kernel)
    steps = x.strides[1 : 1 + d]
    out = out_shape or tuple(
        (n - extent(k, dil)) // s + 1
        for n, k, s, dil in zip(x.shape[1 : 1 + d], kernel, stride, dilation, strict=True)
    )
    shape = (x.shape[0], *out, *kernel, *x.shape[1 + d :])
    # Strides come from x.strides, so any layout works: negative, Fortran, sliced.
    strides = (
        x.strides[0],
        # Along an axis of one window the stride is never taken: a huge one must not
        # overflow the byte strides.
        *(step * s if o > 1 else step for step, s, o in zip(steps, stride, out, strict=True)),
        *(step * dil for step, dil in zip(steps, dilation, strict=True)),
        *x.strides[1 + d :],
    )
    if x.flags.c_contiguous and x.flags.writeable and x.dtype.kind != "O":
        # The engine's own buffers: constructing the view directly skips as_strided's
        # generality, which costs more than the arithmetic on a single small image.
        view = np.ndarray(shape, x.dtype, buffer=x, strides=strides)
        view.flags.writeable = False
        return view
    return as_strided(x, shape=shape, strides=strides, writeable=False)


def at_tap(win: Array, tap: tuple[int, ...]) -> Array:
    """``win[..., *tap, :]``: every window's value at one kernel tap, the last axis kept."""
    index: tuple[Any, ...] = (Ellipsis, *tap, slice(None))
    view: Array = win[index]
    return view


@set_module("stridedconv")
def windows(
    x: ArrayLike,
    window_shape: int | tuple[int, ...],
    stride: int | tuple[int, ...] = 1,
    *,
    dilation: int | tuple[int, ...] = 1,
) -> Array:
    """Every window of a batch, as a read-only view that copies nothing.

    Parameters
    ----------
    x : array_like, shape (m, s1, ..., sd, rest...)
        A batch of `m` samples with `d` spatial axes after the batch axis and any trailing
        axes (channels) that the windows keep whole.
    window_shape : int or tuple of d ints, (k1, ..., kd)
        Taps of the window along each spatial axis; an int is one spatial axis.
    stride : int or tuple of d ints, default 1
        Step between neighbouring windows along each spatial axis.
    dilation : int or tuple of d ints, default 1
        Step between neighbouring taps of one window (1: adjacent samples).

    Returns
    -------
    ndarray, shape (m, o1, ..., od, k1, ..., kd, rest...)
        ``view[n, i1, .., id, j1, .., jd] == x[n, i1*stride1 + j1*dilation1, ...]`` with
        ``o_i = (s_i - (k_i - 1) * dilation_i - 1) // stride_i + 1``. The view is read-only
        and shares memory with `x`.

    Raises
    ------
    ValueError
        If `x` has fewer than ``d + 1`` axes, or a window does not fit in `x`.
    TypeError
        If `window_shape`, `stride` or `dilation` are not ints.

    See Also
    --------
    numpy.lib.stride_tricks.sliding_window_view : Windows over every axis, stride 1.

    Notes
    -----
    The view costs no memory, but anything that copies it (``np.ascontiguousarray``, a
    ``reshape`` that merges window axes, ``np.tensordot``) allocates
    ``k1 * ... * kd / (stride1 * ... * stride_d)`` times the input: about 9x the input for a
    3x3 window at stride 1. Keep such copies to a slice of the batch.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(16).reshape(1, 4, 4)
    >>> view = windows(x, (2, 2), stride=2)
    >>> view.shape
    (1, 2, 2, 2, 2)
    >>> view[0, 1, 0]
    array([[ 8,  9],
           [12, 13]])
    >>> view.flags.writeable
    False
    """
    x = as_array(x, "x")
    single = as_index(window_shape)
    shape = [single] if single is not None else items_of(window_shape)
    if not shape:
        msg = f"window_shape must be an int or a non-empty tuple of ints, got {window_shape!r}"
        raise TypeError(msg)
    d = len(shape)
    kernel = int_tuple(shape, "window_shape", d, minimum=1)
    steps = int_tuple(stride, "stride", d, minimum=1)
    dilations = int_tuple(dilation, "dilation", d, minimum=1)
    if x.ndim < d + 1:
        msg = (
            f"x must have a batch axis and {count(d, 'spatial axis')} for a {d}-D window_shape, "
            f"got shape {x.shape}"
        )
        raise ValueError(msg)
    spans = tuple(extent(k, dil) for k, dil in zip(kernel, dilations, strict=True))
    if any(span > n for span, n in zip(spans, x.shape[1 : 1 + d], strict=True)):
        msg = (
            f"window_shape {kernel} (spanning {spans} with dilation {dilations}) does not fit "
            f"in the spatial shape {x.shape[1 : 1 + d]} of x"
        )
        raise ValueError(msg)
    return window_view(x, kernel, steps, dilations)
