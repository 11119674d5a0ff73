"""FFT convolution: large kernels in O(log N) operations per output instead of O(taps).

A chunk is staged (padded) as for every strategy, cut into overlapping tiles along each
spatial axis (overlap-save: a tile of ``T + span - 1`` samples gives ``T`` outputs; one tile
per axis unless the axis is long), and each tile is correlated with the (dilated) kernels
by real FFTs of a 5-smooth length ``L >= T + span - 1``: ``irfft(rfft(tile) * conj(rfft(k)))``.
Channels are contracted in the frequency domain, one broadcast product per input channel of
a group. Strides are applied by computing every output of the tile and keeping each
``stride``-th (the chooser takes the FFT for stride 1 only).

Error: an FFT spreads the rounding error of every sample of a tile over all of its outputs.
Each output is within ``FFT_ERROR * eps * log2(N) * ||x||_2 * ||k||_1`` of the exact
correlation, where ``N`` is the number of samples of one FFT (the product of the ``L``),
``||x||_2`` the 2-norm of the tile it comes from (all of a group's channels) and ``||k||_1``
the sum of the magnitudes of its kernel: a bound relative to the tile's energy, not to the
output's own window as for the direct strategies. It follows from the usual bounds on the
FFT (a forward transform of each operand, a product, an inverse transform: each within a
few ``eps * log2(N)`` in 2-norm, relative to ``sqrt(N) ||x||_2 ||k||_1``).

So the FFT is used for real float results only and on finite images only: a NaN or an
infinity would spread over the whole tile, where IEEE arithmetic puts it in the windows
that hold it; an image that holds one is contracted directly (`taps`), alone (its
neighbours keep their FFTs, tiles being per image), and so are integer (exact) results and
complex values.

scipy.fft is used when SciPy is installed (about 2x faster than numpy.fft here), else
numpy.fft; both keep float32 in single precision and release the GIL, so the engine's
threads run the chunks side by side.
"""

from __future__ import annotations

import functools
import itertools
import math
from types import ModuleType

import numpy as np

from ._contractions import taps
from ._geometry import Geometry, extent
from ._staging import Staging
from ._typing import Array
from ._windows import window_view

#: The constant of the documented error bound (see the module docstring). Measured: at
#: most 0.09 on 400 random 2-D problems (float32 and float64, 1-3 channels, kernels up to
#: 16x16, normal and uniform values, a large mean, one huge value among tiny ones).
FFT_ERROR = 1.0
#: An axis whose outputs and halo fit in this many samples is one tile; longer axes are
#: cut into tiles of at most this many samples, or `TILE_SPANS` kernel spans if more
#: (measured on 4x1024x1024 images, 15x15: tiles of 128 / 256 / 512 / 1024 samples 41 /
#: 31 / 27 / 24 ms, the whole image 30 ms; 64x256x256: 512 and more alike).
TILE = 512
TILE_SPANS = 4


@functools.cache
def _backend() -> ModuleType:
    """scipy.fft when it can be imported, else numpy.fft (the same rfftn/irfftn calls)."""
    try:
        import scipy.fft
    except ImportError:
        return np.fft
    backend: ModuleType = scipy.fft
    return backend


