"""`correlate` and the boundary modes: against the naive reference, `scipy.ndimage.correlate`,
`cv2.filter2D` and `np.pad`; every strategy forced; exact integers; the mode table.

The peers are optional: their tests are skipped when SciPy or OpenCV is not installed.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
import stridedconv._correlate as correlate_module
import stridedconv._engine as engine
from checks import assert_exact_integers, assert_new_array, assert_unchanged, forcing
from reference import conv_pads, correlate_nd

#: Our modes and SciPy's ndimage names for them (the first; see `_modes.FOREIGN_NAMES`).
SCIPY_MODES = {
    "symmetric": ("reflect", "grid-mirror"),
    "reflect": ("mirror",),
    "replicate": ("nearest",),
    "circular": ("wrap", "grid-wrap"),
    "constant": ("constant", "grid-constant"),
    "zeros": ("constant",),
}
#: Our modes and OpenCV's border types (filter2D refuses BORDER_WRAP: tested below).
OPENCV_BORDERS = {
    "symmetric": "BORDER_REFLECT",
    "reflect": "BORDER_REFLECT_101",
    "replicate": "BORDER_REPLICATE",
    "zeros": "BORDER_CONSTANT",
}
#: The table of the docstring and docs: each mode on ``abcd`` padded by 2 on both sides.
ONE_D = {
    "symmetric": "ba|abcd|dc",
    "reflect": "cb|abcd|cb",
    "replicate": "aa|abcd|dd",
    "circular": "cd|abcd|ab",
    "constant": "vv|abcd|vv",
    "zeros": "00|abcd|00",
}


def _cval(mode: str) -> dict[str, Any]:
    return {"cval": -3} if mode == "constant" else {}


def _scipy_correlate(
    images: np.ndarray, kernel: np.ndarray, mode: str, *, channels: bool, cval: float = 0
) -> np.ndarray:
    """SciPy's correlation of each image and channel, with the origin of our 'same' rule."""
    ndimage = pytest.importorskip("scipy.ndimage")
    full = kernel[None, ..., None] if channels else kernel[None]
    # Even axes: ours sees i - (k - 1) // 2 .. i + k // 2, SciPy i - k // 2 .. (origin -1).
    origin = [0, *(-1 if k % 2 == 0 else 0 for k in kernel.shape), *([0] * channels)]
    wide = images.astype(np.float64 if images.dtype.kind == "f" else np.int64)
    result: np.ndarray = ndimage.correlate(wide, full, mode=mode, cval=cval, origin=origin)
    return result


# --- the table, on a 1-D example --------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(ONE_D))
def test_each_mode_pads_as_the_table_says(mode: str) -> None:
    letters = {"a": 1, "b": 2, "c": 3, "d": 4, "v": -3, "0": 0}
    signal = np.array([[1, 2, 3, 4]])
    # A kernel of one tap of 1: the result is the padded signal itself.
    padded = sc.correlate(
        signal, np.ones(1, int), channel_axis=None, padding=2, padding_mode=mode, **_cval(mode)
    )
    expected = [letters[ch] for ch in ONE_D[mode].replace("|", "")]
    assert padded[0].tolist() == expected


def test_np_pad_names_agree() -> None:
    x = np.arange(1, 6)[None, :, None]
    for ours, theirs in [("symmetric", "symmetric"), ("reflect", "reflect"),
                         ("replicate", "edge"), ("circular", "wrap")]:  # fmt: skip
        # A kernel of one tap of 1: the result is the padded signal itself.
        out = sc.conv(x, np.ones((1, 1, 1), int), padding=3, padding_mode=ours)[0, :, 0]
        np.testing.assert_array_equal(out, np.pad(x[0, :, 0], 3, mode=theirs))


@pytest.mark.parametrize(
    ("word", "ours"),
    [("mirror", "reflect"), ("nearest", "replicate"), ("edge", "replicate"),
     ("wrap", "circular"), ("grid-mirror", "symmetric"), ("BORDER_REFLECT_101", "reflect"),
     ("cv2.BORDER_REFLECT", "symmetric"), ("grid-constant", "constant")],
)  # fmt: skip
def test_foreign_mode_names_are_answered_with_ours(word: str, ours: str) -> None:
    valid = "'zeros', 'reflect', 'replicate', 'circular', 'symmetric', 'constant'"
    with pytest.raises(ValueError, match=rf"^padding_mode must be one of {valid}, got ") as error:
        sc.correlate(np.ones((1, 5, 5)), np.ones((3, 3)), channel_axis=None, padding_mode=word)
    assert str(error.value).endswith(f"is padding_mode={ours!r} here")


