"""Convolution strategies: ways to contract the windows of one chunk with the kernels.

Each takes a chunk of images ``(b, n1..nd, c)``, its `Staging`, the kernels
``(k1..kd, c // groups, nc)`` already in the compute dtype, `out`, the chunk's
``(b, o1..od, nc)`` slice of the result, which it fills (casting to the result dtype), and
the number of `groups`: output channel ``f`` sees the input channels of group
``f // (nc // groups)`` only. All of them sum every product, zero weights included, so NaN
and inf propagate as IEEE arithmetic says (a group never multiplies another group's
channels, not even by zero).

- ``einsum``: one ``np.einsum`` per image over its window view; no copy, NumPy's generic
  loops. A reference strategy that the chooser never picks.
- ``im2col``: the window view copied into a ``(positions, taps * c)`` matrix, one BLAS
  ``matmul`` per group; the copy is ``taps`` times the chunk.
- ``taps``: for each kernel tap, the merged window view at that tap is one
  ``(positions, c)`` strided matrix: ``matmul`` it with that tap's ``(c, nc)`` weights (a
  stack of one matrix per group; a broadcast product when ``c // groups == 1``, which
  includes depthwise convolution) and accumulate; no copy of the windows.
- ``planes``: the chunk staged channels first; one BLAS ``matmul`` per group contracts the
  channels and the taps of the last axis (an im2col along that axis only: ``k_last``
  contiguous copies), then the shifted windows of the result are added over the other
  axes. For few channels, where the other strategies leave BLAS an inner dimension of ``c``.
- ``columns``: the chunk staged channels first; the windows copied tap by tap into the
  rows of a ``(taps * c, positions)`` matrix (a transposed im2col over the merged windows),
  one ``matmul`` per group gives a plane per output channel. For one input channel and a
  few outputs, where the other strategies leave BLAS an inner dimension of 1 or 5.
- ``separable``: for 2-D kernels that are outer products ``u (x) v`` (see `_separable`)
  and one input channel per output channel: ``kh`` scaled copies down the rows of the
  merged chunk, then ``kw`` along them, instead of ``kh * kw``; other kernels by ``taps``.
- ``stripes``: one input channel per output channel, any kernel: for each tap of the axes
  after the first, one ``einsum`` sums the taps of the first axis over the merged windows
  (reading each sample once per tap, writing once), then the stripes are added.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._separable import rank_one
from ._staging import Staging
from ._typing import Array
from ._windows import at_tap, window_view

Contraction = Callable[[Array, Staging, Array, Array, int], None]
#: Up to this many taps along a row, `separable` adds scaled copies rather than one einsum.
ALONG_TAPS = 8
#: `im2col` copies the windows of this many bytes at a time (per group), so that the copy
#: stays in the L2 cache and within the chunk budget for images of any size: 32x56x56x64 ->
#: 64, 3x3: 37 ms and 17 MiB beyond the result in whole images; see the commit measuring it.
IM2COL_BLOCK_BYTES = 2 * 2**20


def einsum(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """One ``einsum`` per image over its window view: einsum orders its loops (and so its
    sums) by the sizes and strides of the whole view, which follow the chunk; image by
    image they follow the image alone. The chooser never picks this strategy."""
    d = weights.ndim - 2
    cg, nc = weights.shape[-2:]
    win = staging.image_windows(staging.stage(x, weights.dtype), x.shape[0])
    outs, taps = list(range(d)), list(range(d, 2 * d))
    group, channel, feature = 2 * d, 2 * d + 1, 2 * d + 2
    bank = weights.reshape(*weights.shape[:-1], groups, nc // groups)
    for image, dest in zip(win, out, strict=True):  # the reference strategy: see above
        # (o.., k.., g, cg) * (k.., cg, g, ng) -> (o.., g, ng)
        dest.reshape(*dest.shape[:-1], groups, nc // groups)[...] = np.einsum(
            image.reshape(*image.shape[:-1], groups, cg),
            [*outs, *taps, group, channel],
            bank,
            [*taps, channel, group, feature],
            [*outs, group, feature],
        )


def im2col(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """Copy the windows into a matrix per image, block of output rows by block, then one
    ``matmul`` per image, group and block: blocks of an image's rows sized from one image
    (the same GEMMs in any batch), copies of at most about `IM2COL_BLOCK_BYTES` each."""
    d = weights.ndim - 2
    cg, nc = weights.shape[-2:]
    ng = nc // groups
    win = staging.image_windows(staging.stage(x, weights.dtype), x.shape[0])
    batch, rows = win.shape[:2]
    # The bytes of one output row of one image's copied windows, for one group.
    row_bytes = math.prod(win.shape[2 : 1 + d]) * math.prod(win.shape[1 + d : -1]) * cg
    row_bytes *= weights.itemsize
    step = max(1, IM2COL_BLOCK_BYTES // max(row_bytes, 1))
    images = max(1, IM2COL_BLOCK_BYTES // max(min(step, rows) * row_bytes, 1))
    for first, start in itertools.product(range(0, batch, images), range(0, rows, step)):
        block = win[first : first + images, start : start + step]
        positions = block.shape[1 : 1 + d]
        for g in range(groups):
            # (b, o.., k..*cg) @ (k..*cg, ng) -> (b, o.., ng): one GEMM per image; the
            # reshape copies the windows.
            cols = block[..., g * cg : (g + 1) * cg].reshape(len(block), math.prod(positions), -1)
            features = weights[..., g * ng : (g + 1) * ng].reshape(cols.shape[-1], -1)
            product = np.matmul(cols, features)
            out[first : first + images, start : start + step, ..., g * ng : (g + 1) * ng] = (
                product.reshape(len(block), *positions, ng)
            )


def _sum_of_products(
    parts: Iterator[Array],
    weights: Array,
    total: Array,
    staging: Staging,
    *,
    flat: bool,
    groups: int,
    batch: int,
) -> None:
    """``total = sum(part @ weights[i])`` over the ``(positions.., c)`` views `parts` of the
    merged windows of `batch` images, group by group: `weights` is ``(taps, c // groups,
    nc)``.

    One stacked ``matmul`` per part, with one GEMM per image (and group) when `flat`
    (positions with uniform strides: each image's positions form one matrix), else one
    per image's row of positions (per image in 1-D); a broadcast product when
    ``c // groups == 1``.
    """
    cg, nc = weights.shape[-2:]
    ng = nc // groups
    term = staging.scratch("term", total.shape, total.dtype)
    if cg == 1 and ng > 1 and groups > 1:  # (.., g, 1) * (g, ng) -> (.., g, ng)
        parts = (part[..., None] for part in parts)
        weights = weights.reshape(-1, 1, groups, ng)
        total, term = (a.reshape(*a.shape[:-1], groups, ng) for a in (total, term))
    for i, part in enumerate(parts):
        dest = total if i == 0 else term
        if cg == 1:  # (.., c) * (nc,) -> (.., nc), one channel or one output per group
            np.multiply(part, weights[i, 0], out=dest)
        elif groups > 1:  # (b, g, positions, cg) @ (g, cg, ng) -> (b, g, positions, ng)
            np.matmul(
                part.reshape(batch, -1, groups, cg).transpose(0, 2, 1, 3),
                weights[i].reshape(cg, groups, ng).transpose(1, 0, 2),
                out=dest.reshape(batch, -1, groups, ng).transpose(0, 2, 1, 3),
            )
        elif flat:  # (b, positions, c) @ (c, nc): one GEMM per image
            np.matmul(part.reshape(batch, -1, cg), weights[i], out=dest.reshape(batch, -1, nc))
        else:  # (b, positions of a row.., c) @ (c, nc): one GEMM per image row (or image)
            rows = (batch, -1, *part.shape[1:])
            np.matmul(part.reshape(rows), weights[i], out=dest.reshape(batch, -1, *dest.shape[1:]))
        if i:
            np.add(total, term, out=total)


def taps(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """Accumulate one ``matmul`` (or broadcast product) per kernel tap over the merged
    windows."""
    d = weights.ndim - 2
    batch, (cg, nc) = x.shape[0], weights.shape[-2:]
    win = staging.merged_windows(staging.stage(x, weights.dtype), batch)
    total = staging.scratch("total", (*win.shape[:d], nc), weights.dtype)
    every_tap = itertools.product(*map(range, weights.shape[:d]))
    parts = (at_tap(win, tap) for tap in every_tap)  # (Q, J.., c)
    # With stride 1 the positions have uniform strides: one matrix, one BLAS call per tap.
    flat = all(s == 1 for s in staging.geometry.stride)
    _sum_of_products(
        parts, weights.reshape(-1, cg, nc), total, staging, flat=flat, groups=groups, batch=batch
    )
    out[...] = staging.crop(total, batch)


def planes(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """Per group, one GEMM over channels and last-axis taps, then add the shifted windows
    of the rest."""
    geometry = staging.geometry
    d = weights.ndim - 2
    batch, (cg, nc) = x.shape[0], weights.shape[-2:]
    ng = nc // groups
    k_last, s_last, dil_last = geometry.kernel[-1], geometry.stride[-1], geometry.dilation[-1]
    n_rest = math.prod(geometry.kernel[:-1])
    buffer = staging.stage(x, weights.dtype, channels_first=True)  # (c, rows, P2..Pd)
    positions = staging.positions(batch)  # (Q, J2..Jd)
    # Positions along the last axis step uniformly through each flat plane, row after row:
    # n * s_last. All rows but the last slack row (they feed the windows of the other axes).
    lead = (buffer.shape[1] - 1, *buffer.shape[2:-1]) if d > 1 else ()
    n = math.prod(lead) * positions[-1] if d > 1 else positions[0]
    # The columns of one image: its rows of every plane (the GEMMs cover one image each).
    per_image = n // batch if d == 1 else staging.sizes[0] * math.prod(lead[1:]) * positions[-1]
    used = batch * per_image
    # Each image's columns C-contiguous: the same GEMM, operands laid out alike, in any batch.
    cols = staging.scratch("cols", (batch, k_last, cg, per_image), weights.dtype)
    y = staging.scratch("y", (n_rest * ng, n), weights.dtype)
    y[:, used:] = 0  # after the last image: read by dropped windows only
    total = staging.scratch("total", (ng, *positions), weights.dtype)
    for group in range(groups):
        # A group's channels are contiguous planes of the channels-first buffer.
        flat = buffer[group * cg : (group + 1) * cg].reshape(cg, -1)
        for tap in range(k_last):  # im2col along the last axis only: k_last copies
            start = tap * dil_last
            taken = flat[:, start : start + (used - 1) * s_last + 1 : s_last]  # (cg, used)
            cols[:, tap] = taken.reshape(cg, batch, per_image).transpose(1, 0, 2)
        # (rest taps * ng, last taps * cg) @ (last taps * cg, n): a plane per (rest tap, feature)
        features = weights[..., group * ng : (group + 1) * ng]
        by_row = features.reshape(n_rest, k_last, cg, ng).transpose(0, 3, 1, 2)
        matrix = by_row.reshape(n_rest * ng, k_last * cg)
        _per_image_gemm(matrix, cols.reshape(batch, k_last * cg, per_image), y)
        if d == 1:
            result = y  # (ng, Q): nothing left to add
        else:
            grid = y.reshape(n_rest * ng, *lead, positions[-1])
            # (n_rest*ng, Q, J2..J{d-1}, k1..k{d-1}, Jd): windows over all axes but the last
            win = window_view(
                grid,
                geometry.kernel[:-1],
                geometry.stride[:-1],
                geometry.dilation[:-1],
                positions[:-1],
            )
            for i, rest_tap in enumerate(itertools.product(*map(range, geometry.kernel[:-1]))):
                shifted = at_tap(win[i * ng : (i + 1) * ng], rest_tap)  # (ng, Q, J2..Jd)
                if i == 0:
                    np.copyto(total, shifted)
                else:
                    np.add(total, shifted, out=total)
            result = total
        # One plane per output channel: copying plane by plane is ~4x faster than one copy
        # of a transposed view, whose inner loop would run over the channels.
        for feature, plane in enumerate(staging.crop(result, batch, planes=True)):
            out[..., group * ng + feature] = plane


def _per_image_gemm(a: Array, images: Array, out: Array) -> None:
    """``out[:, :b * n]`` = `a` ``(M, K)`` times each of `images` ``(b, K, n)``, side by
    side: one GEMM per image, every operand C-contiguous, so that BLAS gets the same call
    for an image in any batch (NumPy picks its loop, and BLAS its kernel, by shapes and
    strides)."""
    batch, _, n = images.shape
    product = np.matmul(np.ascontiguousarray(a), images)  # (b, M, n)
    out[:, : batch * n].reshape(out.shape[0], batch, n)[...] = product.transpose(1, 0, 2)


def columns(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """Per group, the windows of the whole chunk copied tap by tap into rows (a transposed
    im2col), then one GEMM ``(ng, taps * cg) @ (taps * cg, positions)`` gives a plane per
    output channel."""
    geometry = staging.geometry
    d = weights.ndim - 2
    batch, (cg, nc) = x.shape[0], weights.shape[-2:]
    ng = nc // groups
    taps = math.prod(geometry.kernel)
    buffer = staging.stage(x, weights.dtype, channels_first=True)  # (c, rows, P2..Pd)
    win = staging.merged_windows(buffer, batch, planes=True)  # (c, Q, J2..Jd, k1..kd)
    positions = win.shape[1 : 1 + d]
    n = math.prod(positions)
    # Each image's columns C-contiguous: the same GEMM, operands laid out alike, in any batch.
    own = (positions[0] // batch, *positions[1:])  # one image's positions
    cols = staging.scratch("cols", (batch, taps, cg, *own), weights.dtype)
    y = staging.scratch("y", (ng, *positions), weights.dtype)
    for group in range(groups):
        channels = slice(group * cg, (group + 1) * cg)
        for i, tap in enumerate(itertools.product(*map(range, geometry.kernel))):
            # One strided copy per tap: contiguous rows for the GEMM's inner dimension.
            at: tuple[object, ...] = (channels, Ellipsis, *tap)
            taken = win[at].reshape(cg, batch, *own)  # type: ignore[index]  # (cg, b, own..)
            np.copyto(cols[:, i], np.moveaxis(taken, 1, 0))
        features = weights[..., group * ng : (group + 1) * ng].reshape(taps * cg, ng)
        # (ng, taps*cg) @ (taps*cg, n): the long dimension last, as BLAS likes it.
        stack = cols.reshape(batch, taps * cg, n // batch)
        _per_image_gemm(features.T, stack, y.reshape(ng, n))
        for feature, plane in enumerate(staging.crop(y, batch, planes=True)):
            out[..., group * ng + feature] = plane


def separable(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """Two 1-D passes for 2-D kernels that are outer products ``u (x) v``, one input channel
    per output channel (grayscale, depthwise): down the rows of the whole merged chunk, then
    along them. Other kernels are contracted by `taps`."""
    one_each = weights.ndim == 4 and weights.shape[2:] == (1, groups)
    factors = rank_one(weights) if one_each else None
    if factors is None:
        taps(x, staging, weights, out, groups)
        return
    u, v = factors  # (kh, c), (kw, c): one kernel per channel
    # One kernel for every channel (`correlate`'s broadcast bank): scalar taps over rows of
    # w * c samples, whose inner loops run along the whole row, not over c (3-8x faster
    # for RGB: 16x256x256x3, 3x3 Gaussian: 88 -> 17 ms, machine shared).
    shared = u.shape[1] > 1 and bool((u == u[:, :1]).all() and (v == v[:, :1]).all())
    g = staging.geometry
    batch = x.shape[0]
    buffer = staging.stage(x, weights.dtype)  # (rows, P2, c)
    rows = staging.positions(batch)[0]
    (sh, sw), (dh, dw) = g.stride, g.dilation
    down = staging.scratch("down", (rows, buffer.shape[1], buffer.shape[2]), weights.dtype)
    along = staging.scratch("along", (rows, g.out_shape[1], buffer.shape[2]), weights.dtype)
    # Down the rows: one einsum over the window view, which reads each sample once per tap
    # but writes once (2-4x faster than a scaled copy and an add per tap, for 3-31 taps).
    source = buffer.reshape(buffer.shape[0], -1, 1) if shared else buffer  # (rows, P2 * c, 1)
    step, width = source.strides[:2]
    window = (rows, source.shape[1], source.shape[2], g.kernel[0])
    strides = (step * sh, width, source.strides[2], step * dh)
    if shared:
        u, v = u[:, :1], v[:, 0]
    np.einsum("qwck,kc->qwc", as_strided(source, window, strides), u, out=down.reshape(window[:3]))
    # Along the rows, einsum's inner loop would run over the taps: scaled copies are faster
    # up to `ALONG_TAPS` taps (measured 0.35x einsum's time at 3 taps, 1.25x at 11).
    o2 = g.out_shape[1]
    if g.kernel[1] > ALONG_TAPS and shared and sw == 1:
        # A row of w * c samples, tap b reading c * dw samples further: grayscale's einsum
        # (16x256x256x3, 15x15 Gaussian: 382 -> 34 ms, machine shared).
        flat, c = down.reshape(rows, -1), down.shape[2]
        row_steps = (flat.strides[0], flat.strides[1], flat.strides[1] * c * dw)
        row_view = as_strided(flat, (rows, o2 * c, g.kernel[1]), row_steps)
        np.einsum("qjk,k->qj", row_view, v, out=along.reshape(rows, -1))
    elif g.kernel[1] > ALONG_TAPS:
        step, width = down.strides[:2]
        window = (rows, o2, down.shape[2], g.kernel[1])
        strides = (step, width * sw, down.strides[2], width * dw)
        np.einsum(
            f"qwck,{'k' if shared else 'kc'}->qwc", as_strided(down, window, strides), v, out=along
        )
    else:
        term = staging.scratch("term", along.shape, weights.dtype)
        for b in range(g.kernel[1]):
            part = down[:, b * dw : b * dw + (o2 - 1) * sw + 1 : sw]
            np.multiply(part, v[b], out=along if b == 0 else term)
            if b:
                np.add(along, term, out=along)
    per_image = staging.sizes[0] // sh
    out[...] = along.reshape(batch, per_image, *along.shape[1:])[:, : g.out_shape[0]]


def stripes(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """One input channel per output channel (grayscale, depthwise): for each tap of the axes
    after the first, one einsum down the first axis of the merged windows, which reads each
    sample once per tap but writes once. Other kernels are contracted by `taps`."""
    if weights.shape[-2:] != (1, groups):
        taps(x, staging, weights, out, groups)
        return
    d = weights.ndim - 2
    batch = x.shape[0]
    win = staging.merged_windows(staging.stage(x, weights.dtype), batch)  # (Q, J.., k.., c)
    per_channel = weights[..., 0, :]  # (k1..kd, c)
    total = staging.scratch("total", (*win.shape[:d], win.shape[-1]), weights.dtype)
    term = staging.scratch("term", total.shape, weights.dtype)
    for i, rest in enumerate(itertools.product(*map(range, weights.shape[1:d]))):
        # (Q, J.., k1, c) * (k1, c) -> (Q, J.., c): the taps of the first axis summed.
        down: tuple[object, ...] = (Ellipsis, slice(None), *rest, slice(None))
        column: tuple[object, ...] = (slice(None), *rest, slice(None))
        np.einsum(
            "...ck,kc->...c",
            win[down].swapaxes(-1, -2),  # type: ignore[index]  # taps last: einsum's fast order
            per_channel[column],  # type: ignore[index]
            out=total if i == 0 else term,
        )
        if i:
            np.add(total, term, out=total)
    out[...] = staging.crop(total, batch)


CONTRACTIONS: dict[str, Contraction] = {
    "einsum": einsum,
    "im2col": im2col,
    "taps": taps,
    "planes": planes,
    "columns": columns,
    "separable": separable,
    "stripes": stripes,
}
