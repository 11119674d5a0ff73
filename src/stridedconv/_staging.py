"""Chunk buffers: a slice of the batch, padded, in the compute dtype, images stacked.

A staged chunk of `b` images is one C-contiguous buffer of shape
``(b * P1 + tail, P2, ..., Pd, c)`` (or channels first, ``(c, b * P1 + tail, P2, ..., Pd)``),
where ``P_i`` is the padded size of axis `i` rounded up to a multiple of its stride and `tail`
is a few zero rows after the last image. In that buffer the windows of all `b` images,
including the windows that straddle a row or image boundary, form one window view with
uniform strides (`merged_windows`): with stride 1 every kernel tap of it is a single strided
matrix of ``positions x c``, so one BLAS call or one ufunc call covers the whole chunk. The
straddling windows are computed and then dropped by `crop`; they cost
``P1 * P2 / (o1 * o2)`` times the useful work, about 1.2x for a 3x3 kernel on 28x28 images.

A `Staging` lives for one call and keeps its buffers from chunk to chunk, and each thread
keeps buffers of up to `KEEP_BYTES` in all from call to call, until it ends
(`release_memory` frees them): allocating them afresh costs more than the arithmetic
(each large allocation is a new ``mmap`` whose pages the kernel faults in and zeroes again).
A buffer is only reused as padded where it was padded for the same geometry.

Zero padding, the default, costs nothing per chunk: the buffer is zeroed once and each chunk
overwrites the interiors only; so does 'constant' padding, filled with its `cval` once. The
other padding modes (`PADDING_MODES`) pad each chunk with
`np.pad` and copy the padded images whole.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from typing import Literal

import numpy as np

from ._gather import padded_sources
from ._geometry import Geometry, extent
from ._module import set_module
from ._typing import Array
from ._windows import window_view

#: `np.pad` modes of the padding modes whose padding depends on the values (zeros and
#: 'constant' fill the buffer once instead).
NP_PAD_MODES: dict[str, Literal["reflect", "edge", "wrap", "symmetric"]] = {
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
    "symmetric": "symmetric",
}


def _fill_padding(images: Array, geometry: Geometry, first: int) -> None:
    """Fill the padding of `images`, whose spatial axes start at axis `first` and whose
    interiors hold the samples, as `geometry`'s padding mode copies them: each axis in turn,
    so that the corners copy the padding of the axes before (as ``np.pad`` fills them)."""
    for axis, (n, (before, after)) in enumerate(zip(geometry.in_shape, geometry.pad, strict=True)):
        if not (before or after):
            continue
        sources = padded_sources(n, before, after, geometry.padding_mode) + before
        lead = (slice(None),) * (first + axis)
        dim = first + axis
        if before:
            images[(*lead, slice(0, before))] = np.take(images, sources[:before], axis=dim)
        if after:
            end = before + n
            images[(*lead, slice(end, end + after))] = np.take(images, sources[end:], axis=dim)


@functools.lru_cache(maxsize=256)
def _layout(geometry: Geometry) -> tuple[tuple[int, ...], int]:
    """Buffer sizes per axis (padded, rounded up to the stride) and tail rows."""
    sizes = tuple(
        -(-n // s) * s for n, s in zip(geometry.padded_shape, geometry.stride, strict=True)
    )
    # Windows may run on past the last image by one window and one row of carry.
    return sizes, extent(geometry.kernel[0], geometry.dilation[0]) + 1


def _keep_limit() -> int:
    """STRIDEDCONV_KEEP_MIB (a whole number of MiB, 0 to keep nothing) in bytes, else 32 MiB:
    the scratch of one chunk (about 4 MiB of work) of every strategy fits."""
    setting = os.environ.get("STRIDEDCONV_KEEP_MIB", "").strip()
    return int(setting) * 2**20 if setting.isdigit() else 32 * 2**20


#: Scratch memory that each thread keeps between calls, all its arrays together: a call on a
#: small batch would otherwise pay for fresh pages (an mmap, page faults, zeroing) every
#: time. Arrays that do not fit are made for the call and freed after it.
KEEP_BYTES = _keep_limit()
_kept = threading.local()
#: Every live thread's kept arrays, by thread, so that `release_memory` can free them all.
#: The entries of threads that have ended are dropped (`_drop_ended_threads`).
_every_thread: dict[threading.Thread, dict[str, tuple[Array, object]]] = {}
_every_thread_lock = threading.Lock()


def _drop_ended_threads() -> None:
    """Forget the kept arrays of threads that have ended; hold `_every_thread_lock`."""
    for thread in [thread for thread in _every_thread if not thread.is_alive()]:
        del _every_thread[thread]


def _kept_arrays() -> dict[str, tuple[Array, object]]:
    """This thread's scratch arrays, kept from call to call."""
    arrays: dict[str, tuple[Array, object]] | None = getattr(_kept, "arrays", None)
    if arrays is None:
        arrays = _kept.arrays = {}
        with _every_thread_lock:
            # Short-lived threads would otherwise pile up their arrays here forever.
            _drop_ended_threads()
            _every_thread[threading.current_thread()] = arrays
    return arrays


