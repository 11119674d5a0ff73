"""Where a result goes: the `dtype=` a caller asks for, the `out=` array it gives, and the
allocation of a fresh result, which fails at once, naming the shapes, when it cannot be made.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._typing import Array


def requested_dtype(dtype: object) -> np.dtype[np.generic] | None:
    """`dtype` as a native-byte-order NumPy dtype of numbers, or None when not given.

    Raises
    ------
    TypeError
        For anything NumPy does not read as a dtype, and for dtypes that do not hold numbers
        computed by sums (bool, strings, objects, dates).
    """
    if dtype is None:
        return None
    try:
        wanted = np.dtype(dtype)  # type: ignore[call-overload]
    except (TypeError, ValueError, SyntaxError):  # NumPy's own words name no argument
        msg = f"dtype must be a NumPy dtype such as 'float32' or np.int64, got {dtype!r}"
        raise TypeError(msg) from None
    if wanted.kind not in "iufc":
        msg = f"dtype must be an integer, float or complex dtype, got {wanted}"
        raise TypeError(msg)
    native: np.dtype[np.generic] = wanted.newbyteorder("=")
    return native


def check_out(
    out: object, shape: tuple[int, ...], dtype: np.dtype[np.generic], inputs: dict[str, Array]
) -> Array:
    """Check that `out` can take a result of `shape` and `dtype` and aliases none of `inputs`.

    Raises
    ------
    TypeError
        When `out` is not an ndarray, or `dtype` does not cast safely to its dtype.
    ValueError
        When its shape differs, it is read-only, or it shares memory with an input.
    """
    if not isinstance(out, np.ndarray):
        msg = f"out must be a NumPy array of shape {shape}, got {type(out).__name__}"
        raise TypeError(msg)
    if out.shape != shape:
        msg = f"out must have the result's shape {shape}, got shape {out.shape}"
        raise ValueError(msg)
    if not np.can_cast(dtype, out.dtype, "safe"):
        msg = (
            f"out has dtype {out.dtype}, to which the result's dtype {dtype} does not cast "
            f"safely; pass dtype={out.dtype.name!r} to compute in it"
        )
        raise TypeError(msg)
    if not out.flags.writeable:
        msg = "out must be writeable, got a read-only array"
        raise ValueError(msg)
    for name, array in inputs.items():
        if np.may_share_memory(out, array):
            msg = f"out must not share memory with {name}: the result would overwrite its input"
            raise ValueError(msg)
    return out


def fixed_dtype(
    wanted: np.dtype[np.generic] | None, out: Array | None
) -> tuple[np.dtype[np.generic] | None, str]:
    """The dtype an exact result must be computed for, and the argument that fixed it:
    `dtype`, else the dtype of an integer `out` (which must then hold every exact value,
    checked before any work), else None."""
    if wanted is None and out is not None and out.dtype.kind in "iu":
        native: np.dtype[np.generic] = out.dtype.newbyteorder("=")
        return native, "out"
    return wanted, "dtype"


def allocate(
    shape: tuple[int, ...],
    dtype: np.dtype[np.generic],
    context: Callable[[], str],
    shown: tuple[int, ...] | None = None,
) -> Array:
    """A new array of `shape` and `dtype`, or a `MemoryError` that says which, at once.

    `context()` names the inputs, e.g. ``"for images of shape (2, 28, 28)"`` (called for the
    message only); `shown` is the result's shape as the caller sees it, if not `shape`.
    """
    try:
        return np.empty(shape, dtype)
    except (MemoryError, ValueError):  # ValueError: more items than an array may have
        size = _bytes(math.prod(shape) * dtype.itemsize)
        shape_text = f"the result of shape {shown or shape} ({dtype}, {size})"
        msg = f"{shape_text} cannot be allocated {context()}"
        raise MemoryError(msg) from None


def _bytes(count: int) -> str:
    """`count` bytes in binary units, e.g. ``'7.3 TiB'``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{count} B"  # unreachable


def finish(
    result: Array, out: Array | None, channels_first: bool, dtype: np.dtype[np.generic] | None
) -> Array:
    """The engine's channels-last `result` as the caller asked: moved to channels first, in
    `dtype`, copied into `out` (unless the engine wrote into it already)."""
    if channels_first:
        result = np.moveaxis(result, -1, 1)
    if out is not None:
        if not np.shares_memory(result, out):
            np.copyto(out, result, casting="unsafe")  # exact: the dtype was checked to fit
        return out
    if dtype is not None and result.dtype != dtype:
        return result.astype(dtype)
    return np.ascontiguousarray(result) if channels_first else result
