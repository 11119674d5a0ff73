"""Assertions shared by the test modules: the dtype policy and the error bound."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import stridedconv._chooser as chooser
from stridedconv._engine import forced

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@contextmanager
def forcing(**names: object) -> Iterator[None]:
    """`stridedconv._engine.forced` with the None entries (library defaults) left out."""
    with forced(**{key: value for key, value in names.items() if value is not None}):
        yield


def chosen_strategies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The convolution strategies the engine's chooser picks from now on (in this test),
    in call order."""
    chosen: list[str] = []
    choose = chooser.conv_strategy

    def spy(*args: Any, **kwargs: Any) -> str:
        chosen.append(choose(*args, **kwargs))
        return chosen[-1]

    monkeypatch.setattr(chooser, "conv_strategy", spy)
    return chosen


def is_exact(*arrays: np.ndarray) -> bool:
    """Whether every array is bool or integer: the library must compute exactly."""
    return all(a.dtype.kind in "biu" for a in arrays)


def assert_exact_integers(out: np.ndarray, ref: np.ndarray) -> None:
    """`out` equals the Python-int `ref` exactly, as int64 unless some value does not fit."""
    assert out.shape == ref.shape, (out.shape, ref.shape)
    fits = all(INT64_MIN <= value <= INT64_MAX for value in ref.flat)
    if fits:
        assert out.dtype == np.int64, f"expected int64, got {out.dtype}"
    else:
        assert out.dtype == object, f"values beyond int64 need an object array, got {out.dtype}"
        kinds = {type(value) for value in out.flat}
        assert kinds == {int}, f"expected Python ints, got {kinds}"
    # Object arrays compare with Python's ==: exact for ints of any size.
    np.testing.assert_array_equal(out.astype(object), ref, strict=True)


def assert_within_bound(
    out: np.ndarray,
    ref: np.ndarray,
    abs_ref: np.ndarray,
    n_terms: int,
    result_dtype: np.dtype,
) -> None:
    """``|out - ref| <= 8 n eps(compute) |x|.|k| + eps(result) |ref| + tiny`` everywhere.

    The compute dtype is float32 for float16 results and the result dtype otherwise; a
    float16 result may overflow to an infinity of the right sign where ``|ref|`` reaches
    the float16 range.
    """
    result_dtype = np.dtype(result_dtype)
    assert out.dtype == result_dtype, f"expected {result_dtype}, got {out.dtype}"
    assert out.shape == ref.shape, (out.shape, ref.shape)
    compute = np.dtype(np.float32) if result_dtype == np.float16 else result_dtype
    compute_info, result_info = np.finfo(compute), np.finfo(result_dtype)
    tiny = float(result_info.smallest_subnormal) + n_terms * float(compute_info.smallest_subnormal)
    bound = (
        8 * n_terms * float(compute_info.eps) * abs_ref
        + float(result_info.eps) * np.abs(ref)
        + tiny
    )
    wide = np.complex128 if result_dtype.kind == "c" else np.float64
    got = out.astype(wide)
    ok = np.abs(got - ref) <= bound
    if result_dtype == np.float16:
        overflow = (
            np.isinf(got)
            & (np.abs(ref) + bound >= float(result_info.max))
            & (np.sign(got) == np.sign(ref))
        )
        ok |= overflow
    if not ok.all():
        where = np.argwhere(~ok)[:5]
        details = [
            f"at {tuple(int(i) for i in index)}: got {got[tuple(index)]!r}, "
            f"reference {ref[tuple(index)]!r}, bound {bound[tuple(index)]!r}"
            for index in where
        ]
        raise AssertionError(
            f"{int((~ok).sum())} of {ok.size} values outside the error bound:\n"
            + "\n".join(details)
        )


def assert_ieee_within_bound(
    out: np.ndarray,
    ref: np.ndarray,
    abs_ref: np.ndarray,
    n_terms: int,
    result_dtype: np.dtype,
) -> None:
    """Non-finite `ref` values (NaN, +-inf) exactly where `ref` has them, the rest bounded."""
    assert out.shape == ref.shape, (out.shape, ref.shape)
    special = ~np.isfinite(ref)
    np.testing.assert_array_equal(out[special], ref[special].astype(out.dtype))
    assert_within_bound(out[~special], ref[~special], abs_ref[~special], n_terms, result_dtype)


def assert_new_array(out: np.ndarray, *inputs: np.ndarray) -> None:
    """`out` is a writeable ndarray that shares no memory with any of `inputs`."""
    assert isinstance(out, np.ndarray)
    assert out.flags.writeable
    for array in inputs:
        assert not np.shares_memory(out, array)


def assert_unchanged(before: np.ndarray, after: np.ndarray) -> None:
    """`after` still holds the values of `before` (a copy taken before the call)."""
    assert after.dtype == before.dtype
    np.testing.assert_array_equal(after, before, strict=True)
