"""Separable kernels: two 1-D passes, against the naive reference, exact for integers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
from checks import (
    assert_exact_integers,
    assert_within_bound,
    chosen_strategies,
    forcing,
    is_exact,
)
from reference import conv_pads, correlate_nd
from stridedconv import kernels
from stridedconv._separable import rank_one

DTYPES = (np.int64, np.uint8, np.int8, np.float64, np.float32)


@st.composite
def outer_products(draw: st.DrawFn, dtype: Any, kh: int, kw: int, c: int) -> np.ndarray:
    """Kernels ``(kh, kw, 1, c)``, each the outer product of two vectors of `dtype`."""
    if np.dtype(dtype).kind == "f":
        values = st.floats(-4, 4, allow_nan=False, width=np.dtype(dtype).itemsize * 8)
    else:
        info = np.iinfo(dtype)
        values = st.integers(max(int(info.min), -5), min(int(info.max), 5))
    u = np.array(draw(st.lists(values, min_size=kh * c, max_size=kh * c)), dtype).reshape(kh, c)
    v = np.array(draw(st.lists(values, min_size=kw * c, max_size=kw * c)), dtype).reshape(kw, c)
    return np.einsum("ic,jc->ijc", u, v)[:, :, None, :].astype(dtype)


@given(data=st.data())
def test_separable_kernels_match_the_reference(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    c = data.draw(st.integers(1, 3), label="channels")  # depthwise when c > 1
    kh, kw = data.draw(st.integers(1, 4), label="kh"), data.draw(st.integers(1, 4), label="kw")
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    h = data.draw(st.integers((kh - 1) * dilation[0] + 1, 9), label="h")
    w = data.draw(st.integers((kw - 1) * dilation[1] + 1, 9), label="w")
    m = data.draw(st.integers(0, 3), label="m")
    padding = data.draw(st.sampled_from(("valid", "same", 1, ((0, 2), (1, 0)))))
    mode = data.draw(st.sampled_from(("zeros", "replicate", "circular")))
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    low, high = (max(int(info.min), -50), min(int(info.max), 50)) if info else (-50, 50)
    x = np.random.default_rng(data.draw(st.integers(0, 99))).integers(low, high, (m, h, w, c))
    x = x.astype(dtype)
    k = data.draw(outer_products(dtype, kh, kw, c), label="kernels")
    strategy = data.draw(st.sampled_from((None, "separable")), label="strategy")
    with forcing(conv=strategy):
        out = sc.conv(x, k, stride=stride, dilation=dilation, padding=padding,
                      padding_mode=mode, groups=c)  # fmt: skip
    pads = conv_pads((h, w), (kh, kw), stride, dilation, padding)
    ref_args = {"stride": stride, "dilation": dilation, "pads": pads, "padding_mode": mode}
    ref = correlate_nd(x, k, groups=c, **ref_args)
    if is_exact(x, k):
        assert_exact_integers(out, ref)
    else:
        abs_ref = correlate_nd(x, k, groups=c, absolute=True, **ref_args)
        assert_within_bound(out, ref, abs_ref, kh * kw, np.result_type(x, k))


@pytest.mark.parametrize(
    ("kernel", "separable"),
    [
        (kernels.sobel_x(), True),
        (kernels.prewitt("y"), True),
        (kernels.box(5), True),
        (kernels.gaussian(7, 1.5), True),
        (np.array([[1, 0, -1]] * 3, dtype=np.int64), True),
        (np.outer([1, 2, 1], [3, -6, 9]).astype(np.float32), True),
        (kernels.laplacian(), False),
        (kernels.sharpen(), False),
        (np.zeros((3, 3)), False),
        (np.array([[1.0, np.nan], [1.0, 1.0]]), False),
    ],
)
def test_rank_one_kernels_are_recognised(kernel: np.ndarray, separable: bool) -> None:
    weights = kernel.astype(np.float64 if kernel.dtype.kind in "iu" else kernel.dtype)
    factors = rank_one(weights[:, :, None, None])
    assert (factors is not None) == separable
    if factors is not None:
        u, v = factors
        # Integer-valued kernels factor exactly, into integer vectors.
        if (kernel == np.round(kernel)).all():
            np.testing.assert_array_equal(np.outer(u[:, 0], v[:, 0]), kernel)
            assert (u == np.round(u)).all()
            assert (v == np.round(v)).all()


def test_the_chooser_picks_two_passes_for_outer_products(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = chosen_strategies(monkeypatch)
    images = np.random.default_rng(1).integers(0, 256, (4, 16, 16), dtype=np.uint8)
    for kernel in (kernels.sobel_x(), kernels.gaussian(5, 1.0), np.array([[1, 0, -1]] * 3)):
        sc.convolve_grayscale_same(images, kernel)
    rgb = np.random.default_rng(2).random((2, 16, 16, 3))
    sc.conv(rgb, np.stack([kernels.box(3)] * 3, axis=-1)[:, :, None, :], groups=3)
    sc.convolve_grayscale_same(images, kernels.laplacian())
    assert chosen == ["separable"] * 4 + ["stripes"]


def test_a_nan_or_inf_under_a_zero_weight_still_gives_nan() -> None:
    images = np.zeros((1, 5, 5))
    images[0, 2, 2] = np.inf
    out = sc.convolve_grayscale_same(images, np.array([[1.0, 0.0, -1.0]] * 3))
    assert np.isnan(out[0, 1:4, 2]).all()  # inf * 0 in the middle column
