"""Image filtering as image libraries do it: every channel filtered by the same kernel.

`correlate` is a depthwise `conv` whose kernel bank is a broadcast view of the one kernel
(``(k.., 1, c)`` with stride 0 along the channels: no copy per channel), so it runs through
the same checks and engine as `conv`, with every strategy, exact integers, `out=`,
`dtype=` and dask batches.
"""

from __future__ import annotations

import operator

import numpy as np

from ._conv_nd import CONV_PAD_WORDS, ConvNames, check_conv, run_conv
from ._module import set_module
from ._typing import Array, ArrayLike, ConvPadding, DTypeLike, IntOrTuple, PaddingMode
from ._validation import as_batch, as_numeric_array, count


@set_module("stridedconv")
def correlate(
    images: ArrayLike,
    kernel: ArrayLike,
    *,
    channel_axis: int | None = -1,
    padding: ConvPadding = "same",
    padding_mode: PaddingMode = "symmetric",
    cval: complex = 0,
    stride: IntOrTuple = 1,
    dilation: IntOrTuple = 1,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Filter every channel of every image of a batch with one N-d kernel (correlation).

    Parameters
    ----------
    images : array_like, shape (m, s1, ..., sd, c), or (m, s1, ..., sd) with channel_axis=None
        A batch of `m` images (batch first) of `d` spatial axes; the channels along
        `channel_axis`. A dask array gives a lazy dask result.
    kernel : array_like, shape (k1, ..., kd) or (k1, ..., kd, c)
        One kernel for every channel, or one per channel (its last axis). Not flipped.
    channel_axis : int or None, default -1
        The channel axis of `images` (any axis but the batch axis 0); None for grayscale
        batches without one.
    padding : {'same', 'valid', 'full'} or int or tuple, default 'same'
        As in `conv`: ``'same'`` keeps the spatial shape (see Notes for even kernels).
    padding_mode : {'symmetric', 'reflect', 'replicate', 'circular', 'constant', 'zeros'}, \
default 'symmetric'
        What lies beyond the border; see the table in Notes. The default, ``'symmetric'``
        (the image mirrored with its edge sample repeated), is SciPy's default (its
        ``'reflect'``) and OpenCV's ``BORDER_REFLECT``: borders of photographs keep their
        brightness (zeros darken them), each output sees only samples of the image, and
        it takes any padding width (whole-sample ``'reflect'`` needs less than the axis).
    cval : int, float or complex, default 0
        The value beyond the border for ``padding_mode='constant'``. An int keeps integer
        images exact; a float makes their result float64.
    stride, dilation : int or tuple of d ints, default 1
        As in `conv`.
    out : ndarray, optional
        Where to write the result, of exactly its shape (as in `conv`).
    dtype : dtype, optional
        The result's dtype and arithmetic (as in `conv`).

    Returns
    -------
    ndarray, shape (m, o1, ..., od, c) or (m, o1, ..., od)
        Channels where `images` has them; ``o_i == s_i`` for ``'same'`` with stride 1. A new
        array (or `out`): floats keep their precision; integer and bool images with an
        integer kernel give exact int64 (Python ints only beyond int64).

    Raises
    ------
    TypeError
        As `conv` raises them, and for a `channel_axis` that is not an int or None and a
        `cval` that is not a number.
    ValueError
        As `conv` raises them, naming `images` and `kernel`; for a `channel_axis` out of
        range or on the batch axis, and a `kernel` whose axes fit neither ``(k1..kd)`` nor
        ``(k1..kd, c)``. An unknown `padding_mode` lists ours and, when it is another
        library's name of one of them (``'mirror'``, ``'nearest'``, ``'edge'``,
        ``'wrap'`` ...), says which.

    See Also
    --------
    conv : The general convolution: kernels that mix channels, groups, bias.

    Notes
    -----
    ``scipy.ndimage.correlate`` does the same for one image (every axis filtered), and
    ``cv2.filter2D`` for one 2-D image.

    *Boundary modes*: each of our words has one meaning; other libraries' names::

        ours          1-D: abcd + 2    SciPy ndimage       OpenCV BORDER_     np.pad     PyTorch
        'symmetric'   ba|abcd|dc       'reflect',          REFLECT            'symmetric'  -
                                       'grid-mirror'
        'reflect'     cb|abcd|cb       'mirror'            REFLECT_101        'reflect'  'reflect'
                                                           (DEFAULT)
        'replicate'   aa|abcd|dd       'nearest'           REPLICATE          'edge'     'replicate'
        'circular'    cd|abcd|ab       'wrap', 'grid-wrap' WRAP               'wrap'     'circular'
        'constant'    vv|abcd|vv       'constant',         CONSTANT           'constant' -
                      (v = cval)       'grid-constant'     (value=cval)
        'zeros'       00|abcd|00       'constant', cval=0  CONSTANT, value 0  'constant' 'zeros'

    SciPy's ``'reflect'`` is our ``'symmetric'``, not our ``'reflect'``; a foreign word is
    refused with the name of ours. ``'symmetric'`` and ``'circular'`` repeat their pattern
    when the padding is wider than the image (as SciPy does); ``'reflect'`` needs padding
    narrower than the axis.

    *Even kernels*: ``'same'`` pads ``(k - 1) // 2`` before and ``k // 2`` after, so output
    ``i`` sees input samples ``i - (k - 1) // 2 .. i + k // 2``. SciPy and OpenCV centre an
    even kernel one sample later: ours equals ``scipy.ndimage.correlate(..., origin=-1)``
    along each even axis (``origin=0`` along odd ones) and ``cv2.filter2D(..., anchor=((kw
    - 1) // 2, (kh - 1) // 2))``. Odd kernels agree with both libraries' defaults.

    *Cost*: a depthwise `conv` with a broadcast kernel; separable kernels run as two 1-D
    passes, large ones as FFTs, as `conv` chooses.

    Examples
    --------
    A 3x3 box blur of a batch of two RGB images, every channel alike:

    >>> import numpy as np
    >>> import stridedconv as sc
    >>> rgb = np.zeros((2, 5, 5, 3))
    >>> rgb[:, 2, 2] = [9.0, 18.0, 27.0]
    >>> blurred = sc.correlate(rgb, np.ones((3, 3)) / 9)
    >>> blurred.shape
    (2, 5, 5, 3)
    >>> blurred[0, 1:4, 1:4, 2]
    array([[3., 3., 3.],
           [3., 3., 3.],
           [3., 3., 3.]])

    The border mirrored (the default) against zeros, on one 1-D grayscale signal:

    >>> signal = np.array([[1, 2, 3, 4]])
    >>> sc.correlate(signal, np.ones(3, int), channel_axis=None)
    array([[ 4,  6,  9, 11]])
    >>> sc.correlate(signal, np.ones(3, int), channel_axis=None, padding_mode="zeros")
    array([[3, 6, 9, 7]])

    A kernel per channel (here: keep red, negate blue) and a constant border:

    >>> per_channel = np.zeros((1, 1, 3), int)
    >>> per_channel[0, 0] = [1, 0, -1]
    >>> sc.correlate(np.ones((1, 2, 2, 3), int), per_channel)[0, 0, 0]
    array([ 1,  0, -1])
    >>> sc.correlate(signal, np.ones(3, int), channel_axis=None, padding_mode="constant",
    ...              cval=10)
    array([[13,  6,  9, 17]])
    """
    x = as_batch(images, "images")
    shared = as_numeric_array(kernel, "kernel")
    axis = _channel_axis(channel_axis, x.shape)
    batch, data_format = x, "channels_last"
    if axis is None:
        batch = x[..., None]
    elif axis == 1 and x.ndim > 2:
        data_format = "channels_first"  # no copy of images nor of the result
    elif axis != x.ndim - 1:
        batch = np.moveaxis(x, axis, -1)
    d = batch.ndim - 2
    c = batch.shape[1] if data_format == "channels_first" else batch.shape[-1]
    if c == 0:
        msg = f"images must have at least 1 channel (axis {axis}), got shape {x.shape}"
        raise ValueError(msg)
    if shared.ndim == d:
        # One kernel for every channel: a view with stride 0 along them, no copy.
        bank = np.broadcast_to(shared[..., None, None], (*shared.shape, 1, c))
    elif shared.ndim == d + 1 and axis is not None and shared.shape[-1] == c:
        bank = shared[..., None, :]
    else:
        raise ValueError(_kernel_message(x.shape, shared.shape, axis, d, c))
    problem = check_conv(
        batch,
        bank,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=c,
        padding_mode=padding_mode,
        cval=cval,
        data_format=data_format,
        names=ConvNames("images", "kernel", x.shape, shared.shape),
        pad_words=CONV_PAD_WORDS,
        squeeze=axis is None,
    )
    if axis is None or data_format == "channels_first" or axis == x.ndim - 1:
        return run_conv(problem, out=out, dtype=dtype)
    # Another channel axis: computed channels last, into `out` seen the same way.
    if out is not None and isinstance(out, np.ndarray) and out.ndim == x.ndim:
        run_conv(problem, out=np.moveaxis(out, axis, -1), dtype=dtype)
        return out
    result = np.moveaxis(run_conv(problem, out=out, dtype=dtype), -1, axis)
    return result if type(result).__module__.startswith("dask") else np.ascontiguousarray(result)


def _channel_axis(value: object, shape: tuple[int, ...]) -> int | None:
    """`channel_axis` as a non-negative axis of a batch of `shape`, or None.

    Raises
    ------
    TypeError
        For anything but an int or None.
    ValueError
        For an axis out of range or the batch axis.
    """
    if value is None:
        if len(shape) < 2:
            msg = (
                f"images must be a batch (m, s1, ..., sd) of at least 1 spatial axis, got "
                f"shape {shape}"
            )
            raise ValueError(msg)
        return None
    if isinstance(value, (bool, np.bool_)):
        msg = f"channel_axis must be an int or None, got {value!r}"
        raise TypeError(msg)
    try:
        axis = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        msg = f"channel_axis must be an int or None, got {value!r}"
        raise TypeError(msg) from None
    ndim = len(shape)
    if ndim < 3:
        msg = (
            f"images must be a batch (m, s1, ..., sd, c) of at least 1 spatial axis and a "
            f"channel axis, got shape {shape} (channel_axis=None: no channel axis)"
        )
        raise ValueError(msg)
    if not -ndim <= axis < ndim or axis % ndim == 0:
        msg = (
            f"channel_axis must be an axis of images of shape {shape} other than the batch "
            f"axis 0, from 1 to {ndim - 1} or from -{ndim - 1} to -1, got {value!r}"
        )
        raise ValueError(msg)
    return axis % ndim


def _kernel_message(
    shape: tuple[int, ...], k_shape: tuple[int, ...], axis: int | None, d: int, c: int
) -> str:
    """Why `kernel` does not fit images of `shape`: the kernel shapes they take."""
    given = f"kernel of shape {k_shape} does not fit images of shape {shape}"
    spatial = ", ".join(f"k{i}" for i in range(1, d + 1))
    if axis is None:
        return (
            f"{given} (channel_axis=None: {count(d, 'spatial axis')}): the kernel must have "
            f"shape ({spatial}{',' * (d == 1)})"
        )
    hint = ""
    if len(k_shape) == d + 1:  # as a single image's kernel would be, without its batch axis
        hint = "; a single image needs its batch axis: images[None]"
    return (
        f"{given} ({count(d, 'spatial axis')}, {count(c, 'channel')} on axis {axis}): the "
        f"kernel must have shape ({spatial}{',' * (d == 1)}) for every channel, or "
        f"({spatial}, {c}) for one kernel per channel{hint}"
    )
