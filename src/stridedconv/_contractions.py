"""Convolution strategies: ways to contract the windows of one chunk with the kernels.

Each takes a chunk of images ``(b, n1..nd, c)``, its `Staging` and the kernels
``(k1..kd, c, nc)`` already in the compute dtype, and returns ``(b, o1..od, nc)`` (possibly a
view of a new array, never of the input). All of them sum every product, zero weights
included, so NaN and inf propagate as IEEE arithmetic says.

- ``einsum``: one ``np.einsum`` over the window view; no copy, NumPy's generic loops.
- ``im2col``: the window view copied into a ``(positions, taps * c)`` matrix, one BLAS
  ``matmul``; the copy is ``taps`` times the chunk.
- ``taps``: for each kernel tap, the merged window view at that tap is one
  ``(positions, c)`` strided matrix: ``matmul`` it with that tap's ``(c, nc)`` weights (a
  scaled copy when ``c == 1``) and accumulate; no copy of the windows.
- ``planes``: contract the channels first, ``y = weights @ planes`` for every tap at once,
  then add up the tap-shifted windows of `y`; for few channels, where the other strategies
  leave BLAS with a tiny inner dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._staging import Staging
from ._typing import Array

Contraction = Callable[[Array, Staging, Array], Array]


def einsum(x: Array, staging: Staging, weights: Array) -> Array:
    """One ``einsum`` over the chunk's window view."""
    d = weights.ndim - 2
    win = staging.image_windows(staging.stage(x, weights.dtype), x.shape[0])
    outs, taps = list(range(1, d + 1)), list(range(d + 1, 2 * d + 1))
    channel, feature = 2 * d + 1, 2 * d + 2
    # (b, o.., k.., c) * (k.., c, nc) -> (b, o.., nc)
    result: Array = np.einsum(
        win, [0, *outs, *taps, channel], weights, [*taps, channel, feature], [0, *outs, feature]
    )
    return result


def im2col(x: Array, staging: Staging, weights: Array) -> Array:
    """Copy the windows into a matrix, then one ``matmul``."""
    win = staging.image_windows(staging.stage(x, weights.dtype), x.shape[0])
    positions = win.shape[: weights.ndim - 1]
    # (b*o.., k..*c) @ (k..*c, nc) -> (b, o.., nc); the reshape copies the windows.
    cols = win.reshape(math.prod(positions), -1)
    product: Array = np.matmul(cols, weights.reshape(cols.shape[1], -1))
    return product.reshape(*positions, -1)


def taps(x: Array, staging: Staging, weights: Array) -> Array:
    """Accumulate one ``matmul`` (or scaled copy) per kernel tap over the merged windows."""
    d = weights.ndim - 2
    batch, (c, nc) = x.shape[0], weights.shape[-2:]
    win = staging.merged_windows(staging.stage(x, weights.dtype), batch)
    positions = win.shape[:d]
    total = np.empty((*positions, nc), weights.dtype)
    term = np.empty_like(total)
    # With stride 1 the positions have uniform strides: one matrix, one BLAS call per tap.
    flat = all(s == 1 for s in staging.geometry.stride)
    for i, tap in enumerate(np.ndindex(*weights.shape[:d])):
        x_tap = win[(Ellipsis, *tap, slice(None))]  # (Q, J.., c)
        dest = total if i == 0 else term
        if c == 1:
            np.multiply(x_tap, weights[tap][0], out=dest)  # (Q, J.., 1) * (nc,)
        elif flat:
            np.matmul(x_tap.reshape(-1, c), weights[tap], out=dest.reshape(-1, nc))
        else:
            np.matmul(x_tap, weights[tap], out=dest)
        if i:
            np.add(total, term, out=total)
    return staging.crop(total, batch)


def planes(x: Array, staging: Staging, weights: Array) -> Array:
    """Contract channels first, then add the tap-shifted windows of the result."""
    d = weights.ndim - 2
    batch, (c, nc) = x.shape[0], weights.shape[-2:]
    n_taps = math.prod(weights.shape[:d])
    buffer = staging.stage(x, weights.dtype, channels_first=True)  # (c, rows, P2..)
    # (taps*nc, c) @ (c, pixels) -> y: one plane per (tap, output channel)
    by_tap = np.moveaxis(weights.reshape(n_taps, c, nc), 1, 2).reshape(n_taps * nc, c)
    y = np.matmul(by_tap, buffer.reshape(c, -1)).reshape(n_taps * nc, *buffer.shape[1:])
    win = staging.merged_windows(y, batch, planes=True)  # (taps*nc, Q, J.., k..)
    total: Array | None = None
    for i, tap in enumerate(np.ndindex(*weights.shape[:d])):
        shifted = win[(slice(i * nc, (i + 1) * nc), Ellipsis, *tap)]  # (nc, Q, J..)
        if total is None:
            total = shifted.copy()
        else:
            np.add(total, shifted, out=total)
    assert total is not None  # a kernel has at least one tap
    return staging.crop(total, batch, channels_first=True)


CONTRACTIONS: dict[str, Contraction] = {
    "einsum": einsum,
    "im2col": im2col,
    "taps": taps,
    "planes": planes,
}