def kept_bytes() -> int:
    """Bytes of scratch memory that all live threads keep between calls now."""
    with _every_thread_lock:
        _drop_ended_threads()
        return sum(flat.nbytes for arrays in _every_thread.values() for flat, _ in arrays.values())


@set_module("stridedconv")
def release_memory() -> int:
    """Free the scratch memory that stridedconv keeps between calls, in every thread.

    Each thread that ran a computation keeps up to ``STRIDEDCONV_KEEP_MIB`` MiB (32 by
    default; 0 keeps nothing) of scratch arrays until it ends, so that a loop over small
    batches does not pay for fresh memory at every call. Computations still running keep
    what they use.

    Returns
    -------
    int
        The number of bytes released.

    See Also
    --------
    conv : A call that keeps scratch memory for the next.

    Examples
    --------
    >>> import numpy as np, stridedconv as sc
    >>> _ = sc.convolve_grayscale_same(np.ones((8, 28, 28)), np.ones((3, 3)))
    >>> sc.release_memory() > 0
    True
    >>> sc.release_memory()
    0
    """
    with _every_thread_lock:
        _drop_ended_threads()
        freed = sum(flat.nbytes for arrays in _every_thread.values() for flat, _ in arrays.values())
        for arrays in _every_thread.values():
            arrays.clear()
    return freed


