"""`out=` and `dtype=` on every operation.

The result is `out` itself, whatever its layout (C order, Fortran order, strided, reversed,
channels first, a ``np.memmap``), holding the plain call's values cast to its dtype;
``dtype=`` gives results of that dtype (native byte order), computed in it: exact for integer
dtypes, rounded like any float computation for float dtypes. Byte-swapped inputs give results
in native byte order. A property test draws the problem, the dtype, the form of `out` and the
engine's strategy.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import stridedconv as sc
import stridedconv._engine as engine
from checks import assert_unchanged, assert_within_bound, forcing
from strategies import arrays
from stridedconv._dtypes import abs_sum, int64_holds_sums, max_abs

RNG = np.random.default_rng(20261125)
GRAY = RNG.standard_normal((3, 7, 6))
RGB = RNG.standard_normal((3, 7, 6, 3))
K2 = RNG.standard_normal((3, 2))
K3 = RNG.standard_normal((3, 2, 3))
K4 = RNG.standard_normal((3, 2, 3, 4))
BIAS = RNG.standard_normal(4)
# uint8 images and small integer kernels: every exact result is below 2**24, so float32
# holds it exactly, and below 2**15, so int16 does too (255 * 2 * 18 * 3 = 27540).
U8_GRAY = RNG.integers(0, 256, (3, 7, 6), dtype=np.uint8)
U8_RGB = RNG.integers(0, 256, (3, 7, 6, 3), dtype=np.uint8)
I_K2 = RNG.integers(-2, 3, (3, 2)).astype(np.int8)
I_K3 = RNG.integers(-2, 3, (3, 2, 3)).astype(np.int8)
I_K4 = RNG.integers(-2, 3, (3, 2, 3, 4)).astype(np.int8)
I_BIAS = np.array([-3, 0, 5, 7], np.int16)

Call = Callable[..., np.ndarray]
MODES = ["max", "min", "avg", "sum"]


def _operations(
    gray: np.ndarray, rgb: np.ndarray, k2: Any, k3: Any, k4: Any, bias: Any
) -> dict[str, Call]:
    """Every operation, as a call that takes only `out=` and `dtype=`."""
    first = np.ascontiguousarray(np.moveaxis(rgb, -1, 1))
    return {
        "convolve_grayscale_valid": lambda **kw: sc.convolve_grayscale_valid(gray, k2, **kw),
        "convolve_grayscale_same": lambda **kw: sc.convolve_grayscale_same(gray, k2, **kw),
        "convolve_grayscale_padding": lambda **kw: sc.convolve_grayscale_padding(
            gray, k2, (1, 2), **kw
        ),
        "convolve_grayscale": lambda **kw: sc.convolve_grayscale(gray, k2, "same", (2, 1), **kw),
        "convolve_channels": lambda **kw: sc.convolve_channels(rgb, k3, "valid", 2, **kw),
        "convolve": lambda **kw: sc.convolve(rgb, k4, (1, 0), (1, 2), **kw),
        "conv": lambda **kw: sc.conv(
            rgb, k4, stride=(2, 1), padding="same", dilation=(1, 2), bias=bias, **kw
        ),
        "conv channels first": lambda **kw: sc.conv(
            first, k4, padding=((1, 0), (0, 2)), bias=bias, data_format="NCHW", **kw
        ),
        "conv groups reflect": lambda **kw: sc.conv(
            rgb, k4[:, :, :1, :3], padding=1, groups=3, padding_mode="reflect", **kw
        ),
        "conv 1-d": lambda **kw: sc.conv(rgb[:, 0], k4[0], padding="full", **kw),
        **{
            f"pool {mode}": lambda mode=mode, **kw: sc.pool(rgb, (3, 2), (2, 1), mode, **kw)
            for mode in MODES
        },
        **{
            f"pool {mode} padded": lambda mode=mode, **kw: sc.pool(
                rgb, 3, 2, mode, padding=1, ceil_mode=True, count_include_pad=False, **kw
            )
            for mode in MODES
        },
        **{
            f"pool {mode} channels first": lambda mode=mode, **kw: sc.pool(
                first, 2, mode=mode, data_format="channels_first", **kw
            )
            for mode in MODES
        },
    }


FLOAT_OPS = _operations(GRAY, RGB, K2, K3, K4, BIAS)
EXACT_OPS = _operations(U8_GRAY, U8_RGB, I_K2, I_K3, I_K4, I_BIAS)
INPUTS = (GRAY, RGB, K2, K3, K4, BIAS, U8_GRAY, U8_RGB, I_K2, I_K3, I_K4, I_BIAS)
NAMES = list(FLOAT_OPS)
# Every operation but the means: the only one whose exact-input result is not an integer.
INTEGER_NAMES = [name for name in NAMES if "avg" not in name]


def _exact_dtype(name: str) -> np.dtype:
    """The dtype of an operation's result for uint8 images and int8 kernels: the means give
    float64, maxima and minima keep uint8, sums and convolutions give exact int64."""
    if "avg" in name:
        return np.dtype(np.float64)
    return np.dtype(np.uint8 if "max" in name or "min" in name else np.int64)


@pytest.fixture(autouse=True)
def _inputs_untouched() -> Any:
    before = [array.copy() for array in INPUTS]
    yield
    for array, copy in zip(INPUTS, before, strict=True):
        assert_unchanged(copy, array)


def _poison(dtype: np.dtype) -> Any:
    """A value that no result here holds, to show where out was not written."""
    return np.nan if dtype.kind in "fc" else np.iinfo(dtype).max


def _out(shape: tuple[int, ...], dtype: Any, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """An `out` of `shape` and `dtype` in `layout`, and the buffer it is a view of (whose
    other values hold a poison value)."""
    dtype = np.dtype(dtype)
    if layout == "C":
        buffer = np.full(shape, _poison(dtype), dtype)
        return buffer, buffer
    if layout == "F":
        buffer = np.asfortranarray(np.full(shape, _poison(dtype), dtype))
        return buffer, buffer
    if layout == "strided":  # every other element of the last axis
        buffer = np.full((*shape[:-1], 2 * shape[-1]), _poison(dtype), dtype)
        return buffer[..., ::2], buffer
    if layout == "reversed":
        buffer = np.full(shape, _poison(dtype), dtype)
        return buffer[::-1], buffer
    if layout == "transposed":  # the axes of a buffer in the opposite order
        buffer = np.full(shape[::-1], _poison(dtype), dtype)
        return buffer.T, buffer
    raise NotImplementedError(layout)


LAYOUTS = ["C", "F", "strided", "reversed", "transposed"]


# --- the result is out ------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", NAMES)
def test_the_result_is_out_in_any_layout(name: str, layout: str) -> None:
    plain = FLOAT_OPS[name]()
    out, buffer = _out(plain.shape, plain.dtype, layout)
    result = FLOAT_OPS[name](out=out)
    assert result is out
    np.testing.assert_array_equal(out, plain, strict=True)
    if layout == "strided":  # nothing but out's own elements was written
        assert np.isnan(buffer[..., 1::2]).all()


@pytest.mark.parametrize("name", NAMES)
def test_exact_results_into_out(name: str) -> None:
    plain = EXACT_OPS[name]()
    assert plain.dtype == _exact_dtype(name)
    out = np.zeros_like(plain)
    assert EXACT_OPS[name](out=out) is out
    np.testing.assert_array_equal(out, plain, strict=True)


@pytest.mark.parametrize("out_dtype", ["float64", "complex128"])
@pytest.mark.parametrize("name", NAMES)
def test_out_of_a_wider_dtype(name: str, out_dtype: str) -> None:
    # int64 and float64 cast safely to float64 and complex128: out's dtype, the same values.
    plain = EXACT_OPS[name]()
    out = np.zeros(plain.shape, out_dtype)
    assert EXACT_OPS[name](out=out) is out
    np.testing.assert_array_equal(out, plain.astype(out_dtype), strict=True)


@pytest.mark.parametrize("name", NAMES)
def test_out_with_a_dtype(name: str) -> None:
    # The arithmetic in float32, the values written into a float64 out.
    computed = FLOAT_OPS[name](dtype="float32")
    out = np.zeros(computed.shape)
    assert FLOAT_OPS[name](out=out, dtype="float32") is out
    np.testing.assert_array_equal(out, computed.astype(np.float64), strict=True)


FIRST = np.ascontiguousarray(np.moveaxis(RGB, -1, 1))
CHANNELS_FIRST: dict[str, Call] = {
    "conv": lambda **kw: sc.conv(FIRST, K4, bias=BIAS, data_format="channels_first", **kw),
    "conv NCHW strided": lambda **kw: sc.conv(FIRST, K4, stride=2, data_format="NCHW", **kw),
    **{
        f"pool {mode}": lambda mode=mode, **kw: sc.pool(FIRST, 2, 1, mode, data_format="NCHW", **kw)
        for mode in MODES
    },
}


@pytest.mark.parametrize("layout", ["C", "channels last buffer", "F"])
@pytest.mark.parametrize("name", list(CHANNELS_FIRST))
def test_channels_first_out(name: str, layout: str) -> None:
    plain = CHANNELS_FIRST[name]()
    m, c, *spatial = plain.shape
    if layout == "channels last buffer":  # (m, c, ...) viewed from an (m, ..., c) buffer
        out = np.moveaxis(np.full((m, *spatial, c), np.nan), -1, 1)
    else:
        out = np.full(plain.shape, np.nan, order=layout[0])
    assert CHANNELS_FIRST[name](out=out) is out
    np.testing.assert_array_equal(out, plain, strict=True)


@pytest.mark.parametrize("name", ["convolve_grayscale_same", "convolve", "conv", "pool avg"])
def test_a_memmap_out(name: str, tmp_path: Path) -> None:
    plain = FLOAT_OPS[name]()
    path = tmp_path / "result.dat"
    out = np.memmap(path, dtype=np.float64, mode="w+", shape=plain.shape)
    result = FLOAT_OPS[name](out=out)
    assert result is out
    out.flush()
    del out, result
    np.testing.assert_array_equal(np.fromfile(path).reshape(plain.shape), plain)


def test_a_memmap_out_in_a_npy_file_with_a_dtype(tmp_path: Path) -> None:
    plain = EXACT_OPS["convolve"]()
    path = tmp_path / "result.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.int16, shape=plain.shape)
    assert EXACT_OPS["convolve"](out=out, dtype="int16") is out
    out.flush()
    del out
    np.testing.assert_array_equal(np.load(path), plain.astype(np.int16), strict=True)


def test_a_read_only_memmap_out_is_refused(tmp_path: Path) -> None:
    plain = FLOAT_OPS["conv"]()
    path = tmp_path / "result.dat"
    np.zeros(plain.shape).tofile(path)
    out = np.memmap(path, dtype=np.float64, mode="r", shape=plain.shape)
    with pytest.raises(ValueError, match=r"^out must be writeable, got a read-only array$"):
        FLOAT_OPS["conv"](out=out)
    np.testing.assert_array_equal(np.fromfile(path), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_a_failed_check_leaves_out_untouched(name: str) -> None:
    plain = FLOAT_OPS[name]()
    out = np.full(plain.shape, 7.0)
    with pytest.raises(TypeError, match=r"^dtype must hold .* got dtype='int64'$"):
        FLOAT_OPS[name](out=out, dtype="int64")
    np.testing.assert_array_equal(out, 7.0)


# --- dtype ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_float32_of_uint8_images(name: str) -> None:
    exact = EXACT_OPS[name]()
    assert exact.dtype == _exact_dtype(name)
    result = EXACT_OPS[name](dtype="float32")
    assert result.dtype == np.float32
    assert result.flags.c_contiguous
    assert result.flags.writeable
    np.testing.assert_allclose(result, exact, rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", ["int16", "int32", "int64"])
@pytest.mark.parametrize("name", INTEGER_NAMES)
def test_integer_dtypes_give_the_exact_values(name: str, dtype: str) -> None:
    exact = EXACT_OPS[name]()
    assert exact.dtype == _exact_dtype(name)
    result = EXACT_OPS[name](dtype=dtype)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result.astype(np.int64), exact.astype(np.int64), strict=True)
    out = np.zeros(exact.shape, dtype)
    assert EXACT_OPS[name](out=out, dtype=dtype) is out
    np.testing.assert_array_equal(out, result, strict=True)


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "complex64"])
@pytest.mark.parametrize("images", [U8_RGB, RGB], ids=["uint8", "float64"])
def test_avg_pooling_in_a_float_dtype(images: np.ndarray, dtype: str) -> None:
    mean = sc.pool(images, 3, 2, "avg", padding=1, count_include_pad=False)
    assert mean.dtype == np.float64
    result = sc.pool(images, 3, 2, "avg", padding=1, count_include_pad=False, dtype=dtype)
    assert result.dtype == dtype
    rtol = {"float16": 1e-3, "float32": 1e-6, "complex64": 1e-6}.get(dtype, 1e-15)
    np.testing.assert_allclose(result, mean, rtol=rtol, atol=rtol * np.abs(mean).max())


def test_an_asked_dtype_is_native() -> None:
    for dtype in [">f4", ">i4", "<f8"]:
        result = sc.convolve_grayscale_same(U8_GRAY, I_K2, dtype=dtype)
        assert result.dtype == np.dtype(dtype).newbyteorder("=")
        assert result.dtype.isnative
        result = sc.pool(U8_RGB, 2, mode="sum", dtype=dtype)
        assert result.dtype == np.dtype(dtype).newbyteorder("=")


def test_float32_features_of_uint8_images_need_no_int64_result() -> None:
    # 16 MiB of float32 features; an int64 result first would take 32 MiB more.
    images = np.full((256, 128, 128), 255, np.uint8)
    kernel = np.ones((3, 3), np.int8)
    sc.release_memory()  # kept scratch of earlier tests is not this call's
    tracemalloc.start()
    try:
        with forcing(threads=1):  # the scratch of one thread, whatever the machine's cores
            result = sc.convolve_grayscale_same(images, kernel, dtype="float32")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.dtype == np.float32
    assert result[0, 1, 1] == 255 * 9
    beyond = peak - result.nbytes
    assert beyond < 3 * engine.CHUNK_BYTES, f"{beyond / 2**20:.1f} MiB beyond the result"


# --- the bound on exact integer sums ---------------------------------------------------

INT64_MAX = 2**63 - 1
# (values, axis, whether int64 holds the sums): at the int64 limits, Python ints are taken
# exactly when a sum of magnitudes could reach 2**63.
ABS_SUMS = {
    "int64 min": (np.array([[-(2**63)]]), None, False),
    "int64 max": (np.array([[INT64_MAX]]), None, True),
    "two 2**62 per column": (np.array([[2**62, 1], [2**62, 1]]), 0, False),
    "one 2**62 per row": (np.array([[2**62], [-(2**62)]]), 1, True),
    "a third of int64 max, three times": (np.full((2, 3), -(INT64_MAX // 3)), 1, True),
    "uint64 max": (np.array([2**64 - 1], np.uint64), None, False),
    "uint64 2**63 - 1": (np.array([INT64_MAX], np.uint64), 0, True),
    "int8 min": (np.array([[-128, -128]], np.int8), 1, True),
    "bools": (np.ones((3, 4), bool), None, True),
}


def _python_abs_sum(x: np.ndarray, axis: int | None) -> int:
    """The reference: the largest sum of magnitudes along `axis`, in Python ints."""
    sums = np.asarray(np.abs(x.astype(object)).sum(axis=axis))
    return max((int(total) for total in sums.flat), default=0)


@pytest.mark.parametrize("name", list(ABS_SUMS))
def test_abs_sum_is_exact_at_the_int64_limits(name: str) -> None:
    x, axis, fits = ABS_SUMS[name]
    terms = x.size if axis is None else x.shape[axis]
    assert int64_holds_sums(x, terms) is fits
    assert abs_sum(x, axis) == _python_abs_sum(x, axis)
    assert type(abs_sum(x, axis)) is int


@given(data=st.data())
def test_abs_sum_in_int64_gives_the_exact_bound(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(["int64", "uint64", "int32", "int8", "bool"]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    x = data.draw(arrays(np.dtype(dtype), shape), label="x")
    axis = data.draw(st.sampled_from([None, *range(x.ndim)]), label="axis")
    terms = x.size if axis is None else x.shape[axis]
    # The dtype's range decides without a pass over the values only where they would agree.
    assert int64_holds_sums(x, terms) is (max_abs(x) * terms < 2**63)
    assert abs_sum(x, axis) == _python_abs_sum(x, axis)


def test_abs_sum_of_int64_values_makes_no_python_ints() -> None:
    # dy of an integer convolution gradient: a million int64 values, no object array.
    dy = np.full((2**20 // 4, 4), -1000, np.int64)
    tracemalloc.start()
    try:
        bound = abs_sum(dy, axis=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert bound == 1000 * dy.shape[0]
    assert peak < 1.5 * dy.nbytes, f"{peak / 2**20:.1f} MiB for {dy.nbytes / 2**20:.1f} MiB"


# --- byte order -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["max", "min", "avg", "sum"])
@pytest.mark.parametrize("dtype", [">f8", ">f4", ">i4", ">u2"])
def test_pool_of_byte_swapped_images_is_native(mode: str, dtype: str) -> None:
    swapped = (np.abs(RGB) * 100).astype(dtype)
    native = swapped.astype(np.dtype(dtype).newbyteorder("="))
    result = sc.pool(swapped, 2, 1, mode, padding=1)
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, sc.pool(native, 2, 1, mode, padding=1), strict=True)


@pytest.mark.parametrize("dtype", [">i4", ">i2", ">f4", ">f8"])
def test_conv_of_byte_swapped_inputs_is_native(dtype: str) -> None:
    x = (RGB * 100).astype(dtype)
    kernels = (K4 * 10).astype(dtype)
    native_x = x.astype(x.dtype.newbyteorder("="))
    native_k = kernels.astype(kernels.dtype.newbyteorder("="))
    result = sc.conv(x, kernels, padding="same")
    assert result.dtype.isnative
    expected = sc.conv(native_x, native_k, padding="same")
    np.testing.assert_array_equal(result, expected, strict=True)
    result = sc.convolve(x, kernels)
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, sc.convolve(native_x, native_k), strict=True)


# --- the property: out= and dtype= change nothing but where and in what dtype ------------

CONV_STRATEGIES = [None, *engine.CONV_STRATEGIES]
POOL_STRATEGIES = [None, *engine.POOL_STRATEGIES]
INPUT_DTYPES = ["uint8", "int8", "int16", "float32", "float64"]
# Integer dtypes that hold every exact value drawn below (see `_problem`).
ASKED_DTYPES = [None, "int32", "int64", "float32", "float64"]
OUT_FORMS = [None, "C", "F", "strided", "reversed", "wider"]


@st.composite
def _problem(draw: st.DrawFn) -> dict[str, Any]:
    """A small conv or pool problem whose window fits its padded input. Integer inputs are
    at most 2**15 in magnitude, integer kernels at most 2, at most 18 taps: exact values
    below 2**21, which int32 and float32 hold."""
    op = draw(st.sampled_from(["conv", "pool"]))
    d = draw(st.integers(1, 2))
    m = draw(st.integers(1, 2))
    c = draw(st.integers(1, 2))
    spatial, window, stride, dilation, padding = [], [], [], [], []
    for _ in range(d):
        n = draw(st.integers(1, 6))
        k = draw(st.integers(1, min(3, n)))  # fits without padding
        pad = draw(st.integers(0, k // 2))  # pool's limit: at most half the window
        # The dilated window, (k - 1) * dil + 1 taps wide, fits in the padded axis.
        widest = (n + 2 * pad - 1) // (k - 1) if k > 1 else 3
        spatial.append(n)
        window.append(k)
        stride.append(draw(st.integers(1, 3)))
        dilation.append(draw(st.integers(1, max(1, min(widest, 3)))))
        padding.append(pad)
    x_dtype = np.dtype(draw(st.sampled_from(INPUT_DTYPES)))
    x = draw(arrays(x_dtype, (m, *spatial, c)))  # any values of the dtype, any layout
    problem: dict[str, Any] = {
        "op": op,
        "x": x,
        "stride": tuple(stride),
        "dilation": tuple(dilation),
        "padding": tuple(padding),
    }
    if op == "conv":
        nc = draw(st.integers(1, 2))
        k_dtype = np.dtype(draw(st.sampled_from(["int8", "float64"])))
        size = int(np.prod(window)) * c * nc
        taps = draw(st.lists(st.integers(-2, 2), min_size=size, max_size=size))
        problem["kernels"] = np.array(taps, k_dtype).reshape(*window, c, nc)
        problem["mode"] = None
    else:
        problem["window"] = tuple(window)
        problem["mode"] = draw(st.sampled_from(MODES))
    return problem


def _call(
    problem: dict[str, Any], x: np.ndarray | None = None, *, absolute: bool = False, **kw: Any
) -> np.ndarray:
    """The drawn problem's call, on `x` if given, with the kernels' magnitudes if `absolute`."""
    x = problem["x"] if x is None else x
    common = {"stride": problem["stride"], "dilation": problem["dilation"], **kw}
    if problem["op"] == "conv":
        kernels = np.abs(problem["kernels"]) if absolute else problem["kernels"]
        return sc.conv(x, kernels, padding=problem["padding"], **common)
    window, mode = problem["window"], problem["mode"]
    return sc.pool(x, window, mode=mode, padding=problem["padding"], **common)


@given(data=st.data())
def test_out_and_dtype_give_the_plain_result_in_the_dtype(data: st.DataObject) -> None:
    problem = data.draw(_problem(), label="problem")
    x, mode = problem["x"], problem["mode"]
    strategies = (
        {"conv": data.draw(st.sampled_from(CONV_STRATEGIES), label="conv strategy")}
        if problem["op"] == "conv"
        else {"pool": data.draw(st.sampled_from(POOL_STRATEGIES), label="pool strategy")}
    )
    strategies["gather"] = data.draw(st.sampled_from([None, "always"]), label="gather")
    exact = x.dtype.kind in "iu" and (
        problem["op"] == "pool" or problem["kernels"].dtype.kind == "i"
    )
    asked = data.draw(st.sampled_from(ASKED_DTYPES), label="dtype")
    if asked is not None and np.dtype(asked).kind in "iu" and (not exact or mode == "avg"):
        asked = "float32"  # integer dtypes are for exact results only
    form = data.draw(st.sampled_from(OUT_FORMS), label="out")
    inputs = [x] if problem["op"] == "pool" else [x, problem["kernels"]]
    before = [array.copy() for array in inputs]
    with forcing(**strategies):
        plain = _call(problem)
        natural = plain.dtype
        dtype = natural if asked is None else np.dtype(asked)
        if form is None:
            result = _call(problem, dtype=asked)
        else:
            out_dtype = np.complex128 if form == "wider" else dtype
            out, _ = _out(plain.shape, out_dtype, "C" if form == "wider" else form)
            result = _call(problem, dtype=asked, out=out)
            assert result is out
        reference = _call(problem, x.astype(np.float64))  # the same, in float64
        absolute = _call(problem, np.abs(x.astype(np.float64)), absolute=True)
    for array, copy in zip(inputs, before, strict=True):
        assert_unchanged(copy, array)
    if form != "wider":
        assert result.dtype == dtype
    computed = result
    if form == "wider":  # a complex128 out: the values, real
        assert not result.imag.any()
        computed = result.real.astype(dtype)
    if dtype == natural or dtype.kind in "iu" or mode in ("max", "min"):
        # No arithmetic in another dtype: the plain result, cast (exactly: it fits).
        np.testing.assert_array_equal(computed, plain.astype(dtype), strict=True)
    else:
        # Arithmetic in `dtype`: within its rounding of the float64 result.
        taps = int(np.prod(problem.get("window") or problem["kernels"].shape[:-1]))
        if mode == "avg":
            taps = 2 * taps  # the sum's rounding, then the division's
        assert_within_bound(computed, reference, absolute, taps, dtype)
