"""The chooser: how one image is computed — the strategy, FFT or not, the kernel gradient's
path — from that image's problem alone.

Every decision here is a function of the per-image problem (its geometry, the channels and
groups, the dtypes, the kernels' values) and never of the batch size, the chunk or the
thread count: so each image's result has the same bits whatever batch it comes in and on
however many threads (`_engine` decides only who computes an image, never how). The
thresholds are measurements, and the measurements live beside them.

Tests and benchmarks force a decision with `forced`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from . import _fft
from ._contractions import CONTRACTIONS
from ._dtypes import INTEGER_PATHS
from ._geometry import Geometry
from ._reductions import REDUCTIONS
from ._separable import rank_one
from ._typing import Array

#: The direct strategies: every output within the direct error bound of its own window.
CONV_STRATEGIES = tuple(CONTRACTIONS)
#: The FFT strategy (`_fft`), whose error bound is relative to a whole tile.
FFT_STRATEGY = "fft"
POOL_STRATEGIES = tuple(REDUCTIONS)
#: Up to this many input channels, contracting channels first ("planes") beats BLAS calls
#: whose inner dimension is the channel count.
FEW_CHANNELS = 4
#: Beyond this many input channels, one GEMM per tap (K = c) is long enough for BLAS.
MANY_CHANNELS = 16
#: FFTs beat the direct strategies from this many kernel taps per log2 of the FFT's size,
#: for one input channel and up to this many outputs per group (`fft_pays`).
FFT_TAPS_PER_LOG2 = 2.75
FFT_FEATURES = 8
#: Up to this many pairs of input and output channels per group, the kernel gradient takes
#: one dot product per pair and tap over channels-first planes rather than one GEMM per
#: tap (measured, 200,000 positions on one thread: 3 x 3 channels 0.16 ms against 1.04,
#: 1 x 6 0.11 against 0.32, 6 x 16 2.13 against 1.47).
DOT_PAIRS = 24
#: From this many input channels per group, one GEMM per tap (``K`` the positions, ``M``
#: the channels) beats one GEMM of the copied windows (lenet2, 256x14x14x6 -> 16, 5x5:
#: im2col 3.3 ms, per tap 7.0; 32x56x56x64 -> 64, 3x3: per tap 49.8 ms, im2col 54.7).
GEMM_CHANNELS = 16

_KNOWN = {
    "conv": (*CONV_STRATEGIES, FFT_STRATEGY),
    "pool": POOL_STRATEGIES,
    "integers": INTEGER_PATHS,
    "threads": None,  # a positive int
    "rows": None,  # a positive int: output rows per block of every image (`row_blocks`)
    "gather": ("always", "never"),
    "adjoint": ("correlate", "scatter"),
    "kernel_gradient": ("dots", "im2col", "taps"),
}
_forced: ContextVar[dict[str, object] | None] = ContextVar("stridedconv_forced", default=None)


@contextmanager
def forced(**strategies: object) -> Iterator[None]:
    """Use the named strategies inside a ``with`` block, for tests and benchmarks.

    Keys:
    - ``conv``: one of `CONV_STRATEGIES`, or `FFT_STRATEGY`;
    - ``pool``: one of `POOL_STRATEGIES`;
    - ``integers``: one of `INTEGER_PATHS` (it can only widen the exact path the bound
      allows);
    - ``threads``: a positive int, the threads for the chunks;
    - ``rows``: a positive int: every image of more output rows in blocks of that many;
    - ``gather``: ``'always'`` or ``'never'``: gather the windows of every problem, or of
      none (see `_gather`);
    - ``adjoint``: ``'correlate'`` or ``'scatter'``, how `_transpose.scatter` computes the
      adjoint of a convolution of stride 1;
    - ``kernel_gradient``: ``'dots'``, ``'im2col'`` or ``'taps'`` (see `_gradients`).
    """
    for key, value in strategies.items():
        choices = _KNOWN.get(key, ())
        valid = value in choices if choices is not None else isinstance(value, int) and value > 0
        if key not in _KNOWN or not valid:
            msg = f"unknown strategy {key}={value!r}; known: {_KNOWN}"
            raise ValueError(msg)
    token = _forced.set({**(_forced.get() or {}), **strategies})
    try:
        yield
    finally:
        _forced.reset(token)


def forced_strategy(key: str) -> str | None:
    """The strategy forced for `key` in the current context, if any."""
    value = (_forced.get() or {}).get(key)
    return None if value is None else str(value)


def choose_conv(
    geometry: Geometry,
    weights: Array,
    groups: int,
    compute: np.dtype[np.generic],
    result: np.dtype[np.generic],
) -> str:
    """The strategy for one image of `geometry` and the kernels `weights` ``(k1..kd, cg, nc)``
    (in the compute dtype), computed in `compute` into `result`: whether the kernels are
    separable (`_separable`), whether FFTs pay (`fft_pays`), then `conv_strategy`."""
    cg, nc = weights.shape[-2:]
    # Two passes pay for their second sweep from 2x2 kernels on (measured: see `_separable`).
    separable = (
        len(geometry.kernel) == 2
        and min(geometry.kernel) > 1
        and weights.shape[-2:] == (1, groups)
        and rank_one(weights) is not None
    )
    # FFTs for large kernels, on real floats only (see `_fft`; measured: `fft_pays`).
    fourier = _fft.applies(compute, result) and fft_pays(geometry, cg, nc // groups)
    return conv_strategy(
        cg, nc // groups, compute, groups=groups, separable=separable, fourier=fourier
    )


def conv_strategy(
    channels: int,
    features: int,
    dtype: np.dtype[np.generic],
    *,
    groups: int = 1,
    separable: bool = False,
    fourier: bool = False,
) -> str:
    """The convolution strategy for `channels` in and `features` out per group, computed in
    `dtype`; `separable` whether the kernels are outer products, one per channel
    (`_separable`): two passes of ``kh + kw`` taps then beat ``kh * kw``; `fourier` whether
    FFTs would cost less than the direct strategies (`fft_pays`).

    The rules come from `benchmarks/grid.py` (32x32 float32 images, 'same', c x nc x k in
    {1, 3, 16, 64} x {1, 6, 16, 64} x {3, 5}, every strategy forced; AVX-512 Xeon, OpenBLAS
    SkylakeX, times relative to the best strategy of each cell):
    - one channel in and out per group (grayscale, depthwise): two 1-D passes for outer
      products (``separable``; 64x256x256 Gaussians: 0.65x ``taps`` at 3x3, 0.1x at
      15x15), else one einsum per kernel column (``stripes``; random kernels: 0.7x
      ``taps`` at 3x3, 0.3x at 15x15; 16x56x56x64 depthwise 3x3: 0.75x);
    - one channel in, a few out: ``columns`` (one GEMM of K = taps), 0.8-0.95x ``planes``
      and 0.15-0.3x the scaled copies chosen before (LeNet-5's first layer);
    - at least 16 out from at most 16 in: ``im2col`` (K = taps * c), 0.3-0.9x ``planes``;
      from 64 in, ``im2col`` only from 64 out (0.8-1.1x ``taps`` below that);
    - a few channels in (<= 16) and out: ``planes``; many in, few out: ``taps``.
    Grouped convolutions keep the rules measured for them (`FEW_CHANNELS`).
    """
    chosen = forced_strategy("conv")
    if chosen is not None:
        return chosen
    if dtype.kind == "O":
        return "taps"  # no BLAS for Python ints
    if separable:
        return "separable"
    if fourier:
        return FFT_STRATEGY
    if channels == 1 and features == 1:
        return "stripes"
    if groups > 1 or channels > MANY_CHANNELS:
        if channels == 1:
            return "taps"  # depthwise, several outputs a channel: a broadcast product per tap
        if groups == 1 and features >= 64:
            return "im2col"
        return "planes" if channels <= FEW_CHANNELS else "taps"
    if channels == 1 and features < 16:
        return "columns"
    if features >= 16:
        return "im2col"
    if features == 1 and channels > FEW_CHANNELS:
        return "taps"
    return "planes"


def fft_pays(geometry: Geometry, channels: int, features: int) -> bool:
    """Whether FFTs of tiles (`_fft`) cost less than a direct strategy, for one input channel
    and up to `FFT_FEATURES` outputs per group (grayscale filtering, depthwise layers, a
    first layer) and stride 1: when the taps outnumber `FFT_TAPS_PER_LOG2` times
    ``log2(N)``, N the samples of one FFT, times the samples transformed per output (tiles
    overlap and round up to a fast length).

    Measured with random float32 kernels, 'same', FFT time over `stripes` time at 5x5 /
    7x7 / 9x9 / 11x11 (ratio of taps to ``log2(N) * overhead`` in brackets): 4000x28x28
    0.78 (1.9) / 0.50 (2.9) / 0.34 / 0.30; 500x64x64 1.10 (1.6) / 0.93 (3.1) / 0.46 / 0.38;
    64x256x256 1.47 (1.4) / 0.85 (2.7) / 0.72 / 0.46; 4x1024x1024 1.95 (1.3) / 1.24 (2.6) /
    0.79 (4.3) / 0.50. Several outputs from one channel (one forward transform, one inverse
    per output), over the chosen direct strategy ('columns'), 32x32 / 256x256 images at
    5x5 / 7x7 / 11x11: 3 outputs 0.97 / 0.62 / 0.17 and 0.98 / 0.40 / 0.10; 6 outputs 1.27
    / 0.83 / 0.25 and 1.67 / 0.57 / 0.20; 16 outputs 1.76 / 1.20 / 0.93 and 1.86 / 1.18 /
    1.19.
    """
    if channels != 1 or features > FFT_FEATURES or any(s != 1 for s in geometry.stride):
        return False
    tiles = _fft.tiling(geometry)
    samples = math.prod(length for _, length, _ in tiles)
    overhead = math.prod(length * count for _, length, count in tiles) / max(
        math.prod(geometry.out_shape), 1
    )
    return math.prod(geometry.kernel) >= FFT_TAPS_PER_LOG2 * math.log2(samples) * overhead


def calls_blas(strategy: str, channels: int) -> bool:
    """Whether `strategy` calls BLAS (a ``matmul``) for `channels` per group: 'stripes',
    'separable' and the FFT contract several channels per group by 'taps' (forced only)."""
    if strategy in ("im2col", "planes", "columns"):
        return True
    return strategy in ("taps", "stripes", "separable", FFT_STRATEGY) and channels > 1


def pool_strategy(geometry: Geometry) -> str:
    """The pooling strategy for `geometry`."""
    chosen = forced_strategy("pool")
    return chosen if chosen is not None else "separable"


def kernel_gradient_path(cg: int, ng: int) -> str:
    """How the kernel gradient contracts `cg` channels in with `ng` out per group: forced,
    or by the measurements of `DOT_PAIRS` and `GEMM_CHANNELS`."""
    chosen = forced_strategy("kernel_gradient")
    if chosen is not None:
        return chosen
    if cg * ng <= DOT_PAIRS:
        return "dots"
    return "taps" if cg >= GEMM_CHANNELS else "im2col"
