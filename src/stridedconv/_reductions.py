"""Pooling strategies: ways to reduce the window axes of one chunk's window view.

Each takes a chunk ``(b, n1..nd, c)``, its `Geometry`, a binary ufunc (``np.maximum`` or
``np.add``), the array ``total`` of shape ``(b, o1..od, c)`` to fill, in the dtype to
accumulate in, and a `Scratch` for intermediate arrays.

- ``reduce``: one ``ufunc.reduce`` over all window axes of the view.
- ``taps``: the view at the first tap copied, then the ufunc applied tap by tap with ``out=``.
- ``separable``: one axis at a time, tap by tap along it (``k1 + .. + kd`` ufunc calls instead
  of ``k1 * .. * kd``). Exact for max and for integer sums; for float sums it only changes the
  order of the additions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ._geometry import Geometry
from ._typing import Array
from ._windows import at_tap, window_view

#: ``scratch(name, shape, dtype)``: an uninitialised array, reused from chunk to chunk.
Scratch = Callable[[str, tuple[int, ...], np.dtype[np.generic]], Array]
Reduction = Callable[[Array, Geometry, np.ufunc, Array, Scratch], None]


def reduce(x: Array, geometry: Geometry, ufunc: np.ufunc, total: Array, scratch: Scratch) -> None:
    """One reduction over the window axes."""
    d = len(geometry.kernel)
    win = window_view(x, geometry.kernel, geometry.stride, geometry.dilation)
    ufunc.reduce(win, axis=tuple(range(1 + d, 1 + 2 * d)), dtype=total.dtype, out=total)


def taps(x: Array, geometry: Geometry, ufunc: np.ufunc, total: Array, scratch: Scratch) -> None:
    """Tap by tap over all window axes."""
    win = window_view(x, geometry.kernel, geometry.stride, geometry.dilation)
    every_tap = itertools.product(*map(range, geometry.kernel))
    # win[..., tap, :] is (b, o.., c); the window axes of the view cannot merge without a copy.
    np.copyto(total, at_tap(win, next(every_tap)))
    for tap in every_tap:
        ufunc(total, at_tap(win, tap), out=total)


def separable(
    x: Array, geometry: Geometry, ufunc: np.ufunc, total: Array, scratch: Scratch
) -> None:
    """Axis by axis, each a 1-D window reduction."""
    d = len(geometry.kernel)
    ones = (1,) * d
    partial = x
    for axis in range(d):
        # A 1-D window along `axis`: (b, o.., 1.., k, 1.., c) -> (b, o.., k, c) by dropping 1s.
        kernel = (*ones[:axis], geometry.kernel[axis], *ones[axis + 1 :])
        stride = (*ones[:axis], geometry.stride[axis], *ones[axis + 1 :])
        dilation = (*ones[:axis], geometry.dilation[axis], *ones[axis + 1 :])
        win = window_view(partial, kernel, stride, dilation)
        along = win.reshape(*win.shape[: 1 + d], geometry.kernel[axis], win.shape[-1])
        first = along[..., 0, :]
        dest = total if axis == d - 1 else scratch(f"axis{axis}", first.shape, total.dtype)
        np.copyto(dest, first)
        for tap in range(1, geometry.kernel[axis]):
            ufunc(dest, along[..., tap, :], out=dest)
        partial = dest


REDUCTIONS: dict[str, Reduction] = {"reduce": reduce, "taps": taps, "separable": separable}
