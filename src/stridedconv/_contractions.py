"""Convolution strategies: ways to contract the windows of one chunk with the kernels.

Each takes a chunk of images ``(b, n1..nd, c)``, its `Staging`, the kernels
``(k1..kd, c, nc)`` already in the compute dtype, and `out`, the chunk's ``(b, o1..od, nc)``
slice of the result, which it fills (casting to the result dtype). All of them sum every
product, zero weights included, so NaN and inf propagate as IEEE arithmetic says.

- ``einsum``: one ``np.einsum`` over the window view; no copy, NumPy's generic loops.
- ``im2col``: the window view copied into a ``(positions, taps * c)`` matrix, one BLAS
  ``matmul``; the copy is ``taps`` times the chunk.
- ``taps``: for each kernel tap, the merged window view at that tap is one
  ``(positions, c)`` strided matrix: ``matmul`` it with that tap's ``(c, nc)`` weights (a
  scaled copy when ``c == 1``) and accumulate; no copy of the windows.
- ``planes``: the chunk staged channels first; one BLAS ``matmul`` contracts the channels
  and the taps of the last axis (an im2col along that axis only: ``k_last`` contiguous
  copies), then the shifted windows of the result are added over the other axes. For few
  channels, where the other strategies leave BLAS an inner dimension of ``c``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import numpy as np

from ._staging import Staging
from ._typing import Array
from ._windows import at_tap, window_view

Contraction = Callable[[Array, Staging, Array, Array], None]


def einsum(x: Array, staging: Staging, weights: Array, out: Array) -> None:
    """One ``einsum`` over the chunk's window view."""
    d = weights.ndim - 2
    win = staging.image_windows(staging.stage(x, weights.dtype), x.shape[0])
    outs, taps = list(range(1, d + 1)), list(range(d + 1, 2 * d + 1))
    channel, feature = 2 * d + 1, 2 * d + 2
    # (b, o.., k.., c) * (k.., c, nc) -> (b, o.., nc)
    out[...] = np.einsum(
        win, [0, *outs, *taps, channel], weights, [*taps, channel, feature], [0, *outs, feature]
    )


def im2col(x: Array, staging: Staging, weights: Array, out: Array) -> None:
    """Copy the windows into a matrix, then one ``matmul``."""
    win = staging.image_windows(staging.stage(x, weights.dtype), x.shape[0])
    positions = win.shape[: weights.ndim - 1]
    # (b*o.., k..*c) @ (k..*c, nc) -> (b, o.., nc); the reshape copies the windows.
    cols = win.reshape(math.prod(positions), -1)
    product = np.matmul(cols, weights.reshape(cols.shape[1], -1))
    out[...] = product.reshape(*positions, -1)


def _sum_of_products(
    parts: Iterator[Array], weights: Array, total: Array, staging: Staging, *, flat: bool
) -> None:
    """``total = sum(part @ weights[i])`` over the ``(positions.., K)`` views `parts`.

    One BLAS call per part: a single matrix when `flat` (positions with uniform strides),
    a stack of matrices otherwise; a scaled copy when ``K == 1``.
    """
    k, nc = weights.shape[-2:]
    term = staging.scratch("term", total.shape, total.dtype)
    for i, part in enumerate(parts):
        dest = total if i == 0 else term
        if k == 1:
            np.multiply(part, weights[i, 0], out=dest)  # (.., 1) * (nc,)
        elif flat:
            np.matmul(part.reshape(-1, k), weights[i], out=dest.reshape(-1, nc))
        else:
            np.matmul(part, weights[i], out=dest)
        if i:
            np.add(total, term, out=total)


def taps(x: Array, staging: Staging, weights: Array, out: Array) -> None:
    """Accumulate one ``matmul`` (or scaled copy) per kernel tap over the merged windows."""
    d = weights.ndim - 2
    batch, (c, nc) = x.shape[0], weights.shape[-2:]
    win = staging.merged_windows(staging.stage(x, weights.dtype), batch)
    total = staging.scratch("total", (*win.shape[:d], nc), weights.dtype)
    every_tap = itertools.product(*map(range, weights.shape[:d]))
    parts = (at_tap(win, tap) for tap in every_tap)  # (Q, J.., c)
    # With stride 1 the positions have uniform strides: one matrix, one BLAS call per tap.
    flat = all(s == 1 for s in staging.geometry.stride)
    _sum_of_products(parts, weights.reshape(-1, c, nc), total, staging, flat=flat)
    out[...] = staging.crop(total, batch)


def planes(x: Array, staging: Staging, weights: Array, out: Array) -> None:
    """One GEMM over channels and last-axis taps, then add the shifted windows of the rest."""
    g = staging.geometry
    d = weights.ndim - 2
    batch, (c, nc) = x.shape[0], weights.shape[-2:]
    k_last, s_last, dil_last = g.kernel[-1], g.stride[-1], g.dilation[-1]
    n_rest = math.prod(g.kernel[:-1])
    buffer = staging.stage(x, weights.dtype, channels_first=True)  # (c, rows, P2..Pd)
    positions = staging.positions(batch)  # (Q, J2..Jd)
    # Positions along the last axis step uniformly through each flat plane, row after row:
    # n * s_last. All rows but the last slack row (they feed the windows of the other axes).
    lead = (buffer.shape[1] - 1, *buffer.shape[2:-1]) if d > 1 else ()
    n = math.prod(lead) * positions[-1] if d > 1 else positions[0]
    flat = buffer.reshape(c, -1)
    cols = staging.scratch("cols", (k_last, c, n), weights.dtype)
    for tap in range(k_last):  # im2col along the last axis only: k_last copies of the planes
        start = tap * dil_last
        cols[tap] = flat[:, start : start + (n - 1) * s_last + 1 : s_last]
    # (rest taps * nc, last taps * c) @ (last taps * c, n) -> one plane per (rest tap, feature)
    by_row = weights.reshape(n_rest, k_last, c, nc).transpose(0, 3, 1, 2)
    y = staging.scratch("y", (n_rest * nc, n), weights.dtype)
    np.matmul(by_row.reshape(n_rest * nc, k_last * c), cols.reshape(k_last * c, n), out=y)
    if d == 1:
        total = y  # (nc, Q): nothing left to add
    else:
        grid = y.reshape(n_rest * nc, *lead, positions[-1])
        # (n_rest*nc, Q, J2..J{d-1}, k1..k{d-1}, Jd): windows over all axes but the last
        win = window_view(grid, g.kernel[:-1], g.stride[:-1], g.dilation[:-1], positions[:-1])
        total = staging.scratch("total", (nc, *positions), weights.dtype)
        for i, rest_tap in enumerate(itertools.product(*map(range, g.kernel[:-1]))):
            shifted = at_tap(win[i * nc : (i + 1) * nc], rest_tap)  # (nc, Q, J2..Jd)
            if i == 0:
                np.copyto(total, shifted)
            else:
                np.add(total, shifted, out=total)
    # One plane per output channel: copying plane by plane is ~4x faster than one copy of a
    # transposed view, whose inner loop would run over the nc channels.
    for feature, plane in enumerate(staging.crop(total, batch, planes=True)):
        out[..., feature] = plane


CONTRACTIONS: dict[str, Contraction] = {
    "einsum": einsum,
    "im2col": im2col,
    "taps": taps,
    "planes": planes,
}
