"""Bad input for every public function and every argument, from one table.

`BAD` is written from the signatures (`inspect.signature`) of everything in
``stridedconv.__all__`` that is callable and of ``stridedconv.kernels``: one row per
(function, argument, bad value), with the exception type and a regex that names the argument.
Each row is called on top of the function's good call (`GOOD`), replacing one argument (and,
where a row says so in `also`, the others it needs to show the fault). Every call must leave
its arrays, `out` included, as they were.

`UNUSUAL` is the other side: forms a NumPy user passes (0-d and 1-d integer arrays, NumPy
scalars, words in any case, TensorFlow's letters for data formats) that must give exactly the
result of the canonical spelling.

Rows marked with a `bug` are library bugs found while writing this table: they are strict
xfails, so that fixing the library makes them fail until the mark is removed.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import stridedconv as sc
from stridedconv import kernels

# --- the functions and a good call of each ----------------------------------------------

#: `check` runs a learner's code in child processes (seconds a call): its bad arguments are
#: tested in tests/test_check.py.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{
        name: getattr(sc, name)
        for name in sc.__all__
        if inspect.isfunction(getattr(sc, name)) and name != "check"
    },
    **{f"kernels.{name}": getattr(kernels, name) for name in kernels.__all__},
}

GRAY = np.arange(2 * 5 * 5, dtype=np.float64).reshape(2, 5, 5)
RGB = np.arange(2 * 5 * 5 * 3, dtype=np.float64).reshape(2, 5, 5, 3)
K2 = np.ones((3, 3))
K3 = np.ones((3, 3, 3))
K4 = np.ones((3, 3, 3, 2))
X = np.arange(2 * 5 * 5 * 2, dtype=np.float64).reshape(2, 5, 5, 2)
KC = np.ones((3, 3, 2, 4))
BIAS = np.arange(4.0)
Y = np.arange(2 * 3 * 3 * 4, dtype=np.float64).reshape(2, 3, 3, 4)  # conv(X, KC)'s shape
BIAS_T = np.arange(2.0)

# uint8 data and kernels of 255: exact results up to 255 * 255 * 9 = 585225, which no 8- or
# 16-bit integer holds.
U_GRAY = (GRAY % 256).astype(np.uint8)
U_RGB = (RGB % 256).astype(np.uint8)
U_X = (X % 256).astype(np.uint8)
U255 = {shape: np.full(shape, 255, np.uint8) for shape in [(3, 3), (3, 3, 3), (3, 3, 3, 2)]}
U255_KC = np.full((3, 3, 2, 4), 255, np.uint8)

GOOD: dict[str, dict[str, Any]] = {
    "conv": {"x": X, "kernels": KC, "bias": BIAS},
    "conv_transpose": {"y": Y, "kernels": KC, "bias": BIAS_T},
    "conv_vjp": {"dy": Y, "x": X, "kernels": KC},
    "pool_vjp": {"dy": np.ones((2, 2, 2, 3)), "x": RGB, "kernel_shape": (2, 2)},
    "conv_forward": {"A_prev": X, "W": KC, "b": BIAS.reshape(1, 1, 1, 4), "activation": np.tanh},
    "conv_backward": {
        "dZ": np.ones((2, 5, 5, 4)),
        "A_prev": X,
        "W": KC,
        "b": BIAS.reshape(1, 1, 1, 4),
    },
    "pool_forward": {"A_prev": RGB, "kernel_shape": (2, 2)},
    "pool_backward": {"dA": np.ones((2, 4, 4, 3)), "A_prev": RGB, "kernel_shape": (2, 2)},
    "convolve": {"images": RGB, "kernels": K4},
    "convolve_channels": {"images": RGB, "kernel": K3},
    "convolve_grayscale": {"images": GRAY, "kernel": K2},
    "convolve_grayscale_padding": {"images": GRAY, "kernel": K2, "padding": (1, 1)},
    "convolve_grayscale_same": {"images": GRAY, "kernel": K2},
    "convolve_grayscale_valid": {"images": GRAY, "kernel": K2},
    "correlate": {"images": RGB, "kernel": K2},
    "pool": {"images": RGB, "kernel_shape": (2, 2)},
    "release_memory": {},
    "windows": {"x": GRAY, "window_shape": (2, 2)},
    "kernels.box": {"size": 3},
    "kernels.emboss": {},
    "kernels.gaussian": {"size": 5, "sigma": 1.0},
    "kernels.laplacian": {"diagonals": False},
    "kernels.prewitt": {"axis": "x"},
    "kernels.sharpen": {},
    "kernels.sobel_x": {},
    "kernels.sobel_y": {},
}
#: The shape of each good call's result, for the rows about `out`.
RESULT_SHAPES = {
    "conv": (2, 3, 3, 4),
    "correlate": (2, 5, 5, 3),
    "conv_transpose": (2, 5, 5, 2),
    "convolve": (2, 5, 5, 2),
    "convolve_channels": (2, 5, 5),
    "convolve_grayscale": (2, 5, 5),
    "convolve_grayscale_padding": (2, 5, 5),
    "convolve_grayscale_same": (2, 5, 5),
    "convolve_grayscale_valid": (2, 3, 3),
    "pool": (2, 2, 2, 3),
    "conv_forward": (2, 5, 5, 4),
    "pool_forward": (2, 4, 4, 3),
}
CLASSIC = [name for name in RESULT_SHAPES if name.startswith("convolve")]
GRAYSCALE = [name for name in CLASSIC if name.startswith("convolve_grayscale")]


def call(function: str, **changes: Any) -> Any:
    """The good call of `function` with some arguments changed."""
    return FUNCTIONS[function](**{**GOOD[function], **changes})


def read_only(shape: tuple[int, ...]) -> np.ndarray:
    array = np.zeros(shape)
    array.flags.writeable = False
    return array


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad argument: calling `function` with ``argument=value`` (and `also`) raises
    `error` with a message matching `match`, which names the argument."""

    function: str
    argument: str
    value: Any
    error: type[Exception]
    match: str
    also: dict[str, Any] = field(default_factory=dict)
    #: A known library bug: the row is a strict xfail with this reason.
    bug: str | None = None


def _arrays(function: str, argument: str, wrong_ndim: str, ndim: int) -> Iterator[Bad]:
    """The faults of an array of numbers: None, no numbers, ragged, the wrong number of axes
    (`wrong_ndim`: the start of that message, a regex; empty when any number is taken)."""
    f, a = function, argument
    yield Bad(f, a, None, TypeError, rf"^{a} must be an array of numbers, got None$")
    yield Bad(f, a, "abc", TypeError, rf"^{a} must hold numbers .* got dtype <U3$")
    yield Bad(f, a, [["1", "2"]], TypeError, rf"^{a} must hold numbers .* got dtype <U1$")
    yield Bad(f, a, np.empty((2,) * ndim, object), TypeError, rf"^{a} must hold .* dtype object$")
    yield Bad(f, a, np.zeros((2,) * ndim, "M8[s]"), TypeError, rf"^{a} must hold .*datetime64")
    yield Bad(f, a, np.zeros((2,) * ndim, "S1"), TypeError, rf"^{a} must hold .* dtype \|S1$")
    yield Bad(f, a, [[1, 2], [3]], ValueError, rf"^{a} must be a rectangular array .* ragged")
    if wrong_ndim:
        for shape in [(3,) * (ndim - 1), (3,) * (ndim + 1), ()]:
            value = np.zeros(shape)
            shown = re.escape(str(shape))
            yield Bad(f, a, value, ValueError, rf"^{wrong_ndim}, got shape {shown}$")


def _ints(function: str, argument: str, n: int, minimum: int = 1) -> Iterator[Bad]:
    """The faults of an int or a sequence of `n` ints (a stride, a dilation, a window)."""
    f, a = function, argument
    what = "positive" if minimum == 1 else "non-negative"
    start = rf"^{a} must be an int or a sequence of {n} {what} ints, got"
    for value in [None, "2", 2.0, np.float64(2.0), 1j, True, np.True_, [[1, 2], [3]]]:
        yield Bad(f, a, value, TypeError, rf"{start} {re.escape(repr(value))}$")
    for value in [(2.0,) * n, (True,) * n, ("1",) * n, np.full(n, 2.0), np.ones((n, n), int)]:
        yield Bad(f, a, value, TypeError, rf"{start} ")
    for value in [minimum - 1, minimum - 2, (minimum - 1,) * n, np.array(minimum - 1)]:
        # An int of the wrong sign: only the sign is wrong (issue #17).
        yield Bad(f, a, value, ValueError, rf"^{a} must be {what}, got {re.escape(repr(value))}$")
    for value in [(1,) * (n + 1), (1,) * (n - 1), np.ones(n + 1, int)]:
        values = "1 value" if len(value) == 1 else f"{len(value)} values"
        yield Bad(f, a, value, ValueError, rf"{start} {values}: ")


