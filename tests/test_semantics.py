"""Example-based tests: the seed scenarios at full size, IEEE rules, padding, dtypes, edges."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import stridedconv as sc
import stridedconv._chunks as chunks
import stridedconv._engine as engine
from checks import assert_exact_integers, assert_new_array, assert_within_bound, forcing
from reference import abs_correlate2d, correlate2d, pad_same, pool2d

CONV_STRATEGIES = [None, *engine.CONV_STRATEGIES]
POOL_STRATEGIES = [None, *engine.POOL_STRATEGIES]
EDGES = np.array([[1, 0, -1]] * 3)


# --- the reference itself -----------------------------------------------------------------


def test_reference_pad_same() -> None:
    assert pad_same(28, 3, 1) == (1, 1)
    assert pad_same(28, 4, 1) == (1, 2)  # an even kernel puts the extra zero after
    assert pad_same(28, 3, 2) == (0, 1)
    assert pad_same(5, 4, 2) == (1, 2)
    assert pad_same(9, 1, 3) == (0, 0)


def test_reference_by_hand() -> None:
    images = np.arange(1, 10).reshape(1, 3, 3, 1)
    kernel = np.array([[1, 10], [100, 1000]]).reshape(2, 2, 1, 1)
    out = correlate2d(images, kernel, "valid", (1, 1))
    np.testing.assert_array_equal(out[0, ..., 0], np.array([[5421, 6532], [8754, 9865]], object))


# --- the seed scenarios -------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (50000, 28, 28), dtype=np.uint8)


@pytest.fixture(scope="module")
def cifar() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (10000, 32, 32, 3), dtype=np.uint8)


def _edges_numpy(
    images: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]], stride: tuple[int, int]
) -> np.ndarray:
    """The `EDGES` correlation of uint8 images, vectorized with plain slicing (int16 is exact)."""
    padded = np.pad(images.astype(np.int16), ((0, 0), *pads))
    sh, sw = stride
    oh, ow = (padded.shape[1] - 3) // sh + 1, (padded.shape[2] - 3) // sw + 1
    out = np.zeros((images.shape[0], oh, ow), np.int16)
    for a in range(3):
        rows = padded[:, a : a + (oh - 1) * sh + 1 : sh]
        out += rows[:, :, : (ow - 1) * sw + 1 : sw] - rows[:, :, 2 : 2 + (ow - 1) * sw + 1 : sw]
    return out


GRAYSCALE_SCENARIOS = {
    "valid": (lambda x: sc.convolve_grayscale_valid(x, EDGES), "valid", (1, 1), (50000, 26, 26)),
    "same": (lambda x: sc.convolve_grayscale_same(x, EDGES), "same", (1, 1), (50000, 28, 28)),
    "padding": (
        lambda x: sc.convolve_grayscale_padding(x, EDGES, (2, 4)),
        (2, 4),
        (1, 1),
        (50000, 30, 34),
    ),
    "stride": (
        lambda x: sc.convolve_grayscale(x, EDGES, padding="valid", stride=(2, 2)),
        "valid",
        (2, 2),
        (50000, 13, 13),
    ),
}


@pytest.mark.parametrize("name", sorted(GRAYSCALE_SCENARIOS))
def test_grayscale_scenarios_full_size(name: str, mnist: np.ndarray) -> None:
    call, padding, stride, shape = GRAYSCALE_SCENARIOS[name]
    out = call(mnist)
    assert out.shape == shape
    assert out.dtype == np.int64
    pads = {"valid": ((0, 0), (0, 0)), "same": ((1, 1), (1, 1))}.get(padding, ((2, 2), (4, 4)))
    np.testing.assert_array_equal(out, _edges_numpy(mnist, pads, stride))
    # ... and the naive reference on a few images, the last one included.
    picks = [0, 1, 25000, 49999]
    ref = correlate2d(mnist[picks, ..., None], EDGES[..., None, None], padding, stride)
    assert_exact_integers(out[picks], ref[..., 0])


@pytest.mark.parametrize("name", sorted(GRAYSCALE_SCENARIOS))
def test_grayscale_scenarios_small(name: str) -> None:
    """The same calls on three float images and a random kernel, against the reference."""
    rng = np.random.default_rng(2)
    images = rng.standard_normal((3, 28, 28))
    call, padding, stride, shape = GRAYSCALE_SCENARIOS[name]
    out = call(images)
    assert out.shape == (3, *shape[1:])
    assert out.dtype == np.float64
    ref = correlate2d(images[..., None], EDGES[..., None, None], padding, stride)[..., 0]
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def _cifar_picks(m: int) -> list[int]:
    # The first and last few hundred images: every chunk boundary near either end.
    return [*range(300), *range(m - 300, m)]


def test_convolve_channels_scenario_full_size(cifar: np.ndarray) -> None:
    kernel = np.random.default_rng(3).integers(-3, 4, (3, 3, 3)).astype(np.int8)
    out = sc.convolve_channels(cifar, kernel, padding="valid")
    assert out.shape == (10000, 30, 30)
    assert out.dtype == np.int64
    picks = _cifar_picks(10000)
    windows = np.lib.stride_tricks.sliding_window_view(cifar[picks], (3, 3), axis=(1, 2))
    expected = np.einsum("nijcab,abc->nij", windows.astype(np.int64), kernel.astype(np.int64))
    np.testing.assert_array_equal(out[picks], expected)
    ref = correlate2d(cifar[[0, 9999]], kernel[..., None], "valid", (1, 1))[..., 0]
    assert_exact_integers(out[[0, 9999]], ref)


def test_convolve_scenario_full_size(cifar: np.ndarray) -> None:
    # float64 kernels: the float path at full size (float32 is covered by the property tests).
    kernels = np.random.default_rng(4).standard_normal((3, 3, 3, 3))
    out = sc.convolve(cifar, kernels, padding="valid")
    assert out.shape == (10000, 30, 30, 3)
    assert out.dtype == np.float64
    picks = _cifar_picks(10000)
    windows = np.lib.stride_tricks.sliding_window_view(cifar[picks], (3, 3), axis=(1, 2))
    windows = windows.astype(np.float64)
    expected = np.einsum("nijcab,abcf->nijf", windows, kernels)
    scale = np.einsum("nijcab,abcf->nijf", windows, np.abs(kernels))
    # Both sides round: twice the bound of one.
    assert_within_bound(out[picks], expected, 2 * scale, 27, np.dtype(np.float64))
    ref = correlate2d(cifar[[0, 9999]], kernels, "valid", (1, 1))
    scale = abs_correlate2d(cifar[[0, 9999]], kernels, "valid", (1, 1))
    assert_within_bound(out[[0, 9999]], ref, scale, 27, np.dtype(np.float64))


def test_pool_avg_scenario_full_size(cifar: np.ndarray) -> None:
    out = sc.pool(cifar, (2, 2), (2, 2), mode="avg")
    assert out.shape == (10000, 16, 16, 3)
    assert out.dtype == np.float64
    blocks = cifar.reshape(10000, 16, 2, 16, 2, 3).astype(np.float64)
    np.testing.assert_array_equal(out, blocks.sum(axis=(2, 4)) / 4)  # exact: 4 small ints
    np.testing.assert_array_equal(out[[0, 9999]], pool2d(cifar[[0, 9999]], (2, 2), (2, 2), "avg"))


CHANNEL_SCENARIOS = {
    "convolve_channels": (
        lambda x: sc.convolve_channels(x, np.ones((3, 3, 3)), padding="valid"),
        lambda x: correlate2d(x, np.ones((3, 3, 3, 1)), "valid", (1, 1))[..., 0],
        (2, 30, 30),
    ),
    "convolve": (
        lambda x: sc.convolve(x, np.ones((3, 3, 3, 3)), padding="valid"),
        lambda x: correlate2d(x, np.ones((3, 3, 3, 3)), "valid", (1, 1)),
        (2, 30, 30, 3),
    ),
    "pool": (
        lambda x: sc.pool(x, (2, 2), (2, 2), mode="avg"),
        lambda x: pool2d(x, (2, 2), (2, 2), "avg"),
        (2, 16, 16, 3),
    ),
}


@pytest.mark.parametrize("name", sorted(CHANNEL_SCENARIOS))
def test_channel_scenarios_small(name: str) -> None:
    """Two uint8 images with float64 kernels of ones (the pool: a float64 mean)."""
    call, reference, shape = CHANNEL_SCENARIOS[name]
    images = np.random.default_rng(5).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    out = call(images)
    assert out.shape == shape
    assert out.dtype == np.float64
    # Sums of at most 27 bytes: exact in float64, so equal to the reference.
    np.testing.assert_array_equal(out, reference(images), strict=True)


# --- IEEE rules -------------------------------------------------------------------------

CONV_CALLS = {
    "convolve_grayscale": lambda x, k, padding: sc.convolve_grayscale(
        x[..., 0], k[..., 0, 0], padding=padding
    )[..., None],
    "convolve_channels": lambda x, k, padding: sc.convolve_channels(x, k[..., 0], padding=padding)[
        ..., None
    ],
    "convolve": lambda x, k, padding: sc.convolve(x, k, padding=padding),
}


@pytest.mark.parametrize("function", sorted(CONV_CALLS))
@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_under_zero_weight_gives_nan(
    function: str, strategy: str | None, dtype: type, bad: float
) -> None:
    # Two images, so that a value of the first cannot leak into the second one either.
    images = np.ones((2, 6, 6, 1), dtype)
    images[0, 2, 2, 0] = bad
    kernel = np.zeros((3, 3, 1, 1), dtype)
    kernel[0, 0] = 1  # one weight of 1; the other eight taps over the bad pixel weigh 0
    for padding in ("valid", "same"):
        with forcing(conv=strategy):
            out = CONV_CALLS[function](images, kernel, padding)
        ref = correlate2d(images, kernel, padding, (1, 1))
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, ref)
        # The nine windows over the bad pixel are NaN, but an inf under the weight 1 stays inf.
        assert (~np.isfinite(out[0])).sum() == 9
        assert np.isfinite(out[1]).all()
        assert np.isnan(out[0]).sum() == (9 if np.isnan(bad) else 8)


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("where", [(0, 0), (1, 1), (2, 3)])
def test_max_pool_propagates_nan(strategy: str | None, dtype: type, where: tuple[int, int]) -> None:
    images = np.full((2, 4, 4, 2), -np.inf, dtype)
    images[0, 3, 3, 0] = 7  # a larger value in a window of its own
    images[(0, *where, 1)] = np.nan
    images[1, 0, 0, 1] = np.inf
    with forcing(pool=strategy):
        out = sc.pool(images, (2, 2), (2, 2), mode="max")
    expected = np.full((2, 2, 2, 2), -np.inf, dtype)
    expected[0, 1, 1, 0] = 7
    expected[(0, where[0] // 2, where[1] // 2, 1)] = np.nan
    expected[1, 0, 0, 1] = np.inf
    np.testing.assert_array_equal(out, expected, strict=True)
    np.testing.assert_array_equal(out, pool2d(images, (2, 2), (2, 2), "max"), strict=True)


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
def test_avg_pool_propagates_nan_and_inf(strategy: str | None) -> None:
    images = np.zeros((1, 2, 6, 1))
    images[0, 0, 0, 0] = np.nan
    images[0, 1, 2, 0] = np.inf
    images[0, 0, 4, 0] = np.inf
    images[0, 1, 5, 0] = -np.inf
    with forcing(pool=strategy):
        out = sc.pool(images, (2, 2), (2, 2), mode="avg")
    np.testing.assert_array_equal(out[0, 0, :, 0], [np.nan, np.inf, np.nan])


# --- padding ----------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
def test_even_kernel_same_pads_bottom_and_right(strategy: str | None) -> None:
    images = np.arange(1, 10).reshape(1, 3, 3)
    kernel = np.array([[1, 10], [100, 1000]])
    with forcing(conv=strategy):
        out = sc.convolve_grayscale_same(images, kernel)
    # Zero row below and zero column right: out[i, j] = x[i, j] + 10 x[i, j+1] + ...
    expected = np.array([[[5421, 6532, 603], [8754, 9865, 906], [87, 98, 9]]])
    np.testing.assert_array_equal(out, expected, strict=True)


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
def test_same_with_stride_pads_one_before_two_after(strategy: str | None) -> None:
    # n=5, k=4, s=2: 3 outputs, 3 zeros in all, 1 before and 2 after, on each axis.
    images = np.arange(1, 26).reshape(1, 5, 5)
    top_left = np.zeros((4, 4), int)
    top_left[0, 0] = 1
    bottom_right = np.zeros((4, 4), int)
    bottom_right[3, 3] = 1
    with forcing(conv=strategy):
        first = sc.convolve_grayscale(images, top_left, padding="same", stride=2)
        last = sc.convolve_grayscale(images, bottom_right, padding="same", stride=2)
    # out[i, j] = padded[2i, 2j] = x[2i - 1, 2j - 1] (0 in the padding row and column)
    np.testing.assert_array_equal(first[0], [[0, 0, 0], [0, 7, 9], [0, 17, 19]])
    # out[i, j] = padded[2i + 3, 2j + 3] = x[2i + 2, 2j + 2]
    np.testing.assert_array_equal(last[0], [[13, 15, 0], [23, 25, 0], [0, 0, 0]])


# --- copies, not views ------------------------------------------------------------------


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, np.float64])
def test_identity_kernel_returns_a_copy(strategy: str | None, dtype: type) -> None:
    images = np.random.default_rng(6).integers(0, 100, (3, 5, 4)).astype(dtype)
    delta = np.zeros((3, 3), dtype)
    delta[1, 1] = 1
    with forcing(conv=strategy):
        outs = [
            sc.convolve_grayscale_valid(images, np.ones((1, 1), dtype)),
            sc.convolve_grayscale_same(images, delta),
            sc.convolve(images[..., None], np.ones((1, 1, 1, 1), dtype), padding="valid")[..., 0],
        ]
    expected_dtype = np.int64 if np.dtype(dtype).kind in "iu" else dtype
    for out in outs:
        np.testing.assert_array_equal(out, images.astype(expected_dtype), strict=True)
        assert_new_array(out, images)
        out[...] = 0  # writeable, and the images do not change
    assert images.any()


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_one_by_one_pool_returns_a_copy(strategy: str | None, mode: str, dtype: type) -> None:
    images = np.random.default_rng(7).integers(1, 100, (2, 3, 4, 2)).astype(dtype)
    with forcing(pool=strategy):
        out = sc.pool(images, (1, 1), (1, 1), mode=mode)
    expected_dtype = np.float64 if mode == "avg" and np.dtype(dtype).kind == "u" else dtype
    np.testing.assert_array_equal(out, images.astype(expected_dtype), strict=True)
    assert_new_array(out, images)
    out[...] = 0
    assert images.all()


# --- array-likes and empty batches ------------------------------------------------------


def test_nested_lists_are_accepted() -> None:
    images = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]
    out = sc.convolve_grayscale_valid(images, [[1, 0], [0, -1]])
    np.testing.assert_array_equal(out, np.array([[[-4, -4], [-4, -4]]]), strict=True)
    floats = sc.convolve_grayscale_same([[[0.5, 1.5]]], [[2.0]])
    np.testing.assert_array_equal(floats, np.array([[[1.0, 3.0]]]), strict=True)
    rgb = [[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]]  # (1, 2, 2, 2)
    out = sc.convolve_channels(rgb, [[[1, 1]]], padding="valid")
    np.testing.assert_array_equal(out, np.array([[[3, 7], [11, 15]]]), strict=True)
    out = sc.convolve(rgb, [[[[1, 0], [0, 1]]]], padding="valid")
    np.testing.assert_array_equal(out, np.array(rgb), strict=True)
    out = sc.pool(rgb, [2, 2], [1, 1])
    np.testing.assert_array_equal(out, np.array([[[[7, 8]]]]), strict=True)
    np.testing.assert_array_equal(
        sc.windows([[1, 2, 3]], 2), np.array([[[1, 2], [2, 3]]]), strict=True
    )


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        (lambda x: sc.convolve_grayscale_valid(x[..., 0], np.ones((3, 3))), (0, 5, 7)),
        (lambda x: sc.convolve_grayscale_same(x[..., 0], np.ones((4, 2))), (0, 7, 9)),
        (lambda x: sc.convolve_grayscale_padding(x[..., 0], np.ones((3, 3)), (1, 2)), (0, 7, 11)),
        (
            lambda x: sc.convolve_grayscale(x[..., 0], np.ones((3, 3)), "same", (2, 3)),
            (0, 4, 3),
        ),
        (lambda x: sc.convolve_channels(x, np.ones((2, 2, 3)), "valid", 2), (0, 3, 4)),
        (lambda x: sc.convolve(x, np.ones((3, 3, 3, 4)), (1, 1)), (0, 7, 9, 4)),
        (lambda x: sc.pool(x, (2, 3), (2, 2), "max"), (0, 3, 4, 3)),
        (lambda x: sc.pool(x, (2, 3), (2, 2), "avg"), (0, 3, 4, 3)),
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32])
def test_empty_batch(call: Callable[[np.ndarray], np.ndarray], shape: Any, dtype: type) -> None:
    images = np.zeros((0, 7, 9, 3), dtype)
    out = call(images)
    assert out.shape == shape
    assert out.flags.writeable
    # The dtype a non-empty batch would give: kernels are float64 ones, so only the max pool
    # keeps the images' dtype, and the mean of integers is float64 too.
    expected = call(np.zeros((1, 7, 9, 3), dtype)).dtype
    assert out.dtype == expected


# --- exact integers ---------------------------------------------------------------------


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("integers", [None, "int64", "object"])
def test_int8_extremes(strategy: str | None, integers: str | None) -> None:
    images = np.array([[[-128, 127, -128], [127, -128, -128], [-128, -128, 127]]], np.int8)
    kernel = np.array([[-128, -128], [-128, 127]], np.int8)
    with forcing(conv=strategy, integers=integers):
        out = sc.convolve_grayscale_valid(images, kernel)
    ref = correlate2d(images[..., None], kernel[..., None, None], "valid", (1, 1))[..., 0]
    assert_exact_integers(out, ref)
    assert out[0, 0, 0] == 128 * 128 - 127 * 128 - 127 * 128 - 128 * 127


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("integers", [None, "int64", "object"])
def test_uint8_images_with_kernel_near_2_55(strategy: str | None, integers: str | None) -> None:
    images = np.random.default_rng(8).integers(0, 256, (2, 4, 5), dtype=np.uint8)
    images[0, 0, :3] = 255
    one_tap = np.array([[2**55 + 1]], np.int64)  # 255 * (2**55 + 1) < 2**63: int64
    three_taps = np.array([[2**55 + 1, 2**55 - 1, 2**55 + 3]], np.int64)  # beyond int64
    with forcing(conv=strategy, integers=integers):
        small = sc.convolve_grayscale_valid(images, one_tap)
        big = sc.convolve_grayscale_same(images, three_taps)
    assert small.dtype == np.int64
    assert int(small[0, 0, 0]) == 255 * (2**55 + 1)  # not a float64 number: exact
    assert big.dtype == object
    for kernel, padding, out in ((one_tap, "valid", small), (three_taps, "same", big)):
        ref = correlate2d(images[..., None], kernel[..., None, None], padding, (1, 1))[..., 0]
        assert_exact_integers(out, ref)


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("integers", [None, "int64", "object"])
def test_int64_near_2_62_with_fours(strategy: str | None, integers: str | None) -> None:
    rng = np.random.default_rng(9)
    images = 2**62 + rng.integers(-1000, 1000, (2, 4, 4, 2))
    images[1] = -(2**62) - 1
    kernels = np.full((2, 2, 2, 1), 4, np.int64)
    with forcing(conv=strategy, integers=integers):
        out = sc.convolve(images, kernels, padding="valid")
    ref = correlate2d(images, kernels, "valid", (1, 1))
    assert out.dtype == object
    assert_exact_integers(out, ref)
    assert out[1, 0, 0, 0] == -(2**62 + 1) * 4 * 8


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
def test_int64_boundary_of_the_result(strategy: str | None) -> None:
    images = np.array([[[-(2**63)]]], np.int64)
    with forcing(conv=strategy):
        fits = sc.convolve_grayscale_valid(images, [[1]])
        beyond = sc.convolve_grayscale_valid(images, [[-1]])
    assert fits.dtype == np.int64
    assert int(fits[0, 0, 0]) == -(2**63)
    assert beyond.dtype == object
    assert beyond[0, 0, 0] == 2**63
    assert type(beyond[0, 0, 0]) is int


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
def test_bool_inputs_count(strategy: str | None) -> None:
    images = np.array([[[True, False, True], [True, True, True]]])
    with forcing(conv=strategy):
        out = sc.convolve_grayscale_valid(images, np.ones((2, 2), bool))
    np.testing.assert_array_equal(out, np.array([[[3, 3]]]), strict=True)


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@pytest.mark.parametrize("integers", [None, "object"])
def test_avg_pool_of_large_int64_is_correctly_rounded(
    strategy: str | None, integers: str | None
) -> None:
    images = np.array([2**62 + 1, 2**62 + 2, 2**63 - 1, 3], np.int64).reshape(1, 2, 2, 1)
    with forcing(pool=strategy, integers=integers):
        out = sc.pool(images, (2, 2), (2, 2), mode="avg")
    assert out.dtype == np.float64
    assert out[0, 0, 0, 0] == (2**62 + 1 + 2**62 + 2 + 2**63 - 1 + 3) / 4


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("integers", [None, "int64", "object"])
def test_sums_just_past_2_53_stay_exact(strategy: str | None, integers: str | None) -> None:
    # 2**53 + 3 and -(2**53 + 3) have no float64 representation.
    images = np.array([[[2**52 + 1, 2**52 + 1, 1], [-(2**52) - 1, -(2**52) - 1, -1]]], np.int64)
    with forcing(conv=strategy, integers=integers):
        out = sc.convolve_grayscale_valid(images, np.ones((1, 3), np.uint8))
    assert out.dtype == np.int64
    assert out[0, :, 0].tolist() == [2**53 + 3, -(2**53) - 3]


# --- many chunks ------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk_bytes", [1, 3000])
@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@pytest.mark.parametrize("dtype", [np.int16, np.float64])
def test_convolve_in_many_chunks(
    monkeypatch: pytest.MonkeyPatch,
    chunk_bytes: int,
    strategy: str | None,
    dtype: type,
    threads: int,
) -> None:
    """Batches cut into chunks of one or a few images, on one or two threads, agree."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(10)
    images = rng.integers(-50, 50, (7, 6, 7, 2)).astype(dtype)
    kernels = rng.integers(-5, 5, (3, 2, 2, 3)).astype(dtype)
    for padding, stride in (("same", (1, 1)), ((1, 2), (2, 1)), ("valid", (2, 3))):
        with forcing(conv=strategy, threads=threads):
            out = sc.convolve(images, kernels, padding=padding, stride=stride)
        ref = correlate2d(images, kernels, padding, stride)
        np.testing.assert_array_equal(out, ref.astype(out.dtype))  # small ints: exact


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk_bytes", [1, 500])
@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_in_many_chunks(
    monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, strategy: str | None, mode: str, threads: int
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    images = np.random.default_rng(11).integers(0, 256, (7, 7, 8, 2), dtype=np.uint8)
    with forcing(pool=strategy, threads=threads):
        out = sc.pool(images, (3, 2), (2, 3), mode=mode)
    np.testing.assert_array_equal(out, pool2d(images, (3, 2), (2, 3), mode), strict=True)


@pytest.mark.parametrize("where", ["caller", "helper"])
def test_an_error_in_any_thread_propagates(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """The calling thread works on chunks too: an error raised by it or by a helper thread
    reaches the caller, after every thread has stopped."""
    main = threading.main_thread()

    def failing(x: Any, staging: Any, weights: Any, out: Any, groups: int) -> None:
        on_caller = threading.current_thread() is main
        if on_caller == (where == "caller"):
            raise RuntimeError(f"failed on the {where}")
        time.sleep(0.001)  # leave the other thread time to take chunks
        out[...] = 0

    monkeypatch.setitem(engine.CONTRACTIONS, "einsum", failing)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 1)
    with forcing(conv="einsum", threads=2), pytest.raises(RuntimeError, match=where):
        sc.conv(np.zeros((64, 4, 4, 1)), np.ones((2, 2, 1, 1)))


def test_calls_from_several_threads_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent calls share the helper threads; each gets its own, right result."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 2000)
    monkeypatch.setattr(chunks, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(chunks, "THREAD_CHUNK_BYTES", 1)
    monkeypatch.setattr(chunks, "THREADS", 2)
    rng = np.random.default_rng(12)
    batches = [rng.integers(-9, 9, (40, 9, 8)).astype(np.float64) for _ in range(4)]
    kernel = rng.integers(-3, 3, (3, 3)).astype(np.float64)
    expected = [correlate2d(b[..., None], kernel[..., None, None], "same", (1, 1)) for b in batches]
    results: dict[int, list[np.ndarray]] = {i: [] for i in range(len(batches))}

    def run(i: int) -> None:
        for _ in range(5):
            results[i].append(sc.convolve_grayscale_same(batches[i], kernel))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for i, outs in results.items():
        assert len(outs) == 5
        for out in outs:
            np.testing.assert_array_equal(out, expected[i][..., 0])


def _convolve_in_child(queue: Any) -> None:
    x = np.arange(64 * 6 * 6, dtype=np.float64).reshape(64, 6, 6)
    with forcing(conv="einsum", threads=2):
        queue.put(sc.convolve_grayscale_same(x, np.ones((3, 3))))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
def test_a_forked_child_computes_after_a_threaded_call() -> None:
    """The helper threads do not survive fork(); a child must not wait for them forever."""
    x = np.arange(64 * 6 * 6, dtype=np.float64).reshape(64, 6, 6)
    with forcing(conv="einsum", threads=2):
        expected = sc.convolve_grayscale_same(x, np.ones((3, 3)))  # the pool now has threads
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_convolve_in_child, args=(queue,))
    with warnings.catch_warnings():
        # Python 3.12+ warns that fork() with threads may deadlock: that is what is tested.
        warnings.simplefilter("ignore", DeprecationWarning)
        child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_array_equal(result, expected)


def test_a_call_does_not_wait_for_its_queued_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the only helper thread is busy with a long call, a short call does its chunks on
    the calling thread and returns without waiting for its own queued helper work."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 1)
    release = threading.Event()
    main = threading.main_thread()

    def slow_on_helpers(x: Any, staging: Any, weights: Any, out: Any, groups: int) -> None:
        if threading.current_thread() is not main and not release.is_set():
            release.wait(30)  # the helper thread is held by the long call
        out[...] = 0

    monkeypatch.setitem(engine.CONTRACTIONS, "einsum", slow_on_helpers)
    x, k = np.zeros((8, 4, 4, 1)), np.ones((2, 2, 1, 1))

    def long_call() -> None:
        with forcing(conv="einsum", threads=2):
            sc.conv(x, k)

    other = threading.Thread(target=long_call)
    other.start()
    time.sleep(0.2)  # the long call's helper has started and waits
    started = time.perf_counter()
    with forcing(conv="einsum", threads=2):
        sc.conv(x, k)  # its helper is queued behind the held one
    elapsed = time.perf_counter() - started
    release.set()
    other.join()
    assert elapsed < 10


def test_blas_runs_on_one_thread_per_engine_thread_and_gets_its_threads_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With threadpoolctl, BLAS strategies run their chunks on threads while BLAS runs on
    one; the BLAS thread count is restored after the call."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from stridedconv import _blas

    if not _blas.available():
        pytest.skip("threadpoolctl finds no BLAS library")

    def blas_threads() -> int:
        return min(info["num_threads"] for info in threadpoolctl.threadpool_info()
                   if info["user_api"] == "blas")  # fmt: skip

    seen: set[tuple[str, int]] = set()
    planes = engine.CONTRACTIONS["planes"]

    def spy(x: Any, staging: Any, weights: Any, out: Any, groups: int) -> None:
        seen.add((threading.current_thread().name, blas_threads()))
        planes(x, staging, weights, out, groups)

    monkeypatch.setitem(engine.CONTRACTIONS, "planes", spy)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 1)
    before = blas_threads()
    x = np.random.default_rng(5).random((16, 6, 6, 3))
    k = np.random.default_rng(6).random((3, 3, 3, 2))
    with forcing(conv="planes", threads=2):
        out = sc.conv(x, k)
    assert {threads for _, threads in seen} == {1}
    assert len({name for name, _ in seen}) == 2  # the caller and a helper
    assert blas_threads() == before
    with forcing(conv="einsum"):
        np.testing.assert_allclose(out, sc.conv(x, k))
