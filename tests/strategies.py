"""Hypothesis strategies for the property tests.

Shapes are drawn in dependency order (padding first, then a kernel that fits the padded
images), so no example is ever rejected with `assume`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

INTEGER_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int64), np.dtype(np.bool_))
FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
REAL_DTYPES = INTEGER_DTYPES + FLOAT_DTYPES
COMPLEX_DTYPE = np.dtype(np.complex128)
# complex128 appears once among twice the real dtypes: about one draw in fifteen.
CONV_DTYPES = REAL_DTYPES * 2 + (COMPLEX_DTYPE,)

MAX_SIDE = 9
MAX_CHANNELS = 3
MAX_FEATURES = 3
MAX_KERNEL = 5
MAX_STRIDE = 3
MAX_PAD = 3

LAYOUTS = ("C", "F", "negative", "step")

Padding = str | tuple[int, int]


def elements(dtype: np.dtype) -> st.SearchStrategy[Any]:
    """Values of `dtype`: the full range of integers, bounded finite floats, no NaN."""
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
        # The full range, plus values at its ends, where wrap-around and inexact float64
        # sums would show (hypothesis favours small integers otherwise).
        return st.one_of(st.integers(lo, hi), st.integers(lo, lo + 2), st.integers(hi - 2, hi))
    if dtype == np.float16:
        return st.floats(-8, 8, width=16)
    if dtype == np.float32:
        return st.floats(-1e3, 1e3, width=32)
    if dtype.kind == "f":
        return st.floats(-1e3, 1e3)
    if dtype.kind == "c":
        return st.complex_numbers(max_magnitude=1e3, allow_nan=False, allow_infinity=False)
    raise NotImplementedError(dtype)


def _poison(dtype: np.dtype) -> Any:
    """A value to fill the gaps of a step-sliced buffer: reading one shows up at once."""
    if dtype.kind == "b":
        return True
    if dtype.kind in "iu":
        return np.iinfo(dtype).max
    return np.nan


@st.composite
def relayout(draw: st.DrawFn, array: np.ndarray) -> np.ndarray:
    """An array equal to `array` in another memory layout.

    C order, Fortran order, a negative stride along one axis, or a view of every other
    element of a bigger buffer along one axis (its gaps hold a poison value).
    """
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "C":
        return np.ascontiguousarray(array).copy()
    if layout == "F":
        return np.asfortranarray(array).copy()
    axis = draw(st.integers(0, array.ndim - 1))
    if layout == "negative":
        return np.flip(np.flip(array, axis).copy(), axis)
    shape = list(array.shape)
    shape[axis] *= 2
    buffer = np.full(shape, _poison(array.dtype), dtype=array.dtype)
    index = tuple(slice(None, None, 2) if ax == axis else slice(None) for ax in range(array.ndim))
    view = buffer[index]
    view[...] = array
    return view


@st.composite
def arrays(draw: st.DrawFn, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """An array of `dtype` and `shape`, in some memory layout."""
    array = draw(hnp.arrays(dtype, shape, elements=elements(dtype)))
    return draw(relayout(array))


def batch_sizes() -> st.SearchStrategy[int]:
    """0 to 3 images; an empty batch one time in four (st.integers would favour it)."""
    return st.sampled_from((1, 2, 3, 0))


def kernel_size(n_padded: int) -> st.SearchStrategy[int]:
    """A kernel size that fits an axis of `n_padded` samples: 1 .. min(n_padded, 5)."""
    return st.integers(1, min(n_padded, MAX_KERNEL))


@st.composite
def paddings(draw: st.DrawFn) -> Padding:
    """'same', 'valid' or (ph, pw) with 0..3 zeros on each side."""
    return draw(
        st.one_of(
            st.sampled_from(["same", "valid"]),
            st.tuples(st.integers(0, MAX_PAD), st.integers(0, MAX_PAD)),
        )
    )


def padded_side(n: int, padding: Padding, axis: int) -> int | None:
    """The padded length of an axis of `n` samples; None for 'same' (any kernel fits)."""
    if padding == "same":
        return None
    if padding == "valid":
        return n
    return n + 2 * padding[axis]


@dataclass
class ConvCase:
    """Inputs of one convolution: ``(m, h, w, c)`` images, ``(kh, kw, c, nc)`` kernels."""

    images: np.ndarray
    kernels: np.ndarray
    padding: Padding
    stride: tuple[int, int]

    @property
    def n_terms(self) -> int:
        kh, kw, c, _ = self.kernels.shape
        return kh * kw * c


@st.composite
def conv_cases(
    draw: st.DrawFn,
    *,
    channels: bool = True,
    features: bool = True,
    padding: Padding | None = None,
    strided: bool = True,
    dtypes: tuple[np.dtype, ...] = CONV_DTYPES,
) -> ConvCase:
    """A convolution whose kernel fits the padded images.

    ``channels=False`` gives one channel, ``features=False`` one kernel (callers drop the
    axes they do not use). `padding` fixes the padding: 'same', 'valid', or 'pair' for a
    drawn (ph, pw); None draws any of them. ``strided=False`` fixes the stride at (1, 1).
    """
    m = draw(batch_sizes())
    h = draw(st.integers(1, MAX_SIDE))
    w = draw(st.integers(1, MAX_SIDE))
    c = draw(st.integers(1, MAX_CHANNELS)) if channels else 1
    nc = draw(st.integers(1, MAX_FEATURES)) if features else 1
    if padding is None:
        padding = draw(paddings())
    elif padding == "pair":
        padding = draw(st.tuples(st.integers(0, MAX_PAD), st.integers(0, MAX_PAD)))
    ph = padded_side(h, padding, 0)
    pw = padded_side(w, padding, 1)
    kh = draw(kernel_size(ph if ph is not None else MAX_KERNEL))
    kw = draw(kernel_size(pw if pw is not None else MAX_KERNEL))
    if strided:
        stride = (draw(st.integers(1, MAX_STRIDE)), draw(st.integers(1, MAX_STRIDE)))
    else:
        stride = (1, 1)
    image_dtype = draw(st.sampled_from(dtypes))
    kernel_dtype = draw(st.sampled_from(dtypes))
    images = draw(arrays(image_dtype, (m, h, w, c)))
    kernels = draw(arrays(kernel_dtype, (kh, kw, c, nc)))
    return ConvCase(images, kernels, padding, stride)


@dataclass
class PoolCase:
    """Inputs of one pooling: ``(m, h, w, c)`` images, a window and a stride."""

    images: np.ndarray
    window: tuple[int, int]
    stride: tuple[int, int]
    mode: str


@st.composite
def pool_cases(
    draw: st.DrawFn,
    *,
    modes: tuple[str, ...] = ("max", "avg"),
    dtypes: tuple[np.dtype, ...] = REAL_DTYPES,
) -> PoolCase:
    """A pooling whose window fits the images."""
    m = draw(batch_sizes())
    h = draw(st.integers(1, MAX_SIDE))
    w = draw(st.integers(1, MAX_SIDE))
    c = draw(st.integers(1, MAX_CHANNELS))
    window = (draw(kernel_size(h)), draw(kernel_size(w)))
    stride = (draw(st.integers(1, MAX_STRIDE)), draw(st.integers(1, MAX_STRIDE)))
    mode = draw(st.sampled_from(modes))
    images = draw(arrays(draw(st.sampled_from(dtypes)), (m, h, w, c)))
    return PoolCase(images, window, stride, mode)


@dataclass
class WindowCase:
    """An ``(m, s1..sd, *rest)`` array, a window of d taps and a stride per spatial axis."""

    x: np.ndarray
    window: tuple[int, ...]
    stride: tuple[int, ...]


@st.composite
def window_cases(draw: st.DrawFn) -> WindowCase:
    """An array with 1 to 3 spatial axes, 0 to 2 trailing axes, and a window that fits."""
    d = draw(st.integers(1, 3))
    side = {1: 9, 2: 6, 3: 4}[d]
    m = draw(batch_sizes())
    spatial = tuple(draw(st.integers(1, side)) for _ in range(d))
    rest = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    window = tuple(draw(st.integers(1, n)) for n in spatial)
    stride = tuple(draw(st.integers(1, MAX_STRIDE)) for _ in range(d))
    dtype = draw(st.sampled_from(REAL_DTYPES))
    x = draw(arrays(dtype, (m, *spatial, *rest)))
    return WindowCase(x, window, stride)


def as_given(draw: st.DrawFn, values: tuple[int, ...], name: str) -> Any:
    """A per-axis argument as a user may give it: one int when every axis is alike
    (sometimes), else a tuple (sometimes a list)."""
    if len(set(values)) == 1 and draw(st.booleans(), label=f"{name} as int"):
        return values[0]
    return list(values) if draw(st.booleans(), label=f"{name} as list") else values