def _out(function: str, inputs: dict[str, np.ndarray]) -> Iterator[Bad]:
    """The faults of `out` for a result of `RESULT_SHAPES[function]`, float64; `inputs` are
    the array arguments that it must not overlap."""
    f, shape = function, RESULT_SHAPES[function]
    bigger = tuple(n + 1 for n in shape)
    for value in [[0.0], 0.0, (np.zeros(shape),), "out"]:
        expected = rf"^out must be a NumPy array of shape .*, got {type(value).__name__}$"
        yield Bad(f, "out", value, TypeError, expected)
    for value in [np.zeros(bigger), np.zeros(shape[:-1]), np.zeros((*shape, 1)), np.zeros(())]:
        yield Bad(f, "out", value, ValueError, r"^out must have the result's shape .*, got shape")
    yield Bad(f, "out", read_only(shape), ValueError, r"^out must be writeable, got a read-only")
    broadcast = np.broadcast_to(np.zeros(shape[-1:]), shape)
    yield Bad(f, "out", broadcast, ValueError, r"^out must be writeable, got a read-only array$")
    for dtype in ["float32", "float16", "int64", "uint8", "bool"]:
        yield Bad(
            f,
            "out",
            np.zeros(shape, dtype),
            TypeError,
            rf"^out has dtype {dtype}, to which the result's dtype float64 does not cast "
            rf"safely; pass dtype='{dtype}' to compute in it$",
        )
    # An out that overlaps an input by one value: both are views of one buffer.
    for name, array in inputs.items():
        size = array.size
        buffer = np.arange(size + np.prod(shape) - 1, dtype=np.float64)
        overlapping = buffer[size - 1 :].reshape(shape)
        yield Bad(
            f,
            "out",
            overlapping,
            ValueError,
            rf"^out must not share memory with {name}: the result would overwrite its input$",
            also={name: buffer[:size].reshape(array.shape)},
        )


def _dtype(
    function: str,
    what: str,
    exact: dict[str, Any],
    narrow: list[str],
    also: dict[str, Any] | None = None,
) -> Iterator[Bad]:
    """The faults of `dtype` for a float64 result (`what` is its name in the messages);
    `exact` gives the arguments of an exact problem whose values no dtype in `narrow` holds."""
    f, also = function, also or {}
    for value, shown in [
        ("bool", "bool"),
        (bool, "bool"),
        (np.bool_, "bool"),
        ("str", "<U0"),
        (str, "<U0"),
        ("S3", r"\|S3"),
        (object, "object"),
        ("M8[s]", r"datetime64\[s\]"),
        ("m8", "timedelta64"),
        ("V8", r"\|V8"),
        ("i4,f8", r"\[\('f0', '<i4'\), \('f1', '<f8'\)\]"),
    ]:
        expected = rf"^dtype must be an integer, float or complex dtype, got {shown}$"
        yield Bad(f, "dtype", value, TypeError, expected, also=also)
    for value in ["junk", 3, [1, 2], {"a": 1}, "(-1)i4", 1.5]:
        expected = (
            r"^dtype must be a NumPy dtype such as 'float32' or np\.int64, got "
            rf"{re.escape(repr(value))}$"
        )
        yield Bad(f, "dtype", value, TypeError, expected, also=also)
    for value in [("i4", -1), "i4,("]:
        yield Bad(f, "dtype", value, TypeError, r"^dtype must be", also=also)
    # Float results are refused by integer dtypes.
    for dtype in ["int64", "int8", "uint64"]:
        expected = rf"^dtype must hold {what} of dtype float64, got dtype='{dtype}'$"
        yield Bad(f, "dtype", dtype, TypeError, expected, also=also)
    for dtype in narrow:
        expected = (
            rf"^dtype='{dtype}' cannot hold every exact value of .*: they may range from 0 to "
            r"\d+; use a wider integer or a float dtype$"
        )
        yield Bad(f, "dtype", dtype, ValueError, expected, also={**also, **exact})


def _words(function: str, argument: str, choices: str, unknown: list[str]) -> Iterator[Bad]:
    """The faults of a word: not a string (None, bytes, an int, a list), an unknown word."""
    start = rf"^{argument} must be one of {choices}, got"
    for value in [None, b"max", 1, ["max"], np.array(["max"]), np.array("max")]:
        yield Bad(function, argument, value, TypeError, rf"{start} {re.escape(repr(value))}$")
    for value in unknown:
        yield Bad(function, argument, value, ValueError, rf"{start} {re.escape(repr(value))}$")


def _bools(function: str, argument: str) -> Iterator[Bad]:
    """The faults of a flag: anything but True, False and NumPy's bools."""
    for value in [None, 0, 1, "no", "True", np.array(True), 1.0, [True]]:
        expected = rf"^{argument} must be True or False, got {re.escape(repr(value))}$"
        yield Bad(function, argument, value, TypeError, expected)


CLASSIC_PADDING = "padding must be 'same', 'valid', an int or a sequence of 2 non-negative ints"
ND_PADDING = (
    "padding must be 'valid', 'same', 'full', an int or a sequence of 2 non-negative ints or "
    "of 2 (before, after) pairs of them"
)


def _classic_padding(function: str) -> Iterator[Bad]:
    """The classic functions' padding: a word or one int per axis (no pairs)."""
    f, start = function, re.escape(CLASSIC_PADDING) + ", got"
    for value in [
        None,
        1.0,
        1j,
        True,
        b"same",
        ["same", "same"],
        (1.5, 1),
        [[1, 2], [3]],
        ((1, 1), (1, 1)),  # (before, after) pairs are conv's
    ]:
        yield Bad(f, "padding", value, TypeError, rf"^{start} {re.escape(repr(value))}$")
    for value in [-1, (-1, 0), (0, -1), (1, 1, 1), (1,), ["SAME"], np.array([1, 1, 1])]:
        yield Bad(f, "padding", value, ValueError, rf"^{start} ")
    for value in ["full", "bogus", "", "same "]:
        expected = (
            r"^padding must be 'same', 'valid' or 2 non-negative ints, got the unknown word "
            rf"{value!r}$"
        )
        yield Bad(f, "padding", value, ValueError, expected)


def _nd_padding(function: str) -> Iterator[Bad]:
    """conv's and pool's padding: a word, one int per axis, or (before, after) pairs."""
    f, start = function, re.escape(ND_PADDING) + ", got"
    for value in [None, 1.0, 1j, True, b"same", (1.5, 1), {}, ["valid", "valid"]]:
        yield Bad(f, "padding", value, TypeError, rf"^{start} {re.escape(repr(value))}$")
    for value in [((1.5, 1), (0, 0)), ((True, 1), (0, 0)), np.ones((2, 2, 2), int)]:
        yield Bad(f, "padding", value, TypeError, rf"^{start} ")
    for value in [
        -1,
        (-1, 0),
        (1, 1, 1),
        (1,),
        ["SAME"],
        ((1, 1),),
        ((1, -1), (0, 0)),
        ((1, 1, 1), (0, 0)),
        [[1, 2], [3]],
        ((1, 1), (1, 1), (1, 1)),
    ]:
        yield Bad(f, "padding", value, ValueError, rf"^{start} ")
    for value in ["circular", "bogus", "", "SAME "]:
        expected = (
            r"^padding must be 'valid', 'same', 'full' or 2 non-negative ints, got the unknown "
            rf"word {value!r}$"
        )
        yield Bad(f, "padding", value, ValueError, expected)


