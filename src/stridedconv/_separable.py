"""Separable kernels: a 2-D kernel that is an outer product ``u (x) v`` filters in two 1-D
passes, ``kh + kw`` taps instead of ``kh * kw``.

Most image kernels are separable: box, Gaussian, Sobel, Prewitt, the classic exercise's
``[[1, 0, -1]] * 3``. Integer-valued kernels are factored exactly, into integer vectors
(``v`` the kernel's largest row made primitive by its gcd), so exact integer results stay
exact: every partial sum of the two passes is bounded by ``max|x| * sum|K|``, the bound the
dtype plan already checks. Other float kernels are factored from their largest entry and
accepted only when every ``u_i * v_j`` is within a few ulp of ``K_ij``.
"""

from __future__ import annotations

import functools

import numpy as np

from ._typing import Array

#: A float factorisation is accepted when each product is this many ulp from its entry.
ULPS = 4


def rank_one(weights: Array) -> tuple[Array, Array] | None:
    """Factors ``u (kh, f)`` and ``v (kw, f)`` with ``weights[..., 0, f] == outer(u, v)`` for
    kernels ``(kh, kw, 1, f)``, or None when some kernel is not an outer product (or holds
    NaN or inf, or its dtype is not a float one)."""
    if weights.ndim != 4 or weights.shape[2] != 1 or weights.dtype.kind != "f":
        return None
    return _cached(weights.tobytes(), weights.shape, weights.dtype.str)


@functools.lru_cache(maxsize=64)  # the same kernels, chunk after chunk and call after call
def _cached(data: bytes, shape: tuple[int, ...], dtype: str) -> tuple[Array, Array] | None:
    kernels = np.frombuffer(data, dtype).reshape(shape)[:, :, 0, :]  # (kh, kw, f)
    if not np.isfinite(kernels).all():
        return None
    if (kernels == np.round(kernels)).all() and np.abs(kernels).max(initial=0) < 2**53:
        return _integer_factors(kernels)
    return _float_factors(kernels)


def _pivots(kernels: Array) -> tuple[Array, Array]:
    """Row and column of each kernel's largest magnitude."""
    kh, kw, f = kernels.shape
    flat = np.abs(kernels).reshape(kh * kw, f).argmax(axis=0)
    return flat // kw, flat % kw


def _integer_factors(kernels: Array) -> tuple[Array, Array] | None:
    exact = kernels.astype(np.int64)
    rows, cols = _pivots(kernels)
    features = np.arange(exact.shape[2])
    pivot_rows = exact[rows, :, features].T  # (kw, f)
    if (pivot_rows == 0).all(axis=0).any():
        return None  # an all-zero kernel: not worth two passes
    v = pivot_rows // np.gcd.reduce(pivot_rows, axis=0)
    pivot = v[cols, features]
    u = exact[:, cols, features] // pivot  # (kh, f)
    if not (u[:, None, :] * v[None, :, :] == exact).all():
        return None
    return u.astype(kernels.dtype), v.astype(kernels.dtype)


def _float_factors(kernels: Array) -> tuple[Array, Array] | None:
    rows, cols = _pivots(kernels)
    features = np.arange(kernels.shape[2])
    pivot = kernels[rows, cols, features]
    if (pivot == 0).any():
        return None
    u = kernels[:, cols, features]  # (kh, f)
    v = kernels[rows, :, features].T / pivot  # (kw, f)
    product = u[:, None, :] * v[None, :, :]
    tolerance = ULPS * np.finfo(kernels.dtype).eps * np.abs(kernels)
    if not (np.abs(product - kernels) <= tolerance).all():
        return None
    return u, v
