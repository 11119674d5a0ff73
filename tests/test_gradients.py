"""`conv_vjp`: exact in integers by linearity, against PyTorch's autograd in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridedconv as sc
from checks import forcing
from test_conv import TORCH_PAD_MODES, NdCase, nd_cases

INTEGERS = tuple(np.dtype(t) for t in (np.int8, np.uint8, np.int64, np.bool_))


def _options(case: NdCase) -> dict[str, Any]:
    return {
        "stride": case.stride,
        "padding": case.padding,
        "dilation": case.dilation,
        "groups": case.groups,
        "data_format": case.data_format,
        **case.mode_options,
    }


def _dot(a: np.ndarray, b: np.ndarray) -> int:
    """The exact sum of products, in Python ints (0 for empty arrays)."""
    return sum(int(p) * int(q) for p, q in zip(a.ravel(), b.ravel(), strict=True))


@given(case=nd_cases(dtypes=INTEGERS), data=st.data())
def test_gradients_are_exact_by_linearity(case: NdCase, data: st.DataObject) -> None:
    """conv is linear in x (padding modes included; affine with 'constant' padding, whose
    cval takes no gradient) and in the kernels: sum(dy * conv(x, K)) == vdot(x, dx) +
    sum(dy * conv(0, K)) == vdot(K, dK), exactly in integers."""
    options = _options(case)
    forward = sc.conv(case.x_arg, case.kernels, **options)
    seed = data.draw(st.integers(0, 99), label="seed")
    dy = np.random.default_rng(seed).integers(-4, 5, forward.shape)
    # The input gradient by correlation (stride 1) or by the per-tap scatter; the kernel
    # gradient on staged or on gathered windows; a wider exact path: the same values.
    adjoint = data.draw(st.sampled_from((None, "scatter")), label="adjoint")
    gather = data.draw(st.sampled_from((None, "always")), label="gather")
    integers = data.draw(st.sampled_from((None, "int64", "object")), label="integers")
    path = data.draw(st.sampled_from((None, "dots", "im2col", "taps")), label="kernel path")
    rows = data.draw(st.sampled_from((None, 1, 2)), label="rows per block")
    with forcing(
        adjoint=adjoint, gather=gather, integers=integers, kernel_gradient=path, rows=rows
    ):
        grads = sc.conv_vjp(dy, case.x_arg, case.kernels, **options)
    assert grads.x is not None
    assert grads.kernels is not None
    assert grads.bias is not None
    assert grads.x.shape == case.x_arg.shape
    assert grads.kernels.shape == case.kernels.shape
    # Exact: int64, or Python ints where a value does not fit in int64.
    for grad in grads:
        assert grad is not None
        assert grad.dtype == np.int64 or {type(v) for v in grad.flat} <= {int}
    total = _dot(forward, dy)
    # The part of the forward that the padding alone gives (zero unless 'constant').
    padding_part = _dot(sc.conv(np.zeros_like(case.x_arg), case.kernels, **options), dy)
    assert _dot(case.x_arg, grads.x) + padding_part == total
    assert _dot(case.kernels, grads.kernels) == total
    channel = 1 if case.data_format == "channels_first" else -1
    np.testing.assert_array_equal(
        grads.bias, np.moveaxis(dy, channel, -1).reshape(-1, dy.shape[channel]).sum(0)
    )


@given(
    case=nd_cases(dtypes=(np.dtype(np.float64),), min_batch=1, torch_modes=True),
    adjoint=st.sampled_from((None, "scatter")),
    path=st.sampled_from((None, "dots", "im2col", "taps")),
)
def test_gradients_match_torch_autograd(
    case: NdCase, adjoint: str | None, path: str | None
) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    d = case.d
    x = torch.tensor(np.moveaxis(case.x, -1, 1).copy(), requires_grad=True)
    weight = torch.tensor(case.kernels.transpose(d + 1, d, *range(d)).copy(), requires_grad=True)
    widths = [w for pair in reversed(case.pads) for w in pair]
    padded = functional.pad(x, widths, mode=TORCH_PAD_MODES[case.padding_mode])
    conv_nd = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}[d]
    out = conv_nd(padded, weight, stride=case.steps(case.stride),
                  dilation=case.steps(case.dilation), groups=case.groups)  # fmt: skip
    dy = np.random.default_rng(0).standard_normal(tuple(out.shape))
    out.backward(torch.from_numpy(dy))
    dy_given = dy if case.data_format == "channels_first" else np.moveaxis(dy, 1, -1)
    with forcing(adjoint=adjoint, kernel_gradient=path):
        grads = sc.conv_vjp(dy_given, case.x_arg, case.kernels, **_options(case))
    expected_x = x.grad.numpy()
    if case.data_format == "channels_last":
        expected_x = np.moveaxis(expected_x, 1, -1)
    np.testing.assert_allclose(grads.x, expected_x, rtol=1e-10, atol=1e-10)
    expected_k = np.moveaxis(weight.grad.numpy(), (0, 1), (d + 1, d))
    np.testing.assert_allclose(grads.kernels, expected_k, rtol=1e-10, atol=1e-10)


def test_wrt_and_the_shape_of_dy() -> None:
    x, kernels = np.ones((2, 5, 5, 2)), np.ones((3, 3, 2, 4))
    dy = np.ones((2, 3, 3, 4))
    only = sc.conv_vjp(dy, x, kernels, wrt=("kernels",))
    assert only.x is None
    assert only.bias is None
    assert only.kernels is not None
    bias = sc.conv_vjp(dy, x, kernels, wrt="bias").bias
    assert bias is not None
    assert bias.tolist() == [18.0] * 4
    with pytest.raises(ValueError, match=r"dy must have the shape of conv's result, \(2, 3, 3"):
        sc.conv_vjp(np.ones((2, 5, 5, 4)), x, kernels)
    float32 = sc.conv_vjp(dy.astype(np.float32), x.astype(np.float32), kernels.astype(np.float32))
    assert {None if g is None else g.dtype for g in float32} == {np.dtype(np.float32)}


@pytest.mark.parametrize("path", ["dots", "im2col", "taps"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_nan_or_inf_reaches_only_the_taps_that_read_it(path: str, value: float) -> None:
    """A sample read by a tap of no window (the last column, for tap 0 of 'valid' 3x3
    windows) must not reach that tap's gradient, although the merged windows of a chunk
    read it there in windows that straddle two rows."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 6, 1))
    x[0, 2, 5, 0] = value
    kernels = rng.standard_normal((3, 3, 1, 2))
    dy = rng.standard_normal((2, 4, 4, 2))
    with forcing(kernel_gradient=path):
        grads = sc.conv_vjp(dy, x, kernels, wrt="kernels").kernels
    assert grads is not None
    view = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    expected = np.einsum("mpqcab,mpqf->abcf", view, dy)
    np.testing.assert_array_equal(np.isfinite(grads), np.isfinite(expected))
    assert np.isfinite(grads[:, 0]).all()  # column 5 is read by taps of column 2 only
    finite = np.isfinite(expected)
    np.testing.assert_allclose(grads[finite], expected[finite], rtol=1e-12)


