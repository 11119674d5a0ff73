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
    """Largest sum of magnitudes along `axis` (all of `x` for None), as an exact Python int.

    The sums run in int64 when they cannot overflow it (`int64_holds_sums`), else in Python
    ints, which cost about six times the time and memory (more under tracemalloc).
    """
    if x.size == 0:
        return 0
    terms = x.size if axis is None else x.shape[axis]
    exact = x.astype(np.int64 if int64_holds_sums(x, terms) else object, copy=False)
    sums = np.abs(exact).sum(axis=axis)
    return int(np.max(sums))


def int64_holds_sums(x: Array, terms: int) -> bool:
    """Whether every sum of the magnitudes of up to `terms` values of an integer or bool `x`
    is below 2**63: by the dtype's range when that suffices (no pass over the values), else
    by the largest magnitude (`max_abs`), which also rules out ``abs(-2**63)``."""
    if x.dtype.kind == "b":
        widest = 1
    else:
        info = np.iinfo(x.dtype)
        widest = max(-int(info.min), int(info.max))
    return widest * terms < INT64_LIMIT or max_abs(x) * terms < INT64_LIMIT


def integer_plan(
    bound: int,
    result: np.dtype[np.generic] | None,
    force: str | None = None,
    paths: tuple[str, ...] = INTEGER_PATHS,
    *,
    fixed: bool = False,
) -> Plan:
    """Pick the narrowest exact path, among `paths`, for sums whose partial sums stay below `bound`.

    `force` names a path; a path narrower than the bound allows is never taken, so forcing
    can only widen. A Python-int path returns ``result=None`` for integer results: their dtype
    is decided by the values (`finish_object`), unless the result dtype is `fixed` (asked for).
    """
    path = next(p for p in paths if bound < _PATH_LIMITS[p])
    if force is not None and force in paths and paths.index(force) > paths.index(path):
        path = force
    if path == "object" and result is not None and result.kind in "iu" and not fixed:
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


def natural_dtype(inputs: tuple[Array, ...]) -> np.dtype[np.generic]:
    """The result dtype of a sum of products of `inputs` when none is asked for, found
    without looking at the values: int64 for exact integers (object only where values turn
    out to need it), else ``np.result_type``."""
    if all(is_exact_integer(array.dtype) for array in inputs):
        return np.dtype(np.int64)
    return np.result_type(*inputs).newbyteorder("=")


def check_cast(
    natural: np.dtype[np.generic], wanted: np.dtype[np.generic], what: str
) -> np.dtype[np.generic]:
    """`wanted`, after checking that `what`, whose natural dtype is `natural`, may be
    computed in it: floats and complex only in floats and complex, complex only in complex.

    Raises
    ------
    TypeError
        Naming `dtype`, what it was and what the result is.
    """
    if natural.kind in "biu" and wanted.kind in "iufc":
        return wanted  # integer ranges are checked against the values' bound later
    if np.can_cast(natural, wanted, "same_kind"):
        return wanted
    msg = f"dtype must hold {what} of dtype {natural}, got dtype={wanted.name!r}"
    raise TypeError(msg)


def check_range(
    bound: int, dtype: np.dtype[np.generic], signed: bool, what: str, name: str = "dtype"
) -> None:
    """Check that an integer `dtype` holds every exact result, of magnitude at most
    `bound` (and non-negative unless `signed`), before any work is done. `name` is the
    argument that asked for it: ``'dtype'``, or ``'out'`` for the dtype of `out`."""
    info = np.iinfo(dtype)  # type: ignore[type-var]
    if bound > info.max or (signed and info.min == 0):
        low = -bound if signed else 0
        given = f"dtype={dtype.name!r}" if name == "dtype" else f"{name} of dtype {dtype}"
        msg = (
            f"{given} cannot hold every exact value of {what}: they may range from {low} to "
            f"{bound}; use a wider integer or a float dtype"
        )
        raise ValueError(msg)


def _may_be_negative(array: Array) -> bool:
    return array.dtype.kind == "i" and array.size > 0 and int(array.min()) < 0