def fast_length(n: int) -> int:
    """The smallest ``2**a * 3**b * 5**c >= n``: an FFT length pocketfft transforms fast."""
    best = 1 << max(n - 1, 0).bit_length()  # a power of two always qualifies
    fives = 1
    while fives < best:
        odd = fives
        while odd < best:
            size = odd << max(-(-n // odd) - 1, 0).bit_length()  # odd * 2**a >= n
            best = min(best, size)
            odd *= 3
        fives *= 5
    return best


@functools.lru_cache(maxsize=256)
def tiling(geometry: Geometry) -> tuple[tuple[int, int, int], ...]:
    """Per spatial axis, ``(T, L, count)``: outputs per tile, FFT length, tiles; the tiles
    cover every output of the stride-1 correlation that a strided one keeps."""
    axes = []
    for k, dil, s, o in zip(
        geometry.kernel, geometry.dilation, geometry.stride, geometry.out_shape, strict=True
    ):
        span = extent(k, dil)
        needed = (o - 1) * s + 1  # stride-1 outputs up to the last one kept
        # As few tiles as fit in TILE samples, sized alike: no tile computes many outputs
        # that are dropped.
        count = -(-needed // (max(TILE, TILE_SPANS * span) - span + 1))
        per_tile = -(-needed // count)
        axes.append((per_tile, fast_length(per_tile + span - 1), count))
    return tuple(axes)


def bytes_per_image(geometry: Geometry, channels: int, features: int, itemsize: int) -> int:
    """Working set of one image: the staged image, the tiles' spectra of its channels and
    of its outputs, and the outputs of the inverse transforms."""
    samples = math.prod(length * count for _, length, count in tiling(geometry))
    staged = math.prod(geometry.padded_shape) * channels
    # Spectra are complex (2 items) of about half the samples (real FFTs).
    return int((staged + samples * (channels + features) + samples * features) * itemsize)


@functools.lru_cache(maxsize=16)  # the same kernels, chunk after chunk and call after call
def _spectrum(
    data: bytes,
    shape: tuple[int, ...],
    dtype: str,
    dilation: tuple[int, ...],
    lengths: tuple[int, ...],
) -> Array | None:
    """``conj(rfftn(k))`` of the dilated kernels ``(k1..kd, cg, nc)``, of shape
    ``(L1..L{d-1}, Ld // 2 + 1, cg, nc)``; None when a weight is not finite."""
    kernels = np.frombuffer(data, dtype).reshape(shape)
    if not np.isfinite(kernels).all():
        return None
    d = len(lengths)
    spans = tuple(extent(k, dil) for k, dil in zip(shape[:d], dilation, strict=True))
    dilated = np.zeros((*spans, *shape[d:]), kernels.dtype)
    dilated[tuple(slice(None, None, dil) for dil in dilation)] = kernels
    spectrum: Array = _backend().rfftn(dilated, s=lengths, axes=tuple(range(d)))
    return np.conj(spectrum, out=spectrum)


def applies(compute: np.dtype[np.generic], result: np.dtype[np.generic]) -> bool:
    """Whether results of dtype `result`, computed in `compute`, may be computed by FFT:
    real floats only (integer results must be exact, complex ones have no real FFT)."""
    return compute.kind == "f" and result.kind == "f"


def fft(x: Array, staging: Staging, weights: Array, out: Array, groups: int) -> None:
    """Correlate a chunk by FFTs of overlapping tiles (see the module docstring); kernels
    or dtypes that the FFT may not compute are contracted by `taps`, and so are the images
    that hold a NaN or an infinity (the others keep their FFTs: each image's own bits)."""
    batch = x.shape[0]
    g = staging.geometry
    axes = tiling(g)
    lengths = tuple(length for _, length, _ in axes)
    spectrum = None
    if applies(weights.dtype, out.dtype):
        spectrum = _spectrum(
            weights.tobytes(), weights.shape, weights.dtype.str, g.dilation, lengths
        )
    if spectrum is None:
        taps(x, staging, weights, out, groups)
        return
    images = staging.images(staging.stage(x, weights.dtype), batch)  # (b, P.., c)
    finite = np.isfinite(images).reshape(batch, -1).all(axis=1)
    _transformed(images, g, axes, spectrum, staging, out, groups)
    if not finite.all():
        # IEEE: a NaN or inf stays in the windows that hold it, so its images are
        # contracted directly; the FFTs of the others did not see it (tiles are per image).
        bad = np.flatnonzero(~finite)
        direct = np.empty((len(bad), *out.shape[1:]), out.dtype)
        taps(x[bad], staging, weights, direct, groups)
        out[bad] = direct


def _transformed(
    images: Array,
    g: Geometry,
    axes: tuple[tuple[int, int, int], ...],
    spectrum: Array,
    staging: Staging,
    out: Array,
    groups: int,
) -> None:
    """Correlate padded `images` ``(b, P.., c)`` with the kernels' `spectrum` by FFTs of the
    tiles `axes` (see `tiling`) into `out`."""
    d = images.ndim - 2
    batch, cg, nc = images.shape[0], spectrum.shape[-2], spectrum.shape[-1]
    lengths = tuple(length for _, length, _ in axes)
    tiles = _tiles(images, g, axes, staging)  # (b, t1..td, T1+span1-1.., c)
    transform = _backend()
    spatial = tuple(range(1 + d, 1 + 2 * d))
    spectra = transform.rfftn(tiles, s=lengths, axes=spatial)  # (b, t.., F.., c)
    # (b, t.., F.., g, cg) * (F.., cg, g, ng) summed over cg -> (b, t.., F.., g, ng)
    by_group = spectra.reshape(*spectra.shape[:-1], groups, cg)
    kernel = spectrum.reshape(*spectrum.shape[:-2], cg, groups, nc // groups)
    if cg == 1 and nc == groups:  # one channel in and out per group: multiply in place
        product = np.multiply(by_group, kernel[..., 0, :, :], out=by_group)
    else:
        product = by_group[..., 0, None] * kernel[..., 0, :, :]
        for channel in range(1, cg):
            product += by_group[..., channel, None] * kernel[..., channel, :, :]
    product = product.reshape(*product.shape[:-2], nc)
    y = transform.irfftn(product, s=lengths, axes=spatial)  # (b, t.., L.., nc)
    # Each tile keeps its first T outputs; tiles side by side give the stride-1 outputs.
    kept = y[(Ellipsis, *(slice(0, per_tile) for per_tile, _, _ in axes), slice(None))]
    if all(count == 1 for _, _, count in axes):
        whole = kept[(slice(None), *(0,) * d)]  # a view: no copy before the one into out
    else:
        order = [0, *itertools.chain.from_iterable((1 + i, 1 + d + i) for i in range(d))]
        whole = kept.transpose(*order, 1 + 2 * d).reshape(
            batch, *(per_tile * count for per_tile, _, count in axes), nc
        )
    strided = tuple(
        slice(0, (o - 1) * s + 1, s) for o, s in zip(g.out_shape, g.stride, strict=True)
    )
    out[...] = whole[(slice(None), *strided, slice(None))]


def _tiles(
    images: Array, geometry: Geometry, axes: tuple[tuple[int, int, int], ...], staging: Staging
) -> Array:
    """Overlapping tiles ``(b, t1..td, T1 + span1 - 1.., c)`` of padded images
    ``(b, P1..Pd, c)``: a window view, over zeros appended where the tiles run past the
    images (their outputs are dropped)."""
    spans = tuple(extent(k, dil) for k, dil in zip(geometry.kernel, geometry.dilation, strict=True))
    reach = tuple(
        per_tile * count + span - 1 for (per_tile, _, count), span in zip(axes, spans, strict=True)
    )
    if reach != images.shape[1:-1]:
        extended = staging.scratch(
            "tiles", (images.shape[0], *reach, images.shape[-1]), images.dtype
        )
        extended.fill(0)
        common = tuple(slice(0, min(n, r)) for n, r in zip(images.shape[1:-1], reach, strict=True))
        extended[(slice(None), *common)] = images[(slice(None), *common)]
        images = extended
    window = tuple(per_tile + span - 1 for (per_tile, _, _), span in zip(axes, spans, strict=True))
    steps = tuple(per_tile for per_tile, _, _ in axes)
    counts = tuple(count for _, _, count in axes)
    return window_view(images, window, steps, (1,) * len(window), counts)
