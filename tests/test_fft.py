"""The FFT strategy: against the naive reference within its documented error bound, the
direct strategies where the FFT may not compute (integers, complex, NaN and inf), the
chooser, the tiling and the FFT lengths.

The FFT's bound is relative to the energy of a whole tile, not to each output's window
(`stridedconv._fft`): ``|out - ref| <= FFT_ERROR * eps * log2(N) * ||x||_2 * ||k||_1``,
checked here with the upper bounds ``N <= prod(2 * P_i)`` (every FFT length is below twice
its tile, and a tile is at most the padded axis ``P_i``) and ``||x||_2 <= max|x| *
sqrt(c * prod(P_i))`` over one image's padded channels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
import stridedconv._fft as fourier
from checks import (
    assert_exact_integers,
    assert_new_array,
    assert_within_bound,
    chosen_strategies,
    forcing,
)
from test_conv import NdCase, nd_cases

#: Real floats mostly; integers and complex, which the FFT hands to `taps`, now and then.
FFT_DTYPES = tuple(
    np.dtype(t)
    for t in (np.float64, np.float32, np.float16, np.float64, np.int64, np.uint8, np.complex128)
)


@contextmanager
def tiles_of(samples: int) -> Iterator[None]:
    """FFT tiles of at most `samples` per axis, or one kernel span (small ones: many tiles
    on tiny images)."""
    kept = fourier.TILE, fourier.TILE_SPANS
    fourier.TILE, fourier.TILE_SPANS = samples, 1
    fourier.tiling.cache_clear()
    try:
        yield
    finally:
        fourier.TILE, fourier.TILE_SPANS = kept
        fourier.tiling.cache_clear()


def assert_within_fft_bound(out: np.ndarray, case: NdCase, result_dtype: np.dtype) -> None:
    """`out` (channels last) within the FFT's bound of the reference."""
    ref = case.reference()
    if case.data_format == "channels_first":
        out, ref = np.moveaxis(out, 1, -1), np.moveaxis(ref, 1, -1)
    assert out.dtype == result_dtype
    padded = [
        n + before + after for n, (before, after) in zip(case.x.shape[1:-1], case.pads, strict=True)
    ]
    log_n = sum(math.log2(2 * p) for p in padded)
    cg = case.kernels.shape[-2]
    spatial = tuple(range(1, case.x.ndim))
    magnitude = np.abs(case.x.astype(np.float64)).max(axis=spatial, initial=0)
    energy = magnitude * math.sqrt(cg * math.prod(padded))  # >= ||x||_2 of any group's tile
    weight = np.abs(case.kernels.astype(np.float64)).reshape(-1, case.kernels.shape[-1]).sum(0)
    compute = np.float32 if result_dtype == np.float16 else result_dtype
    eps = float(np.finfo(compute).eps)
    scale = energy.reshape(-1, *[1] * case.d, 1) * weight
    bound = fourier.FFT_ERROR * eps * log_n * scale + float(np.finfo(compute).tiny)
    bound = bound + float(np.finfo(result_dtype).eps) * np.abs(ref)
    # Beyond the result dtype's range (float16), IEEE rounding gives an infinity.
    huge = np.abs(ref) >= float(np.finfo(result_dtype).max)
    assert (np.abs(out[huge]) >= float(np.finfo(result_dtype).max)).all()
    error = np.where(huge, 0.0, np.abs(out.astype(np.float64) - ref))
    assert (error <= bound).all(), (error.max(), bound[error > bound][:5])


@given(case=nd_cases(dtypes=FFT_DTYPES), samples=st.sampled_from((512, 1, 2, 4)))
def test_fft_matches_the_reference(case: NdCase, samples: int) -> None:
    """Every conv option; integer results exact and complex ones within the direct bound
    (both contracted directly), real floats within the FFT's bound."""
    inputs = [case.x, case.kernels] + ([] if case.bias is None else [case.bias])
    with tiles_of(samples), forcing(conv="fft"):
        out = case.call()
    assert_new_array(out, *inputs)
    result_dtype = np.result_type(*inputs)
    if result_dtype.kind in "biu":
        assert_exact_integers(out, case.reference())
    elif result_dtype.kind == "c":
        abs_ref = case.reference(absolute=True)
        assert_within_bound(out, case.reference(), abs_ref, case.n_terms, result_dtype)
    else:
        assert_within_fft_bound(out, case, result_dtype)


