"""Named types shared by the public signatures."""

from __future__ import annotations

from typing import Any, Literal

import numpy.typing as npt

#: A positive size or step: one int for every spatial axis, or one int per axis.
IntOrPair = int | tuple[int, int]
#: 'same' (TensorFlow/JAX SAME rule), 'valid' (no padding) or zeros per side of each axis.
Padding = Literal["same", "valid"] | int | tuple[int, int]
PoolMode = Literal["max", "avg"]
ArrayLike = npt.ArrayLike
Array = npt.NDArray[Any]
