"""Pooling: a reduction over the window axes of `windows`."""

from __future__ import annotations

import math

from ._dtypes import Plan, mean_plan
from ._engine import forced_strategy, reduce_windows
from ._geometry import make_geometry
from ._typing import Array, ArrayLike, IntOrPair, PoolMode
from ._validation import as_numeric_array, check_ndim, int_tuple

POOL_MODES = ("max", "avg")


def pool(
    images: ArrayLike, kernel_shape: IntOrPair, stride: IntOrPair, mode: PoolMode = "max"
) -> Array:
    """Max or average pooling of a batch of images with channels, without padding.

    Parameters
    ----------
    images : array_like, shape (m, h, w, c)
    kernel_shape : int or (kh, kw)
        Window size, at most `h` by `w`.
    stride : int or (sh, sw)
        Step between neighbouring windows.
    mode : {'max', 'avg'}, default 'max'
        The maximum or the mean of each window, per channel.

    Returns
    -------
    ndarray, shape (m, (h - kh) // sh + 1, (w - kw) // sw + 1, c)
        A new, writeable array. ``'max'`` keeps the dtype of `images`; ``'avg'`` keeps
        float dtypes (float16 is accumulated in float32) and gives float64 for integers and
        bools, the exact mean correctly rounded.

    Raises
    ------
    TypeError
        For non-numeric arrays, None, a window or stride not made of ints, and ``'max'`` of
        complex numbers (they have no order).
    ValueError
        For images that are not 4-D, a window larger than the images, a window or stride
        below 1, and an unknown `mode`.

    Notes
    -----
    Windows that would run past the bottom or right edge are dropped, as in PyTorch and
    TensorFlow's 'valid' pooling. ``'max'`` propagates NaN: a window holding a NaN gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.arange(16).reshape(1, 4, 4, 1)
    >>> pool(images, (2, 2), (2, 2))[..., 0]
    array([[[ 5,  7],
            [13, 15]]])
    >>> pool(images, (2, 2), (2, 2), mode="avg")[..., 0]
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    """
    images = as_numeric_array(images, "images")
    check_ndim(images, "images", "(m, h, w, c)")
    window = int_tuple(kernel_shape, "kernel_shape", 2, minimum=1)
    steps = int_tuple(stride, "stride", 2, minimum=1)
    if not isinstance(mode, str) or mode not in POOL_MODES:
        msg = f"mode must be one of {POOL_MODES}, got {mode!r}"
        raise ValueError(msg)
    if mode == "max" and images.dtype.kind == "c":
        msg = f"mode='max' needs real images (complex numbers have no order), got {images.dtype}"
        raise TypeError(msg)
    geometry = make_geometry(images.shape[1:3], window, steps, "valid", kernel_name="kernel_shape")
    if mode == "max":
        plan = Plan(images.dtype, images.dtype)
    else:
        plan = mean_plan(images, math.prod(window), forced_strategy("integers"))
    return reduce_windows(images, geometry, mode, plan)