def _classic(function: str) -> Iterator[Bad]:
    """Every argument of one of the six classic convolutions, from its signature."""
    parameters = inspect.signature(FUNCTIONS[function]).parameters
    gray = function in GRAYSCALE
    kernel = "kernels" if "kernels" in parameters else "kernel"
    images, kernel_value = GOOD[function]["images"], GOOD[function][kernel]
    image_layout = "(m, h, w)" if gray else "(m, h, w, c)"
    kernel_layout = {2: "(kh, kw)", 3: "(kh, kw, c)", 4: "(kh, kw, c, nc)"}[kernel_value.ndim]
    yield from _arrays(
        function,
        "images",
        re.escape(f"images must be a {images.ndim}-D array of shape {image_layout}"),
        images.ndim,
    )
    yield from _arrays(
        function,
        kernel,
        re.escape(f"{kernel} must be a {kernel_value.ndim}-D array of shape {kernel_layout}"),
        kernel_value.ndim,
    )
    for axis in range(kernel_value.ndim):
        shape = tuple(0 if i == axis else n for i, n in enumerate(kernel_value.shape))
        yield Bad(
            function,
            kernel,
            np.ones(shape),
            ValueError,
            rf"^{kernel} must have no axis of length 0, got shape {re.escape(str(shape))}$",
        )
    # A kernel larger than the (padded) images; 'same' pads as much as any kernel needs.
    if function != "convolve_grayscale_same":
        also = {"padding": "valid"} if "stride" in parameters else {}
        yield Bad(
            function,
            kernel,
            np.ones((8, *kernel_value.shape[1:])),
            ValueError,
            rf"^{kernel} window \(8, 3\) does not fit in images of spatial shape \(5, 5\)",
            also=also,
        )
    if not gray:
        yield Bad(
            function,
            kernel,
            np.ones((3, 3, 2, 2)[: kernel_value.ndim]),
            ValueError,
            rf"^{kernel} has 2 channels \(axis 2\) but images have 3 channels \(axis 3\); "
            "they must be equal$",
        )
    if "padding" in parameters:
        yield from _classic_padding(function)
    if "stride" in parameters:
        yield from _ints(function, "stride", 2)
    yield from _out(function, {"images": images, kernel: kernel_value})
    u_images = U_GRAY if gray else U_RGB
    exact = {"images": u_images, kernel: U255[kernel_value.shape]}
    yield from _dtype(function, "the convolution", exact, ["int8", "uint8", "int16", "uint16"])


FORMATS = "'channels_last', 'channels_first', 'nwc', 'ncw', 'nhwc', 'nchw', 'ndhwc', 'ncdhw'"


def _conv() -> Iterator[Bad]:
    f = "conv"
    yield from _arrays(f, "x", "", 4)
    # Ranks that disagree: both shapes, and which axis is missing from which (issue #17).
    for shape in [(3, 3, 3), (3, 3, 3, 3, 3), ()]:
        expected = (
            rf"^x of shape {re.escape(str(shape))} and kernels of shape \(3, 3, 2, 4\) "
            r"disagree: kernels \(kh, kw, c // groups, nc\) of 2 spatial axes need x of shape "
            r"\(m, h, w, c\)"
        )
        yield Bad(f, "x", np.zeros(shape), ValueError, expected)
    # The kernels' number of axes sets the number of spatial axes: no fixed layout.
    yield from _arrays(f, "kernels", "", 4)
    for value in [np.ones(3), np.ones((3, 3)), np.float64(1.0)]:
        expected = (
            r"^kernels must be an array of shape \(k1, \.\.\., kd, c // groups, nc\) with at "
            rf"least 1 spatial axis, got shape {re.escape(str(np.shape(value)))}$"
        )
        yield Bad(f, "kernels", value, ValueError, expected)
    for value in [np.ones((3, 3, 3, 2, 4)), np.ones((3, 2, 4))]:
        expected = rf"^x of shape \(2, 5, 5, 2\) and kernels of shape {re.escape(str(value.shape))}"
        yield Bad(f, "kernels", value, ValueError, expected)
    for shape in [(0, 3, 2, 4), (3, 0, 2, 4), (3, 3, 0, 4), (3, 3, 2, 0)]:
        expected = rf"^kernels must have no axis of length 0, got shape {re.escape(str(shape))}$"
        yield Bad(f, "kernels", np.ones(shape), ValueError, expected)
    yield Bad(
        f,
        "kernels",
        np.ones((3, 3, 3, 4)),
        ValueError,
        r"^kernels has 3 channels \(axis 2\) but x has 2 channels \(axis 3\); they must be equal$",
    )
    yield Bad(
        f,
        "kernels",
        np.ones((6, 3, 2, 4)),
        ValueError,
        r"^kernels window \(6, 3\) does not fit in x of spatial shape \(5, 5\) padded to \(5, 5\)",
    )
    yield from _ints(f, "stride", 2)
    yield from _nd_padding(f)
    yield from _ints(f, "dilation", 2)
    yield Bad(f, "dilation", (3, 1), ValueError, r"dilation")
    for value in [None, "2", 2.0, 1j, True, np.True_, (1,), [1], np.array([1]), np.float64(1)]:
        expected = rf"^groups must be a positive int, got {re.escape(repr(value))}$"
        yield Bad(f, "groups", value, TypeError, expected)
    for value in [0, -1, np.int64(0), np.array(-2)]:
        expected = rf"^groups must be positive, got {re.escape(repr(value))}$"
        yield Bad(f, "groups", value, ValueError, expected)
    yield Bad(
        f,
        "groups",
        3,
        ValueError,
        r"^groups must divide the input channels c and the output channels nc, got groups=3 "
        r"for c=2 and nc=4$",
    )
    yield Bad(
        f,
        "groups",
        2,
        ValueError,
        r"^kernels must have c // groups = 2 // 2 = 1 channels \(axis 2\), got 2 ",
    )
    yield from (row for row in _arrays(f, "bias", "", 1) if row.value is not None)
    for value in [np.ones(3), np.ones(5), 1.0, np.ones((1, 4)), np.ones((4, 1)), []]:
        shown = re.escape(str(np.shape(value)))
        expected = rf"^bias must have shape \(nc,\) = \(4,\), got shape {shown}$"
        yield Bad(f, "bias", value, ValueError, expected)
    modes = "'zeros', 'reflect', 'replicate', 'circular', 'symmetric', 'constant'"
    yield from _words(f, "padding_mode", modes, ["median", ""])
    # Another library's word for one of ours: refused, naming ours.
    for value, ours in [("mirror", "reflect"), ("edge", "replicate"), ("wrap", "circular"),
                        ("nearest", "replicate"), ("BORDER_REFLECT", "symmetric"),
                        ("grid-constant", "constant")]:  # fmt: skip
        expected = (
            rf"^padding_mode must be one of {modes}, got '{value}'; .* is padding_mode='{ours}'"
        )
        yield Bad(f, "padding_mode", value, ValueError, expected)
    for value in [None, "0", [0.0], np.ones(2)]:
        expected = r"^cval must be a number \(int, float or complex\), got "
        yield Bad(f, "cval", value, TypeError, expected, also={"padding_mode": "constant"})
    expected = r"^cval=1 needs padding_mode='constant', got padding_mode='zeros'$"
    yield Bad(f, "cval", 1, ValueError, expected)
    yield Bad(
        f,
        "padding_mode",
        "reflect",
        ValueError,
        r"^padding \(5, 5\) of spatial axis 0 is too large for padding_mode='reflect' on an "
        r"axis of size 5: each side must be less than the axis size$",
        also={"padding": 5},
    )
    yield Bad(
        f,
        "padding_mode",
        "Replicate",
        ValueError,
        r"^padding \(1, 1\) of spatial axis 0 cannot be filled with padding_mode='replicate': "
        r"the axis has size 0$",
        also={"x": np.zeros((2, 0, 5, 2)), "padding": 1, "kernels": np.ones((1, 1, 2, 4))},
    )
    yield from _words(f, "data_format", FORMATS, ["channels", "NHCW", "nhwc ", "", "last"])
    for value in ["NWC", "ncw", "NDHWC", "NCDHW"]:
        expected = (
            rf"^data_format {value!r} is for \d spatial axis(es)?, but the batch has 2; expected "
            r"one of 'channels_last', 'channels_first', 'NHWC', 'NCHW'$"
        )
        yield Bad(f, "data_format", value, ValueError, expected)
    yield from _out(f, {"x": X, "kernels": KC})
    # An out of the channels-last shape for a channels-first call.
    yield Bad(
        f,
        "out",
        np.zeros((2, 3, 3, 4)),
        ValueError,
        r"^out must have the result's shape \(2, 4, 3, 3\), got shape \(2, 3, 3, 4\)$",
        also={"x": np.moveaxis(X, -1, 1), "data_format": "NCHW"},
    )
    yield Bad(
        f,
        "out",
        np.zeros((2, 3, 3, 4), np.int64),
        ValueError,
        r"\bout\b",
        also={
            "x": np.full((2, 5, 5, 2), 2**62, np.int64),
            "kernels": np.full((3, 3, 2, 4), 4, np.int64),
            "bias": None,
        },
    )
    aliased = np.zeros(2 * 3 * 3 * 4)
    yield Bad(
        f,
        "out",
        aliased.reshape(2, 3, 3, 4),
        ValueError,
        r"^out must not share memory with bias",
        also={"bias": aliased[:4]},
    )
    exact = {"x": U_X, "kernels": U255_KC, "bias": None}
    yield from _dtype(f, "the convolution", exact, ["int8", "uint8", "int16", "uint16"])
    yield Bad(
        f,
        "dtype",
        "int32",
        ValueError,
        r"^dtype='int32' cannot hold every exact value of the convolution: they may range "
        r"from -\d+ to \d+",
        also={
            "x": np.full((2, 5, 5, 2), 2**40, np.int64),
            "kernels": np.ones((3, 3, 2, 4), np.int8),
            "bias": np.full(4, -1, np.int8),
        },
    )
    for dtype in ["float64", "float32", "int64"]:
        expected = rf"^dtype must hold the convolution of dtype complex128, got dtype='{dtype}'$"
        yield Bad(f, "dtype", dtype, TypeError, expected, also={"bias": BIAS * 1j})


