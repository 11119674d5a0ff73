"""The N-d convolution `conv`: against the naive reference, PyTorch and the 2-D functions.

Shapes are tiny (the reference is pure Python); the number of spatial axes, the layout,
stride, dilation, padding (words, ints, tuples, pairs), padding mode, groups, bias and dtypes
are drawn by hypothesis, every convolution strategy is forced in turn.
"""

from __future__ import annotations

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
    assert_new_array,
    assert_unchanged,
    assert_within_bound,
    forcing,
    is_exact,
)
from reference import conv_pads, correlate_nd
from strategies import CONV_DTYPES, ConvCase, arrays, as_given, conv_cases
from stridedconv._geometry import make_geometry

CONV_STRATEGIES = [None, *engine.CONV_STRATEGIES]
#: Per number of spatial axes: largest input side and kernel side.
MAX_SIDE = {1: 7, 2: 5, 3: 3}
MAX_KERNEL = {1: 4, 2: 3, 3: 2}
#: float64 and integers mostly, sometimes float32 and complex128.
ND_DTYPES = tuple(
    np.dtype(t)
    for t in (
        np.float64,
        np.float64,
        np.int8,
        np.uint8,
        np.int64,
        np.bool_,
        np.float32,
        np.complex128,
    )
)
PADDING_FORMS = ("valid", "same", "full", "int", "ints", "pairs")


@dataclass
class NdCase:
    """Inputs of one `conv` call; `x` channels last, `x_arg` in `data_format`."""

    x: np.ndarray
    kernels: np.ndarray
    bias: np.ndarray | None
    stride: Any  # as given to conv
    dilation: Any
    padding: Any
    pads: tuple[tuple[int, int], ...]  # what the padding means, per the reference
    padding_mode: str
    groups: int
    data_format: str
    cval: Any = 0  # of 'constant' padding

    @property
    def mode_options(self) -> dict[str, Any]:
        """`padding_mode`, and `cval` when it applies."""
        if self.padding_mode == "constant":
            return {"padding_mode": "constant", "cval": self.cval}
        return {"padding_mode": self.padding_mode}

    @property
    def d(self) -> int:
        return self.kernels.ndim - 2

    @property
    def x_arg(self) -> np.ndarray:
        return np.moveaxis(self.x, -1, 1) if self.data_format == "channels_first" else self.x

    def steps(self, value: Any) -> tuple[int, ...]:
        return (value,) * self.d if isinstance(value, int) else tuple(value)

    def call(self) -> np.ndarray:
        return sc.conv(
            self.x_arg,
            self.kernels,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
            bias=self.bias,
            data_format=self.data_format,
            **self.mode_options,
        )

    def reference(self, *, absolute: bool = False) -> np.ndarray:
        """The reference result, in `data_format`."""
        ref = correlate_nd(
            self.x,
            self.kernels,
            stride=self.steps(self.stride),
            dilation=self.steps(self.dilation),
            pads=self.pads,
            padding_mode=self.padding_mode,
            cval=self.cval,
            groups=self.groups,
            bias=self.bias,
            absolute=absolute,
        )
        return np.moveaxis(ref, -1, 1) if self.data_format == "channels_first" else ref

    @property
    def n_terms(self) -> int:
        return int(np.prod(self.kernels.shape[:-1])) + (self.bias is not None)