def test_byte_order_and_exact_bias_sums() -> None:
    """A byte-swapped dy gives native results; int64 bias sums stay exact near the limit."""
    x, kernels = np.ones((1, 28, 28, 1)), np.ones((3, 3, 1, 1))
    swapped = sc.conv_vjp(np.ones((1, 26, 26, 1), ">f8"), x, kernels)
    assert {g.dtype.byteorder for g in swapped if g is not None} <= {"=", "|"}
    assert swapped.bias is not None
    assert swapped.bias.tolist() == [26.0 * 26]
    big = np.full((2, 1, 1, 1), 2**62, np.int64)
    beyond = sc.conv_vjp(big, np.ones((2, 1, 1, 1), int), np.ones((1, 1, 1, 1), int), wrt="bias")
    assert beyond.bias is not None
    assert beyond.bias.tolist() == [2**63]  # Python ints: beyond int64
    within = sc.conv_vjp(big // 2, np.ones((2, 1, 1, 1), int), np.ones((1, 1, 1, 1), int))
    assert within.bias is not None
    assert within.bias.dtype == np.int64
    assert within.bias.tolist() == [2**62]


FD_CASES = {
    "strided same": {"stride": 2, "padding": "same"},
    "dilated reflect": {"dilation": 2, "padding": 2, "padding_mode": "reflect"},
    "grouped circular": {"groups": 2, "padding": ((1, 2), (0, 1)), "padding_mode": "circular"},
    "channels first replicate": {
        "padding": "full",
        "padding_mode": "replicate",
        "data_format": "channels_first",
    },
    # Wider than the axis on one side: the symmetric pattern repeats, and folds back.
    "symmetric": {"padding": ((1, 8), (2, 0)), "padding_mode": "symmetric"},
    "strided symmetric": {"stride": 2, "padding": "same", "padding_mode": "symmetric"},
    "constant": {"padding": 2, "padding_mode": "constant", "cval": 1.5},
}


@pytest.mark.parametrize("name", list(FD_CASES))
def test_gradients_match_central_differences(name: str) -> None:
    """d sum(dy * conv(x, K)) / d x[i] and / d K[j] by central differences, float64."""
    options = FD_CASES[name]
    rng = np.random.default_rng(len(name))
    first = options.get("data_format") == "channels_first"
    x = rng.standard_normal((2, 4, 7, 7) if first else (2, 7, 7, 4))
    kernels = rng.standard_normal((3, 2, 4 // options.get("groups", 1), 4))
    dy = rng.standard_normal(sc.conv(x, kernels, **options).shape)
    grads = sc.conv_vjp(dy, x, kernels, **options)

    def loss(x: np.ndarray, kernels: np.ndarray) -> float:
        return float(np.vdot(dy, sc.conv(x, kernels, **options)))

    step = 1e-6
    for array, grad, nudged in (
        (x, grads.x, lambda v: loss(v, kernels)),
        (kernels, grads.kernels, lambda v: loss(x, v)),
    ):
        assert grad is not None
        for _ in range(5):
            index = tuple(int(rng.integers(0, n)) for n in array.shape)
            up, down = array.copy(), array.copy()
            up[index] += step
            down[index] -= step
            estimate = (nudged(up) - nudged(down)) / (2 * step)
            assert estimate == pytest.approx(float(grad[index]), rel=1e-6, abs=1e-6)