def _pool() -> Iterator[Bad]:
    f = "pool"
    yield from _arrays(f, "images", r"images must be a 4-D array of shape \(m, h, w, c\)", 4)
    start = r"^kernel_shape must be an int or a sequence of 2 positive ints, got"
    for value in [None, "2", 2.0, 1j, True, np.True_, [[1, 2], [3]], np.ones((2, 2), int)]:
        yield Bad(f, "kernel_shape", value, TypeError, rf"{start} {re.escape(repr(value))}$")
    for value in [(2.0, 2), (True, 2), ("2", "2"), np.full(2, 2.0)]:
        yield Bad(f, "kernel_shape", value, TypeError, rf"{start} ")
    for value in [0, -1, (0, 2), (2, -2), np.array(0)]:
        expected = rf"^kernel_shape must be positive, got {re.escape(repr(value))}$"
        yield Bad(f, "kernel_shape", value, ValueError, expected)
    for value in [(), [], np.array([], int)]:
        expected = r"^kernel_shape must be an int or a sequence of at least 1 positive int, got"
        yield Bad(f, "kernel_shape", value, ValueError, expected)
    # The window's length is the number of spatial axes: images of 4 axes have 2.
    for value, ndim in [((2,), 3), ((2, 2, 2), 5)]:
        expected = rf"^images must be a {ndim}-D array of shape .* \(kernel_shape .* has"
        yield Bad(f, "kernel_shape", value, ValueError, expected)
    yield Bad(
        f,
        "kernel_shape",
        (6, 2),
        ValueError,
        r"^kernel_shape window \(6, 2\) does not fit in images of spatial shape \(5, 5\) padded "
        r"to \(5, 5\)",
    )
    # None is the default: the window.
    yield from (row for row in _ints(f, "stride", 2) if row.value is not None)
    yield from _words(f, "mode", "'max', 'avg', 'min', 'sum'", ["average", "mean", "median", ""])
    for mode in ["max", "MIN"]:
        yield Bad(
            f,
            "mode",
            mode,
            TypeError,
            rf"^mode={mode!r} needs real images \(complex numbers have no order\), got complex128$",
            also={"images": RGB * 1j},
        )
    yield from _nd_padding(f)
    for value, axis in [(2, 0), ((0, 2), 1), (((0, 0), (2, 0)), 1)]:
        expected = (
            rf"^padding \(\d, \d\) of spatial axis {axis} must be at most half the window on "
            rf"each side, kernel_shape\[{axis}\] // 2 = 2 // 2 = 1$"
        )
        yield Bad(f, "padding", value, ValueError, expected)
    yield from _ints(f, "dilation", 2)
    yield Bad(f, "dilation", (5, 1), ValueError, r"dilation")
    yield from _bools(f, "ceil_mode")
    yield from _bools(f, "count_include_pad")
    yield from _words(f, "data_format", FORMATS, ["channels", "NHCW", "", "last"])
    for value in ["NWC", "NCDHW"]:
        expected = rf"^data_format {value!r} is for \d spatial axis(es)?, but the batch has 2"
        yield Bad(f, "data_format", value, ValueError, expected)
    yield from _out(f, {"images": RGB})
    yield Bad(
        f,
        "out",
        np.zeros((2, 2, 2, 3)),
        ValueError,
        r"^out must have the result's shape \(2, 3, 2, 2\), got shape \(2, 2, 2, 3\)$",
        also={"images": np.moveaxis(RGB, -1, 1), "data_format": "channels_first"},
    )
    yield Bad(
        f,
        "out",
        np.zeros((2, 2, 2, 3), np.int64),
        ValueError,
        r"\bout\b",
        also={"images": np.full((2, 5, 5, 3), 2**62, np.int64), "mode": "sum"},
    )
    # max and min of uint8 fit in 16 bits; sums of 4 of them (up to 1020) do not fit in 8.
    for mode, narrow in [("max", ["int8"]), ("min", ["int8"]), ("sum", ["int8", "uint8"])]:
        what = "the sum pooling" if mode == "sum" else f"the {mode} pooling"
        yield from _dtype(f, what, {"images": U_RGB}, narrow, also={"mode": mode})
    for dtype in ["int64", "int8", "uint16"]:
        for images in [RGB, U_RGB]:
            expected = rf"^dtype must hold the avg pooling of dtype float64, got dtype='{dtype}'$"
            also = {"mode": "avg", "images": images}
            yield Bad(f, "dtype", dtype, TypeError, expected, also=also)
    yield Bad(
        f,
        "dtype",
        "uint32",
        ValueError,
        r"^dtype='uint32' cannot hold every exact value of the sums: they may range from -\d+",
        also={"images": U_RGB.astype(np.int8), "mode": "sum"},
    )
    yield Bad(
        f,
        "dtype",
        "float64",
        TypeError,
        r"^dtype must hold the sum pooling of dtype complex128, got dtype='float64'$",
        also={"images": RGB * 1j, "mode": "sum"},
    )


def _windows() -> Iterator[Bad]:
    f = "windows"
    yield Bad(f, "x", None, TypeError, r"^x must be an array")
    yield Bad(f, "x", [[1, 2], [3]], ValueError, r"\bx\b")
    for value in [np.zeros(5), np.float64(1.0), [1, 2, 3], np.zeros((5, 5))]:
        expected = (
            r"^x must have a batch axis and 2 spatial axes for a 2-D window_shape, got shape "
            rf"{re.escape(str(np.shape(value)))}$"
        )
        yield Bad(f, "x", value, ValueError, expected)
    start = r"^window_shape must be an int or a non-empty tuple of ints, got"
    for value in [
        None,
        "22",
        2.0,
        1j,
        (),
        [],
        True,
        np.True_,
        np.float64(2.0),
        {2, 3},
        np.ones((2, 2), int),
    ]:
        yield Bad(f, "window_shape", value, TypeError, rf"{start} {re.escape(repr(value))}$")
    start = r"^window_shape must be an int or a sequence of \d positive ints, got"
    for value in [(2.0, 2), (True, 2), ("2", "2"), [[1, 2], [3]]]:
        yield Bad(f, "window_shape", value, TypeError, rf"{start} ")
    for value in [0, -1, (2, 0), (-1, 2)]:
        expected = r"^window_shape must be positive, got "  # as a list
        yield Bad(f, "window_shape", value, ValueError, expected)
    yield Bad(
        f,
        "window_shape",
        (2, 2, 2),
        ValueError,
        r"^x must have a batch axis and 3 spatial axes for a 3-D window_shape, got shape",
    )
    yield Bad(
        f,
        "window_shape",
        (6, 2),
        ValueError,
        r"^window_shape \(6, 2\) \(spanning \(6, 2\) with dilation \(1, 1\)\) does not fit in "
        r"the spatial shape \(5, 5\) of x$",
    )
    yield from _ints(f, "stride", 2)
    yield from _ints(f, "dilation", 2)
    yield Bad(
        f,
        "dilation",
        (3, 1),
        ValueError,
        r"^window_shape \(2, 2\) \(spanning \(4, 2\) with dilation \(3, 1\)\) does not fit",
        also={"x": np.zeros((2, 3, 5))},
    )


