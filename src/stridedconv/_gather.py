"""Sparse windows: problems whose windows read a small part of their padded input.

A stride or a dilation much larger than the window, or padding much wider than the input,
leaves most of the padded input unread; staging it whole would cost memory that grows with
the stride (a stride of 10**4 on a 28x28 image would stage 10**8 samples for one window).
Such a problem is rewritten: for each chunk, the samples that the windows read are gathered,
window after window, into a compact array of spatial shape ``(o1 * k1, ..., od * kd)``, whose
windows are its ``k1 x .. x kd`` blocks (stride = window, no dilation, no padding). Every
strategy then runs on it unchanged, and the memory beyond the result is a few chunks of it.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._geometry import Geometry
from ._typing import Array

#: Gather when staging the padded input would take this many times the memory of the
#: gathered windows: at stride 1, or a stride of two or three, the windows overlap and
#: staging (which copies each sample once) is cheaper; past this, most staged samples would
#: never be read.
SPARSE_RATIO = 8


def staged_size(geometry: Geometry) -> int:
    """Samples per channel and image of the staged, padded input (rounded up to the stride)."""
    return math.prod(
        -(-n // s) * s for n, s in zip(geometry.padded_shape, geometry.stride, strict=True)
    )


@functools.lru_cache(maxsize=256)  # a loop over small batches asks the same again
def is_sparse(geometry: Geometry) -> bool:
    """Whether the windows read so little of the padded input that gathering them wins."""
    gathered = math.prod(o * k for o, k in zip(geometry.out_shape, geometry.kernel, strict=True))
    return staged_size(geometry) > SPARSE_RATIO * max(gathered, 1)


def compact(geometry: Geometry) -> Geometry:
    """The geometry of the gathered windows: blocks of the window's shape, side by side."""
    d = len(geometry.kernel)
    shape = tuple(o * k for o, k in zip(geometry.out_shape, geometry.kernel, strict=True))
    return Geometry(
        shape, geometry.kernel, geometry.kernel, (1,) * d, ((0, 0),) * d, geometry.out_shape
    )


def source_indices(geometry: Geometry) -> tuple[Array, ...]:
    """Per spatial axis, the input sample that each gathered position reads, window after
    window (``o * k`` positions), or -1 where it reads zero padding."""
    indices = []
    for n, k, s, dil, (before, _), o in zip(
        geometry.in_shape,
        geometry.kernel,
        geometry.stride,
        geometry.dilation,
        geometry.pad,
        geometry.out_shape,
        strict=True,
    ):
        # Python ints: a stride or a padding may be far beyond int64 when few windows fit.
        where = (i * s + j * dil - before for i in range(o) for j in range(k))
        indices.append(np.fromiter((_fold(p, n, geometry.padding_mode) for p in where), np.intp))
    return tuple(indices)


def padded_sources(n: int, before: int, after: int, mode: str) -> Array:
    """For each position of an axis of `n` samples padded by (`before`, `after`) in `mode`
    (reflect, replicate, circular or symmetric), the input sample it copies."""
    return np.fromiter((_fold(p - before, n, mode) for p in range(n + before + after)), np.intp)


def _fold(where: int, n: int, mode: str) -> int:
    """Input position `where` (outside ``[0, n)``: in the padding) mapped to the sample that
    `mode` copies there, -1 for zeros."""
    if 0 <= where < n:
        return where
    if mode in ("zeros", "constant"):
        return -1
    if mode == "replicate":
        return min(max(where, 0), n - 1)
    if mode == "circular":
        return where % n
    if mode == "symmetric":  # period 2n: n samples, then the same backwards (edge repeated)
        folded = where % (2 * n)
        return 2 * n - 1 - folded if folded >= n else folded
    period = 2 * (n - 1)  # reflect: n >= 2 wherever there is padding (make_geometry checks)
    folded = where % period
    return period - folded if folded >= n else folded


def gather(x: Array, indices: tuple[Array, ...], fill: object) -> Array:
    """The windows of a chunk ``(b, n1..nd, c)``, gathered into ``(b, o1*k1, .., od*kd, c)``;
    positions with index -1 hold `fill`."""
    out = x
    for axis, index in enumerate(indices, start=1):
        padding = index < 0
        out = np.take(out, np.where(padding, 0, index), axis=axis)
        if padding.any():
            out[(slice(None),) * axis + (padding,)] = fill
    return out if out is not x else x.copy()