# --- against SciPy ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(SCIPY_MODES))
@pytest.mark.parametrize("dtype", ["float64", "float32", "uint8", "int16"])
@pytest.mark.parametrize("shape", [(2, 9, 11), (2, 9, 11, 3), (2, 5, 6, 7), (1, 4, 5, 6, 2)])
@pytest.mark.parametrize("k", [1, 3, 4, 5])
def test_matches_scipy_ndimage(mode: str, dtype: str, shape: tuple[int, ...], k: int) -> None:
    """2-D and 3-D, grayscale and colour, odd and even kernels (the origin rule)."""
    rng = np.random.default_rng(k)
    channels = len(shape) == 5 or shape[-1] == 3
    images = rng.integers(0, 200, shape).astype(dtype)
    d = len(shape) - 1 - channels
    kernel = rng.integers(-3, 4, (k, k + 1, k)[:d])
    if dtype.startswith("float"):
        kernel = kernel + 0.25
    cval = -3 if mode == "constant" else 0
    for name in SCIPY_MODES[mode]:
        expected = _scipy_correlate(images, kernel, name, channels=channels, cval=cval)
        out = sc.correlate(
            images, kernel, channel_axis=-1 if channels else None, padding_mode=mode,
            **_cval(mode),
        )  # fmt: skip
        if dtype.startswith("float"):
            assert out.dtype == np.result_type(images, kernel)
            np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-3)
        else:
            assert out.dtype == np.int64
            np.testing.assert_array_equal(out, expected)


@given(data=st.data())
def test_matches_scipy_on_any_geometry(data: st.DataObject) -> None:
    """Tiny images and kernels wider than them: 'symmetric' and 'circular' repeat."""
    d = data.draw(st.integers(1, 3), label="d")
    sides = tuple(data.draw(st.integers(1, 5)) for _ in range(d))
    kernel_shape = tuple(data.draw(st.integers(1, 7)) for _ in range(d))
    mode = data.draw(st.sampled_from(["symmetric", "replicate", "circular", "constant"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="seed"))
    images = rng.integers(-50, 50, (2, *sides))
    kernel = rng.integers(-3, 4, kernel_shape)
    cval = data.draw(st.integers(-5, 5), label="cval") if mode == "constant" else 0
    out = sc.correlate(images, kernel, channel_axis=None, padding_mode=mode, cval=cval)
    expected = _scipy_correlate(images, kernel, SCIPY_MODES[mode][0], channels=False, cval=cval)
    np.testing.assert_array_equal(out, expected)


# --- against OpenCV ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(OPENCV_BORDERS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("k", [(3, 3), (5, 5), (4, 4), (3, 6)])
def test_matches_opencv_filter2d(
    mode: str, dtype: str, channels: int | None, k: tuple[int, int]
) -> None:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(sum(k))
    shape = (2, 12, 13) if channels is None else (2, 12, 13, channels)
    images = rng.integers(0, 256, shape).astype(dtype)
    kernel = rng.integers(-2, 3, k).astype(np.float64)
    border = getattr(cv2, OPENCV_BORDERS[mode])
    # The even-kernel origin rule: OpenCV's anchor (x, y) at ((kw - 1) // 2, (kh - 1) // 2).
    anchor = ((k[1] - 1) // 2, (k[0] - 1) // 2)
    depth = cv2.CV_64F if dtype == "uint8" else -1  # exact for uint8 and small int kernels
    expected = np.stack(
        [cv2.filter2D(image, depth, kernel, anchor=anchor, borderType=border) for image in images]
    )
    integer = dtype == "uint8"
    out = sc.correlate(
        images, kernel.astype(int) if integer else kernel,
        channel_axis=None if channels is None else -1, padding_mode=mode,
    )  # fmt: skip
    if integer:
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out, expected)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-3)


