"""Named types shared by the public signatures."""

from __future__ import annotations

from typing import Any, Literal

import numpy.typing as npt

#: A positive size or step: one int for every spatial axis, or one int per axis.
IntOrPair = int | tuple[int, int]
#: 'same' (TensorFlow/JAX SAME rule), 'valid' (no padding) or zeros per side of each axis.
Padding = Literal["same", "valid"] | int | tuple[int, int]
PoolMode = Literal["max", "avg", "min", "sum"]
#: One positive int for every spatial axis of an N-d operation, or one int per axis.
IntOrTuple = int | tuple[int, ...]
#: `conv` padding: a word, one int for every axis, one int per axis, or one (before, after)
#: pair per axis.
ConvPadding = Literal["valid", "same", "full"] | int | tuple[int, ...] | tuple[tuple[int, int], ...]
#: How `conv` and `correlate` fill their padding (`_modes.FOREIGN_NAMES` maps the
#: names of SciPy, OpenCV, NumPy and PyTorch to these).
PaddingMode = Literal["zeros", "reflect", "replicate", "circular", "symmetric", "constant"]
DataFormat = Literal["channels_last", "channels_first"]
ArrayLike = npt.ArrayLike
Array = npt.NDArray[Any]
#: Anything `numpy.dtype` reads: ``'float32'``, ``np.int64``, a dtype.
DTypeLike = npt.DTypeLike
