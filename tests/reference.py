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

import itertools
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


# --- N-d convolution --------------------------------------------------------------------

#: `np.pad` modes of the padding modes of `stridedconv.conv` ('zeros' and 'constant' are
#: filled explicitly below).
NP_PAD_MODES = {
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
    "symmetric": "symmetric",
}


def conv_pads(
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: Any,
) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` per spatial axis for a `conv` padding argument.

    'valid', 'same' (TF/JAX SAME on the dilated extent), 'full' (extent - 1 on both sides),
    an int, d ints or d (before, after) pairs (an int in place of a pair: both sides).
    """
    spans = [(k - 1) * dil + 1 for k, dil in zip(kernel, dilation, strict=True)]
    if padding == "valid":
        return tuple((0, 0) for _ in shape)
    if padding == "same":
        return tuple(pad_same(n, span, s) for n, span, s in zip(shape, spans, stride, strict=True))
    if padding == "full":
        return tuple((span - 1, span - 1) for span in spans)
    if isinstance(padding, int):
        return tuple((padding, padding) for _ in shape)
    pairs = []
    for item in padding:
        if isinstance(item, int):
            pairs.append((item, item))
        else:
            before, after = item
            pairs.append((int(before), int(after)))
    return tuple(pairs)


def _as_objects(array: np.ndarray, how: str, *, absolute: bool) -> np.ndarray:
    """`array` as an object array of exact Python ints, floats or complex numbers."""
    values = [_scalar(value, how) for value in array.ravel().tolist()]
    if absolute:
        values = [abs(value) for value in values]
    flat = np.empty(len(values), dtype=object)
    flat[:] = values
    return flat.reshape(array.shape)


def correlate_nd(
    x: np.ndarray,
    kernels: np.ndarray,
    *,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    padding_mode: str = "zeros",
    cval: Any = 0,
    groups: int = 1,
    bias: np.ndarray | None = None,
    absolute: bool = False,
) -> np.ndarray:
    """Grouped, dilated cross-correlation of ``(m, s1..sd, c)`` with ``(k1..kd, c//g, nc)``.

    ``out[n, i.., f] = bias[f] + sum(kernels[a.., ch, f] * padded[n, i*s + a*dil.., g*cg + ch])``
    with ``g = f // (nc // groups)``, ``cg = c // groups``, `padded` made with `np.pad` in
    the mode of `padding_mode` (`cval` for 'constant'). One explicit loop over output positions,
    output channels, taps and channels. With `absolute`, the sum of magnitudes of the same
    terms (the scale of rounding errors), in float64 for non-integers.

    Returns an object array of Python ints for integer and bool inputs (bias included),
    float64 for float inputs (the fsum of the products) and complex128 for complex inputs.
    """
    d = kernels.ndim - 2
    inputs = (x, kernels) if bias is None else (x, kernels, bias)
    # A float cval makes integer inputs' result float, as a float bias would.
    fill = np.asarray(cval) if padding_mode == "constant" else np.asarray(0)
    how = kind(*inputs, fill)
    xs = _as_objects(x, how, absolute=absolute)
    ks = _as_objects(kernels, how, absolute=absolute)
    bs = None if bias is None else _as_objects(bias, how, absolute=absolute)
    if absolute and how == "complex":
        how = "float"
    widths = ((0, 0), *pads, (0, 0))
    if padding_mode in ("zeros", "constant"):
        # Explicitly: np.pad would fill an object array with NumPy int64 zeros, whose
        # products with big Python ints overflow.
        value = _scalar(fill[()], how)
        padded = np.full(
            tuple(n + b + a for n, (b, a) in zip(xs.shape, widths, strict=True)),
            abs(value) if absolute else value,
            dtype=object,
        )
        padded[tuple(slice(b, b + n) for n, (b, _) in zip(xs.shape, widths, strict=True))] = xs
    else:
        padded = np.pad(xs, widths, mode=NP_PAD_MODES[padding_mode])
    m, c, nc = x.shape[0], x.shape[-1], kernels.shape[-1]
    cg, ng = c // groups, nc // groups
    assert kernels.shape[-2] == cg, (x.shape, kernels.shape, groups)
    kernel = kernels.shape[:d]
    spans = [(k - 1) * dil + 1 for k, dil in zip(kernel, dilation, strict=True)]
    out_shape = tuple(
        (n - span) // s + 1 for n, span, s in zip(padded.shape[1:-1], spans, stride, strict=True)
    )
    assert all(o >= 1 for o in out_shape), "the kernel must fit in the padded input"
    taps = list(itertools.product(*(range(k) for k in kernel)))
    add = _summer(how)
    out = np.empty((m, *out_shape, nc), dtype=_result_dtype(how))
    for n in range(m):
        for position in itertools.product(*(range(o) for o in out_shape)):
            for f in range(nc):
                g = f // ng
                terms = []
                for tap in taps:
                    at = tuple(
                        i * s + a * dil
                        for i, s, a, dil in zip(position, stride, tap, dilation, strict=True)
                    )
                    for ch in range(cg):
                        terms.append(ks[(*tap, ch, f)] * padded[(n, *at, g * cg + ch)])
                if bs is not None:
                    terms.append(bs[f])
                out[(n, *position, f)] = add(terms)
    return out


# --- N-d pooling ------------------------------------------------------------------------


def pool_out_size(
    n: int, before: int, after: int, k: int, s: int, dil: int, ceil_mode: bool
) -> int:
    """Windows along an axis, by PyTorch's rule: with `ceil_mode` the count rounds up, less
    one when the last window would start after the input and its leading padding."""
    span = n + before + after - ((k - 1) * dil + 1)
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1  # ceil, for negative spans too
    if (out - 1) * s >= n + before:
        out -= 1
    return out


def pool_nd(
    x: np.ndarray,
    window: tuple[int, ...],
    stride: tuple[int, ...],
    mode: str,
    *,
    dilation: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """'max', 'min', 'sum' or 'avg' of every window of ``(m, s1..sd, c)``, per channel.

    Each window's taps are listed in input coordinates; only those inside the input hold
    values (padding is never selected by max/min and adds nothing to a sum). 'avg' divides
    by the taps inside the input, plus those inside the padding with `count_include_pad`.
    A window with no value gives -inf/+inf for max/min of floats, the dtype's lowest/highest
    value for integers, and NaN for a mean of nothing.

    'max'/'min' return ``x.dtype``; 'sum' an object array of Python ints for integer and
    bool inputs, float64 (fsum) for floats, complex128 for complex; 'avg' float64 (integers:
    exact sum / count, correctly rounded), complex128 for complex.
    """
    d = len(window)
    how = kind(x)
    values = _as_objects(x, how, absolute=False)
    sizes = x.shape[1 : 1 + d]
    outs = [
        pool_out_size(n, b, a, k, s, dil, ceil_mode)
        for n, (b, a), k, s, dil in zip(sizes, pads, window, stride, dilation, strict=True)
    ]
    assert all(o >= 1 for o in outs), "the window must fit"
    m, c = x.shape[0], x.shape[-1]
    if mode in ("max", "min"):
        out = np.empty((m, *outs, c), dtype=x.dtype)
    elif mode == "sum":
        out = np.empty((m, *outs, c), dtype=_result_dtype(how))
    else:
        out = np.empty((m, *outs, c), dtype=np.complex128 if how == "complex" else np.float64)
    for position in itertools.product(*(range(o) for o in outs)):
        taps = list(
            itertools.product(
                *(
                    [i * s - b + j * dil for j in range(k)]
                    for i, s, (b, _), k, dil in zip(
                        position, stride, pads, window, dilation, strict=True
                    )
                )
            )
        )
        inside = [t for t in taps if all(0 <= v < n for v, n in zip(t, sizes, strict=True))]
        in_padding = [
            t
            for t in taps
            if all(-b <= v < n + a for v, n, (b, a) in zip(t, sizes, pads, strict=True))
        ]
        count = len(in_padding) if count_include_pad else len(inside)
        for n_ in range(m):
            for ch in range(c):
                items = [values[(n_, *t, ch)] for t in inside]
                out[(n_, *position, ch)] = _pool_one(items, mode, how, count, x.dtype)
    return out


def _pool_one(items: list[Any], mode: str, how: str, count: int, dtype: np.dtype) -> Any:
    if mode in ("max", "min"):
        if how == "float" and any(math.isnan(v) for v in items):
            return math.nan
        if not items:
            if dtype.kind == "b":
                return mode == "min"
            if dtype.kind == "f":
                return -math.inf if mode == "max" else math.inf
            info = np.iinfo(dtype)
            return int(info.min) if mode == "max" else int(info.max)
        return max(items) if mode == "max" else min(items)
    total = _summer(how)(items) if items else _scalar(0, how)
    if mode == "sum":
        return total
    if count == 0:
        return math.nan
    return total / count  # int / int: correctly rounded