def test_opencv_filter2d_has_no_wrap_border() -> None:
    """The one border type filter2D refuses; ours ('circular') is SciPy's 'wrap' (above)."""
    cv2 = pytest.importorskip("cv2")
    with pytest.raises(cv2.error):
        cv2.filter2D(np.ones((5, 5)), -1, np.ones((3, 3)), borderType=cv2.BORDER_WRAP)


# --- against the naive reference, every strategy ----------------------------------------


@pytest.mark.parametrize("strategy", [None, *engine.CONV_STRATEGIES])
@given(data=st.data())
def test_matches_the_reference_with_every_strategy(
    strategy: str | None, data: st.DataObject
) -> None:
    d = data.draw(st.integers(1, 3), label="d")
    c = data.draw(st.sampled_from((1, 3)), label="c")
    sides = tuple(data.draw(st.integers(1, (7, 5, 3)[d - 1])) for _ in range(d))
    kernel_shape = tuple(data.draw(st.integers(1, (4, 3, 2)[d - 1])) for _ in range(d))
    modes = ["symmetric", "constant", "zeros", "replicate", "circular"]
    mode = data.draw(st.sampled_from(modes), label="mode")
    dtype = data.draw(st.sampled_from((np.float64, np.uint8, np.int64, np.float32)))
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="seed"))
    images = rng.integers(0, 9, (2, *sides, c)).astype(dtype)
    per_channel = data.draw(st.booleans(), label="one kernel per channel")
    kernel = rng.integers(-3, 4, (*kernel_shape, c) if per_channel else kernel_shape)
    if data.draw(st.booleans(), label="separable"):  # an outer product: the two-pass path
        kernel = np.ones(kernel.shape, int) * rng.integers(1, 3)
    stride = data.draw(st.integers(1, 2), label="stride")
    cval = data.draw(st.sampled_from((0, 5, -1, 300)), label="cval") if mode == "constant" else 0
    before = images.copy()
    with forcing(conv=strategy):
        out = sc.correlate(images, kernel, padding_mode=mode, cval=cval, stride=stride)
    assert_unchanged(before, images)
    assert_new_array(out, images, kernel)
    bank = np.broadcast_to(
        kernel[..., None, :] if per_channel else kernel[..., None, None], (*kernel_shape, 1, c)
    )
    pads = conv_pads(sides, kernel_shape, (stride,) * d, (1,) * d, "same")
    ref = correlate_nd(
        images, np.ascontiguousarray(bank), stride=(stride,) * d, dilation=(1,) * d,
        pads=pads, padding_mode=mode, cval=cval, groups=c,
    )  # fmt: skip
    if dtype in (np.uint8, np.int64):
        assert_exact_integers(out, ref)
    else:
        np.testing.assert_allclose(out, ref.astype(np.float64), rtol=1e-5, atol=1e-4)


# --- what correlate promises beyond the values -------------------------------------------


def test_the_kernel_is_a_broadcast_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """No copy of the kernel per channel: the bank that conv's path gets has stride 0."""
    seen: list[np.ndarray] = []
    check = correlate_module.check_conv

    def spy(x: Any, kernels: np.ndarray, **kwargs: Any) -> Any:
        seen.append(kernels)
        return check(x, kernels, **kwargs)

    monkeypatch.setattr(correlate_module, "check_conv", spy)
    kernel = np.ones((5, 5))
    sc.correlate(np.ones((1, 8, 8, 64)), kernel)
    assert seen[0].shape == (5, 5, 1, 64)
    assert seen[0].strides[-1] == 0
    assert np.shares_memory(seen[0], kernel)


def test_integers_stay_exact_and_cval_too() -> None:
    images = np.full((1, 4, 4, 3), 2**62, np.int64)
    out = sc.correlate(images, np.ones((3, 3), int), padding_mode="constant", cval=2**62)
    assert out.dtype == object
    assert out[0, 0, 0, 0] == 9 * 2**62
    uint8 = np.full((1, 3, 3), 255, np.uint8)
    low = sc.correlate(uint8, np.ones((3, 3), int), channel_axis=None, padding_mode="constant",
                       cval=-1)  # fmt: skip
    assert low.dtype == np.int64
    assert low[0, 0, 0] == 4 * 255 - 5
    floats = sc.correlate(uint8, np.ones((3, 3), int), channel_axis=None,
                          padding_mode="constant", cval=0.5)  # fmt: skip
    assert floats.dtype == np.float64
    assert floats[0, 0, 0] == 4 * 255 + 2.5
    single = sc.correlate(uint8.astype(np.float32), np.ones((3, 3), np.float32),
                          channel_axis=None, padding_mode="constant", cval=0.5)  # fmt: skip
    assert single.dtype == np.float32


