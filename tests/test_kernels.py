"""The named kernels of stridedconv.kernels: shapes, dtypes and the properties they promise."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
from stridedconv import kernels

FIXED = kernels.BY_NAME
DERIVATIVES = [kernels.sobel_x, kernels.sobel_y, kernels.prewitt, lambda: kernels.prewitt("y")]
SUM_TO_ONE = [kernels.box, kernels.gaussian, kernels.sharpen, kernels.emboss]

# One 9x9 image each: brightness growing by 1 per column, per row, and x**2 + y**2.
_y, _x = np.mgrid[0:9, 0:9].astype(np.float64)
RAMP_X = _x[None]
RAMP_Y = _y[None]
PARABOLOID = (_x**2 + _y**2)[None]


@pytest.mark.parametrize("name", sorted(FIXED))
def test_float64_2d_kernels_that_the_convolutions_take(name: str) -> None:
    kernel = FIXED[name]()
    assert isinstance(kernel, np.ndarray)
    assert kernel.dtype == np.float64
    assert kernel.ndim == 2
    assert kernel.flags.writeable
    assert sc.convolve_grayscale_same(np.ones((2, 8, 8)), kernel).shape == (2, 8, 8)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_every_call_returns_a_new_array(name: str) -> None:
    first = FIXED[name]()
    expected = first.copy()
    first[...] = 123.0
    np.testing.assert_array_equal(FIXED[name](), expected)


def test_all_names_are_public() -> None:
    assert sorted(kernels.__all__) == sorted(FIXED)
    assert sc.kernels is kernels


def test_sobel_on_a_ramp_is_constant() -> None:
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_X, kernels.sobel_x()), 8.0)
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_Y, kernels.sobel_y()), 8.0)
    # Each Sobel kernel is blind to the other direction.
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_Y, kernels.sobel_x()), 0.0)
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_X, kernels.sobel_y()), 0.0)


def test_prewitt_on_a_ramp_is_constant() -> None:
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_X, kernels.prewitt()), 6.0)
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_Y, kernels.prewitt("y")), 6.0)
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_X, kernels.prewitt("y")), 0.0)


def test_prewitt_x_is_the_exercise_kernel_negated() -> None:
    np.testing.assert_array_equal(-kernels.prewitt(), [[1, 0, -1]] * 3)


@pytest.mark.parametrize("kernel", DERIVATIVES)
def test_derivatives_sum_to_zero(kernel: Callable[[], np.ndarray]) -> None:
    assert kernel().sum() == 0.0


@pytest.mark.parametrize("diagonals", [False, True])
def test_laplacian_is_zero_on_ramps_and_constant_on_a_paraboloid(diagonals: bool) -> None:
    kernel = kernels.laplacian(diagonals)
    assert kernel.sum() == 0.0
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(RAMP_X + RAMP_Y, kernel), 0.0)
    # d2/dx2 + d2/dy2 of x**2 + y**2 is 4; the diagonal taps see the corners' curvature too.
    expected = 12.0 if diagonals else 4.0
    np.testing.assert_array_equal(sc.convolve_grayscale_valid(PARABOLOID, kernel), expected)


@pytest.mark.parametrize("kernel", SUM_TO_ONE)
def test_smoothing_and_effects_sum_to_one_and_keep_flat_images(
    kernel: Callable[[], np.ndarray],
) -> None:
    k = kernel()
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    flat = np.full((1, 9, 9), 7.0)
    np.testing.assert_allclose(sc.convolve_grayscale_valid(flat, k), 7.0, rtol=1e-12)


def test_sharpen_is_identity_minus_laplacian() -> None:
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    np.testing.assert_array_equal(kernels.sharpen(), identity - kernels.laplacian())


@pytest.mark.parametrize("size", [1, 2, 3, (1, 4), (2, 5)])
def test_box_is_uniform_mean(size: int | tuple[int, int]) -> None:
    kernel = kernels.box(size)
    expected_shape = (size, size) if isinstance(size, int) else size
    assert kernel.shape == expected_shape
    assert np.all(kernel == kernel.flat[0])
    assert kernel.sum() == pytest.approx(1.0)


@given(size=st.integers(1, 15), sigma=st.floats(0.05, 50.0))
def test_gaussian_sums_to_one_is_symmetric_and_peaks_at_the_centre(size: int, sigma: float) -> None:
    kernel = kernels.gaussian(size, sigma)
    assert kernel.shape == (size, size)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(kernel >= 0)
    np.testing.assert_allclose(kernel, kernel.T, rtol=1e-15)
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1], rtol=1e-12)
    centre = (size - 1) // 2
    assert kernel.max() == pytest.approx(kernel[centre, centre])


def test_gaussian_matches_the_formula() -> None:
    kernel = kernels.gaussian(5, 1.5)
    d = np.arange(5) - 2.0
    expected = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * 1.5**2))
    np.testing.assert_allclose(kernel, expected / expected.sum(), rtol=1e-14)


def test_gaussian_narrows_to_a_delta() -> None:
    kernel = kernels.gaussian(3, 0.01)
    assert kernel[1, 1] == pytest.approx(1.0)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("sigma", [1e-300, math.ulp(0.0), np.float32(1e-45), Fraction(1, 10**400)])
def test_gaussian_of_a_tiny_sigma_is_the_delta(size: int, sigma: object) -> None:
    # Without warnings (they are errors under pytest): no 0 / 0, no NaN.
    kernel = kernels.gaussian(size, sigma)
    expected = np.zeros((size, size))
    centre = slice((size - 1) // 2, size // 2 + 1)  # one tap, or the 2x2 centre taps
    expected[centre, centre] = 1.0 / (2 - size % 2) ** 2
    np.testing.assert_array_equal(kernel, expected)


@pytest.mark.parametrize("size", [1, 2, 3, 6])
@pytest.mark.parametrize(
    "sigma",
    [
        1e300,
        np.float64(1e308),
        pytest.param(10**400, id="10**400"),
        pytest.param(Fraction(10**400, 3), id="10**400/3"),
    ],
)
def test_gaussian_of_a_huge_sigma_is_the_box(size: int, sigma: object) -> None:
    kernel = kernels.gaussian(size, sigma)
    np.testing.assert_allclose(kernel, kernels.box(size), rtol=1e-15)


@pytest.mark.parametrize(
    "size", [np.int64(3), np.uint64(3), np.int8(3), np.array(3), np.array(3, dtype=np.uint16)]
)
def test_sizes_are_whatever_operator_index_takes(size: object) -> None:
    assert kernels.gaussian(size).shape == (3, 3)
    assert kernels.box(size).shape == (3, 3)
    assert kernels.box((size, 2)).shape == (3, 2)
    assert kernels.box(np.array([3, 2])).shape == (3, 2)


def test_sigmas_are_real_numbers_of_any_kind() -> None:
    expected = kernels.gaussian(5, 2.0)
    for sigma in (2, np.int32(2), np.float32(2.0), np.longdouble(2.0), Fraction(2)):
        np.testing.assert_allclose(kernels.gaussian(5, sigma), expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("call", "size"),
    [
        (lambda: kernels.gaussian(np.uint64(2**63)), "np.uint64(9223372036854775808)"),
        (lambda: kernels.gaussian(10**8), "100000000"),
        (lambda: kernels.box(10**8), "100000000"),
        (lambda: kernels.box((1, 2**63)), "(1, 9223372036854775808)"),
        pytest.param(lambda: kernels.box(10**400), "1" + "0" * 400, id="10**400"),
    ],
)
def test_a_kernel_too_large_fails_at_once_naming_size(
    call: Callable[[], object], size: str
) -> None:
    # The result is allocated before any other work, so this takes no time.
    with pytest.raises(
        MemoryError, match=rf"^size={re.escape(size)} asks for a float64 kernel of shape"
    ):
        call()


def test_the_memory_error_gives_the_shape_and_the_bytes() -> None:
    with pytest.raises(MemoryError) as error:
        kernels.gaussian(10**8)
    assert "(100000000, 100000000)" in str(error.value)
    assert "80000000000000000 bytes" in str(error.value)


def test_laplacian_takes_numpy_bools() -> None:
    np.testing.assert_array_equal(kernels.laplacian(np.True_), kernels.laplacian(True))
    np.testing.assert_array_equal(kernels.laplacian(np.False_), kernels.laplacian(False))


def test_prewitt_axis_is_case_insensitive() -> None:
    np.testing.assert_array_equal(kernels.prewitt("X"), kernels.prewitt("x"))
    np.testing.assert_array_equal(kernels.prewitt("Y"), kernels.prewitt("y"))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: kernels.gaussian(0), ValueError, "size must be positive, got 0"),
        (lambda: kernels.gaussian(-1), ValueError, "size must be positive, got -1"),
        (lambda: kernels.gaussian(2.5), TypeError, "size must be a positive int, got 2.5"),
        (lambda: kernels.gaussian(3.0), TypeError, "size must be a positive int, got 3.0"),
        (lambda: kernels.gaussian(True), TypeError, "size must be a positive int, got True"),
        (
            lambda: kernels.gaussian(np.True_),
            TypeError,
            "size must be a positive int, got np.True_",
        ),
        (lambda: kernels.gaussian(np.array(3.0)), TypeError, "size must be a positive int, got"),
        (lambda: kernels.gaussian(np.array([3])), TypeError, "size must be a positive int, got"),
        (lambda: kernels.gaussian("3"), TypeError, "size must be a positive int, got '3'"),
        (lambda: kernels.gaussian(3, 0.0), ValueError, "sigma must be a positive"),
        (lambda: kernels.gaussian(3, -1), ValueError, "sigma must be a positive, finite real"),
        (lambda: kernels.gaussian(3, float("nan")), ValueError, "sigma must be .* got nan"),
        (lambda: kernels.gaussian(3, np.nan), ValueError, "sigma must be .* got nan"),
        (lambda: kernels.gaussian(3, float("inf")), ValueError, "sigma must be .* got inf"),
        (lambda: kernels.gaussian(3, -np.inf), ValueError, "sigma must be .* got -inf"),
        (lambda: kernels.gaussian(3, "1"), TypeError, "sigma must be a positive real number"),
        (
            lambda: kernels.gaussian(3, 1j),
            TypeError,
            "sigma must be a positive real number, got 1j",
        ),
        (lambda: kernels.gaussian(3, 1 + 0j), TypeError, "sigma must be a positive real number"),
        (lambda: kernels.gaussian(3, np.complex128(1)), TypeError, "sigma must be a positive real"),
        (lambda: kernels.gaussian(3, True), TypeError, "sigma must be a positive real .* True"),
        (lambda: kernels.gaussian(3, np.True_), TypeError, "sigma must be a positive real number"),
        (lambda: kernels.gaussian(3, None), TypeError, "sigma must be a positive real number"),
        (lambda: kernels.box(0), ValueError, "size must be positive, got 0"),
        (lambda: kernels.box((2, 0)), ValueError, "size must be positive, got"),
        (lambda: kernels.box((1, 2, 3)), ValueError, "size must be .* got 3 values"),
        (lambda: kernels.box(1.5), TypeError, "size must be an int or a sequence of 2 positive"),
        (lambda: kernels.box(True), TypeError, "size must be an int or a sequence of 2 positive"),
        (lambda: kernels.box((2, True)), TypeError, "size must be an int or a sequence of 2"),
        (lambda: kernels.box((2, 2.0)), TypeError, "size must be an int or a sequence of 2"),
        (lambda: kernels.box("ab"), TypeError, "size must be an int or a sequence of 2"),
        (lambda: kernels.box(None), TypeError, "size must be an int or a sequence of 2"),
        (lambda: kernels.laplacian("no"), TypeError, "diagonals must be True or False, got 'no'"),
        (lambda: kernels.laplacian(8), TypeError, "diagonals must be True or False, got 8"),
        (lambda: kernels.laplacian(None), TypeError, "diagonals must be True or False, got None"),
        (lambda: kernels.prewitt("z"), ValueError, "axis must be 'x' or 'y', got 'z'"),
        (lambda: kernels.prewitt("xy"), ValueError, "axis must be 'x' or 'y', got 'xy'"),
        (lambda: kernels.prewitt(None), TypeError, "axis must be the string 'x' or 'y', got None"),
        (lambda: kernels.prewitt(0), TypeError, "axis must be the string 'x' or 'y', got 0"),
    ],
)
def test_bad_arguments_are_named(
    call: Callable[[], object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(")):
        call()
