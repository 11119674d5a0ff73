"""`conv_transpose`: the adjoint of `conv`, against a naive scatter, the adjoint identity
(exact in integers) and PyTorch's conv_transpose."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import stridedconv as sc
from checks import forcing


def scatter_reference(
    y: np.ndarray,
    kernels: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    sizes: tuple[int, ...],
    groups: int,
) -> np.ndarray:
    """Every value of `y` added, times each tap's weights, onto the padded input sample that
    tap reads; then the padding cut off. Python ints (objects) for exact sums."""
    m, d = y.shape[0], kernels.ndim - 2
    cg, nc = kernels.shape[-2:]
    ng = nc // groups
    padded = tuple(n + b + a for n, (b, a) in zip(sizes, pads, strict=True))
    reach = zip(padded, y.shape[1:-1], stride, kernels.shape[:d], dilation, strict=True)
    big = tuple(max(p, (o - 1) * s + (k - 1) * dl + 1) for p, o, s, k, dl in reach)
    out = np.zeros((m, *big, cg * groups), dtype=object)
    for n in range(m):
        for i in itertools.product(*map(range, y.shape[1:-1])):
            for a in itertools.product(*map(range, kernels.shape[:d])):
                at = tuple(
                    ii * s + aa * dl for ii, aa, s, dl in zip(i, a, stride, dilation, strict=True)
                )
                for f in range(nc):
                    g = f // ng
                    for ch in range(cg):
                        out[(n, *at, g * cg + ch)] += (
                            kernels[(*a, ch, f)].item() * y[(n, *i, f)].item()
                        )
    keep = tuple(slice(b, b + s) for (b, _), s in zip(pads, sizes, strict=True))
    return out[(slice(None), *keep, slice(None))]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    d = draw(st.integers(1, 2), label="d")
    groups = draw(st.integers(1, 2), label="groups")
    cg, ng = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    o = tuple(draw(st.integers(1, 4)) for _ in range(d))
    form = draw(st.sampled_from(("valid", "full", "same", "pairs")), label="padding")
    spans = [(k - 1) * dl + 1 for k, dl in zip(kernel, dilation, strict=True)]
    extra = tuple(0 for _ in range(d))
    if form == "same":
        padding: Any = "same"
    elif form == "pairs":
        padding = tuple(
            (draw(st.integers(0, sp - 1)), draw(st.integers(0, sp - 1))) for sp in spans
        )
    else:
        padding = form
    if form != "same":
        extra = tuple(
            draw(st.integers(0, max(s, dl) - 1)) for s, dl in zip(stride, dilation, strict=True)
        )
    rng = np.random.default_rng(draw(st.integers(0, 999), label="seed"))
    m = draw(st.integers(1, 2), label="m")
    y = rng.integers(-5, 6, (m, *o, groups * ng))
    kernels = rng.integers(-5, 6, (*kernel, cg, groups * ng))
    return {"y": y, "kernels": kernels, "stride": stride, "dilation": dilation,
            "padding": padding, "output_padding": extra, "groups": groups}  # fmt: skip


@given(case=cases(), data=st.data())
def test_the_adjoint_identity_holds_exactly(case: dict[str, Any], data: st.DataObject) -> None:
    y, kernels = case.pop("y"), case.pop("kernels")
    strategy = data.draw(st.sampled_from((None, "taps", "im2col", "einsum")), label="strategy")
    adjoint = data.draw(st.sampled_from((None, "scatter")), label="adjoint")
    try:
        with forcing(conv=strategy, adjoint=adjoint):
            result = sc.conv_transpose(y, kernels, **case)
    except ValueError as error:  # 'full' padding wider than every input size allows
        if "leaves no sample of the result" not in str(error):
            raise
        assume(False)
    assert result.dtype == np.int64
    forward_options = {k: v for k, v in case.items() if k != "output_padding"}
    x = np.random.default_rng(1).integers(-5, 6, result.shape)
    with forcing(conv=strategy):
        forward = sc.conv(x, kernels, **forward_options)
    if forward.shape == y.shape:  # output_padding below the stride: an exact adjoint
        assert int(np.vdot(forward, y)) == int(np.vdot(x, result))
    # And the scatter itself, against the naive one.
    geometry_pads = _pads(case, kernels, y, result.shape[1:-1])
    ref = scatter_reference(y, kernels, case["stride"], case["dilation"], geometry_pads,
                            result.shape[1:-1], case["groups"])  # fmt: skip
    np.testing.assert_array_equal(result, ref.astype(np.int64))


def _pads(case: dict[str, Any], kernels: np.ndarray, y: np.ndarray, sizes: tuple[int, ...]) -> Any:
    from stridedconv._geometry import make_geometry
    from stridedconv._validation import padding_spec

    d = kernels.ndim - 2
    spec = padding_spec(case["padding"], d, words=("valid", "same", "full"), pairs=True)
    return make_geometry(
        sizes, kernels.shape[:d], case["stride"], spec, dilation=case["dilation"]
    ).pad


@given(case=cases())
def test_matches_torch_conv_transpose(case: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    y, kernels = case.pop("y").astype(np.float64), case.pop("kernels").astype(np.float64)
    d = kernels.ndim - 2
    spans = [(k - 1) * dl + 1 for k, dl in zip(kernels.shape[:d], case["dilation"], strict=True)]
    padding = case["padding"]
    if padding == "same" or (isinstance(padding, tuple) and any(b != a for b, a in padding)):
        return  # PyTorch pads both sides of an axis alike
    if padding == "valid":
        pads: tuple[int, ...] = (0,) * d
    elif padding == "full":
        pads = tuple(span - 1 for span in spans)
    else:
        pads = tuple(b for b, _ in padding)
    try:
        result = sc.conv_transpose(y, kernels, **case)
    except ValueError:
        assume(False)
    assume(0 not in result.shape[1:-1])  # PyTorch refuses empty results
    weight = torch.from_numpy(np.ascontiguousarray(np.moveaxis(kernels, (-1, -2), (0, 1))))
    functional = torch.nn.functional
    transpose = {1: functional.conv_transpose1d, 2: functional.conv_transpose2d}[d]
    expected = transpose(
        torch.from_numpy(np.ascontiguousarray(np.moveaxis(y, -1, 1))),
        weight,
        stride=case["stride"],
        padding=pads,
        output_padding=case["output_padding"],
        groups=case["groups"],
        dilation=case["dilation"],
    ).numpy()
    np.testing.assert_allclose(result, np.moveaxis(expected, 1, -1), rtol=1e-12, atol=1e-9)


def test_bias_dtypes_layout_and_bad_input() -> None:
    y = np.arange(2 * 3 * 3 * 2, dtype=np.float32).reshape(2, 3, 3, 2)
    kernels = np.ones((2, 2, 3, 2), np.float32)
    out = sc.conv_transpose(y, kernels, stride=2, bias=np.array([1.0, 2.0, 3.0]))
    assert out.shape == (2, 6, 6, 3)
    assert out.dtype == np.float64  # float32 with a float64 bias, as conv
    first = sc.conv_transpose(np.moveaxis(y, -1, 1), kernels, stride=2, data_format="NCHW")
    np.testing.assert_array_equal(
        first, np.moveaxis(sc.conv_transpose(y, kernels, stride=2), -1, 1)
    )
    assert sc.conv_transpose(y, kernels, padding="same", stride=2).shape == (2, 6, 6, 3)
    with pytest.raises(ValueError, match=r"y has 2 channels .* but kernels have nc = 4"):
        sc.conv_transpose(y, np.ones((2, 2, 3, 4)))
    with pytest.raises(ValueError, match="output_padding must be below max\\(stride, dilation\\)"):
        sc.conv_transpose(y, kernels, output_padding=1)
    with pytest.raises(ValueError, match="bias must have shape \\(c,\\) = \\(3,\\)"):
        sc.conv_transpose(y, kernels, bias=np.ones(2))
    with pytest.raises(TypeError, match="stride must be"):
        sc.conv_transpose(y, kernels, stride=1.5)
    huge = sc.conv_transpose(np.full((1, 2, 1), 2**62), np.full((2, 1, 1), 4))
    assert huge.dtype == object
    assert int(huge[0, 1, 0]) == 2**65


@pytest.mark.parametrize("adjoint", [None, "scatter"])
def test_output_padding_of_a_dilation_above_the_stride(adjoint: str | None) -> None:
    """Stride 1 runs as a correlation, and output_padding below the dilation adds a window
    position that y lacks: it holds zeros."""
    y, kernels = np.array([[[1], [2]]]), np.array([[[1]], [[10]], [[100]]])
    with forcing(adjoint=adjoint):
        result = sc.conv_transpose(y, kernels, dilation=2, output_padding=1)
    ref = scatter_reference(y, kernels, (1,), (2,), ((0, 0),), (7,), 1)
    np.testing.assert_array_equal(result, ref.astype(np.int64))
    assert result[0, :, 0].tolist() == [1, 2, 10, 20, 100, 200, 0]