def _kernels() -> Iterator[Bad]:
    f = "kernels.box"
    yield from _ints(f, "size", 2)
    yield Bad(f, "size", [], ValueError, r"^size must be .* 2 positive ints, got 0 values: \[\]$")
    for value in [10**10, (1, 10**19), np.uint64(2**63)]:
        expected = (
            r"^size=.* asks for a float64 kernel of shape .* bytes, which cannot be allocated$"
        )
        yield Bad(f, "size", value, MemoryError, expected)
    f = "kernels.gaussian"
    for value in [None, "5", 5.0, 1j, True, np.True_, (5, 5), [5], np.array([5]), np.float64(5)]:
        expected = rf"^size must be a positive int, got {re.escape(repr(value))}$"
        yield Bad(f, "size", value, TypeError, expected)
    for value in [0, -1, np.int64(0), np.array(-5)]:
        expected = rf"^size must be positive, got {re.escape(repr(value))}$"
        yield Bad(f, "size", value, ValueError, expected)
    for value in [10**10, np.uint64(2**63)]:
        expected = r"^size=.* asks for a float64 kernel of shape .* cannot be allocated$"
        yield Bad(f, "size", value, MemoryError, expected)
    for value in [None, "1", 1j, np.complex128(1), True, np.True_, [1.0], (1.0,)]:
        expected = rf"^sigma must be a positive real number, got {re.escape(repr(value))}$"
        yield Bad(f, "sigma", value, TypeError, expected)
    for value in [0, 0.0, -1, -1e-300, float("nan"), float("inf"), np.float32("nan")]:
        expected = rf"^sigma must be a positive, finite real number, got {re.escape(repr(value))}$"
        yield Bad(f, "sigma", value, ValueError, expected)
    for value in [-(10**400), Fraction(-1, 3), np.float16("-inf")]:
        expected = r"^sigma must be a positive, finite real number, got "
        yield Bad(f, "sigma", value, ValueError, expected)
    yield from _bools("kernels.laplacian", "diagonals")
    f = "kernels.prewitt"
    for value in [None, 1, b"x", ["x"], np.array("x")]:
        expected = rf"^axis must be the string 'x' or 'y', got {re.escape(repr(value))}$"
        yield Bad(f, "axis", value, TypeError, expected)
    for value in ["z", "", "xy", "x ", "horizontal"]:
        expected = rf"^axis must be 'x' or 'y', got {re.escape(repr(value))}$"
        yield Bad(f, "axis", value, ValueError, expected)


def _conv_transpose() -> Iterator[Bad]:
    f = "conv_transpose"
    y_layout = r"y must be a 4-D array of shape \(m, h, w, nc\) for kernels of 2 spatial axes"
    yield from _arrays(f, "y", y_layout, 4)
    yield from _arrays(f, "kernels", "", 4)
    for shape in [(0, 3, 2, 4), (3, 3, 2, 0)]:
        expected = rf"^kernels must have no axis of length 0, got shape {re.escape(str(shape))}$"
        yield Bad(f, "kernels", np.ones(shape), ValueError, expected)
    yield Bad(f, "kernels", np.ones((3, 3, 2, 5)), ValueError, r"^y has 4 channels .* kernels")
    yield from _ints(f, "stride", 2)
    yield from _nd_padding(f)
    yield from _ints(f, "dilation", 2)
    yield from _ints(f, "output_padding", 2, minimum=0)
    yield Bad(f, "output_padding", 1, ValueError, r"^output_padding must be below max\(stride")
    yield Bad(
        f, "output_padding", 1, ValueError, r"^output_padding must be 0 with padding='same'",
        also={"padding": "same", "stride": 2},
    )  # fmt: skip
    for value in [None, "2", 2.0, True, (1,)]:
        expected = rf"^groups must be a positive int, got {re.escape(repr(value))}$"
        yield Bad(f, "groups", value, TypeError, expected)
    yield Bad(f, "groups", 0, ValueError, r"^groups must be positive, got 0$")
    yield Bad(f, "groups", 3, ValueError, r"^groups must divide the kernels' nc = 4, got groups=3$")
    yield from (row for row in _arrays(f, "bias", "", 1) if row.value is not None)
    for value in [np.ones(3), np.ones((1, 2)), []]:
        shown = re.escape(str(np.shape(value)))
        expected = rf"^bias must have shape \(c,\) = \(2,\), got shape {shown}$"
        yield Bad(f, "bias", value, ValueError, expected)
    yield from _words(f, "data_format", FORMATS, ["channels", "NHCW", ""])
    yield from _out(f, {"y": Y, "kernels": KC})
    yield from _dtype(f, "the transposed convolution", {}, [])


def _correlate() -> Iterator[Bad]:
    f = "correlate"
    yield from _arrays(f, "images", "", 4)
    yield from _arrays(f, "kernel", "", 2)
    for value, shown in [(np.ones((3, 3, 2)), r"\(3, 3, 2\)"), (np.ones(3), r"\(3,\)")]:
        expected = (
            rf"^kernel of shape {shown} does not fit images of shape \(2, 5, 5, 3\) \(2 spatial "
            r"axes, 3 channels on axis 3\): the kernel must have shape \(k1, k2\) for every "
            r"channel, or \(k1, k2, 3\) for one kernel per channel"
        )
        yield Bad(f, "kernel", value, ValueError, expected)
    expected = (
        r"^kernel of shape \(2, 2\) does not fit images of shape \(5, 5, 3\) .*images\[None\]"
    )
    yield Bad(f, "kernel", np.ones((2, 2)), ValueError, expected, also={"images": RGB[0]})
    yield Bad(f, "kernel", np.ones((0, 3)), ValueError, r"^kernel must have no axis of length 0")
    expected = r"^kernel window \(6, 3\) does not fit"
    yield Bad(f, "kernel", np.ones((6, 3)), ValueError, expected, also={"padding": "valid"})
    for value in [1.0, "last", True, (3,)]:
        yield Bad(f, "channel_axis", value, TypeError, r"^channel_axis must be an int or None")
    for value in [0, 4, -4]:
        expected = r"^channel_axis must be an axis of images of shape \(2, 5, 5, 3\) other than"
        yield Bad(f, "channel_axis", value, ValueError, expected)
    expected = r"^images must be a batch \(m, s1, \.\.\., sd, c\) .*\(channel_axis=None"
    yield Bad(f, "channel_axis", -1, ValueError, expected, also={"images": GRAY[0, 0]})
    yield from _ints(f, "stride", 2)
    yield from _ints(f, "dilation", 2)
    yield from _nd_padding(f)
    modes = "'zeros', 'reflect', 'replicate', 'circular', 'symmetric', 'constant'"
    yield from _words(f, "padding_mode", modes, ["median", ""])
    expected = r"^padding_mode must be one of .*, got 'nearest'; SciPy's 'nearest' is padding_mode="
    yield Bad(f, "padding_mode", "nearest", ValueError, expected)
    for value in [None, "0", [0.0], np.ones(2), True]:
        expected = r"^cval must be a number \(int, float or complex\), got "
        yield Bad(f, "cval", value, TypeError, expected, also={"padding_mode": "constant"})
    expected = r"^cval=1 needs padding_mode='constant', got padding_mode='symmetric'$"
    yield Bad(f, "cval", 1, ValueError, expected)
    yield from _out(f, {"images": RGB})
    exact = {"images": U_RGB, "kernel": U255[(3, 3)]}
    yield from _dtype(f, "the convolution", exact, ["int8", "uint8", "int16", "uint16"])


