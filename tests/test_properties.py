"""Property tests: the public API against the naive reference, on drawn shapes and dtypes.

Every convolution test runs with each internal strategy forced (and with none forced, the
library's own choice); dtype, padding, stride and memory layout are drawn by hypothesis.
"""

from __future__ import annotations

import itertools
from contextlib import nullcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import stridedconv as sc
import stridedconv._engine as engine
from checks import (
    assert_exact_integers,
    assert_ieee_within_bound,
    assert_new_array,
    assert_unchanged,
    assert_within_bound,
    forcing,
    is_exact,
)
from reference import abs_correlate2d, correlate2d, pool2d
from strategies import (
    FLOAT_DTYPES,
    INTEGER_DTYPES,
    ConvCase,
    PoolCase,
    conv_cases,
    pool_cases,
    window_cases,
)

CONV_STRATEGIES = [None, *engine.CONV_STRATEGIES]
POOL_STRATEGIES = [None, *engine.POOL_STRATEGIES]


def _floating_errors(result_dtype: np.dtype) -> Any:
    # A float16 result of uint8/int8 images and float16 kernels can exceed the float16 range;
    # NumPy then warns "overflow encountered in cast" (an error under our filterwarnings).
    # The result is checked to be an infinity of the right sign instead.
    if result_dtype == np.float16:
        return np.errstate(over="ignore")
    return nullcontext()


def _check_conv(
    call: Any, case: ConvCase, images: np.ndarray, kernel: np.ndarray, squeeze: tuple[int, ...]
) -> None:
    """Run `call(images, kernel)` and compare it with the reference on the 4-D `case`.

    `images` and `kernel` are what `call` receives (views of the case's arrays with the
    unused axes dropped); `squeeze` lists the axes of the reference output to drop.
    """
    images_before, kernel_before = images.copy(), kernel.copy()
    exact = is_exact(images, kernel)
    result_dtype = None if exact else np.result_type(images, kernel)
    with _floating_errors(result_dtype):
        out = call(images, kernel)
    assert_new_array(out, images, kernel)
    assert_unchanged(images_before, images)
    assert_unchanged(kernel_before, kernel)

    ref = correlate2d(case.images, case.kernels, case.padding, case.stride)
    index = tuple(0 if axis in squeeze else slice(None) for axis in range(4))
    if exact:
        assert_exact_integers(out, ref[index])
    else:
        abs_ref = abs_correlate2d(case.images, case.kernels, case.padding, case.stride)
        assert_within_bound(out, ref[index], abs_ref[index], case.n_terms, result_dtype)


def _stride_argument(data: st.DataObject, stride: tuple[int, int]) -> int | tuple[int, int]:
    """The stride as given, or as one int when both axes are alike (the API accepts both)."""
    if stride[0] == stride[1] and data.draw(st.booleans(), label="stride as int"):
        return stride[0]
    return stride


# --- windows ----------------------------------------------------------------------------