def test_a_large_value_far_away_stays_within_the_bound() -> None:
    """The FFT's error follows the tile's energy: tiny values beside one huge one."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 40, 40, 1)) * 1e-20
    x[0, 0, 0, 0] = 1e3
    kernels = rng.standard_normal((9, 9, 1, 1))
    case = NdCase(x, kernels, None, 1, 1, "same", ((4, 4), (4, 4)), "zeros", 1, "channels_last")
    with forcing(conv="fft"):
        out = case.call()
    assert_within_fft_bound(out, case, np.dtype(np.float64))
    # The second image holds no huge value: its outputs keep their own scale.
    np.testing.assert_allclose(out[1], case.reference()[1], rtol=1e-9, atol=1e-30)


@pytest.mark.parametrize("where", ["images", "kernel"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_and_inf_stay_in_their_windows(where: str, value: float) -> None:
    """A chunk or kernel holding NaN or inf is contracted directly: IEEE results."""
    rng = np.random.default_rng(1)
    images = rng.standard_normal((3, 30, 30))
    kernel = rng.standard_normal((11, 11))
    kernel[5, 5] = 0.0  # a zero weight does not hide the NaN (inf * 0)
    if where == "images":
        images[1, 15, 15] = value
    else:
        kernel[0, 0] = value
    with forcing(conv="stripes"):
        direct = sc.convolve_grayscale_same(images, kernel)
    with forcing(conv="fft"):
        out = sc.convolve_grayscale_same(images, kernel)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(direct))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(direct))
    finite = np.isfinite(direct)
    np.testing.assert_allclose(out[finite], direct[finite], rtol=1e-12, atol=1e-12)
    if where == "images":
        assert np.isfinite(out[[0, 2]]).all()


def test_numpy_fft_without_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy.fft serves when SciPy is not installed: the same results."""
    rng = np.random.default_rng(2)
    images = rng.random((4, 50, 60), dtype=np.float32)
    kernel = rng.standard_normal((13, 13)).astype(np.float32)
    with forcing(conv="fft"):
        with_scipy = sc.convolve_grayscale_same(images, kernel)
        monkeypatch.setattr(fourier, "_backend", lambda: np.fft)
        with_numpy = sc.convolve_grayscale_same(images, kernel)
    assert with_numpy.dtype == np.float32
    np.testing.assert_allclose(with_numpy, with_scipy, rtol=1e-4, atol=1e-4)


def test_the_chooser_takes_ffts_for_large_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = chosen_strategies(monkeypatch)
    rng = np.random.default_rng(3)
    images = rng.random((8, 64, 64), dtype=np.float32)
    large = rng.standard_normal((9, 9)).astype(np.float32)
    sc.convolve_grayscale_same(images, large)  # fft
    sc.convolve_grayscale_same(images, large[:3, :3])  # stripes: few taps
    sc.convolve_grayscale_same(images, sc.kernels.gaussian(15, 3.0))  # separable
    sc.convolve_grayscale(images, large, stride=2)  # stripes: strided
    sc.convolve_grayscale_same((images * 255).astype(np.uint8), large.round().astype(int))
    depthwise = rng.standard_normal((11, 11, 1, 4))
    sc.conv(rng.random((2, 64, 64, 4)), depthwise, padding="same", groups=4)  # fft
    first_layer = rng.standard_normal((11, 11, 1, 3))
    sc.conv(images[..., None], first_layer, padding="same")  # fft: 3 outputs
    sc.conv(images[..., None], np.concatenate([first_layer] * 6, axis=-1))  # 18: im2col
    expected = ["fft", "stripes", "separable", "stripes", "stripes", "fft", "fft", "im2col"]
    assert chosen == expected


def test_tiles_cover_long_axes_with_little_waste() -> None:
    """A 2000-sample axis with a 31-tap kernel: tiles of at most TILE samples, alike."""
    from stridedconv._geometry import make_geometry
    from stridedconv._validation import padding_spec

    geometry = make_geometry((2000, 40), (31, 3), (1, 1), padding_spec("same", 2))
    (per_tile, length, count), (whole, short, one) = fourier.tiling(geometry)
    assert count * per_tile >= 2000 > (count - 1) * per_tile
    assert per_tile + 30 <= length <= fourier.TILE
    assert (whole, one) == (40, 1)
    assert short == fourier.fast_length(42)


def test_fast_lengths_are_the_smallest_5_smooth_numbers() -> None:
    def smooth(n: int) -> bool:
        for p in (2, 3, 5):
            while n % p == 0:
                n //= p
        return n == 1

    expected = [next(m for m in range(n, 2 * n + 1) if smooth(m)) for n in range(1, 3000)]
    assert [fourier.fast_length(n) for n in range(1, 3000)] == expected


def test_many_small_tiles_equal_one_tile() -> None:
    rng = np.random.default_rng(4)
    images = rng.standard_normal((3, 40, 37))
    kernel = rng.standard_normal((7, 5))
    with forcing(conv="fft"):
        whole = sc.convolve_grayscale_same(images, kernel)
        with tiles_of(16):
            tiled = sc.convolve_grayscale_same(images, kernel)
    np.testing.assert_allclose(tiled, whole, rtol=1e-12, atol=1e-12)
