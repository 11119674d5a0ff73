"""Output sizes and paddings: the one place where the padding rules live.

Integer arithmetic only; a float division here would give wrong sizes for large inputs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    """How a window of `kernel` taps moves over padded spatial axes.

    Every field holds one entry per spatial axis.

    Attributes
    ----------
    in_shape : tuple of int
        Spatial shape of the input, before padding.
    kernel : tuple of int
        Taps of the window along each axis.
    stride : tuple of int
        Step between neighbouring windows.
    dilation : tuple of int
        Step between neighbouring taps of one window.
    pad : tuple of (int, int)
        Zeros added before and after each axis.
    out_shape : tuple of int
        Number of window positions along each axis.
    """

    in_shape: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    out_shape: tuple[int, ...]

    @property
    def padded_shape(self) -> tuple[int, ...]:
        """Spatial shape after padding."""
        return tuple(n + b + a for n, (b, a) in zip(self.in_shape, self.pad, strict=True))

    @property
    def is_padded(self) -> bool:
        """Whether any axis gets padding."""
        return any(b or a for b, a in self.pad)


def extent(kernel: int, dilation: int) -> int:
    """Span of a dilated window: ``(kernel - 1) * dilation + 1`` samples."""
    return (kernel - 1) * dilation + 1


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Padding of the TensorFlow/JAX SAME rule for one axis.

    The output has ``ceil(size / stride)`` positions; the total padding is
    ``max((out - 1) * stride + extent - size, 0)``, ``total // 2`` before and the rest after.

    Examples
    --------
    >>> same_padding(28, 3, 1)
    (1, 1)
    >>> same_padding(28, 4, 1)  # an even kernel puts the extra zero after
    (1, 2)
    >>> same_padding(28, 3, 2)
    (0, 1)
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + extent(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


@functools.lru_cache(maxsize=256)  # a loop over small batches asks the same again and again
def make_geometry(
    in_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: str | tuple[tuple[int, int], ...],
    *,
    dilation: tuple[int, ...] | None = None,
    kernel_name: str = "kernel",
    input_name: str = "images",
) -> Geometry:
    """Describe a sliding window over `in_shape` after `padding` (as `padding_spec` returns it).

    Raises
    ------
    ValueError
        When the window does not fit in the padded input along some axis.
    """
    dilation = dilation or (1,) * len(kernel)
    spans = tuple(extent(k, d) for k, d in zip(kernel, dilation, strict=True))
    if padding == "same":
        pad = tuple(
            same_padding(n, k, s, d)
            for n, k, s, d in zip(in_shape, kernel, stride, dilation, strict=True)
        )
        # ceil(n / s) by definition: an empty axis gives an empty output, never an error.
        out = tuple(-(-n // s) for n, s in zip(in_shape, stride, strict=True))
    else:
        pad = ((0, 0),) * len(kernel) if isinstance(padding, str) else padding
        padded = tuple(n + b + a for n, (b, a) in zip(in_shape, pad, strict=True))
        if any(span > n for span, n in zip(spans, padded, strict=True)):
            msg = (
                f"{kernel_name} window {spans} does not fit in {input_name} of spatial shape "
                f"{in_shape} padded to {padded}: each window axis must be at most the "
                "padded input axis"
            )
            raise ValueError(msg)
        out = tuple((n - span) // s + 1 for n, span, s in zip(padded, spans, stride, strict=True))
    return Geometry(in_shape, kernel, stride, dilation, pad, out)