def _conv_vjp() -> Iterator[Bad]:
    """conv's rows for the arguments they share (checked by the same `check_conv`), and
    conv_vjp's own: `dy` and `wrt`."""
    f = "conv_vjp"
    shared = set(inspect.signature(sc.conv_vjp).parameters)
    for row in _conv():
        if row.argument in shared and set(row.also) <= shared:
            yield Bad(f, row.argument, row.value, row.error, row.match, row.also, row.bug)
    yield from _arrays(f, "dy", "", 4)
    for shape in [(2, 3, 3, 3), (2, 4, 3, 4), (1, 3, 3, 4), (2, 3, 3)]:
        expected = (
            rf"^dy must have the shape of conv's result, \(2, 3, 3, 4\) for x of shape "
            rf"\(2, 5, 5, 2\) and kernels of shape \(3, 3, 2, 4\), got shape "
            rf"{re.escape(str(shape))}$"
        )
        yield Bad(f, "dy", np.zeros(shape), ValueError, expected)
    for value in [None, 1, {"x"}]:
        yield Bad(f, "wrt", value, TypeError, r"^wrt must be")
    for value in [["x", "y"], ("weights",), "input"]:
        yield Bad(f, "wrt", value, ValueError, r"^wrt must be one of 'x', 'kernels', 'bias'")


def _pool_vjp() -> Iterator[Bad]:
    """pool's rows for the arguments they share (checked by the same `check_pool`, which
    names the batch `x` here), and pool_vjp's own: `dy` and `ties`."""
    f = "pool_vjp"
    shared = set(inspect.signature(sc.pool_vjp).parameters)
    for row in _pool():
        argument = "x" if row.argument == "images" else row.argument
        also = {("x" if k == "images" else k): v for k, v in row.also.items()}
        if argument in shared and set(also) <= shared and row.argument != "stride":
            match = row.match.replace("images", "x")
            yield Bad(f, argument, row.value, row.error, match, also, row.bug)
    yield from (row for row in _ints(f, "stride", 2) if row.value is not None)  # the window
    yield from _arrays(f, "dy", "", 4)
    for shape in [(2, 2, 2, 2), (2, 3, 2, 3), (2, 2, 2)]:
        expected = (
            r"^dy must have the shape of pool's result, \(2, 2, 2, 3\) for x of shape "
            rf"\(2, 5, 5, 3\), got shape {re.escape(str(shape))}$"
        )
        yield Bad(f, "dy", np.zeros(shape), ValueError, expected)
    yield from _words(f, "ties", "'first', 'all', 'split'", ["any", "last", ""])


def _course() -> Iterator[Bad]:
    """The course's four functions: their own names for the arrays, the checks of conv and
    pool for the rest."""
    layer = r"A_prev must be a 4-D array of shape \(m, h_prev, w_prev, c_prev\)"
    for f in ("conv_forward", "conv_backward"):
        yield from _arrays(f, "A_prev", layer, 4)
        yield from _arrays(f, "W", r"W must be a 4-D array of shape \(kh, kw, c_prev, c_new\)", 4)
        yield Bad(f, "W", np.ones((3, 3, 3, 4)), ValueError, r"^W has 3 channels .* A_prev has")
        for value in [np.ones(4), np.ones((1, 1, 1, 3)), np.ones((4, 1, 1, 1))]:
            yield Bad(f, "b", value, ValueError, r"^b must have shape \(1, 1, 1, c_new\)")
        yield Bad(f, "b", None, TypeError, r"^b must be an array of numbers, got None$")
        yield from _classic_padding(f)
        yield from _ints(f, "stride", 2)
    for value in [None, 1, "relu"]:
        expected = (
            rf"^activation must be a callable such as np\.tanh, got {re.escape(repr(value))}$"
        )
        yield Bad("conv_forward", "activation", value, TypeError, expected)
    yield from _arrays("conv_backward", "dZ", "", 4)
    yield Bad("conv_backward", "dZ", np.ones((2, 3, 3, 4)), ValueError,
              r"^dZ must have the shape of conv's result, \(2, 5, 5, 4\) for A_prev")  # fmt: skip
    pooled = r"A_prev must be a 4-D array of shape \(m, h_prev, w_prev, c\)"
    for f in ("pool_forward", "pool_backward"):
        yield from _arrays(f, "A_prev", pooled, 4)
        # Another number of window axes asks for another number of A_prev's axes.
        yield from (
            row for row in _ints(f, "kernel_shape", 2) if not re.search("values?:", row.match)
        )
        yield from (row for row in _ints(f, "stride", 2) if row.value is not None)
        yield from _words(f, "mode", "'max', 'avg', 'min', 'sum'", ["mean", ""])
    yield from _arrays("pool_backward", "dA", "", 4)
    yield Bad("pool_backward", "dA", np.ones((2, 2, 2, 3)), ValueError,
              r"^dA must have the shape of pool's result, \(2, 4, 4, 3\) for A_prev")  # fmt: skip


BAD: list[Bad] = [
    *(row for name in CLASSIC for row in _classic(name)),
    *_conv(),
    *_correlate(),
    *_conv_transpose(),
    *_conv_vjp(),
    *_pool_vjp(),
    *_course(),
    *_pool(),
    *_windows(),
    *_kernels(),
]


def _label(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}{value.dtype}"
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _params(rows: list[Bad]) -> list[Any]:
    params = []
    for row in rows:
        marks = [pytest.mark.xfail(strict=True, reason=row.bug)] if row.bug else []
        more = "".join(f"+{key}={_label(value)}" for key, value in row.also.items())
        ident = f"{row.function}:{row.argument}={_label(row.value)}{more}"
        params.append(pytest.param(row, id=ident, marks=marks))
    return params


def _array_arguments(arguments: dict[str, Any]) -> dict[str, np.ndarray]:
    return {name: value for name, value in arguments.items() if isinstance(value, np.ndarray)}


@pytest.mark.parametrize("row", _params(BAD))
def test_bad_argument(row: Bad) -> None:
    arguments = {**GOOD[row.function], **row.also, row.argument: row.value}
    arrays = _array_arguments(arguments)
    copies = {name: array.copy() for name, array in arrays.items()}
    with pytest.raises(row.error, match=row.match) as caught:
        FUNCTIONS[row.function](**arguments)
    assert re.search(rf"\b{row.argument}\b", str(caught.value)), str(caught.value)
    for name, array in arrays.items():
        np.testing.assert_array_equal(array, copies[name], strict=True, err_msg=name)


def test_every_argument_of_every_public_function_has_rows() -> None:
    expected = {
        (name, parameter)
        for name, function in FUNCTIONS.items()
        for parameter in inspect.signature(function).parameters
    }
    covered = {(row.function, row.argument) for row in BAD}
    assert expected - covered == set()
    assert covered - expected == set()
    # Every function has a good call, and the table's regexes name their argument.
    assert set(GOOD) == set(FUNCTIONS)
    for row in BAD:
        assert row.argument in row.match, row


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_good_call_works(name: str) -> None:
    arrays = _array_arguments(GOOD[name])
    copies = {key: array.copy() for key, array in arrays.items()}
    result = call(name)
    if name == "release_memory":
        assert isinstance(result, int)
        assert result >= 0
    elif name == "conv_backward":
        assert [grad.shape for grad in result] == [X.shape, KC.shape, (1, 1, 1, 4)]
    elif name in ("pool_vjp", "pool_backward"):
        assert result.shape == RGB.shape
    elif name == "conv_vjp":
        assert [grad.shape for grad in result] == [X.shape, KC.shape, (4,)]
    else:
        assert isinstance(result, np.ndarray)
        assert result.shape == RESULT_SHAPES.get(name, result.shape)
    for key, array in arrays.items():
        np.testing.assert_array_equal(array, copies[key], strict=True)


def test_the_table_is_not_small() -> None:
    # A guard against a refactoring that empties a family by mistake.
    counts: dict[str, int] = {}
    for row in BAD:
        counts[row.function] = counts.get(row.function, 0) + 1
    assert min(counts.values()) >= 5, counts
    assert len(BAD) >= 500


# --- unusual forms that must work ---------------------------------------------------------


@dataclass(frozen=True)
class Unusual:
    """Calling `function` with `given` gives exactly what it gives with `canonical`."""

    function: str
    given: dict[str, Any]
    canonical: dict[str, Any]
    bug: str | None = None


