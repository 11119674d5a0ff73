"""Output sizes and paddings: the one place where the padding rules live.

Integer arithmetic only; a float division here would give wrong sizes for large inputs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

#: How padding is filled: zeros, the input mirrored without repeating the edge (whole-sample
#: symmetric), the edge repeated, the input wrapped around (PyTorch's four), the input
#: mirrored with its edge repeated (half-sample symmetric: SciPy's default 'reflect'), or a
#: constant `cval`. `_modes.FOREIGN_NAMES` maps the other libraries' names to these.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular", "symmetric", "constant")


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
        Samples added before and after each axis.
    out_shape : tuple of int
        Number of window positions along each axis.
    padding_mode : str
        What the padding holds: one of `PADDING_MODES`, zeros by default.
    cval : int, float or complex
        The value of ``'constant'`` padding (a Python number, so that integers stay exact);
        0 for the other modes.
    """

    in_shape: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    out_shape: tuple[int, ...]
    padding_mode: str = "zeros"
    cval: complex = 0

    @property
    def padded_shape(self) -> tuple[int, ...]:
        """Spatial shape after padding."""
        return tuple(n + b + a for n, (b, a) in zip(self.in_shape, self.pad, strict=True))

    @property
    def is_padded(self) -> bool:
        """Whether any axis gets padding."""
        return any(b or a for b, a in self.pad)