def conv_plan(
    x: Array,
    kernels: Array,
    force: str | None = None,
    bias: Array | None = None,
    dtype: np.dtype[np.generic] | None = None,
    name: str = "dtype",
    what: str = "the convolution",
    fill: complex = 0,
) -> Plan:
    """Dtypes for cross-correlating `x` with `kernels` of shape ``(..., nc)``, then adding
    `bias` (if any) of shape ``(nc,)``: exact only when every one of them is exact, and in
    `dtype` when one was asked for (checked by `check_cast`; `name` asked for it, for `what`
    is computed). `fill`, an int when `x` is exact, is the value of constant padding."""
    inputs = (x, kernels) if bias is None else (x, kernels, bias)
    if dtype is not None and dtype.kind in "fc":
        return Plan(float_plan(dtype).compute, dtype)
    if not all(is_exact_integer(array.dtype) for array in inputs):
        return float_plan(np.result_type(*inputs))
    weight = abs_sum(kernels.reshape(-1, kernels.shape[-1]), axis=0)
    # A window mixes samples and padding: no sum exceeds the larger of their two bounds.
    low = fill if isinstance(fill, int) else 0  # an exact `x` has an int `fill`
    padding = abs(low) * weight
    bound = max(_sum_bound(x, weight), padding) + (0 if bias is None else max_abs(bias))
    if dtype is None:
        return integer_plan(bound, np.dtype(np.int64), force)
    # Signs are known cheaply: x by its dtype, the (small) kernels and bias by their values.
    signed = x.dtype.kind == "i" or any(_may_be_negative(a) for a in inputs[1:])
    signed = signed or low < 0
    check_range(bound, dtype, signed, what, name)
    return integer_plan(bound, dtype, force, fixed=True)


def mean_plan(
    x: Array, count: int, force: str | None = None, dtype: np.dtype[np.generic] | None = None
) -> Plan:
    """Dtypes for the means of `count` values of `x`: integers give float64, or `dtype`."""
    if dtype is not None:
        return Plan(float_plan(dtype).compute, dtype)
    if not is_exact_integer(x.dtype):
        return float_plan(x.dtype)
    # An int64 sum would be exact, but dividing it as float64 rounds twice: skip that path.
    return integer_plan(
        _sum_bound(x, count), np.dtype(np.float64), force, paths=("float64", "object")
    )


def sum_plan(
    x: Array,
    count: int,
    force: str | None = None,
    dtype: np.dtype[np.generic] | None = None,
    name: str = "dtype",
) -> Plan:
    """Dtypes for the sums of up to `count` values of `x`: integers give exact int64, or
    `dtype`."""
    if dtype is not None and dtype.kind in "fc":
        return Plan(float_plan(dtype).compute, dtype)
    if not is_exact_integer(x.dtype):
        return float_plan(x.dtype)
    bound = _sum_bound(x, count)
    if dtype is None:
        return integer_plan(bound, np.dtype(np.int64), force)
    check_range(bound, dtype, x.dtype.kind == "i", "the sums", name)
    return integer_plan(bound, dtype, force, fixed=True)


def extreme_plan(x: Array, dtype: np.dtype[np.generic] | None = None, name: str = "dtype") -> Plan:
    """Dtypes for maxima and minima of `x`: computed in its own dtype (native byte order),
    returned in it or in `dtype`, which must hold every value of `x` if it is an integer
    (`name` asked for it)."""
    own = x.dtype.newbyteorder("=")
    if dtype is not None and dtype.kind in "iu" and not np.can_cast(own, dtype, "safe"):
        low, high = _value_range(x)
        info = np.iinfo(dtype)  # type: ignore[type-var]
        if low < info.min or high > info.max:
            given = f"dtype={dtype.name!r}" if name == "dtype" else f"{name} of dtype {dtype}"
            msg = (
                f"{given} cannot hold every exact value of the maxima and minima: they may "
                f"range from {low} to {high}; use a wider integer or a float dtype"
            )
            raise ValueError(msg)
    return Plan(own, own if dtype is None else dtype)


def _value_range(x: Array) -> tuple[int, int]:
    """Bounds on the values of an integer or bool `x`: its dtype's range for narrow types
    (no pass over the values), else its smallest and largest value."""
    if x.dtype.kind == "b":
        return 0, 1
    if x.dtype.itemsize <= 2:
        info = np.iinfo(x.dtype)
        return int(info.min), int(info.max)
    return (int(x.min()), int(x.max())) if x.size else (0, 0)