CONV_2G = {"kernels": np.ones((3, 3, 1, 4)), "bias": None}
UNUSUAL: list[Unusual] = [
    # 0-d arrays and NumPy scalars for ints, 1-d arrays for sequences of ints.
    *(
        Unusual(name, {"stride": value}, {"stride": 2})
        for name in ["convolve_grayscale", "convolve_channels", "convolve", "conv", "windows"]
        for value in [np.array(2), np.int64(2), np.uint8(2), np.int32(2), np.array([2, 2])]
    ),
    *(
        Unusual(name, {"stride": value}, {"stride": (2, 1)})
        for name in ["convolve_grayscale", "convolve", "conv", "pool", "windows"]
        for value in [[2, 1], np.array([2, 1]), (np.int64(2), np.uint8(1)), [np.array(2), 1]]
    ),
    *(
        Unusual(name, {"padding": value}, {"padding": (1, 1)})
        for name in ["convolve_grayscale", "convolve_grayscale_padding", "convolve", "conv"]
        for value in [np.array(1), np.int64(1), np.uint8(1), [1, 1], np.array([1, 1])]
    ),
    *(
        Unusual(name, {"padding": value}, {"padding": canonical})
        for name in ["convolve_grayscale", "convolve_channels", "convolve"]
        for value, canonical in [("SAME", "same"), ("Valid", "valid"), ("VALID", "valid")]
    ),
    *(
        Unusual("conv", {"padding": value}, {"padding": canonical})
        for value, canonical in [
            ("SAME", "same"),
            ("Full", "full"),
            ("VALID", "valid"),
            (np.array([[1, 0], [0, 2]]), ((1, 0), (0, 2))),
            ([1, (0, 2)], ((1, 1), (0, 2))),
            ([[1, 0], np.array([0, 2])], ((1, 0), (0, 2))),
            (((np.uint8(1), np.int64(0)), (0, 2)), ((1, 0), (0, 2))),
        ]
    ),
    *(
        Unusual("conv", {"dilation": value}, {"dilation": canonical})
        for value, canonical in [(np.array(2), 2), (np.int16(2), 2), (np.array([2, 1]), (2, 1))]
    ),
    *(
        Unusual("conv", {**CONV_2G, "groups": value}, {**CONV_2G, "groups": 2})
        for value in [np.array(2), np.int64(2), np.uint8(2)]
    ),
    Unusual("conv", {"bias": [0.0, 1.0, 2.0, 3.0]}, {"bias": BIAS}),
    Unusual("conv", {"bias": np.arange(4)}, {"bias": BIAS}),
    *(
        Unusual(
            "conv", {"padding": 1, "padding_mode": value}, {"padding": 1, "padding_mode": canonical}
        )
        for value, canonical in [
            ("Reflect", "reflect"),
            ("REPLICATE", "replicate"),
            ("Circular", "circular"),
            ("ZEROS", "zeros"),
        ]
    ),
    *(
        Unusual("conv", {"data_format": value}, {"data_format": "channels_last"})
        for value in ["NHWC", "nhwc", "Channels_Last", "CHANNELS_LAST"]
    ),
    *(
        Unusual(
            "conv",
            {"x": np.moveaxis(X, -1, 1), "data_format": value},
            {"x": np.moveaxis(X, -1, 1), "data_format": "channels_first"},
        )
        for value in ["NCHW", "nchw", "CHANNELS_FIRST", "Channels_First"]
    ),
    Unusual(
        "conv",
        {"x": X[:, 0], "kernels": KC[0], "data_format": "NWC"},
        {"x": X[:, 0], "kernels": KC[0]},
    ),
    Unusual(
        "conv",
        {"x": np.moveaxis(X[:, 0], -1, 1), "kernels": KC[0], "data_format": "NCW"},
        {"x": np.moveaxis(X[:, 0], -1, 1), "kernels": KC[0], "data_format": "channels_first"},
    ),
    Unusual(
        "conv",
        {"x": X[:, None], "kernels": KC[None], "data_format": "NDHWC"},
        {"x": X[:, None], "kernels": KC[None]},
    ),
    Unusual(
        "conv",
        {"x": np.moveaxis(X[:, None], -1, 1), "kernels": KC[None], "data_format": "NCDHW"},
        {"x": np.moveaxis(X[:, None], -1, 1), "kernels": KC[None], "data_format": "channels_first"},
    ),
    *(
        Unusual(name, {"dtype": value}, {"dtype": "float32"})
        for name in ["conv", "convolve_grayscale_valid", "pool"]
        for value in [np.float32, np.dtype("float32"), ">f4", "<f4", "f4", "single"]
    ),
    # pool: the window, the mode, the booleans, the data formats.
    *(
        Unusual("pool", {"kernel_shape": value}, {"kernel_shape": (2, 2)})
        for value in [2, np.array(2), np.int64(2), np.uint8(2), [2, 2], np.array([2, 2])]
    ),
    *(
        Unusual("pool", {"kernel_shape": 2, "stride": value}, {"kernel_shape": 2, "stride": 2})
        for value in [None, np.array(2), np.int8(2), (2, 2)]
    ),
    *(
        Unusual("pool", {"mode": value}, {"mode": value.lower()})
        for value in ["MAX", "Avg", "SUM", "Min", "mAx"]
    ),
    *(
        Unusual(
            "pool",
            {"padding": 1, "ceil_mode": np.True_, "count_include_pad": np.False_, "mode": "avg"},
            {"padding": 1, "ceil_mode": True, "count_include_pad": False, "mode": "avg"},
        )
        for _ in [0]
    ),
    *(
        Unusual("pool", {"padding": value}, {"padding": canonical})
        for value, canonical in [
            ("VALID", "valid"),
            ("Same", "same"),
            (np.array(1), 1),
            (np.array([[1, 0], [0, 1]]), ((1, 0), (0, 1))),
        ]
    ),
    Unusual("pool", {"dilation": np.array([1, 2])}, {"dilation": (1, 2)}),
    Unusual("pool", {"data_format": "NHWC"}, {"data_format": "channels_last"}),
    *(
        Unusual(
            "pool",
            {"images": np.moveaxis(RGB, -1, 1), "data_format": value},
            {"images": np.moveaxis(RGB, -1, 1), "data_format": "channels_first"},
        )
        for value in ["NCHW", "Channels_First", "CHANNELS_FIRST"]
    ),
    # windows: NumPy ints everywhere, arrays for the window too.
    Unusual(
        "windows",
        {"window_shape": np.int64(2), "x": GRAY[:, 0]},
        {"window_shape": 2, "x": GRAY[:, 0]},
    ),
    Unusual("windows", {"window_shape": [2, 2]}, {"window_shape": (2, 2)}),
    Unusual("windows", {"dilation": np.array([1, 2])}, {"dilation": (1, 2)}),
    Unusual("windows", {"dilation": np.uint8(2)}, {"dilation": 2}),
    Unusual(
        "windows",
        {"window_shape": np.array(2), "x": GRAY[:, 0]},
        {"window_shape": 2, "x": GRAY[:, 0]},
    ),
    Unusual(
        "windows",
        {"window_shape": np.array([2, 2])},
        {"window_shape": (2, 2)},
    ),
    # kernels
    *(
        Unusual("kernels.box", {"size": value}, {"size": 3})
        for value in [np.array(3), np.int64(3), np.uint8(3), (3, 3), [3, 3], np.array([3, 3])]
    ),
    Unusual("kernels.box", {"size": [np.int8(2), np.array(3)]}, {"size": (2, 3)}),
    *(
        Unusual("kernels.gaussian", {"size": size, "sigma": sigma}, {"size": 5, "sigma": 1.0})
        for size, sigma in [
            (np.array(5), 1.0),
            (np.int64(5), np.float32(1.0)),
            (np.uint8(5), 1),
            (5, Fraction(1)),
            (5, np.int16(1)),
            (5, np.float64(1.0)),
        ]
    ),
    Unusual("kernels.laplacian", {"diagonals": np.True_}, {"diagonals": True}),
    Unusual("kernels.laplacian", {"diagonals": np.False_}, {"diagonals": False}),
    Unusual("kernels.prewitt", {"axis": "X"}, {"axis": "x"}),
    Unusual("kernels.prewitt", {"axis": "Y"}, {"axis": "y"}),
    Unusual("kernels.prewitt", {"axis": np.str_("y")}, {"axis": "y"}),
]


def _unusual_params() -> list[Any]:
    params = []
    for form in UNUSUAL:
        marks = [pytest.mark.xfail(strict=True, reason=form.bug)] if form.bug else []
        shown = ",".join(f"{k}={_label(v)}" for k, v in form.given.items())
        params.append(pytest.param(form, id=f"{form.function}:{shown}", marks=marks))
    return params