@st.composite
def nd_cases(
    draw: st.DrawFn,
    *,
    dtypes: tuple[np.dtype, ...] = ND_DTYPES,
    min_batch: int = 0,
    torch_modes: bool = False,
) -> NdCase:
    """A `conv` call whose kernel fits the padded input and whose padding mode can fill it.

    ``torch_modes``: PyTorch's modes only, circular padding at most the axis size (PyTorch
    wraps around once); else 'symmetric' (any width: its pattern repeats) and 'constant'
    with an int `cval` for exact inputs, a float one (NaN included) for the others.
    """
    d = draw(st.sampled_from((1, 2, 3)), label="d")
    m = draw(st.sampled_from(tuple(b for b in (1, 2, 1, 0) if b >= min_batch)), label="m")
    groups = draw(st.integers(1, 3), label="groups")
    cg, ng = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    c, nc = groups * cg, groups * ng
    sizes = tuple(draw(st.integers(1, MAX_SIDE[d])) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 3 if d == 1 else 2)) for _ in range(d))
    form = draw(st.sampled_from(PADDING_FORMS), label="padding form")
    padding: Any
    if form in ("valid", "same", "full"):
        padding = form
    elif form == "int":
        padding = draw(st.integers(0, 2))
    elif form == "ints":
        padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
    else:
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(d))
    if form in ("same", "full"):
        kernel = tuple(draw(st.integers(1, MAX_KERNEL[d])) for _ in range(d))
    else:
        # A kernel whose dilated extent fits the padded axis.
        explicit = conv_pads(sizes, (1,) * d, stride, dilation, padding)
        kernel = tuple(
            draw(st.integers(1, min(MAX_KERNEL[d], (n + b + a - 1) // dil + 1)))
            for n, (b, a), dil in zip(sizes, explicit, dilation, strict=True)
        )
    pads = conv_pads(sizes, kernel, stride, dilation, padding)
    modes = ["zeros", "replicate"]
    if all(max(pad) < n for n, pad in zip(sizes, pads, strict=True)):
        modes.append("reflect")
    if not torch_modes or all(max(pad) <= n for n, pad in zip(sizes, pads, strict=True)):
        modes.append("circular")
    if not torch_modes:
        modes += ["symmetric", "constant"]
    padding_mode = draw(st.sampled_from(modes), label="padding_mode")
    x = draw(arrays(draw(st.sampled_from(dtypes)), (m, *sizes, c)), label="x")
    kernels = draw(arrays(draw(st.sampled_from(dtypes)), (*kernel, cg, nc)), label="kernels")
    bias = None
    if draw(st.booleans(), label="bias"):
        bias = draw(arrays(draw(st.sampled_from(dtypes)), (nc,)), label="bias")
    exact = all(a.dtype.kind in "biu" for a in (x, kernels, bias) if a is not None)
    # uint8 images and a cval of -7 or 300: beyond their dtype, still exact.
    cvals = (0, 1, -7, 300, 2**40) if exact else (0.0, -2.5, 1.5)
    cval = draw(st.sampled_from(cvals), label="cval") if padding_mode == "constant" else 0
    if form == "pairs" and draw(st.booleans(), label="pairs as lists"):
        padding = [list(pair) for pair in padding]
    return NdCase(
        x=x,
        kernels=kernels,
        bias=bias,
        stride=as_given(draw, stride, "stride"),
        dilation=as_given(draw, dilation, "dilation"),
        padding=padding,
        pads=pads,
        padding_mode=padding_mode,
        groups=groups,
        data_format=draw(st.sampled_from(("channels_last", "channels_first"))),
        cval=cval,
    )


# --- against the reference --------------------------------------------------------------


@pytest.mark.parametrize("strategy", CONV_STRATEGIES)
@given(case=nd_cases(), data=st.data())
def test_conv_matches_the_reference(
    strategy: str | None, case: NdCase, data: st.DataObject
) -> None:
    inputs = [case.x, case.kernels] + ([] if case.bias is None else [case.bias])
    before = [array.copy() for array in inputs]
    exact = is_exact(*inputs)
    # A wider exact path (int64, Python ints) changes nothing.
    integers = data.draw(st.sampled_from((None, "int64", "object")), label="integers")
    # Gathering the windows (the path of sparse windows) changes nothing either.
    gather = data.draw(st.sampled_from((None, "always")), label="gather")
    # So does computing each image in blocks of output rows (large images).
    rows = data.draw(st.sampled_from((None, 1, 2)), label="rows per block")
    with forcing(conv=strategy, integers=integers if exact else None, gather=gather, rows=rows):
        out = case.call()
    assert_new_array(out, *inputs)
    assert out.flags.c_contiguous
    for array, copy in zip(inputs, before, strict=True):
        assert_unchanged(copy, array)

    ref = case.reference()
    if exact:
        assert_exact_integers(out, ref)
    else:
        result_dtype = np.result_type(*inputs)
        abs_ref = case.reference(absolute=True)
        assert_within_bound(out, ref, abs_ref, case.n_terms, result_dtype)


# --- against PyTorch --------------------------------------------------------------------

TORCH_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


@given(case=nd_cases(dtypes=(np.dtype(np.float64),), min_batch=1, torch_modes=True))
def test_conv_matches_torch(case: NdCase) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    d = case.d
    # Fresh C-ordered copies: torch refuses negative strides (kept by ascontiguousarray on
    # arrays of one element).
    x = torch.from_numpy(np.moveaxis(case.x, -1, 1).copy(order="C"))
    # F.pad takes (before, after) pairs from the last axis to the first.
    widths = [w for pair in reversed(case.pads) for w in pair]
    padded = functional.pad(x, widths, mode=TORCH_PAD_MODES[case.padding_mode])
    weight = case.kernels.transpose(d + 1, d, *range(d)).copy(order="C")  # (nc, cg, k..)
    bias = None if case.bias is None else torch.from_numpy(case.bias.copy(order="C"))
    conv_nd = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}[d]
    expected = conv_nd(
        padded,
        torch.from_numpy(weight),
        bias,
        stride=case.steps(case.stride),
        dilation=case.steps(case.dilation),
        groups=case.groups,
    ).numpy()
    if case.data_format == "channels_last":
        expected = np.moveaxis(expected, 1, -1)

    out = case.call()

    scale = 1 + np.abs(case.x).max() * np.abs(case.kernels).sum()
    scale += 0 if case.bias is None else np.abs(case.bias).max()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * scale, strict=True)


# --- the 2-D functions are special cases ----------------------------------------------


@given(case=conv_cases(dtypes=CONV_DTYPES), data=st.data())
def test_seed_functions_equal_conv(case: ConvCase, data: st.DataObject) -> None:
    strategy = data.draw(st.sampled_from(CONV_STRATEGIES), label="strategy")
    images, kernels, padding, stride = case.images, case.kernels, case.padding, case.stride

    def conv(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        return sc.conv(x, k, padding=padding, stride=stride)

    # float16 results may overflow to inf, with a warning in the cast.
    with forcing(conv=strategy), np.errstate(over="ignore"):
        pairs = [
            (sc.convolve(images, kernels, padding, stride), conv(images, kernels)),
            (
                sc.convolve_channels(images, kernels[..., 0], padding, stride),
                conv(images, kernels[..., :1])[..., 0],
            ),
            (
                sc.convolve_grayscale(images[..., 0], kernels[..., 0, 0], padding, stride),
                conv(images[..., :1], kernels[..., :1, :1])[..., 0],
            ),
        ]
        if stride == (1, 1):
            gray, kernel = images[..., 0], kernels[..., 0, 0]
            expected = pairs[-1][1]
            if padding == "valid":
                pairs.append((sc.convolve_grayscale_valid(gray, kernel), expected))
            elif padding == "same":
                pairs.append((sc.convolve_grayscale_same(gray, kernel), expected))
            else:
                pairs.append((sc.convolve_grayscale_padding(gray, kernel, padding), expected))
    for seed, general in pairs:
        np.testing.assert_array_equal(seed, general, strict=True)


# --- examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 3])
def test_full_padding_is_scipy_full_correlation(d: int) -> None:
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(d)
    x = rng.standard_normal((5, 4, 3)[:d])
    k = rng.standard_normal((3, 2, 2)[:d])
    out = sc.conv(x[None, ..., None], k[..., None, None], padding="full")
    expected = signal.correlate(x, k, mode="full")
    np.testing.assert_allclose(out[0, ..., 0], expected, rtol=1e-12, atol=1e-12)


def test_complex_values_are_not_conjugated() -> None:
    out = sc.conv(np.array([[[1j, 2]]]), np.array([[[1j], [1]]]))
    assert out.tolist() == [[[1j * 1j + 2]]]


def test_depthwise_is_a_convolution_per_channel() -> None:
    x = np.arange(2 * 6 * 3).reshape(2, 6, 3)
    kernels = np.array([[[1, 2, 3]], [[-1, 0, 1]]])  # (2, 1, 3): one kernel per channel
    out = sc.conv(x, kernels, groups=3, padding="same", padding_mode="replicate")
    for channel in range(3):
        alone = sc.conv(
            x[..., channel : channel + 1],
            kernels[..., channel : channel + 1],
            padding="same",
            padding_mode="replicate",
        )
        np.testing.assert_array_equal(out[..., channel], alone[..., 0], strict=True)


def test_exact_bias_beyond_int64() -> None:
    # The bias takes part in the exactness bound: the sum needs Python ints.
    big = np.array([2**62], dtype=np.int64)
    out = sc.conv(np.full((1, 2, 1), 2**62, dtype=np.int64), np.ones((1, 1, 1), int), bias=big)
    assert out.dtype == object
    assert out.tolist() == [[[2**63], [2**63]]]


def test_float16_bias_is_added_before_rounding() -> None:
    # 2048 + 1 + 1 in float32 is 2050, exact in float16; rounding to float16 between the
    # sum and the bias would give 2048 + 1 -> 2048, then 2048 + 1 -> 2048.
    x = np.array([[[2048.0], [1.0]]], dtype=np.float16)
    out = sc.conv(x, np.ones((2, 1, 1), np.float16), bias=np.ones(1, np.float16))
    assert out.dtype == np.float16
    assert out.tolist() == [[[2050.0]]]


@given(st.integers(0, 30), st.integers(1, 6), st.integers(1, 4), st.integers(1, 3))
def test_full_geometry(n: int, k: int, s: int, dil: int) -> None:
    span = (k - 1) * dil + 1
    if n + span < 2:  # an empty axis and a one-tap kernel: nothing to slide over
        with pytest.raises(ValueError, match="does not fit"):
            make_geometry((n,), (k,), (s,), "full", dilation=(dil,))
        return
    geometry = make_geometry((n,), (k,), (s,), "full", dilation=(dil,))
    assert geometry.pad == ((span - 1, span - 1),)
    assert geometry.out_shape == ((n + span - 2) // s + 1,)


# --- bad input --------------------------------------------------------------------------

X = np.arange(2 * 6 * 6 * 4, dtype=np.float64).reshape(2, 6, 6, 4)
K = np.ones((3, 3, 4, 2))


def _call(**kwargs: Any) -> Any:
    arguments = {"x": X, "kernels": K, **kwargs}
    return sc.conv(arguments.pop("x"), arguments.pop("kernels"), **arguments)


def test_good_call() -> None:
    assert _call(padding="full", bias=np.zeros(2)).shape == (2, 8, 8, 2)


PADDING_EXPECTED = (
    "padding must be 'valid', 'same', 'full', an int or a sequence of 2 non-negative ints "
    "or of 2 (before, after) pairs of them, got "
)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"x": None}, TypeError, r"x must be an array of numbers, got None"),
        ({"kernels": [["a"]]}, TypeError, r"kernels must hold numbers .* got dtype <U1"),
        (
            {"kernels": np.ones((3, 3))},
            ValueError,
            r"kernels must be an array of shape \(k1, ..., kd, c // groups, nc\) with at least "
            r"1 spatial axis, got shape \(3, 3\)",
        ),
        (
            {"kernels": np.ones((3, 0, 4, 2))},
            ValueError,
            r"kernels must have no axis of length 0, got shape \(3, 0, 4, 2\)",
        ),
        (
            {"x": X[0]},
            ValueError,
            r"x of shape \(6, 6, 4\) and kernels of shape \(3, 3, 4, 2\) disagree: kernels "
            r"\(kh, kw, c // groups, nc\) of 2 spatial axes need x of shape \(m, h, w, c\); x "
            r"lacks an axis: its batch axis m",
        ),
        (
            {"x": X[0], "data_format": "channels_first"},
            ValueError,
            r"need x of shape \(m, c, h, w\)",
        ),
        (
            {"kernels": np.ones((3, 3, 2, 3)), "groups": 2},
            ValueError,
            r"groups must divide the input channels c and the output channels nc, "
            r"got groups=2 for c=4 and nc=3",
        ),
        (
            {"kernels": np.ones((3, 3, 1, 3)), "groups": 3},
            ValueError,
            r"got groups=3 for c=4 and nc=3",
        ),
        ({"groups": 0}, ValueError, r"groups must be positive, got 0"),
        ({"groups": 2.0}, TypeError, r"groups must be a positive int, got 2.0"),
        ({"groups": True}, TypeError, r"groups must be a positive int, got True"),
        (
            {"groups": 2},
            ValueError,
            r"kernels must have c // groups = 4 // 2 = 2 channels \(axis 2\), got 4 "
            r"\(kernels of shape \(3, 3, 4, 2\)\)",
        ),
        (
            {"kernels": np.ones((3, 3, 3, 2))},
            ValueError,
            r"kernels has 3 channels \(axis 2\) but x has 4 channels \(axis 3\); they must be "
            r"equal",
        ),
        (
            {"bias": np.zeros(3)},
            ValueError,
            r"bias must have shape \(nc,\) = \(2,\), got shape \(3,\)",
        ),
        ({"bias": np.zeros((1, 2))}, ValueError, r"bias must have shape .* got shape \(1, 2\)"),
        ({"bias": ["a", "b"]}, TypeError, r"bias must hold numbers"),
        (
            {"padding_mode": "mirror"},
            ValueError,
            r"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
            r"'symmetric', 'constant', got 'mirror'; SciPy's 'mirror' is padding_mode='reflect'",
        ),
        ({"padding_mode": None}, TypeError, r"padding_mode must be one of .* got None"),
        (
            {"data_format": "NCW"},
            ValueError,
            r"data_format 'NCW' is for 1 spatial axis, but the batch has 2; expected one of "
            r"'channels_last', 'channels_first', 'NHWC', 'NCHW'",
        ),
        (
            {"padding": 6, "padding_mode": "reflect"},
            ValueError,
            r"padding \(6, 6\) of spatial axis 0 is too large for padding_mode='reflect' on an "
            r"axis of size 6: each side must be less than the axis size",
        ),
        (
            {"padding": ((0, 0), (2, 6)), "padding_mode": "reflect"},
            ValueError,
            r"padding \(2, 6\) of spatial axis 1 is too large .* size 6",
        ),
        (
            {"kernels": np.ones((3, 13, 4, 2)), "padding": "same", "padding_mode": "reflect"},
            ValueError,
            r"padding \(6, 6\) of spatial axis 1 is too large for padding_mode='reflect'",
        ),
        (
            {
                "x": np.ones((1, 0, 6, 4)),
                "kernels": np.ones((1, 1, 4, 2)),
                "padding": 1,
                "padding_mode": "replicate",
            },
            ValueError,
            r"padding \(1, 1\) of spatial axis 0 cannot be filled with "
            r"padding_mode='replicate': the axis has size 0",
        ),
        (
            {"stride": (1, 1, 1)},
            ValueError,
            r"stride must be an int or a sequence of 2 positive ints, got 3 values: \(1, 1, 1\)",
        ),
        ({"stride": (0, 1)}, ValueError, r"stride must be positive, got \(0, 1\)"),
        (
            {"dilation": (2,)},
            ValueError,
            r"dilation must be an int or a sequence of 2 positive ints, got 1 value: \(2,\)",
        ),
        ({"dilation": 0}, ValueError, r"dilation must be positive, got 0"),
        ({"dilation": 1.5}, TypeError, r"dilation must be .* got 1.5"),
        (
            {"dilation": (3, 1)},
            ValueError,
            r"kernels window \(7, 3\) \(\(3, 3\) taps at dilation \(3, 1\)\) does not fit in x "
            r"of spatial shape \(6, 6\) padded to \(6, 6\)",
        ),
        ({"padding": (1, 1, 1)}, ValueError, re.escape(PADDING_EXPECTED + "(1, 1, 1)")),
        ({"padding": ((1, 1),)}, ValueError, re.escape(PADDING_EXPECTED + "((1, 1),)")),
        (
            {"padding": ((1, 1, 1), (0, 0))},
            ValueError,
            re.escape(PADDING_EXPECTED + "((1, 1, 1), (0, 0))"),
        ),
        ({"padding": ((1, -1), (0, 0))}, ValueError, re.escape(PADDING_EXPECTED)),
        ({"padding": ((1.5, 1), (0, 0))}, TypeError, re.escape(PADDING_EXPECTED)),
        ({"padding": -1}, ValueError, re.escape(PADDING_EXPECTED + "-1")),
        ({"padding": None}, TypeError, re.escape(PADDING_EXPECTED + "None")),
        (
            {"padding": "circular"},
            ValueError,
            r"padding must be 'valid', 'same', 'full' or 2 non-negative ints, "
            r"got the unknown word 'circular'",
        ),
    ],
)
def test_bad_input(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    before = (X.copy(), K.copy())
    with pytest.raises(error, match=message):
        _call(**kwargs)
    assert_unchanged(before[0], X)
    assert_unchanged(before[1], K)


def test_seed_functions_still_refuse_full() -> None:
    with pytest.raises(ValueError, match=r"padding must be 'same', 'valid' .* word 'full'"):
        sc.convolve(X, K, padding="full")
