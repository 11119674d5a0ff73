"""Comparing a learner's result with stridedconv's.

Values are compared, not dtypes (every learner returns float64 for integer images, and that
is fine). Integer-valued inputs with an integer-valued expected result are compared exactly;
otherwise a result agrees when ``|got - want| <= RTOL * scale`` everywhere, with `scale` the
largest magnitude a result can have (``max|x| * sum|kernel|``, at least 1) and `RTOL`
``1e-5`` when a float32 array is involved, ``1e-9`` else: summing in another order moves a
float32 result by a few units in the last place of the largest term, never by more.

Examples
--------
>>> import numpy as np
>>> differs(np.array([1.0, 2.0]), np.array([1, 2]), scale=2.0, rtol=1e-9) is None
True
>>> differs(np.array([1.0, 2.5]), np.array([1, 2]), scale=2.0, rtol=1e-9)
'at [1]: 2.5 where stridedconv gives 2'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from ._runner import Outcome
from ._specs import Case, Pads, expected, upstream

PARTS = {"conv_backward": ("dA_prev", "dW", "db")}


def tolerance(case: Case) -> tuple[float, float]:
    """``(rtol, scale)`` of `case`; rtol 0 when the comparison is exact."""
    arrays = [a for a in (case.images, case.kernel, case.bias) if a is not None]
    exact = (
        all(
            a.dtype.kind in "biu" or bool(np.all(np.isfinite(a) & (a == np.round(a))))
            for a in arrays
        )
        and case.mode != "avg"
    )
    x = float(np.max(np.abs(case.images), initial=0))
    if case.kernel is not None:
        k = float(np.sum(np.abs(case.kernel)))
    else:
        k = float(np.prod(case.window))
    scale = max(x * k, 1.0)
    if case.spec.kind in ("layer_back", "pool_back"):
        scale *= 5.0 * max(x, 1.0) * float(np.prod(case.images.shape[:3]))
    if exact and case.spec.kind != "layer":  # conv_forward's example has float weights
        return 0.0, scale
    rtol = 1e-5 if any(a.dtype == np.float32 for a in arrays) else 1e-9
    return rtol, scale


def _number(value: Any) -> str:
    number = float(value)
    return f"{number:.6g}"


def differs(got: Any, want: Array, *, scale: float, rtol: float) -> str | None:
    """None when `got` agrees with `want`; else one line: the shape, or the first differing
    position and both values."""
    try:
        array = np.asarray(got)
    except Exception as error:  # ragged lists and the like
        return f"returned {type(got).__name__} that is not an array ({error})"
    want = np.asarray(want)
    if array.dtype == object or array.dtype.kind not in "biuf":
        if got is None:
            return "returned None"
        return f"returned {type(got).__name__} of dtype {array.dtype}, not an array of numbers"
    if array.shape != want.shape:
        return f"shape {array.shape} where stridedconv gives {want.shape}"
    a = array.astype(np.float64)
    b = want.astype(np.float64)
    bad = ~(np.abs(a - b) <= rtol * scale) & ~(np.isnan(a) & np.isnan(b))
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    count = int(bad.sum())
    more = f" ({count} of {bad.size} values differ)" if count > 1 else ""
    return (
        f"at {list(where)}: {_number(array[where])} where stridedconv gives "
        f"{_number(want[where])}{more}"
    )


def compare(case: Case, got: Any, want: Any) -> str | None:
    """None when the learner's `got` agrees with stridedconv's `want` for `case`; else one
    line saying where and how it differs."""
    rtol, scale = tolerance(case)
    if isinstance(want, tuple):
        names = PARTS.get(case.name, tuple(f"result {i}" for i in range(len(want))))
        if not isinstance(got, tuple | list) or len(got) != len(want):
            return f"returned {type(got).__name__}, expected a tuple ({', '.join(names)})"
        for name, mine, theirs in zip(names, got, want, strict=True):
            problem = differs(mine, theirs, scale=scale, rtol=rtol)
            if problem is not None:
                return f"{name}: {problem}"
        return None
    return differs(got, want, scale=scale, rtol=rtol)


def show(name: str, value: Any) -> str:
    """`value` printed small: its shape, dtype and (for few values) its numbers."""
    array = np.asarray(value)
    head = f"{name} {array.shape} {array.dtype}"
    if array.size > 60:
        return head
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
        head += ", channel 0"
    text = np.array2string(array, precision=3, suppress_small=True, max_line_width=90)
    return head + ":\n    " + text.replace("\n", "\n    ")


def describe_case(case: Case, pads: Pads | None, outcome: Outcome) -> str:
    """The case, the learner's result and stridedconv's, printed small."""
    parts = [show("images", case.images)]
    if case.kernel is not None:
        parts.append(show("kernel", case.kernel))
    else:
        parts.append(f"kernel_shape {case.window}, mode {case.mode!r}")
    if case.spec.paddings or case.spec.fixed_padding:
        parts.append(f"padding {case.padding_word if case.spec.fixed_padding else case.padding!r}")
    if case.spec.strides:
        parts.append(f"stride {case.stride}")
    if case.spec.kind in ("layer_back", "pool_back"):
        parts.append(show("dZ" if case.spec.kind == "layer_back" else "dA", upstream(case, pads)))
    if outcome.raised is None:
        for label, value in (("yours", outcome.result), ("stridedconv's", expected(case, pads))):
            first = value[0] if isinstance(value, tuple) and value else value
            parts.append(show(label, first))
    return "\n".join(parts)
