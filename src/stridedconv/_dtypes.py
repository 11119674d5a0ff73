"""The dtype policy: which dtype a computation runs in, and which dtype it returns.

Floats keep their precision (float16 is computed in float32 and rounded once at the end).
Integers and bools give exact integers that never wrap around: the computation runs in the
narrowest of float64, int64 and Python ints (object) in which no partial sum can be inexact,
chosen from a bound on the largest possible partial sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._typing import Array

#: Every integer of magnitude below this is exact in float64, and so are sums of them.
FLOAT64_EXACT = 2**53
INT64_LIMIT = 2**63
#: Exact integer paths from narrowest to widest; tests may force a wider one.
INTEGER_PATHS = ("float64", "int64", "object")
_PATH_LIMITS: dict[str, float] = {
    "float64": FLOAT64_EXACT,
    "int64": INT64_LIMIT,
    "object": math.inf,
}


@dataclass(frozen=True)
class Plan:
    """The dtypes of one computation.

    Attributes
    ----------
    compute : numpy.dtype
        The dtype every partial result is held in.
    result : numpy.dtype or None
        The returned dtype; None for exact integers computed as Python ints, which are
        returned as int64 when every value fits and as object (Python ints) otherwise.
    """

    compute: np.dtype[np.generic]
    result: np.dtype[np.generic] | None


def max_abs(x: Array) -> int:
    """Largest magnitude in an integer or bool array, as a Python int (no abs() overflow)."""
    if x.size == 0:
        return 0
    return max(abs(int(x.max())), abs(int(x.min())))


def abs_sum(x: Array, axis: int | None = None) -> int:
    """Largest sum of magnitudes along `axis` (all of `x` for None), as an exact Python int."""
    if x.size == 0:
        return 0
    # 4-byte integers and smaller cannot overflow an int64 sum; wider ones become Python ints.
    exact = x.astype(np.int64 if x.dtype.itemsize < 8 else object)
    sums = np.abs(exact).sum(axis=axis)
    return int(np.max(sums))


def integer_plan(
    bound: int,
    result: np.dtype[np.generic] | None,
    force: str | None = None,
    paths: tuple[str, ...] = INTEGER_PATHS,
) -> Plan:
    """Pick the narrowest exact path, among `paths`, for sums whose partial sums stay below `bound`.

    `force` names a path; a path narrower than the bound allows is never taken, so forcing
    can only widen. A Python-int path returns ``result=None`` for integer results: their dtype
    is decided by the values (`finish_object`).
    """
    path = next(p for p in paths if bound < _PATH_LIMITS[p])
    if force is not None and force in paths and paths.index(force) > paths.index(path):
        path = force
    if path == "object" and result is not None and result.kind in "iu":
        result = None
    return Plan(np.dtype(path), result)


def float_plan(dtype: np.dtype[np.generic]) -> Plan:
    """Compute floats in their own precision, but float16 in float32 (NumPy's own rule)."""
    compute = np.dtype(np.float32) if dtype == np.float16 else dtype
    return Plan(compute, dtype)


def is_exact_integer(dtype: np.dtype[np.generic]) -> bool:
    """Whether a result of `dtype` must be computed exactly: bool and integer kinds."""
    return dtype.kind in "biu"


def finish_object(values: Array) -> Array:
    """Return exact Python-int results as int64 when every value fits, else as they are."""
    if values.size == 0 or (min(values.flat) >= -INT64_LIMIT and max(values.flat) < INT64_LIMIT):
        return values.astype(np.int64)
    return values


def _magnitude_bound(x: Array) -> int:
    """A cheap upper bound on ``max|x|``: the dtype's range for narrow types, else a scan."""
    if x.dtype.kind == "b":
        return 1
    if x.dtype.itemsize <= 2:
        info = np.iinfo(x.dtype)
        return max(-int(info.min), int(info.max))
    return max_abs(x)


def _sum_bound(x: Array, weight: int) -> int:
    """Bound on any sum of values of `x` with integer weights of total magnitude `weight`."""
    bound = _magnitude_bound(x) * weight
    if bound >= FLOAT64_EXACT:  # the dtype's range is too loose: look at the values
        bound = max_abs(x) * weight
    return bound


def conv_plan(
    x: Array, kernels: Array, force: str | None = None, bias: Array | None = None
) -> Plan:
    """Dtypes for cross-correlating `x` with `kernels` of shape ``(..., nc)``, then adding
    `bias` (if any) of shape ``(nc,)``: exact only when every one of them is exact."""
    inputs = (x, kernels) if bias is None else (x, kernels, bias)
    if not all(is_exact_integer(array.dtype) for array in inputs):
        return float_plan(np.result_type(*inputs))
    weight = abs_sum(kernels.reshape(-1, kernels.shape[-1]), axis=0)
    bound = _sum_bound(x, weight) + (0 if bias is None else max_abs(bias))
    return integer_plan(bound, np.dtype(np.int64), force)


def mean_plan(x: Array, count: int, force: str | None = None) -> Plan:
    """Dtypes for the means of `count` values of `x`: integers give float64."""
    if not is_exact_integer(x.dtype):
        return float_plan(x.dtype)
    # An int64 sum would be exact, but dividing it as float64 rounds twice: skip that path.
    return integer_plan(
        _sum_bound(x, count), np.dtype(np.float64), force, paths=("float64", "object")
    )


def sum_plan(x: Array, count: int, force: str | None = None) -> Plan:
    """Dtypes for the sums of up to `count` values of `x`: integers give exact int64."""
    if not is_exact_integer(x.dtype):
        return float_plan(x.dtype)
    return integer_plan(_sum_bound(x, count), np.dtype(np.int64), force)
