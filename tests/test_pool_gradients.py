"""`pool_vjp`: against PyTorch's autograd, exact in integers by linearity, the tie rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
from test_pool import PoolNdCase, pool_nd_cases

FLOAT64 = (np.dtype(np.float64),)
INTEGERS = tuple(np.dtype(t) for t in (np.int8, np.uint8, np.int64))


def _options(case: PoolNdCase) -> dict[str, Any]:
    options: dict[str, Any] = {
        "dilation": case.dilation,
        "ceil_mode": case.ceil_mode,
        "count_include_pad": case.count_include_pad,
        "data_format": case.data_format,
    }
    if case.padding is not None:
        options["padding"] = case.padding
    return options


def _dot(a: np.ndarray, b: np.ndarray) -> Any:
    return sum(
        p * q for p, q in zip(a.astype(object).ravel(), b.astype(object).ravel(), strict=True)
    )


@given(case=pool_nd_cases(modes=("sum", "max", "min"), dtypes=INTEGERS), data=st.data())
def test_sums_and_first_extremes_are_exact_by_linearity(
    case: PoolNdCase, data: st.DataObject
) -> None:
    """Sums are linear in x, and an extreme is the value at its first position:
    sum(dy * pool(x)) == vdot(x, dx), exactly in integers."""
    if not case.fits:
        return
    forward = case.call()
    dy = np.random.default_rng(data.draw(st.integers(0, 99))).integers(-4, 5, forward.shape)
    dx = sc.pool_vjp(dy, case.x_arg, case.window, case.stride, case.mode, **_options(case))
    assert dx.shape == case.x_arg.shape
    assert dx.dtype == np.int64
    if case.mode != "sum":
        # A dilated window that holds only padding selects the padding: its gradient goes
        # there and is cut off with it (as in PyTorch). Such cases say nothing here.
        ones = np.ones_like(case.x_arg, dtype=np.int64)
        inputs = sc.pool(ones, case.window, case.stride, "sum", **_options(case))
        if (inputs == 0).any():
            return
    assert _dot(case.x_arg, dx) == _dot(forward, dy)
    # Ties: 'split' shares each window's gradient, so the total is the same; 'all' gives
    # every tied extreme the full gradient (checked on known ties below).
    if case.mode != "sum":
        options = _options(case)
        split = sc.pool_vjp(dy, case.x_arg, case.window, case.stride, case.mode,
                            ties="split", **options)  # fmt: skip
        assert split.dtype == np.float64
        np.testing.assert_allclose(split.sum(), dx.sum(), atol=1e-9)


@given(case=pool_nd_cases(modes=("max", "avg"), dtypes=FLOAT64, words=False))
def test_matches_torch_autograd(case: PoolNdCase) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    d = case.d
    stride, dilation = case.steps(case.stride), case.steps(case.dilation)
    padding = tuple(before for before, _ in case.pads)
    if case.mode == "avg":
        dilation = (1,) * d
        if d == 3 and any(n < k for n, k in zip(case.x.shape[1:-1], case.window, strict=True)):
            return
    case.dilation = dilation
    if not case.fits:
        return
    x = torch.tensor(np.moveaxis(case.x, -1, 1).copy(order="C"), requires_grad=True)
    if case.mode == "max":
        out = getattr(functional, f"max_pool{d}d")(
            x, case.window, stride, padding, dilation, ceil_mode=case.ceil_mode
        )
    else:
        out = getattr(functional, f"avg_pool{d}d")(
            x, case.window, stride, padding, ceil_mode=case.ceil_mode,
            count_include_pad=case.count_include_pad,
        )  # fmt: skip
    if 0 in out.shape:
        return
    dy = np.random.default_rng(0).standard_normal(tuple(out.shape))
    out.backward(torch.from_numpy(dy))
    got = sc.pool_vjp(
        np.moveaxis(dy, 1, -1), case.x, case.window, stride, case.mode, padding=padding,
        dilation=dilation, ceil_mode=case.ceil_mode, count_include_pad=case.count_include_pad,
    )  # fmt: skip
    np.testing.assert_allclose(got, np.moveaxis(x.grad.numpy(), 1, -1), rtol=1e-12, atol=1e-12)


def test_tie_rules_and_nan() -> None:
    x = np.array([[[2.0], [2.0], [1.0], [np.nan], [3.0], [np.nan]]])
    dy = np.array([[[6.0], [6.0], [6.0]]])
    np.testing.assert_array_equal(sc.pool_vjp(dy, x, (2,))[0, :, 0], [6, 0, 0, 6, 0, 6])
    np.testing.assert_array_equal(sc.pool_vjp(dy, x, (2,), ties="all")[0, :, 0], [6, 6, 0, 6, 0, 6])
    np.testing.assert_array_equal(
        sc.pool_vjp(dy, x, (2,), ties="split")[0, :, 0], [3, 3, 0, 6, 0, 6]
    )
    with pytest.raises(ValueError, match=r"dy must have the shape of pool's result, \(1, 3, 1\)"):
        sc.pool_vjp(np.ones((1, 2, 1)), x, (2,))
    with pytest.raises(ValueError, match="ties must be one of 'first', 'all', 'split'"):
        sc.pool_vjp(dy, x, (2,), ties="any")


@pytest.mark.parametrize("stride", [2, 1])  # windows that tile the input, and overlapping ones
def test_a_nan_gradient_goes_only_where_the_maximum_is(stride: int) -> None:
    """A NaN in dy reaches the sample its window routes to, not the window's other taps
    (as in PyTorch: a gradient is routed, not multiplied by a 0/1 mask)."""
    x = np.random.default_rng(7).permutation(16).astype(np.float64).reshape(1, 4, 4, 1)
    dy = np.ones(sc.pool(x, 2, stride).shape)
    dy[0, 0, 0, 0] = np.nan
    out = sc.pool_vjp(dy, x, 2, stride)
    window = x[0, :2, :2, 0]
    top = np.unravel_index(np.argmax(window), window.shape)
    assert np.isnan(out[0, top[0], top[1], 0])
    assert np.isnan(out).sum() == 1
    finite = dy.copy()
    finite[0, 0, 0, 0] = 0.0
    expected = sc.pool_vjp(finite, x, 2, stride)
    expected[0, top[0], top[1], 0] = np.nan
    np.testing.assert_array_equal(out, expected)