def test_nan_cval_and_nan_images_follow_ieee() -> None:
    out = sc.correlate(np.ones((1, 5)), np.ones(3), channel_axis=None, padding_mode="constant",
                       cval=np.nan)  # fmt: skip
    assert np.isnan(out[0, [0, -1]]).all()
    assert (out[0, 1:-1] == 3).all()
    images = np.ones((2, 5, 5, 3))
    images[0, 2, 2, 1] = np.inf
    out = sc.correlate(images, np.ones((3, 3)))
    assert np.isinf(out[0, 1:4, 1:4, 1]).all()
    assert np.isfinite(out[1]).all()
    assert np.isfinite(out[0, ..., [0, 2]]).all()


@pytest.mark.parametrize("channel_axis", [1, 2, -1, 3])
def test_the_channel_axis_may_be_anywhere(channel_axis: int) -> None:
    rng = np.random.default_rng(0)
    last = rng.standard_normal((2, 6, 7, 3))
    images = np.moveaxis(last, -1, channel_axis)
    kernel = rng.standard_normal((3, 3))
    expected = np.moveaxis(sc.correlate(last, kernel), -1, channel_axis)
    out = sc.correlate(images, kernel, channel_axis=channel_axis)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert out.flags.c_contiguous
    given = np.empty_like(expected)
    assert sc.correlate(images, kernel, channel_axis=channel_axis, out=given) is given
    np.testing.assert_allclose(given, expected, rtol=1e-12, atol=1e-12)


def test_out_dtype_and_dask() -> None:
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 9, 9, 3)).astype(np.uint8)
    kernel = np.ones((3, 3), int)
    expected = sc.correlate(images, kernel, padding_mode="constant", cval=7)
    out = np.empty(expected.shape, np.int32)
    sc.correlate(images, kernel, padding_mode="constant", cval=7, out=out, dtype="int32")
    np.testing.assert_array_equal(out, expected)
    narrow = sc.correlate(images, kernel, padding_mode="constant", cval=7, dtype="int32")
    assert narrow.dtype == np.int32
    for mode in ["symmetric", "constant"]:
        lazy = da.from_array(images, chunks=(2, 4, 5, 3))
        result = sc.correlate(lazy, kernel, padding_mode=mode, **_cval(mode))
        np.testing.assert_array_equal(
            result.compute(), sc.correlate(images, kernel, padding_mode=mode, **_cval(mode))
        )


def test_rgb_recipes_are_one_call_each() -> None:
    rgb = np.random.default_rng(2).random((4, 32, 32, 3))
    blurred = sc.correlate(rgb, sc.kernels.gaussian(5, 1.0))
    sharpened = sc.correlate(rgb, sc.kernels.sharpen())
    edges = sc.correlate(rgb, sc.kernels.sobel_x())
    assert blurred.shape == sharpened.shape == edges.shape == rgb.shape
    # A constant image stays constant under a normalised blur, with the default mode.
    flat = sc.correlate(np.full((1, 8, 8, 3), 0.5), sc.kernels.gaussian(7, 2.0))
    np.testing.assert_allclose(flat, 0.5, rtol=1e-12)


def test_every_public_name_is_homed_in_the_public_namespace() -> None:
    for name in sc.__all__:
        value = getattr(sc, name)
        if inspect.ismodule(value):
            for inner in value.__all__:
                assert getattr(value, inner).__module__ == "stridedconv.kernels", inner
            continue
        assert value.__module__ == "stridedconv", name


@pytest.mark.parametrize("page", ["how-to/filter-rgb.md", "reference/boundary-modes.md"])
def test_the_docs_pages_examples_run(page: str) -> None:
    """The `>>>` examples of correlate's two docs pages, as doctests."""
    import doctest
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / page).read_text()
    test = doctest.DocTestParser().get_doctest(text, {}, page, page, 0)
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0