def tap_reads(
    geometry: Geometry, tap: tuple[int, ...]
) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """Where one kernel `tap` reads input samples rather than padding: the window positions
    (slices of ``o1..od``) whose tap falls inside the input, and the input samples they read
    (slices of ``n1..nd``, stepping by the stride); None when every window reads padding
    there. Python ints throughout: strides and paddings may be far beyond int64.

    Examples
    --------
    >>> g = make_geometry((5,), (3,), (2,), ((1, 1),))  # outputs read -1..1, 1..3, 3..5
    >>> tap_reads(g, (0,))
    ((slice(1, 3, None),), (slice(1, 4, 2),))
    """
    positions, samples = [], []
    for t, dil, s, (before, _), n, o in zip(
        tap,
        geometry.dilation,
        geometry.stride,
        geometry.pad,
        geometry.in_shape,
        geometry.out_shape,
        strict=True,
    ):
        offset = t * dil - before  # the input sample that window 0 reads at this tap
        first = max(0, (s - 1 - offset) // s)  # the first window whose sample is >= 0
        last = min(o - 1, (n - 1 - offset) // s)  # the last whose sample is < n
        if first > last:
            return None
        positions.append(slice(first, last + 1))
        samples.append(slice(first * s + offset, last * s + offset + 1, s))
    return tuple(positions), tuple(samples)


def row_blocks(geometry: Geometry, rows: int) -> list[tuple[slice, slice, Geometry]]:
    """The output rows (first spatial axis) in blocks of `rows`, each with the input rows
    its windows read and its own geometry: those input rows, padded where the block reaches
    past the input. Every block computes exactly its rows of the whole problem when the
    padding holds zeros (or any value that does not depend on the input).

    Examples
    --------
    >>> g = make_geometry((7, 4), (3, 3), (1, 1), "same")
    >>> [(out.start, out.stop, rows.start, rows.stop, block.pad[0])
    ...  for out, rows, block in row_blocks(g, 3)]
    [(0, 3, 0, 4, (1, 0)), (3, 6, 2, 7, (0, 0)), (6, 7, 5, 7, (0, 1))]
    """
    (before, _), n = geometry.pad[0], geometry.in_shape[0]
    s, span = geometry.stride[0], extent(geometry.kernel[0], geometry.dilation[0])
    blocks = []
    for first in range(0, geometry.out_shape[0], rows):
        last = min(first + rows, geometry.out_shape[0]) - 1
        low, high = first * s - before, last * s + span - before  # input rows read
        start = min(max(low, 0), n)
        read = slice(start, max(min(high, n), start))
        pads = ((max(-low, 0), max(high - max(n, start), 0)), *geometry.pad[1:])
        if read.stop == read.start:  # a block that reads padding only
            pads = ((high - low, 0), *geometry.pad[1:])
        block = make_geometry(
            (read.stop - read.start, *geometry.in_shape[1:]),
            geometry.kernel,
            geometry.stride,
            pads,
            dilation=geometry.dilation,
            padding_mode=geometry.padding_mode,
            cval=geometry.cval,
        )
        blocks.append((slice(first, last + 1), read, block))
    return blocks


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


def fixed_pads(
    padding: str | tuple[tuple[int, int], ...], spans: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """(before, after) per axis for the paddings that do not depend on the input's size:
    ``'valid'`` (none), ``'full'`` (``span - 1`` on both sides) or pairs, as they are."""
    if padding == "full":
        return tuple((span - 1, span - 1) for span in spans)
    if isinstance(padding, str):  # 'valid'
        return ((0, 0),) * len(spans)
    return padding


@functools.lru_cache(maxsize=256)  # a loop over small batches asks the same again and again
def make_geometry(
    in_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: str | tuple[tuple[int, int], ...],
    *,
    dilation: tuple[int, ...] | None = None,
    padding_mode: str = "zeros",
    cval: complex = 0,
    kernel_name: str = "kernel",
    input_name: str = "images",
) -> Geometry:
    """Describe a sliding window over `in_shape` after `padding` (as `padding_spec` returns it).

    `padding` is ``'same'`` (the TensorFlow/JAX SAME rule), ``'valid'`` (none), ``'full'``
    (``extent - 1`` samples on both sides: every window that overlaps the input) or one
    ``(before, after)`` pair per axis. `padding_mode` is one of `PADDING_MODES`, `cval`
    the value of ``'constant'`` padding.

    Raises
    ------
    ValueError
        When the window does not fit in the padded input along some axis, and when
        `padding_mode` cannot fill the padding of an axis (see `check_padding_mode`).
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
        pad = fixed_pads(padding, spans)
        padded = tuple(n + b + a for n, (b, a) in zip(in_shape, pad, strict=True))
        if any(span > n for span, n in zip(spans, padded, strict=True)):
            spread = "" if set(dilation) == {1} else f" ({kernel} taps at dilation {dilation})"
            msg = (
                f"{kernel_name} window {spans}{spread} does not fit in {input_name} of spatial "
                f"shape {in_shape} padded to {padded}: each window axis must be at most the "
                "padded input axis"
            )
            raise ValueError(msg)
        out = tuple((n - span) // s + 1 for n, span, s in zip(padded, spans, stride, strict=True))
    check_padding_mode(in_shape, pad, padding_mode)
    return Geometry(in_shape, kernel, stride, dilation, pad, out, padding_mode, cval)


def check_padding_mode(
    in_shape: tuple[int, ...], pad: tuple[tuple[int, int], ...], padding_mode: str
) -> None:
    """Check that `padding_mode` can fill `pad` from an input of spatial shape `in_shape`.

    ``'reflect'`` mirrors the input without repeating its edge, so each side pads less than
    the axis size (as in PyTorch); ``'replicate'``, ``'circular'`` and ``'symmetric'`` need a
    non-empty axis to copy from (``'circular'`` and ``'symmetric'`` repeat their pattern as
    often as the padding needs, as SciPy's ``'wrap'`` and ``'reflect'`` do).

    Raises
    ------
    ValueError
        Naming the padding, the axis, its size and the mode.
    """
    if padding_mode in ("zeros", "constant"):
        return
    for axis, (n, (before, after)) in enumerate(zip(in_shape, pad, strict=True)):
        widest = max(before, after)
        if widest and padding_mode == "reflect" and widest >= n:
            msg = (
                f"padding {(before, after)} of spatial axis {axis} is too large for "
                f"padding_mode='reflect' on an axis of size {n}: each side must be less than "
                "the axis size"
            )
            raise ValueError(msg)
        if widest and n == 0:
            msg = (
                f"padding {(before, after)} of spatial axis {axis} cannot be filled with "
                f"padding_mode={padding_mode!r}: the axis has size 0"
            )
            raise ValueError(msg)


def ceil_mode_pads(
    in_shape: tuple[int, ...],
    window: tuple[int, ...],
    steps: tuple[int, ...],
    dilations: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
) -> tuple[tuple[int, int], ...]:
    """`pads` grown at the end of each axis by the overhang of PyTorch's pooling `ceil_mode`.

    The number of windows is rounded up, ``ceil((n + before + after - extent) / s) + 1``,
    less one when the last window would start past the input and its leading padding. The
    last window may then run past the padding: the overhang is added after it. Axes where no
    window fits are left as they are, for `make_geometry` to report.

    Examples
    --------
    >>> ceil_mode_pads((5,), (2,), (2,), (1,), ((0, 0),))  # a third window at 4, half outside
    ((0, 1),)
    >>> ceil_mode_pads((4,), (2,), (3,), (1,), ((1, 1),))  # a third would start at 5: none
    ((1, 1),)
    """
    grown = []
    for n, k, s, dil, (before, after) in zip(in_shape, window, steps, dilations, pads, strict=True):
        padded = n + before + after
        out = -(-(padded - extent(k, dil)) // s) + 1
        if (out - 1) * s >= n + before:
            out -= 1
        overhang = max((out - 1) * s + extent(k, dil) - padded, 0) if out >= 1 else 0
        grown.append((before, after + overhang))
    return tuple(grown)
