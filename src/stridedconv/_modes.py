"""Boundary modes: our one vocabulary, the other libraries' names for it, and `cval`.

Each of our words has one meaning. Other libraries use some of the same words for other
modes (SciPy's ``'reflect'`` is our ``'symmetric'``), so a foreign word is never accepted
silently: a word that is not ours is refused with the name of our mode it stands for.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._geometry import PADDING_MODES

#: Other libraries' names of our modes that are not our words, lower case, with who says
#: them: SciPy's ``ndimage`` modes, OpenCV's ``BORDER_*`` constants, NumPy's ``np.pad``
#: modes and PyTorch's ``padding_mode`` / ``F.pad`` modes.
FOREIGN_NAMES: dict[str, tuple[str, str]] = {
    "mirror": ("reflect", "SciPy's 'mirror'"),
    "nearest": ("replicate", "SciPy's 'nearest'"),
    "wrap": ("circular", "SciPy's and NumPy's 'wrap'"),
    "grid-wrap": ("circular", "SciPy's 'grid-wrap'"),
    "grid-mirror": ("symmetric", "SciPy's 'grid-mirror'"),
    "grid-constant": ("constant", "SciPy's 'grid-constant'"),
    "edge": ("replicate", "NumPy's 'edge'"),
    "border_constant": ("constant", "OpenCV's BORDER_CONSTANT"),
    "border_replicate": ("replicate", "OpenCV's BORDER_REPLICATE"),
    "border_reflect": ("symmetric", "OpenCV's BORDER_REFLECT"),
    "border_wrap": ("circular", "OpenCV's BORDER_WRAP"),
    "border_reflect_101": ("reflect", "OpenCV's BORDER_REFLECT_101"),
    "border_reflect101": ("reflect", "OpenCV's BORDER_REFLECT101"),
    "border_default": ("reflect", "OpenCV's BORDER_DEFAULT"),
    "zero": ("zeros", "'zero'"),
    "periodic": ("circular", "'periodic'"),
}


def check_padding_mode(value: object, name: str = "padding_mode") -> str:
    """`value`, one of `PADDING_MODES` in any case, in lower case.

    Raises
    ------
    TypeError
        When `value` is not a string.
    ValueError
        When it is not one of ours, listing ours and, for another library's name of one of
        them, saying which.
    """
    valid = ", ".join(repr(mode) for mode in PADDING_MODES)
    if not isinstance(value, str):
        msg = f"{name} must be one of {valid}, got {value!r}"
        raise TypeError(msg)
    lowered = value.lower()
    if lowered in PADDING_MODES:
        return lowered
    foreign = FOREIGN_NAMES.get(lowered.removeprefix("cv2."))
    msg = f"{name} must be one of {valid}, got {value!r}"
    if foreign is not None:
        ours, who = foreign
        msg += f"; {who} is {name}={ours!r} here"
    raise ValueError(msg)


def check_cval(value: object) -> int | float | complex:
    """`cval` as a Python number (a NumPy scalar or 0-d array too); bools are refused.

    Raises
    ------
    TypeError
        For anything but one real or complex number.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Number):
        msg = f"cval must be a number (int, float or complex), got {value!r}"
        raise TypeError(msg)
    if isinstance(value, np.generic):
        item: int | float | complex = value.item()
        return item
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    number: complex = complex(value)  # type: ignore[call-overload]  # a numbers.Complex
    return number


def cval_dtype(
    x_dtype: np.dtype[np.generic], cval: int | float | complex, weights: np.dtype[np.generic]
) -> np.dtype[np.generic]:
    """The dtype that holds the values of `x` and a 'constant' padding of `cval`: `x`'s own,
    int64 for an int `cval` that an integer `x`'s dtype does not hold (uint8 and -1), or
    for a float or complex `cval` the dtype it meets the `weights` (the kernels' and bias's
    dtype) in (a Python float is weak, as in NumPy: float32 images, kernels or bias stay
    float32, integers become float64).

    Raises
    ------
    ValueError
        For an int `cval` beyond int64 with integer images.
    """
    if not isinstance(cval, int):
        return np.result_type(x_dtype, cval if x_dtype.kind in "fc" else weights, cval)
    if x_dtype.kind in "fc" or (x_dtype.kind == "b" and cval in (0, 1)):
        return x_dtype
    info = np.iinfo(x_dtype.type if x_dtype.kind in "iu" else np.uint8)  # type: ignore[type-var]
    if x_dtype.kind != "b" and info.min <= cval <= info.max:
        return x_dtype
    if not np.iinfo(np.int64).min <= cval <= np.iinfo(np.int64).max:
        msg = f"cval must fit in int64 for integer images, got {cval}"
        raise ValueError(msg)
    return np.dtype(np.int64)