@given(case=window_cases(), data=st.data())
def test_windows_are_the_explicit_slices(case: Any, data: st.DataObject) -> None:
    x, window, stride = case.x, case.window, case.stride
    d = len(window)
    window_arg: Any = window[0] if d == 1 and data.draw(st.booleans()) else window
    stride_arg: Any = stride[0] if len(set(stride)) == 1 and data.draw(st.booleans()) else stride
    before = x.copy()

    view = sc.windows(x, window_arg, stride_arg)

    m, spatial, rest = x.shape[0], x.shape[1 : 1 + d], x.shape[1 + d :]
    outs = tuple((n - k) // s + 1 for n, k, s in zip(spatial, window, stride, strict=True))
    assert view.shape == (m, *outs, *window, *rest)
    assert view.dtype == x.dtype
    assert view.flags.writeable is False
    if x.size > 0:
        assert np.shares_memory(view, x)
    for n, *position in itertools.product(range(m), *(range(o) for o in outs)):
        spans = zip(position, stride, window, strict=True)
        explicit = x[(n, *(slice(i * s, i * s + k) for i, s, k in spans))]
        np.testing.assert_array_equal(view[(n, *position)], explicit, strict=True)
    assert_unchanged(before, x)


# --- convolutions -----------------------------------------------------------------------


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@given(case=conv_cases(), data=st.data())
def test_convolve(strategy: str | None, case: ConvCase, data: st.DataObject) -> None:
    stride = _stride_argument(data, case.stride)

    def call(images: np.ndarray, kernels: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy):
            return sc.convolve(images, kernels, padding=case.padding, stride=stride)

    _check_conv(call, case, case.images, case.kernels, squeeze=())


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@given(case=conv_cases(features=False), data=st.data())
def test_convolve_channels(strategy: str | None, case: ConvCase, data: st.DataObject) -> None:
    stride = _stride_argument(data, case.stride)

    def call(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy):
            return sc.convolve_channels(images, kernel, padding=case.padding, stride=stride)

    _check_conv(call, case, case.images, case.kernels[..., 0], squeeze=(3,))


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@given(case=conv_cases(channels=False, features=False), data=st.data())
def test_convolve_grayscale(strategy: str | None, case: ConvCase, data: st.DataObject) -> None:
    stride = _stride_argument(data, case.stride)
    padding: Any = case.padding
    if isinstance(padding, tuple) and padding[0] == padding[1] and data.draw(st.booleans()):
        padding = padding[0]  # one int pads both axes alike

    def call(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy):
            return sc.convolve_grayscale(images, kernel, padding=padding, stride=stride)

    _check_conv(call, case, case.images[..., 0], case.kernels[..., 0, 0], squeeze=(3,))


GRAYSCALE_WRAPPERS = {
    "valid": lambda images, kernel, _: sc.convolve_grayscale_valid(images, kernel),
    "same": lambda images, kernel, _: sc.convolve_grayscale_same(images, kernel),
    "pair": lambda images, kernel, padding: sc.convolve_grayscale_padding(images, kernel, padding),
}


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@given(data=st.data())
def test_convolve_grayscale_wrappers(strategy: str | None, data: st.DataObject) -> None:
    """convolve_grayscale_valid, _same and _padding, the wrapper drawn per example."""
    wrapper = data.draw(st.sampled_from(sorted(GRAYSCALE_WRAPPERS)), label="wrapper")
    case = data.draw(
        conv_cases(channels=False, features=False, padding=wrapper, strided=False), label="case"
    )

    def call(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy):
            return GRAYSCALE_WRAPPERS[wrapper](images, kernel, case.padding)

    _check_conv(call, case, case.images[..., 0], case.kernels[..., 0, 0], squeeze=(3,))


@pytest.mark.parametrize(
    ("strategy", "integers"), list(itertools.product(engine.CONV_STRATEGIES, ("int64", "object")))
)
@given(case=conv_cases(dtypes=INTEGER_DTYPES))
def test_convolve_integer_paths(strategy: str, integers: str, case: ConvCase) -> None:
    """Forcing a wider exact path changes nothing: int64 results, or Python ints if too big."""

    def call(images: np.ndarray, kernels: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy, integers=integers):
            return sc.convolve(images, kernels, padding=case.padding, stride=case.stride)

    _check_conv(call, case, case.images, case.kernels, squeeze=())


def _inject_nonfinite(data: st.DataObject, array: np.ndarray) -> None:
    """Overwrite up to three elements of `array` with NaN, inf or -inf, in place."""
    if array.size == 0:
        return
    for _ in range(data.draw(st.integers(1, 3), label="non-finite values")):
        index = tuple(data.draw(st.integers(0, n - 1)) for n in array.shape)
        array[index] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@given(case=conv_cases(dtypes=FLOAT_DTYPES[1:]), data=st.data())
def test_convolve_nonfinite(strategy: str | None, case: ConvCase, data: st.DataObject) -> None:
    """NaN and inf propagate as IEEE says: inf * 0 is NaN, zero weights included."""
    _inject_nonfinite(data, case.images)
    zeros = data.draw(hnp.arrays(np.bool_, case.kernels.shape), label="zero weights")
    case.kernels[zeros] = 0
    with forcing(conv=strategy):
        out = sc.convolve(case.images, case.kernels, padding=case.padding, stride=case.stride)
    ref = correlate2d(case.images, case.kernels, case.padding, case.stride)
    abs_ref = abs_correlate2d(case.images, case.kernels, case.padding, case.stride)
    result_dtype = np.result_type(case.images, case.kernels)
    assert_ieee_within_bound(out, ref, abs_ref, case.n_terms, result_dtype)


# --- pooling ----------------------------------------------------------------------------


def _check_pool(case: PoolCase, **strategies: str | None) -> None:
    images = case.images
    before = images.copy()
    with forcing(**strategies):
        out = sc.pool(images, case.window, case.stride, mode=case.mode)
    assert_new_array(out, images)
    assert_unchanged(before, images)

    ref = pool2d(images, case.window, case.stride, case.mode)
    if case.mode == "max":
        # The maximum is one of the values: exact, in the images' dtype.
        np.testing.assert_array_equal(out, ref, strict=True)
    elif is_exact(images):
        # sum(ints) / count: the exact mean, correctly rounded to float64.
        np.testing.assert_array_equal(out, ref, strict=True)
    else:
        n_terms = case.window[0] * case.window[1] + 1  # the sum, then one division
        abs_ref = pool2d(np.abs(images), case.window, case.stride, "avg")
        assert_ieee_within_bound(out, ref, abs_ref, n_terms, images.dtype)


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@given(case=pool_cases())
def test_pool(strategy: str | None, case: PoolCase) -> None:
    _check_pool(case, pool=strategy)


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@given(case=pool_cases(dtypes=FLOAT_DTYPES), data=st.data())
def test_pool_nonfinite(strategy: str | None, case: PoolCase, data: st.DataObject) -> None:
    """'max' propagates NaN (and inf wins); 'avg' follows IEEE sums."""
    _inject_nonfinite(data, case.images)
    _check_pool(case, pool=strategy)


@pytest.mark.parametrize(
    ("strategy", "integers"), list(itertools.product(engine.POOL_STRATEGIES, ("int64", "object")))
)
@given(case=pool_cases(modes=("avg",), dtypes=INTEGER_DTYPES))
def test_pool_avg_integer_paths(strategy: str, integers: str, case: PoolCase) -> None:
    """Forcing a wider exact path keeps the correctly rounded float64 mean."""
    _check_pool(case, pool=strategy, integers=integers)
