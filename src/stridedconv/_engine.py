"""Evaluation: the batch in chunks sized to a memory budget, a strategy chosen by shape.

Each chunk is padded on its own (never the whole batch), evaluated by one strategy of
`_contractions` (convolution) or `_reductions` (pooling), and written into its slice of the
preallocated result. Tests and benchmarks force a strategy with `forced`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from ._contractions import CONTRACTIONS
from ._dtypes import INTEGER_PATHS, Plan, finish_object
from ._geometry import Geometry
from ._reductions import REDUCTIONS
from ._staging import Staging
from ._typing import Array

CONV_STRATEGIES = tuple(CONTRACTIONS)
POOL_STRATEGIES = tuple(REDUCTIONS)
#: Working-set bytes per chunk: about what stays in a core's L2 cache. A chunk holds at
#: least one image, so peak memory beyond the result is a few chunks, whatever the batch.
CHUNK_BYTES = 2**20
#: Up to this many input channels, contracting channels first ("planes") beats BLAS calls
#: whose inner dimension is the channel count.
FEW_CHANNELS = 4

_KNOWN = {"conv": CONV_STRATEGIES, "pool": POOL_STRATEGIES, "integers": INTEGER_PATHS}
_forced: ContextVar[dict[str, str] | None] = ContextVar("stridedconv_forced", default=None)


@contextmanager
def forced(**strategies: str) -> Iterator[None]:
    """Use the named strategies inside a ``with`` block, for tests and benchmarks.

    Keys: ``conv`` (one of `CONV_STRATEGIES`), ``pool`` (one of `POOL_STRATEGIES`) and
    ``integers`` (one of `INTEGER_PATHS`; it can only widen the exact path the bound allows).
    """
    for key, value in strategies.items():
        if value not in _KNOWN.get(key, ()):
            msg = f"unknown strategy {key}={value!r}; known: {_KNOWN}"
            raise ValueError(msg)
    token = _forced.set({**(_forced.get() or {}), **strategies})
    try:
        yield
    finally:
        _forced.reset(token)


def forced_strategy(key: str) -> str | None:
    """The strategy forced for `key` in the current context, if any."""
    return (_forced.get() or {}).get(key)


def _chunks(m: int, bytes_per_image: int) -> Iterator[slice]:
    step = max(1, CHUNK_BYTES // max(bytes_per_image, 1))
    for start in range(0, m, step):
        yield slice(start, min(start + step, m))


def conv_strategy(channels: int, features: int, dtype: np.dtype[np.generic]) -> str:
    """The convolution strategy for `channels` in, `features` out, computed in `dtype`."""
    chosen = forced_strategy("conv")
    if chosen is not None:
        return chosen
    if dtype.kind == "O" or channels == 1:
        return "taps"  # no BLAS for Python ints; for one channel, scaled copies
    return "planes" if channels <= FEW_CHANNELS else "taps"


def _conv_chunk_bytes(strategy: str, staging: Staging, kernels: Array, itemsize: int) -> int:
    """Bytes of the working set of one image under `strategy`."""
    c, nc = kernels.shape[-2:]
    pixels = math.prod(staging.sizes)
    taps = math.prod(kernels.shape[:-2])
    outputs = math.prod(staging.geometry.out_shape)
    per_pixel = {
        "taps": c + 2 * nc,
        "planes": c + taps * nc + nc,
        "im2col": c + (taps * c + nc) * outputs / max(pixels, 1),
        "einsum": c + nc,
    }[strategy]
    return int(pixels * per_pixel * itemsize)


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
    m, (c, nc) = x.shape[0], kernels.shape[-2:]
    result = plan.result if plan.result is not None else np.dtype(object)
    out = np.empty((m, *geometry.out_shape, nc), result)
    if out.size == 0:
        return out if plan.result is not None else out.astype(np.int64)
    weights = kernels.astype(plan.compute)
    strategy = conv_strategy(c, nc, plan.compute)
    contract = CONTRACTIONS[strategy]
    staging = Staging.of(geometry)
    per_image = _conv_chunk_bytes(strategy, staging, kernels, plan.compute.itemsize)
    # IEEE semantics without warnings: the windows that straddle two images (computed, then
    # dropped) must not warn about values the caller never sees.
    with np.errstate(all="ignore"):
        for chunk in _chunks(m, per_image):
            out[chunk] = contract(x[chunk], staging, weights)
    return out if plan.result is not None else finish_object(out)


def pool_strategy(geometry: Geometry) -> str:
    """The pooling strategy for `geometry`."""
    chosen = forced_strategy("pool")
    if chosen is not None:
        return chosen
    return "separable"


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
    reduction = REDUCTIONS[pool_strategy(geometry)]
    count = math.prod(geometry.kernel)
    with np.errstate(all="ignore"):
        for chunk in _chunks(m, x[0].size * plan.compute.itemsize * 2):
            total = reduction(x[chunk], geometry, ufunc, plan.compute)
            if mode == "avg":
                total = np.true_divide(total, count, out=None if total.dtype == object else total)
            out[chunk] = total
    return out
