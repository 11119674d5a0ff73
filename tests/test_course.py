"""The course's four functions: its signatures and shapes, on the library's own operations."""

from __future__ import annotations

import numpy as np
import pytest

import stridedconv as sc

RNG = np.random.default_rng(8)
A_PREV = RNG.standard_normal((4, 9, 8, 3))
W = RNG.standard_normal((3, 3, 3, 5))
B = RNG.standard_normal((1, 1, 1, 5))


@pytest.mark.parametrize(("padding", "stride"), [("same", (1, 1)), ("valid", (2, 2)), ((1, 2), 2)])
def test_conv_forward_and_backward(padding: object, stride: object) -> None:
    z = sc.conv(A_PREV, W, padding=padding, stride=stride) + B.reshape(-1)
    relu = sc.conv_forward(A_PREV, W, B, lambda v: np.maximum(v, 0), padding, stride)
    np.testing.assert_allclose(relu, np.maximum(z, 0))
    dZ = RNG.standard_normal(z.shape)
    dA_prev, dW, db = sc.conv_backward(dZ, A_PREV, W, B, padding, stride)
    grads = sc.conv_vjp(dZ, A_PREV, W, padding=padding, stride=stride)
    np.testing.assert_array_equal(dA_prev, grads.x)
    np.testing.assert_array_equal(dW, grads.kernels)
    assert db.shape == (1, 1, 1, 5)
    np.testing.assert_allclose(db.reshape(-1), dZ.sum(axis=(0, 1, 2)))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_forward_and_backward(mode: str) -> None:
    pooled = sc.pool_forward(A_PREV, (2, 2), (2, 2), mode)
    np.testing.assert_array_equal(pooled, sc.pool(A_PREV, (2, 2), (2, 2), mode))
    assert sc.pool_forward(A_PREV, (3, 3)).shape == (4, 7, 6, 3)  # the course's stride 1
    dA = RNG.standard_normal(pooled.shape)
    np.testing.assert_array_equal(
        sc.pool_backward(dA, A_PREV, (2, 2), (2, 2), mode),
        sc.pool_vjp(dA, A_PREV, (2, 2), (2, 2), mode, ties="all"),
    )


def test_the_course_grades_every_tied_maximum() -> None:
    a = np.array([[[[1.0], [4.0]], [[4.0], [2.0]]]])
    dA = sc.pool_backward(np.full((1, 1, 1, 1), 2.0), a, (2, 2), (2, 2))
    np.testing.assert_array_equal(dA[0, :, :, 0], [[0.0, 2.0], [2.0, 0.0]])
