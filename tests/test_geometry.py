"""The padding rules and output sizes, on their own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stridedconv._geometry import make_geometry, same_padding

sizes = st.integers(0, 200)
kernels = st.integers(1, 12)
strides = st.integers(1, 6)
dilations = st.integers(1, 4)


@given(sizes, kernels, strides, dilations)
def test_same_padding_is_the_least_that_gives_ceil_n_over_s(n: int, k: int, s: int, d: int) -> None:
    before, after = same_padding(n, k, s, d)
    span = (k - 1) * d + 1
    out = -(-n // s)
    total = before + after
    # The padding is split evenly, the odd zero after (bottom / right).
    assert before == total // 2
    assert after - before in (0, 1)
    if out:
        # The last window ends inside the padded input, and one zero less would cut it off.
        assert (out - 1) * s + span <= n + total
        assert total == 0 or (out - 1) * s + span > n + total - 1


@given(sizes, kernels, strides)
def test_same_geometry_keeps_ceil_n_over_s(n: int, k: int, s: int) -> None:
    geometry = make_geometry((n, n + 1), (k, k), (s, s), "same")
    assert geometry.out_shape == (-(-n // s), -(-(n + 1) // s))
    assert geometry.padded_shape == tuple(
        m + b + a for m, (b, a) in zip((n, n + 1), geometry.pad, strict=True)
    )


@given(st.integers(1, 200), kernels, strides, st.integers(0, 5), st.integers(0, 5))
def test_explicit_padding_size(n: int, k: int, s: int, before: int, after: int) -> None:
    if k > n + before + after:
        with pytest.raises(ValueError, match="does not fit"):
            make_geometry((n,), (k,), (s,), ((before, after),))
        return
    geometry = make_geometry((n,), (k,), (s,), ((before, after),))
    (out,) = geometry.out_shape
    # out windows fit, out + 1 do not.
    assert (out - 1) * s + k <= n + before + after < out * s + k


@pytest.mark.parametrize(
    ("n", "k", "s", "expected"),
    [
        (28, 3, 1, (1, 1)),
        (28, 2, 1, (0, 1)),
        (28, 4, 1, (1, 2)),
        (28, 3, 2, (0, 1)),
        (5, 3, 2, (1, 1)),
        (1, 5, 1, (2, 2)),
        (6, 1, 3, (0, 0)),
        (0, 3, 1, (1, 1)),
    ],
)
def test_same_padding_examples(n: int, k: int, s: int, expected: tuple[int, int]) -> None:
    # Values from tf.nn.conv2d(padding='SAME') / jax.lax.padtype_to_pads.
    assert same_padding(n, k, s) == expected


def test_valid_needs_the_window_to_fit() -> None:
    with pytest.raises(ValueError, match=r"kernel window \(4,\) does not fit .* \(3,\)"):
        make_geometry((3,), (4,), (1,), "valid")
