"""A naive reference for the tests, written independently of `stridedconv`.

Explicit Python loops over output positions and kernel taps:

- integer and bool inputs are computed in exact Python ints (any width, no wrap-around);
- float inputs in float64, summed with `math.fsum` (a near-exact sum of the rounded
  products); a non-finite product falls back to a plain `sum` so that the IEEE rules for inf
  and NaN come out naturally;
- complex inputs as a plain sum of Python complex numbers.

Arrays are turned into nested lists first (`tolist` gives exact Python ints, floats and
complex numbers), which keeps the loops fast enough for property tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Padding = str | tuple[int, int]


def pad_same(n: int, k: int, s: int) -> tuple[int, int]:
    """Zeros before and after an axis of `n` samples, kernel `k`, stride `s`: TF/JAX SAME."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    before = total // 2
    return before, total - before


def pads(
    shape: tuple[int, int], kernel: tuple[int, int], padding: Padding, stride: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` zeros for `padding` ('same', 'valid' or (ph, pw))."""
    if padding == "same":
        return (
            pad_same(shape[0], kernel[0], stride[0]),
            pad_same(shape[1], kernel[1], stride[1]),
        )
    if padding == "valid":
        return (0, 0), (0, 0)
    ph, pw = padding
    return (ph, ph), (pw, pw)


def out_size(n: int, before: int, after: int, k: int, s: int) -> int:
    """Number of window positions along an axis of `n` samples padded by `before`, `after`."""
    return (n + before + after - k) // s + 1


def kind(*arrays: np.ndarray) -> str:
    """'int' when every array is bool or integer, else 'complex' or 'float'."""
    kinds = {a.dtype.kind for a in arrays}
    if kinds <= set("biu"):
        return "int"
    if "c" in kinds:
        return "complex"
    return "float"


def _scalar(value: Any, how: str) -> int | float | complex:
    if how == "int":
        return int(value)
    if how == "complex":
        return complex(value)
    return float(value)


def _as_lists(array: np.ndarray, how: str) -> Any:
    """`array` as nested lists of exact Python ints, floats (float64) or complex numbers."""
    return _convert(array.tolist(), how)


def _convert(item: Any, how: str) -> Any:
    if isinstance(item, list):
        return [_convert(sub, how) for sub in item]
    return _scalar(item, how)


def _float_sum(products: list[float]) -> float:
    if all(math.isfinite(p) for p in products):
        return math.fsum(products)
    return sum(products)


def _summer(how: str) -> Callable[[list[Any]], Any]:
    if how == "float":
        return _float_sum
    return sum


def _result_dtype(how: str) -> type | np.dtype:
    return {"int": object, "float": np.float64, "complex": np.complex128}[how]


def _correlate(
    images: np.ndarray,
    kernels: np.ndarray,
    padding: Padding,
    stride: tuple[int, int],
    *,
    absolute: bool,
) -> np.ndarray:
    m, h, w, c = images.shape
    kh, kw, kc, nc = kernels.shape
    assert kc == c, (images.shape, kernels.shape)
    sh, sw = stride
    (top, bottom), (left, right) = pads((h, w), (kh, kw), padding, (sh, sw))
    oh, ow = out_size(h, top, bottom, kh, sh), out_size(w, left, right, kw, sw)
    assert oh >= 1, "the kernel must fit in the padded images"
    assert ow >= 1, "the kernel must fit in the padded images"
    how = kind(images, kernels)
    x = _as_lists(images, how)
    k = _as_lists(kernels, how)
    if absolute:
        x, k = _convert_abs(x), _convert_abs(k)
        how = "int" if how == "int" else "float"
    zero = _scalar(0, how)
    add = _summer(how)
    out = np.empty((m, oh, ow, nc), dtype=_result_dtype(how))
    for n in range(m):
        # The padded image, explicitly: rows of zeros above and below, columns left and right.
        padded = [[[zero] * c for _ in range(left + w + right)] for _ in range(top + h + bottom)]
        for r in range(h):
            for q in range(w):
                padded[top + r][left + q] = x[n][r][q]
        for i in range(oh):
            for j in range(ow):
                for f in range(nc):
                    products = [
                        k[a][b][ch][f] * padded[i * sh + a][j * sw + b][ch]
                        for a in range(kh)
                        for b in range(kw)
                        for ch in range(c)
                    ]
                    out[n, i, j, f] = add(products)
    return out


def _convert_abs(item: Any) -> Any:
    if isinstance(item, list):
        return [_convert_abs(sub) for sub in item]
    value = abs(item)
    return value if isinstance(value, int) else float(value)


def correlate2d(
    images: np.ndarray,
    kernels: np.ndarray,
    padding: Padding = "same",
    stride: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """Cross-correlate ``(m, h, w, c)`` images with ``(kh, kw, c, nc)`` kernels.

    ``out[n, i, j, f] = sum(kernels[a, b, ch, f] * padded[n, i*sh + a, j*sw + b, ch])``.

    Returns an object array of Python ints for integer and bool inputs, float64 for float
    inputs (the fsum of the float64 products) and complex128 for complex inputs.
    """
    return _correlate(images, kernels, padding, stride, absolute=False)


def abs_correlate2d(
    images: np.ndarray,
    kernels: np.ndarray,
    padding: Padding = "same",
    stride: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """``sum(|kernels| * |padded|)`` for each output, in float64: the scale of rounding errors."""
    out = _correlate(images, kernels, padding, stride, absolute=True)
    if out.dtype == object:  # exact Python ints, rounded once
        return np.array([float(v) for v in out.flat], dtype=np.float64).reshape(out.shape)
    return out


def pool2d(
    images: np.ndarray, window: tuple[int, int], stride: tuple[int, int], mode: str
) -> np.ndarray:
    """Max or mean of every ``window`` of ``(m, h, w, c)`` images, per channel, no padding.

    'max' propagates NaN and returns ``images.dtype``; 'avg' gives ``sum(ints) / count``
    (exact, correctly rounded) for integers and bools, ``fsum / count`` for floats, in float64.
    """
    m, h, w, c = images.shape
    kh, kw = window
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    assert oh >= 1, "the window must fit in the images"
    assert ow >= 1, "the window must fit in the images"
    how = kind(images)
    x = _as_lists(images, how)
    count = kh * kw
    values: list[Any] = []
    for n in range(m):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    window_values = [
                        x[n][i * sh + a][j * sw + b][ch] for a in range(kh) for b in range(kw)
                    ]
                    values.append(_reduce(window_values, mode, how, count))
    if mode == "max":
        out = np.empty(len(values), dtype=images.dtype)
        for index, value in enumerate(values):
            out[index] = value
    else:
        out = np.array(values, dtype=np.float64)
    return out.reshape(m, oh, ow, c)


def _reduce(values: list[Any], mode: str, how: str, count: int) -> Any:
    if mode == "max":
        if how == "float" and any(math.isnan(v) for v in values):
            return math.nan
        return max(values)
    if how == "int":
        return sum(values) / count  # int / int: correctly rounded
    return _float_sum(values) / count
