"""Evaluation: the batch in chunks, each padded on its own, windowed, contracted or reduced.

Every strategy evaluates the same `window_view` of a chunk; they differ only in how NumPy
walks it. Tests force each one with `forced` and compare it with the naive reference.

Convolution strategies (x windows ``(b, o1..od, k1..kd, c)``, kernels ``(k1..kd, c, nc)``):

- ``"einsum"``: one ``np.einsum`` over the whole window view; no copy.
- ``"taps"``: one ``matmul`` per kernel tap, accumulated; no copy, loops over taps only.
- ``"im2col"``: the chunk's windows copied into a ``(b*o1*..*od, k1*..*kd*c)`` matrix and
  multiplied with the kernels in one BLAS ``matmul``.

Pooling strategies (windows ``(b, o1..od, k1..kd, c)``):

- ``"reduce"``: one ufunc reduction over the window axes.
- ``"taps"``: the first tap copied, then the ufunc applied tap by tap with ``out=``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from ._dtypes import Plan, finish_object
from ._geometry import Geometry
from ._typing import Array
from ._windows import window_view

CONV_STRATEGIES = ("einsum", "taps", "im2col")
POOL_STRATEGIES = ("reduce", "taps")
#: Bytes of per-chunk work (a padded chunk, or its im2col matrix) to aim for; a chunk is at
#: least one image.
CHUNK_BYTES = 8 * 2**20

_forced: ContextVar[dict[str, str]] = ContextVar("stridedconv_forced", default={})  # noqa: B039


@contextmanager
def forced(**strategies: str) -> Iterator[None]:
    """Use the named strategies inside a ``with`` block, for tests and benchmarks.

    Keys are ``conv`` (one of `CONV_STRATEGIES`), ``pool`` (one of `POOL_STRATEGIES`) and
    ``integers`` (one of `stridedconv._dtypes.INTEGER_PATHS`; it can only widen the path).
    """
    known = {"conv": CONV_STRATEGIES, "pool": POOL_STRATEGIES, "integers": None}
    for key, value in strategies.items():
        choices = known.get(key, ())
        if key not in known or (choices is not None and value not in choices):
            msg = f"unknown strategy {key}={value!r}; known: {known}"
            raise ValueError(msg)
    token = _forced.set({**_forced.get(), **strategies})
    try:
        yield
    finally:
        _forced.reset(token)


def forced_strategy(key: str) -> str | None:
    """The strategy forced for `key` in the current context, if any."""
    return _forced.get().get(key)


def _chunks(m: int, bytes_per_image: int) -> Iterator[slice]:
    step = max(1, CHUNK_BYTES // max(bytes_per_image, 1))
    for start in range(0, m, step):
        yield slice(start, min(start + step, m))


def _padded(x: Array, geometry: Geometry, dtype: np.dtype[np.generic]) -> Array:
    """`x` (a chunk) zero-padded as `geometry` says, in `dtype`; `x` itself if nothing to do."""
    if not geometry.is_padded and x.dtype == dtype:
        return x
    out = np.zeros((x.shape[0], *geometry.padded_shape, *x.shape[1 + len(geometry.pad) :]), dtype)
    interior = tuple(
        slice(b, b + n) for (b, _), n in zip(geometry.pad, geometry.in_shape, strict=True)
    )
    out[(slice(None), *interior)] = x
    return out


def _einsum(win: Array, kernels: Array) -> Array:
    d = kernels.ndim - 2
    outs, taps = list(range(1, d + 1)), list(range(d + 1, 2 * d + 1))
    channel, feature = 2 * d + 1, 2 * d + 2
    # (b, o.., k.., c) * (k.., c, nc) -> (b, o.., nc)
    return np.einsum(  # type: ignore[no-any-return]
        win, [0, *outs, *taps, channel], kernels, [*taps, channel, feature], [0, *outs, feature]
    )


def _taps(win: Array, kernels: Array) -> Array:
    d = kernels.ndim - 2
    total: Array | None = None
    for tap in np.ndindex(*kernels.shape[:d]):
        # (b, o.., c) @ (c, nc) -> (b, o.., nc)
        term = np.matmul(win[(Ellipsis, *tap, slice(None))], kernels[tap])
        if total is None:
            total = term
        else:
            total += term
    assert total is not None  # a kernel has at least one tap
    return total


def _im2col(win: Array, kernels: Array) -> Array:
    d = kernels.ndim - 2
    positions = win.shape[: 1 + d]
    # (b*o.., k..*c) @ (k..*c, nc) -> (b, o.., nc); the reshape copies the windows.
    cols = win.reshape(math.prod(positions), -1)
    product: Array = np.matmul(cols, kernels.reshape(cols.shape[1], -1))
    return product.reshape(*positions, -1)


_CONTRACTIONS: dict[str, Callable[[Array, Array], Array]] = {
    "einsum": _einsum,
    "taps": _taps,
    "im2col": _im2col,
}


def _conv_strategy(kernels: Array) -> str:
    forced_name = forced_strategy("conv")
    if forced_name is not None:
        return forced_name
    # Python-int arithmetic gains nothing from BLAS; tap sums keep it simple.
    if kernels.dtype == object:
        return "taps"
    return "im2col" if kernels.shape[-2] * kernels.shape[-1] > 1 else "taps"


def correlate(x: Array, kernels: Array, geometry: Geometry, plan: Plan) -> Array:
    """Cross-correlate a batch with a bank of kernels.

    Parameters
    ----------
    x : ndarray, shape (m, s1..sd, c)
    kernels : ndarray, shape (k1..kd, c, nc)
    geometry : Geometry
        Padding, stride and output size of the `d` spatial axes.
    plan : Plan
        Compute and result dtypes.

    Returns
    -------
    ndarray, shape (m, o1..od, nc)
        A new array; never a view of `x` or `kernels`.
    """
    m, c, nc = x.shape[0], kernels.shape[-2], kernels.shape[-1]
    result = plan.result if plan.result is not None else np.dtype(object)
    out = np.empty((m, *geometry.out_shape, nc), result)
    if out.size == 0:
        return out if plan.result is not None else out.astype(np.int64)
    weights = kernels.astype(plan.compute)
    strategy = _conv_strategy(weights)
    contract = _CONTRACTIONS[strategy]
    padded_bytes = math.prod(geometry.padded_shape) * c * plan.compute.itemsize
    if strategy == "im2col":
        padded_bytes += math.prod(geometry.out_shape) * weights[..., 0].size * plan.compute.itemsize
    for chunk in _chunks(m, padded_bytes):
        padded = _padded(x[chunk], geometry, plan.compute)
        win = window_view(padded, geometry.kernel, geometry.stride, geometry.dilation)
        out[chunk] = contract(win, weights)
    return out if plan.result is not None else finish_object(out)


def _pool_strategy() -> str:
    return forced_strategy("pool") or "taps"


def reduce_windows(x: Array, geometry: Geometry, mode: str, plan: Plan) -> Array:
    """Reduce every window of a batch: its maximum (``"max"``) or its mean (``"avg"``).

    Parameters
    ----------
    x : ndarray, shape (m, s1..sd, c)
    geometry : Geometry
        Window, stride and output size of the `d` spatial axes (no padding).
    mode : {"max", "avg"}
    plan : Plan
        Compute and result dtypes.

    Returns
    -------
    ndarray, shape (m, o1..od, c)
        A new array; never a view of `x`.
    """
    m, d = x.shape[0], len(geometry.kernel)
    assert plan.result is not None
    out = np.empty((m, *geometry.out_shape, *x.shape[1 + d :]), plan.result)
    if out.size == 0:
        return out
    ufunc = np.maximum if mode == "max" else np.add
    strategy = _pool_strategy()
    window_axes = tuple(range(1 + d, 1 + 2 * d))
    for chunk in _chunks(m, x.size // m * plan.compute.itemsize):
        win = window_view(x[chunk], geometry.kernel, geometry.stride, geometry.dilation)
        if strategy == "reduce":
            total = ufunc.reduce(win, axis=window_axes, dtype=plan.compute)
        else:
            taps = np.ndindex(*geometry.kernel)
            total = win[(Ellipsis, *next(taps), slice(None))].astype(plan.compute)
            for tap in taps:
                ufunc(total, win[(Ellipsis, *tap, slice(None))], out=total)
        if mode == "avg":
            total = np.true_divide(total, math.prod(geometry.kernel))
        out[chunk] = total
    return out
