"""Pooling strategies: ways to reduce the window axes of one chunk's window view.

Each takes a chunk ``(b, n1..nd, c)``, its `Geometry`, a binary ufunc (``np.maximum`` or
``np.add``) and the dtype to accumulate in, and returns a new array ``(b, o1..od, c)``.

- ``reduce``: one ``ufunc.reduce`` over all window axes of the view.
- ``taps``: the view at the first tap copied, then the ufunc applied tap by tap with ``out=``.
- ``separable``: one axis at a time, tap by tap along it (``k1 + .. + kd`` ufunc calls instead
  of ``k1 * .. * kd``). Exact for max and for integer sums; for float sums it only changes the
  order of the additions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._geometry import Geometry
from ._typing import Array
from ._windows import window_view

Reduction = Callable[[Array, Geometry, np.ufunc, np.dtype[np.generic]], Array]


def _accumulate(win: Array, taps: int, ufunc: np.ufunc, dtype: np.dtype[np.generic]) -> Array:
    """Fold `ufunc` over the `taps` axis of ``win[..., taps, c]`` into a new array."""
    total = win[..., 0, :].astype(dtype)
    for tap in range(1, taps):
        ufunc(total, win[..., tap, :], out=total)
    return total


def reduce(x: Array, geometry: Geometry, ufunc: np.ufunc, dtype: np.dtype[np.generic]) -> Array:
    """One reduction over the window axes."""
    d = len(geometry.kernel)
    win = window_view(x, geometry.kernel, geometry.stride, geometry.dilation)
    result: Array = ufunc.reduce(win, axis=tuple(range(1 + d, 1 + 2 * d)), dtype=dtype)
    return result


def taps(x: Array, geometry: Geometry, ufunc: np.ufunc, dtype: np.dtype[np.generic]) -> Array:
    """Tap by tap over all window axes."""
    win = window_view(x, geometry.kernel, geometry.stride, geometry.dilation)
    every_tap = np.ndindex(*geometry.kernel)
    # win[..., tap, :] is (b, o.., c); the window axes of the view cannot merge without a copy.
    total = win[(Ellipsis, *next(every_tap), slice(None))].astype(dtype)
    for tap in every_tap:
        ufunc(total, win[(Ellipsis, *tap, slice(None))], out=total)
    return total


def separable(x: Array, geometry: Geometry, ufunc: np.ufunc, dtype: np.dtype[np.generic]) -> Array:
    """Axis by axis, each a 1-D window reduction."""
    d = len(geometry.kernel)
    result = x
    for axis in range(d):
        ones = (1,) * d
        kernel = (*ones[:axis], geometry.kernel[axis], *ones[axis + 1 :])
        stride = (*ones[:axis], geometry.stride[axis], *ones[axis + 1 :])
        dilation = (*ones[:axis], geometry.dilation[axis], *ones[axis + 1 :])
        win = window_view(result, kernel, stride, dilation)  # (b, o.., 1.., k, 1.., c)
        along = win.reshape(*win.shape[: 1 + d], geometry.kernel[axis], win.shape[-1])
        result = _accumulate(along, geometry.kernel[axis], ufunc, dtype)  # a new array
    return result


REDUCTIONS: dict[str, Reduction] = {"reduce": reduce, "taps": taps, "separable": separable}
