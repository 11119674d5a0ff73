"""Bad input: a TypeError or ValueError naming the argument, what was expected and what was given.

Every call is checked to leave its inputs untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import stridedconv as sc

GRAY = np.arange(2 * 6 * 6, dtype=np.float64).reshape(2, 6, 6)
RGB = np.arange(2 * 6 * 6 * 3, dtype=np.float64).reshape(2, 6, 6, 3)
K2 = np.ones((3, 3))
K3 = np.ones((3, 3, 3))
K4 = np.ones((3, 3, 3, 2))

# One entry per function: a call with good arguments, given as (function, args, kwargs).
GOOD_CALLS: dict[str, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {
    "valid": (sc.convolve_grayscale_valid, (GRAY, K2), {}),
    "same": (sc.convolve_grayscale_same, (GRAY, K2), {}),
    "padding": (sc.convolve_grayscale_padding, (GRAY, K2, (1, 1)), {}),
    "grayscale": (sc.convolve_grayscale, (GRAY, K2), {}),
    "channels": (sc.convolve_channels, (RGB, K3), {}),
    "convolve": (sc.convolve, (RGB, K4), {}),
    "pool": (sc.pool, (RGB, (2, 2), (2, 2)), {}),
}
STRIDED = ["grayscale", "channels", "convolve", "pool"]
PADDED = ["grayscale", "channels", "convolve"]


def call(name: str, *, arg: int | None = None, value: Any = None, **kwargs: Any) -> Any:
    """Call the function `name` with positional argument `arg` replaced by `value`."""
    function, args, defaults = GOOD_CALLS[name]
    args = tuple(value if i == arg else a for i, a in enumerate(args))
    return function(*args, **{**defaults, **kwargs})


@pytest.fixture(autouse=True)
def _inputs_untouched() -> Any:
    before = [a.copy() for a in (GRAY, RGB, K2, K3, K4)]
    yield
    for array, copy in zip((GRAY, RGB, K2, K3, K4), before, strict=True):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("name", list(GOOD_CALLS))
def test_good_calls_work(name: str) -> None:
    assert call(name).flags.writeable


@pytest.mark.parametrize("name", list(GOOD_CALLS))
@pytest.mark.parametrize(
    ("value", "match"),
    [
        (None, r"images must be an array of numbers, got None"),
        (np.array([["a"]]), r"images must hold numbers .* got dtype <U1"),
        (np.empty((2, 6, 6), dtype=object), r"images must hold numbers .* got dtype object"),
        (np.empty((2, 6, 6), dtype="datetime64[s]"), r"images must hold numbers .*datetime64"),
    ],
)
def test_images_of_no_numbers(name: str, value: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        call(name, arg=0, value=value)


@pytest.mark.parametrize("name", [n for n in GOOD_CALLS if n != "pool"])
def test_kernel_of_no_numbers(name: str) -> None:
    kernel_name = "kernels" if name == "convolve" else "kernel"
    with pytest.raises(TypeError, match=rf"{kernel_name} must be an array of numbers, got None"):
        call(name, arg=1, value=None)
    with pytest.raises(TypeError, match=rf"{kernel_name} must hold numbers .* got dtype <U1"):
        call(name, arg=1, value=[["x"]])


def test_ragged_images() -> None:
    with pytest.raises(ValueError, match=r"images must be a rectangular array .* ragged"):
        sc.convolve_grayscale_valid([[[1, 2], [3]]], K2)


@pytest.mark.parametrize(
    ("name", "shape", "layout"),
    [
        ("valid", (6, 6), "(m, h, w)"),
        ("same", (1, 6, 6, 1), "(m, h, w)"),
        ("padding", (6,), "(m, h, w)"),
        ("grayscale", (2, 6, 6, 1), "(m, h, w)"),
        ("channels", (2, 6, 6), "(m, h, w, c)"),
        ("convolve", (6, 6, 3), "(m, h, w, c)"),
        ("pool", (2, 6, 6), "(m, h, w, c)"),
    ],
)
def test_images_of_wrong_ndim(name: str, shape: tuple[int, ...], layout: str) -> None:
    ndim = layout.count(",") + 1
    expected = f"images must be a {ndim}-D array of shape {layout}, got shape {shape}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        call(name, arg=0, value=np.zeros(shape))


@pytest.mark.parametrize(
    ("name", "shape", "message"),
    [
        ("valid", (3,), r"kernel must be a 2-D array of shape \(kh, kw\), got shape \(3,\)"),
        ("grayscale", (3, 3, 1), r"kernel must be a 2-D array .* got shape \(3, 3, 1\)"),
        ("channels", (3, 3), r"kernel must be a 3-D array of shape \(kh, kw, c\), got shape"),
        ("convolve", (3, 3, 3), r"kernels must be a 4-D array of shape \(kh, kw, c, nc\)"),
    ],
)
def test_kernel_of_wrong_ndim(name: str, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(name, arg=1, value=np.ones(shape))


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("valid", (0, 3)),
        ("same", (3, 0)),
        ("channels", (3, 3, 0)),
        ("convolve", (3, 3, 3, 0)),
        ("convolve", (0, 3, 3, 2)),
    ],
)
def test_kernel_with_an_empty_axis(name: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"must have no axis of length 0, got shape"):
        call(name, arg=1, value=np.ones(shape))


@pytest.mark.parametrize(
    ("name", "kernel", "message"),
    [
        ("channels", np.ones((3, 3, 2)), r"kernel has 2 channels \(axis 2\) but images have 3"),
        ("convolve", np.ones((3, 3, 4, 2)), r"kernels has 4 channels \(axis 2\) but images have 3"),
    ],
)
def test_channels_disagree(name: str, kernel: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(name, arg=1, value=kernel)


@pytest.mark.parametrize(
    ("name", "kernel", "kwargs", "message"),
    [
        (
            "valid",
            np.ones((7, 3)),
            {},
            r"kernel window \(7, 3\) does not fit in images of "
            r"spatial shape \(6, 6\) padded to \(6, 6\)",
        ),
        ("padding", np.ones((9, 3)), {}, r"padded to \(8, 8\)"),
        ("grayscale", np.ones((3, 8)), {"padding": "valid"}, r"does not fit"),
        ("channels", np.ones((7, 7, 3)), {"padding": (0, 0)}, r"kernel window \(7, 7\)"),
        ("convolve", np.ones((3, 9, 3, 1)), {"padding": 1}, r"kernels window \(3, 9\)"),
    ],
)
def test_kernel_larger_than_padded_images(
    name: str, kernel: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call(name, arg=1, value=kernel, **kwargs)


def test_pool_window_larger_than_images() -> None:
    with pytest.raises(ValueError, match=r"kernel_shape window \(7, 2\) does not fit in images"):
        sc.pool(RGB, (7, 2), (1, 1))


def test_same_padding_fits_any_kernel() -> None:
    # 'same' pads as much as the kernel needs, so a kernel larger than the image is fine.
    assert sc.convolve_grayscale_same(GRAY, np.ones((9, 9))).shape == GRAY.shape


@pytest.mark.parametrize("name", STRIDED)
@pytest.mark.parametrize(
    ("stride", "error", "message"),
    [
        (
            (0, 1),
            ValueError,
            r"stride must be positive, got \(0, 1\)",
        ),
        ((1, -2), ValueError, r"got \(1, -2\)"),
        (-1, ValueError, r"^stride must be positive, got -1$"),
        ((1.0, 1), TypeError, r"stride must be .* got \(1.0, 1\)"),
        (1.5, TypeError, r"got 1.5"),
        ((1, 1, 1), ValueError, r"got 3 values: \(1, 1, 1\)"),
        ((1,), ValueError, r"got 1 value: \(1,\)"),
        ((True, 1), TypeError, r"got \(True, 1\)"),
        ("2", TypeError, r"got '2'"),
        (None, TypeError, r"got None"),
    ],
)
def test_bad_stride(name: str, stride: Any, error: type[Exception], message: str) -> None:
    if name == "pool" and stride is None:
        pytest.skip("pool's stride is the window by default")
    kwargs = {"arg": 2, "value": stride} if name == "pool" else {"stride": stride}
    with pytest.raises(error, match=message):
        call(name, **kwargs)


@pytest.mark.parametrize(
    ("shape", "error", "message"),
    [
        ((0, 2), ValueError, r"kernel_shape must be positive, got \(0, 2\)"),
        # Three window axes make a 3-D pooling, which needs 5-D images.
        ((2, 2, 2), ValueError, r"images must be a 5-D array .*kernel_shape \(2, 2, 2\) has 3"),
        ((2.0, 2), TypeError, r"kernel_shape .* got \(2.0, 2\)"),
        (None, TypeError, r"kernel_shape .* got None"),
    ],
)
def test_bad_pool_window(shape: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        sc.pool(RGB, shape, (1, 1))


@pytest.mark.parametrize("name", [*PADDED, "padding"])
@pytest.mark.parametrize(
    ("padding", "error", "message"),
    [
        (
            (-1, 0),
            ValueError,
            r"padding must be 'same', 'valid', an int or a sequence of 2 "
            r"non-negative ints, got \(-1, 0\)",
        ),
        (-2, ValueError, r"got -2"),
        ((1, 1, 1), ValueError, r"got \(1, 1, 1\)"),
        ((1.5, 1), TypeError, r"got \(1.5, 1\)"),
        ("full", ValueError, r"padding must be 'same', 'valid' .* unknown word 'full'"),
        (None, TypeError, r"padding must be .* got None"),
    ],
)
def test_bad_padding(name: str, padding: Any, error: type[Exception], message: str) -> None:
    kwargs = {"arg": 2, "value": padding} if name == "padding" else {"padding": padding}
    with pytest.raises(error, match=message):
        call(name, **kwargs)


def test_padding_words_ignore_case() -> None:
    np.testing.assert_array_equal(
        sc.convolve_grayscale(GRAY, K2, padding="SAME"), sc.convolve_grayscale_same(GRAY, K2)
    )


@pytest.mark.parametrize(
    ("mode", "error"),
    [("average", ValueError), ("", ValueError), (None, TypeError), (1, TypeError)],
)
def test_unknown_pool_mode(mode: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"mode must be one of 'max', 'avg', 'min', 'sum', got"):
        sc.pool(RGB, (2, 2), (2, 2), mode=mode)


def test_max_pool_of_complex() -> None:
    with pytest.raises(TypeError, match=r"mode='max' needs real images .* got complex128"):
        sc.pool(RGB.astype(complex), (2, 2), (2, 2))


@pytest.mark.parametrize(
    ("call_windows", "error", "message"),
    [
        (lambda: sc.windows(GRAY, (7, 2)), ValueError, r"window_shape \(7, 2\) .* does not fit"),
        (
            lambda: sc.windows(GRAY, (2, 2, 2)),
            ValueError,
            r"x must have a batch axis and 3 spatial",
        ),
        (lambda: sc.windows(GRAY, ()), TypeError, r"window_shape must be an int or a non-empty"),
        (lambda: sc.windows(GRAY, "22"), TypeError, r"window_shape must be .* got '22'"),
        (lambda: sc.windows(GRAY, (2, 0)), ValueError, r"window_shape must be positive"),
        (lambda: sc.windows(GRAY, (2, 2), stride=0), ValueError, r"stride must be"),
        (lambda: sc.windows(GRAY, (2, 2), dilation=(1,)), ValueError, r"dilation .* 1 value:"),
    ],
)
def test_bad_windows(call_windows: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call_windows()