@pytest.mark.parametrize("form", _unusual_params())
def test_unusual_forms_give_the_canonical_result(form: Unusual) -> None:
    given = {**GOOD[form.function], **form.given}
    arrays = _array_arguments(given)
    copies = {key: array.copy() for key, array in arrays.items()}
    got = FUNCTIONS[form.function](**given)
    want = FUNCTIONS[form.function](**{**GOOD[form.function], **form.canonical})
    np.testing.assert_array_equal(got, want, strict=True)
    for key, array in arrays.items():
        np.testing.assert_array_equal(array, copies[key], strict=True)


# --- errors before any work ---------------------------------------------------------------

#: 10**13 int64 values, 72.8 TiB, that take no memory: a result this size cannot be allocated.
HUGE = np.broadcast_to(np.int64(1), (10**5, 10**4, 10**4))
#: Gradients of the shape of a 'valid' 3x3 convolution and of a 2x2 pooling of HUGE.
HUGE_DY = HUGE[:, :9998, :9998]
HUGE_POOLED = HUGE[:, :5000, :5000, None]
INT_KERNELS = {2: np.ones((3, 3), int), 3: np.ones((3, 3, 1), int), 4: np.ones((3, 3, 1, 2), int)}
#: Calls that would take hours if anything scanned the input before allocating the result,
#: with the inputs as the message must name them (as the caller gave them).
HUGE_CALLS: dict[str, tuple[Callable[[], Any], str]] = {
    "convolve_grayscale_valid": (
        lambda: sc.convolve_grayscale_valid(HUGE, INT_KERNELS[2]),
        "images of shape (100000, 10000, 10000) and kernel of shape (3, 3)",
    ),
    "convolve_grayscale_same": (
        lambda: sc.convolve_grayscale_same(HUGE, INT_KERNELS[2]),
        "images of shape (100000, 10000, 10000) and kernel of shape (3, 3)",
    ),
    "convolve_grayscale_padding": (
        lambda: sc.convolve_grayscale_padding(HUGE, INT_KERNELS[2], 1),
        "images of shape (100000, 10000, 10000) and kernel of shape (3, 3)",
    ),
    "convolve_grayscale": (
        lambda: sc.convolve_grayscale(HUGE, INT_KERNELS[2], stride=1),
        "images of shape (100000, 10000, 10000) and kernel of shape (3, 3)",
    ),
    "convolve_channels": (
        lambda: sc.convolve_channels(HUGE[..., None], INT_KERNELS[3]),
        "images of shape (100000, 10000, 10000, 1) and kernel of shape (3, 3, 1)",
    ),
    "convolve": (
        lambda: sc.convolve(HUGE[..., None], INT_KERNELS[4]),
        "images of shape (100000, 10000, 10000, 1) and kernels of shape (3, 3, 1, 2)",
    ),
    "conv": (
        lambda: sc.conv(HUGE[..., None], INT_KERNELS[4], bias=[1, 2]),
        "x of shape (100000, 10000, 10000, 1) and kernels of shape (3, 3, 1, 2)",
    ),
    "conv channels first": (
        lambda: sc.conv(HUGE[:, None], INT_KERNELS[4], data_format="NCHW"),
        "x of shape (100000, 1, 10000, 10000) and kernels of shape (3, 3, 1, 2)",
    ),
    "conv dtype": (
        lambda: sc.conv(HUGE[..., None], INT_KERNELS[4], dtype="int16"),
        "x of shape (100000, 10000, 10000, 1) and kernels of shape (3, 3, 1, 2)",
    ),
    **{
        f"pool {mode}": (
            lambda mode=mode: sc.pool(HUGE[..., None], 1, mode=mode),
            "images of shape (100000, 10000, 10000, 1)",
        )
        for mode in ["max", "min", "avg", "sum"]
    },
    # Gradients: the result has the input's shape.
    "conv_vjp": (
        lambda: sc.conv_vjp(
            HUGE[:, :9998, :9998, None], HUGE[..., None], INT_KERNELS[3][..., None]
        ),
        "the gradient of x of shape (100000, 10000, 10000, 1) and kernels of shape (3, 3, 1, 1)",
    ),
    "conv_backward": (
        lambda: sc.conv_backward(
            HUGE_DY[..., None],
            HUGE[..., None],
            INT_KERNELS[3][..., None],
            np.zeros((1, 1, 1, 1)),
            padding="valid",
        ),
        "the gradient of A_prev of shape (100000, 10000, 10000, 1) and W of shape (3, 3, 1, 1)",
    ),
    **{
        f"pool_vjp {mode}": (
            lambda mode=mode: sc.pool_vjp(
                HUGE[:, :5000, :5000, None], HUGE[..., None], 2, mode=mode
            ),
            "the gradient of x of shape (100000, 10000, 10000, 1)",
        )
        for mode in ["max", "avg", "sum"]
    },
    "pool_backward": (
        lambda: sc.pool_backward(HUGE_POOLED, HUGE[..., None], (2, 2), (2, 2)),
        "the gradient of A_prev of shape (100000, 10000, 10000, 1)",
    ),
}


def _raised_within(seconds: float, function: Callable[[], Any]) -> BaseException:
    """The exception that `function` raises, after checking that it came within `seconds`."""
    start = time.perf_counter()
    with pytest.raises(Exception) as caught:  # noqa: PT011 (the callers check the type)
        function()
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"{caught.type.__name__} after {elapsed:.1f} s"
    return caught.value


@pytest.mark.parametrize("name", list(HUGE_CALLS))
def test_a_result_too_large_fails_at_once_naming_the_shapes(name: str) -> None:
    function, inputs = HUGE_CALLS[name]
    error = _raised_within(5.0, function)
    assert isinstance(error, MemoryError), repr(error)
    message = str(error)
    assert re.search(r"^the result of shape \(100000, (\d+, )*\d+\) \(\w+, [\d.]+ TiB\) ", message)
    assert message.endswith(f"cannot be allocated for {inputs}"), message


#: 10**9 uint8 values in no memory; any pass over them, let alone a convolution, takes seconds.
LARGE_U8 = np.broadcast_to(np.uint8(1), (1000, 1000, 1000))


@pytest.mark.parametrize(
    ("function", "error", "match"),
    [
        (
            lambda: sc.convolve_grayscale_valid(LARGE_U8, np.full((3, 3), 255), dtype="int8"),
            ValueError,
            r"^dtype='int8' cannot hold every exact value of the convolution",
        ),
        (
            lambda: sc.pool(LARGE_U8[..., None], (5, 5), 1, "sum", dtype="int8"),
            ValueError,
            r"^dtype='int8' cannot hold every exact value of the sums",
        ),
        (
            lambda: sc.pool(LARGE_U8[..., None], 1, mode="max", dtype="int8"),
            ValueError,
            r"^dtype='int8' cannot hold every exact value of the maxima and minima",
        ),
        (
            lambda: sc.convolve_grayscale_valid(LARGE_U8, K2, out=np.empty((1, 1, 1))),
            ValueError,
            r"^out must have the result's shape \(1000, 998, 998\), got shape \(1, 1, 1\)$",
        ),
        (
            lambda: sc.conv(LARGE_U8[..., None], KC[:, :, :1], out=np.empty((1, 1, 1, 1))),
            ValueError,
            r"^out must have the result's shape \(1000, 998, 998, 4\), got shape \(1, 1, 1, 1\)$",
        ),
        (
            lambda: sc.conv(LARGE_U8[..., None], KC[:, :, :1], dtype="bool"),
            TypeError,
            r"^dtype must be an integer, float or complex dtype, got bool$",
        ),
        (
            lambda: sc.pool(LARGE_U8[..., None], 2, mode="avg", dtype="int64"),
            TypeError,
            r"^dtype must hold the avg pooling of dtype float64",
        ),
    ],
)
def test_dtype_and_out_are_checked_before_any_work(
    function: Callable[[], Any], error: type[Exception], match: str
) -> None:
    raised = _raised_within(5.0, function)
    assert isinstance(raised, error), repr(raised)
    assert re.search(match, str(raised)), str(raised)


@pytest.mark.parametrize("name", CLASSIC)
def test_out_messages_give_the_callers_shapes(name: str) -> None:
    # The wrappers add axes internally; the messages speak of the caller's arrays.
    shape = RESULT_SHAPES[name]
    bigger = tuple(n + 1 for n in shape)
    expected = f"out must have the result's shape {shape}, got shape {bigger}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        call(name, out=np.zeros(bigger))
    expected = f"out must be a NumPy array of shape {shape}, got list"
    with pytest.raises(TypeError, match=f"^{re.escape(expected)}$"):
        call(name, out=[0.0])
