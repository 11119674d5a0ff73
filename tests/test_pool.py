"""N-d `pool` with PyTorch's options: against the naive reference and against PyTorch.

Shapes are tiny (the reference is pure Python); the number of spatial axes, the layout,
mode, stride, dilation, padding (words, ints, tuples, pairs), `ceil_mode`,
`count_include_pad` and dtypes are drawn by hypothesis, every pooling strategy is forced in
turn.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
import stridedconv._engine as engine
from checks import (
    assert_exact_integers,
    assert_ieee_within_bound,
    assert_new_array,
    assert_unchanged,
    forcing,
    is_exact,
)
from reference import conv_pads, pool_nd, pool_out_size
from strategies import arrays, as_given

POOL_STRATEGIES = [None, *engine.POOL_STRATEGIES]
MODES = ("max", "avg", "min", "sum")
#: Per number of spatial axes: largest input side and window side.
MAX_SIDE = {1: 8, 2: 5, 3: 4}
MAX_WINDOW = {1: 4, 2: 3, 3: 3}
#: float64 and integers mostly, sometimes float32, float16 and complex128.
DTYPES = tuple(
    np.dtype(t)
    for t in (
        *(np.float64, np.float64, np.int8, np.uint8, np.int64, np.bool_),
        *(np.float32, np.float16, np.complex128),
    )
)
PADDING_FORMS = ("none", "valid", "same", "full", "int", "ints", "pairs")


@dataclass
class PoolNdCase:
    """Inputs of one `pool` call; `x` channels last, `x_arg` in `data_format`."""

    x: np.ndarray
    window: tuple[int, ...]
    stride: Any  # as given to pool
    mode: str
    dilation: Any
    padding: Any  # as given, or None for the default
    pads: tuple[tuple[int, int], ...]  # what the padding means, per the reference
    ceil_mode: bool
    count_include_pad: bool
    data_format: str

    @property
    def d(self) -> int:
        return len(self.window)

    @property
    def x_arg(self) -> np.ndarray:
        return np.moveaxis(self.x, -1, 1) if self.data_format == "channels_first" else self.x

    def steps(self, value: Any) -> tuple[int, ...]:
        return (value,) * self.d if isinstance(value, int) else tuple(value)

    @property
    def fits(self) -> bool:
        """Whether at least one window fits along every axis."""
        return all(
            pool_out_size(n, b, a, k, s, dil, self.ceil_mode) >= 1
            for n, (b, a), k, s, dil in zip(
                self.x.shape[1:-1],
                self.pads,
                self.window,
                self.steps(self.stride),
                self.steps(self.dilation),
                strict=True,
            )
        )

    def call(self) -> np.ndarray:
        options: dict[str, Any] = {
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
            "data_format": self.data_format,
        }
        if self.padding is not None:
            options["padding"] = self.padding
        return sc.pool(self.x_arg, self.window, self.stride, self.mode, **options)

    def reference(self, x: np.ndarray | None = None, mode: str | None = None) -> np.ndarray:
        """The reference result, in `data_format`."""
        ref = pool_nd(
            self.x if x is None else x,
            self.window,
            self.steps(self.stride),
            mode or self.mode,
            dilation=self.steps(self.dilation),
            pads=self.pads,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
        )
        return np.moveaxis(ref, -1, 1) if self.data_format == "channels_first" else ref


@st.composite
def pool_nd_cases(
    draw: st.DrawFn,
    *,
    modes: tuple[str, ...] = MODES,
    dtypes: tuple[np.dtype, ...] = DTYPES,
    words: bool = True,
    dilated: bool = True,
) -> PoolNdCase:
    """A `pool` call; some windows may not fit (`PoolNdCase.fits` says), explicit padding
    is at most half the window as PyTorch requires."""
    d = draw(st.sampled_from((1, 2, 3)), label="d")
    mode = draw(st.sampled_from(modes), label="mode")
    window = tuple(draw(st.integers(1, MAX_WINDOW[d])) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(d))
    sizes = tuple(draw(st.integers(1, MAX_SIDE[d])) for _ in range(d))
    forms = PADDING_FORMS if words else ("none", "int", "ints")
    form = draw(st.sampled_from(forms), label="padding form")
    padding: Any
    if form == "none":
        padding = None
    elif form in ("valid", "same", "full"):
        padding = form
    elif form == "int":
        padding = draw(st.integers(0, min(window) // 2))
    elif form == "ints":
        padding = tuple(draw(st.integers(0, k // 2)) for k in window)
    else:
        padding = tuple(
            (draw(st.integers(0, k // 2)), draw(st.integers(0, k // 2))) for k in window
        )
    pads = conv_pads(sizes, window, stride, dilation, 0 if padding is None else padding)
    kinds = [t for t in dtypes if not (mode in ("max", "min") and t.kind == "c")]
    dtype = draw(st.sampled_from(kinds), label="dtype")
    m, c = draw(st.sampled_from((1, 2, 0)), label="m"), draw(st.integers(1, 2), label="c")
    return PoolNdCase(
        x=draw(arrays(dtype, (m, *sizes, c)), label="x"),
        window=window,
        stride=as_given(draw, stride, "stride"),
        mode=mode,
        dilation=as_given(draw, dilation, "dilation"),
        padding=padding,
        pads=pads,
        ceil_mode=draw(st.booleans(), label="ceil_mode"),
        count_include_pad=draw(st.booleans(), label="count_include_pad"),
        data_format=draw(st.sampled_from(("channels_last", "channels_first"))),
    )


# --- against the reference --------------------------------------------------------------


@pytest.mark.parametrize("strategy", POOL_STRATEGIES)
@given(case=pool_nd_cases(), data=st.data())
def test_pool_matches_the_reference(
    strategy: str | None, case: PoolNdCase, data: st.DataObject
) -> None:
    if not case.fits:
        with pytest.raises(ValueError, match=r"kernel_shape window .* does not fit in images"):
            case.call()
        return
    before = case.x.copy()
    exact = is_exact(case.x)
    # A wider exact path (Python ints) changes nothing.
    integers = data.draw(st.sampled_from((None, "int64", "object")), label="integers")
    # Gathering the windows (the path of sparse windows) changes nothing either.
    gather = data.draw(st.sampled_from((None, "always")), label="gather")
    # So does computing each image in blocks of output rows (large images).
    rows = data.draw(st.sampled_from((None, 1, 2)), label="rows per block")
    with forcing(pool=strategy, integers=integers if exact else None, gather=gather, rows=rows):
        out = case.call()
    assert_new_array(out, case.x)
    assert out.flags.c_contiguous
    assert_unchanged(before, case.x)

    ref = case.reference()
    if case.mode in ("max", "min"):
        # One of the values (or the padding's extreme value): exact, in the input's dtype.
        np.testing.assert_array_equal(out, ref, strict=True)
    elif case.mode == "sum" and exact:
        assert_exact_integers(out, ref)
    elif exact:
        # sum(ints) / count: the exact mean, correctly rounded to float64.
        np.testing.assert_array_equal(out, ref, strict=True)
    else:
        n_terms = math.prod(case.window) + 1  # the sum, then one division
        abs_mode = "sum" if case.mode == "sum" else "avg"
        abs_ref = case.reference(np.abs(case.x), abs_mode).real.astype(np.float64)
        assert_ieee_within_bound(out, ref, abs_ref, n_terms, case.x.dtype)


@pytest.mark.parametrize("mode", MODES)
def test_default_options_are_the_seed_pool(mode: str) -> None:
    images = np.random.default_rng(4).integers(-50, 50, (3, 7, 9, 2))
    explicit = sc.pool(
        images,
        (3, 2),
        (2, 3),
        mode,
        padding="valid",
        dilation=1,
        ceil_mode=False,
        count_include_pad=True,
        data_format="channels_last",
    )
    np.testing.assert_array_equal(sc.pool(images, (3, 2), (2, 3), mode), explicit, strict=True)


def test_max_of_a_window_all_in_padding_is_minus_inf() -> None:
    # Taps at -1 and 2 of a 2-sample axis: both in the padding, as PyTorch allows.
    x = np.array([[[1.0], [2.0]]])
    out = sc.pool(x, (2,), 1, padding=1, dilation=3)
    np.testing.assert_array_equal(out[0, :, 0], [-np.inf])
    ints = sc.pool(x.astype(np.int16), (2,), 1, padding=1, dilation=3)
    np.testing.assert_array_equal(ints[0, :, 0], [np.iinfo(np.int16).min])
    mean = sc.pool(x, (2,), 1, "avg", padding=1, dilation=3, count_include_pad=False)
    assert np.isnan(mean[0, 0, 0])
    for integers in ("float64", "object"):  # exact integer means, Python ints included
        with forcing(integers=integers):
            mean = sc.pool(
                x.astype(np.int8), (2,), 1, "avg", padding=1, dilation=3, count_include_pad=False
            )
        assert mean.dtype == np.float64
        assert np.isnan(mean[0, 0, 0])


def test_pool_nan_is_never_hidden_by_padding() -> None:
    x = np.array([[[np.nan], [1.0], [np.inf]]])
    for mode in ("max", "min"):
        out = sc.pool(x, (3,), 1, mode, padding=1, ceil_mode=True)
        assert np.isnan(out[0, :2, 0]).all()


def test_pool_sum_of_large_integers_is_exact() -> None:
    big = np.full((1, 4, 4, 1), 2**62, dtype=np.int64)
    out = sc.pool(big, (2, 2), (2, 2), "sum")
    assert out.dtype == object
    assert out[0, 0, 0, 0] == 2**64


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_same_pooling_of_an_empty_axis_is_empty(mode: str, ceil_mode: bool) -> None:
    out = sc.pool(np.zeros((2, 0, 5, 3)), (2, 2), 2, mode, padding="same", ceil_mode=ceil_mode)
    assert out.shape == (2, 0, 3, 3)


# --- against PyTorch --------------------------------------------------------------------


@given(case=pool_nd_cases(modes=("max", "avg"), dtypes=(np.dtype(np.float64),), words=False))
def test_pool_matches_torch(case: PoolNdCase) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    d = case.d
    stride, dilation = case.steps(case.stride), case.steps(case.dilation)
    padding = tuple(before for before, _ in case.pads)
    if case.mode == "avg":
        dilation = (1,) * d  # PyTorch's average pooling has no dilation
        if d == 3 and any(n < k for n, k in zip(case.x.shape[1:-1], case.window, strict=True)):
            return  # avg_pool3d refuses inputs smaller than the window, even padded
    case.dilation = dilation
    if not case.fits:
        return
    x = torch.from_numpy(np.moveaxis(case.x, -1, 1).copy(order="C"))
    if case.mode == "max":
        expected = getattr(functional, f"max_pool{d}d")(
            x, case.window, stride, padding, dilation, ceil_mode=case.ceil_mode
        )
    else:
        expected = getattr(functional, f"avg_pool{d}d")(
            x,
            case.window,
            stride,
            padding,
            ceil_mode=case.ceil_mode,
            count_include_pad=case.count_include_pad,
        )
    want = np.moveaxis(expected.numpy(), 1, -1)
    got = sc.pool(
        case.x,
        case.window,
        stride,
        case.mode,
        padding=padding,
        dilation=dilation,
        ceil_mode=case.ceil_mode,
        count_include_pad=case.count_include_pad,
    )
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --- bad input --------------------------------------------------------------------------

VOLUMES = np.zeros((2, 6, 6, 6, 3))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"padding": 2},
            ValueError,
            r"padding \(2, 2\) of spatial axis 0 must be at most half the window on each "
            r"side, kernel_shape\[0\] // 2 = 3 // 2 = 1",
        ),
        ({"padding": ((0, 0), (0, 2), (1, 1))}, ValueError, r"spatial axis 1 must be at most"),
        ({"padding": "circular"}, ValueError, r"padding must be .* unknown word 'circular'"),
        ({"padding": (1, 1)}, ValueError, r"padding must be .* got \(1, 1\)"),
        ({"dilation": (1, 2)}, ValueError, r"dilation must be .* 3 positive ints, got 2 values"),
        ({"dilation": 0}, ValueError, r"dilation must be positive, got 0"),
        ({"stride": (1, 1)}, ValueError, r"stride must be .* 3 positive ints, got 2 values"),
        ({"ceil_mode": 1}, TypeError, r"ceil_mode must be True or False, got 1"),
        ({"count_include_pad": "no"}, TypeError, r"count_include_pad must be True or False"),
        ({"data_format": "NDHW"}, ValueError, r"data_format must be one of 'channels_last'"),
        ({"mode": "median"}, ValueError, r"mode must be one of 'max', 'avg', 'min', 'sum'"),
    ],
)
def test_bad_pool_options(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"stride": 1, **kwargs}
    with pytest.raises(error, match=message):
        sc.pool(VOLUMES, (3, 3, 3), **arguments)


@pytest.mark.parametrize(
    ("images", "window", "message"),
    [
        (np.zeros((2, 6, 6, 3)), (2,), r"images must be a 3-D array of shape \(m, s1, c\)"),
        (np.zeros((2, 6, 3)), (2, 2), r"images must be a 4-D array of shape \(m, h, w, c\)"),
        (np.zeros((2, 6, 3)), (), r"kernel_shape must be an int or a sequence of at least 1"),
    ],
)
def test_pool_images_of_wrong_ndim(images: np.ndarray, window: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sc.pool(images, window, 1)


def test_channels_first_layout_in_the_message() -> None:
    expected = "images must be a 4-D array of shape (m, c, h, w), got shape (2, 6, 6)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        sc.pool(np.zeros((2, 6, 6)), (2, 2), 2, data_format="channels_first")


@pytest.mark.parametrize("mode", ["max", "min"])
def test_max_and_min_of_complex(mode: str) -> None:
    with pytest.raises(TypeError, match=rf"mode='{mode}' needs real images .* complex128"):
        sc.pool(VOLUMES.astype(complex), (2, 2, 2), 2, mode)


def test_ceil_mode_cannot_rescue_a_window_past_the_padding() -> None:
    # PyTorch: "Output size is too small"; here the window's extent is named.
    with pytest.raises(ValueError, match=r"kernel_shape window \(4,\) does not fit"):
        sc.pool(np.zeros((1, 1, 1)), (4,), 1, ceil_mode=True)