class Staging:
    """The layout of the chunks of one problem, and the scratch memory they reuse.

    Parameters
    ----------
    geometry : Geometry
        The problem; see the module docstring for the layout it implies.
    """

    def __init__(self, geometry: Geometry) -> None:
        self.geometry = geometry
        self.sizes, self.tail = _layout(geometry)
        self._scratch: dict[str, tuple[Array, object]] = {}

    def scratch(self, name: str, shape: tuple[int, ...], dtype: np.dtype[np.generic]) -> Array:
        """An uninitialised array that later calls with the same `name` may reuse."""
        return self._take(name, shape, dtype)[0]

    def _take(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype[np.generic], fill: object = 0
    ) -> tuple[Array, bool]:
        """A reused array and whether it had exactly this shape, dtype and `fill` last time."""
        size = math.prod(shape)
        key = (shape, self.geometry, fill)  # the same layout: pads where they were last time
        kept = _kept_arrays()
        found = self._scratch.pop(name, None) or kept.pop(name, None)
        flat, last_key = found if found is not None else (None, None)
        if flat is None or flat.size < size or flat.dtype != dtype:
            flat, last_key = np.empty(size, dtype), None
        # Kept for later calls while this thread's kept arrays stay within KEEP_BYTES in all.
        others = sum(array.nbytes for array, _ in kept.values())
        arrays = kept if others + flat.nbytes <= KEEP_BYTES else self._scratch
        arrays[name] = (flat, key)
        return flat[:size].reshape(shape), last_key == key

    def positions(self, batch: int) -> tuple[int, ...]:
        """Window positions of a merged chunk of `batch` images, per axis."""
        stride = self.geometry.stride
        return (
            batch * self.sizes[0] // stride[0],
            *(n // s for n, s in zip(self.sizes[1:], stride[1:], strict=True)),
        )

    def stage(
        self,
        x: Array,
        dtype: np.dtype[np.generic],
        *,
        channels_first: bool = False,
        fill: object = 0,
    ) -> Array:
        """Copy a chunk ``(b, n1..nd, c)`` into the padded buffer, cast to `dtype`; with the
        ``'zeros'`` padding mode the padding holds `fill` (pooling pads with other values),
        with ``'constant'`` the geometry's `cval`."""
        b, c = x.shape[0], x.shape[-1]
        g = self.geometry
        if g.padding_mode == "constant":
            fill = g.cval
        rows = b * self.sizes[0] + self.tail
        shape = (c, rows, *self.sizes[1:]) if channels_first else (rows, *self.sizes[1:], c)
        buffer, same_layout = self._take("stage", shape, dtype, fill)
        if not same_layout:
            buffer.fill(fill)  # later chunks of this layout only overwrite the interiors
        interior = tuple(
            slice(before, before + n) for (before, _), n in zip(g.pad, g.in_shape, strict=True)
        )
        if channels_first:
            images = buffer[:, : b * self.sizes[0]].reshape(c, b, *self.sizes)
            # Channel by channel: a copy whose inner loop runs along rows, not channels.
            for channel in range(c):
                images[channel][(slice(None), *interior)] = x[..., channel]
        else:
            images = buffer[: b * self.sizes[0]].reshape(b, *self.sizes, c)
            images[(slice(None), *interior)] = x
        if g.padding_mode in NP_PAD_MODES and g.is_padded:
            # The padding depends on the values: filled in place from the interior, axis by
            # axis as np.pad does (no padded copy of the chunk: a 4x256x256x3 chunk for 15x15
            # windows stages in 0.30 ms instead of 0.59, machine shared).
            first = 2 if channels_first else 1
            padded = tuple(slice(0, n) for n in g.padded_shape)
            _fill_padding(images[(slice(None),) * first + padded], g, first)
        return buffer

    def images(self, buffer: Array, batch: int) -> Array:
        """The padded images of a staged chunk: a view ``(b, *padded_shape, c)``."""
        images = buffer[: batch * self.sizes[0]].reshape(batch, *self.sizes, -1)
        return images[(slice(None), *(slice(0, n) for n in self.geometry.padded_shape))]

    def image_windows(self, buffer: Array, batch: int) -> Array:
        """The windows of each image: ``(b, o1..od, k1..kd, c)``, as `windows` gives them."""
        images = buffer[: batch * self.sizes[0]].reshape(batch, *self.sizes, -1)
        g = self.geometry
        return window_view(images, g.kernel, g.stride, g.dilation, g.out_shape)

    def merged_windows(self, buffer: Array, batch: int, *, planes: bool = False) -> Array:
        """The windows of the whole chunk at once: ``(Q, J2..Jd, k1..kd, c)``.

        `buffer` is a staged chunk ``(rows, P2.., c)``; with `planes`, a stack of planes
        ``(n, rows, P2..)`` laid out like it, and the result is ``(n, Q, J2..Jd, k1..kd)``.
        """
        g = self.geometry
        positions = self.positions(batch)
        stack = buffer if planes else buffer[None]
        view = window_view(stack, g.kernel, g.stride, g.dilation, positions)
        return view if planes else view[0]

    def crop(self, merged: Array, batch: int, *, planes: bool = False) -> Array:
        """Drop the straddling windows: ``(Q, J2..Jd, *rest)`` -> ``(b, o1..od, *rest)``.

        With `planes`, a stack ``(n, Q, J2..Jd)`` (see `merged_windows`) is cropped plane by
        plane to ``(n, b, o1..od)``. The result is a view.
        """
        g = self.geometry
        per_image = self.sizes[0] // g.stride[0]
        keep = tuple(slice(0, o) for o in g.out_shape)
        if planes:
            stack = merged.reshape(merged.shape[0], batch, per_image, *merged.shape[2:])
            return stack[(slice(None), slice(None), *keep)]
        images = merged.reshape(batch, per_image, *merged.shape[1:])
        return images[(slice(None), *keep)]
