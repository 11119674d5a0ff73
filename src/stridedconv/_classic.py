"""The six convolutions of the classic exercise, as thin 2-D wrappers over `conv`.

All of them compute a cross-correlation (the kernel is not flipped), as deep-learning
libraries do, on batches laid out batch first and channels last. Each checks its arguments
in its own words (``images``, ``kernel``, the padding words ``'same'`` and ``'valid'`` only)
and then calls `conv`, which can no longer fail.
"""

from __future__ import annotations

from ._conv_nd import ConvNames, check_conv, run_conv
from ._module import set_module
from ._typing import Array, ArrayLike, DTypeLike, IntOrPair, Padding
from ._validation import PAD_WORDS, as_batch, as_numeric_array, check_ndim


def _conv2d(
    images: Array,
    kernels: Array,
    padding: object,
    stride: object,
    names: ConvNames,
    out: object,
    dtype: object,
    *,
    squeeze: bool = False,
) -> Array:
    """`conv` of images ``(m, h, w, c)`` with kernels ``(kh, kw, c, nc)``, checked once, in
    this module's words (`names`; the padding words 'same' and 'valid'); with `squeeze`, one
    kernel and a result without its channel axis."""
    problem = check_conv(
        images,
        kernels,
        stride=stride,
        padding=padding,
        names=names,
        pad_words=PAD_WORDS,
        squeeze=squeeze,
    )
    return run_conv(problem, out=out, dtype=dtype)


def _checked(
    images: ArrayLike, layout: str, kernel: ArrayLike, kernel_name: str, kernel_layout: str
) -> tuple[Array, Array, ConvNames]:
    """`images` and `kernel` as numeric arrays of the given layouts, and their names."""
    images = as_batch(images, "images")
    kernel = as_numeric_array(kernel, kernel_name)
    check_ndim(images, "images", layout)
    check_ndim(kernel, kernel_name, kernel_layout)
    return images, kernel, ConvNames("images", kernel_name, images.shape, kernel.shape)


@set_module("stridedconv")
def convolve_grayscale(
    images: ArrayLike,
    kernel: ArrayLike,
    padding: Padding = "same",
    stride: IntOrPair = (1, 1),
    *,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Convolve a batch of grayscale images with one kernel.

    Parameters
    ----------
    images : array_like, shape (m, h, w)
        `m` grayscale images.
    kernel : array_like, shape (kh, kw)
        The kernel; no axis may be empty.
    padding : {'same', 'valid'} or int or (ph, pw), default 'same'
        ``'same'``: output ``ceil(h / sh)`` by ``ceil(w / sw)`` (the TensorFlow/JAX SAME
        rule); ``'valid'``: no padding; ``(ph, pw)``: `ph` rows of zeros above and below,
        `pw` columns of zeros left and right (an int pads both axes alike).
    stride : int or (sh, sw), default (1, 1)
        Step between neighbouring output pixels, in input pixels.
    out : ndarray, shape (m, h', w'), optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype and the dtype of the arithmetic; see `conv`.

    Returns
    -------
    ndarray, shape (m, h', w')
        ``h' = (h + ph_before + ph_after - kh) // sh + 1``, likewise `w'`. A new, writeable
        array (or `out`); see Notes for its dtype.

    Raises
    ------
    TypeError
        For non-numeric arrays, None, a stride or padding that is not made of ints, and a
        `dtype` or `out` that cannot hold the result (see `conv`).
    ValueError
        For arrays of the wrong number of axes, an empty kernel axis, a kernel larger than
        the padded images, a stride below 1, a negative padding, an unknown padding word,
        and an `out` of the wrong shape.
    MemoryError
        At once, naming the shapes, when the result cannot be allocated.

    See Also
    --------
    conv : The general N-d convolution (dilation, groups, padding modes, channels first).
    convolve_grayscale_valid, convolve_grayscale_same, convolve_grayscale_padding : The
        exercise's fixed-padding forms.

    Notes
    -----
    *Cross-correlation*: ``out[n, i, j] = sum(kernel[a, b] * padded[n, i*sh + a, j*sw + b])``,
    the kernel is not flipped, as in deep-learning libraries.

    *'same'*: the total padding of an axis is ``max((out - 1) * s + k - n, 0)`` with
    ``out = ceil(n / s)``; ``total // 2`` goes before, the rest (one more for even kernels)
    after, at the bottom and right.

    *dtypes*: floats keep their precision, ``np.result_type(images, kernel)`` (float16 is
    accumulated in float32). Integer and bool inputs give exact int64 results that never wrap
    around; only when an exact result does not fit in int64 is the result an object array of
    Python ints. IEEE rules hold: a NaN or inf under a zero weight still gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.arange(2 * 4 * 4).reshape(2, 4, 4)
    >>> edges = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    >>> convolve_grayscale(images, edges, padding="valid")
    array([[[-6, -6],
            [-6, -6]],
    <BLANKLINE>
           [[-6, -6],
            [-6, -6]]])
    >>> convolve_grayscale(images, edges, stride=(2, 2)).shape
    (2, 2, 2)
    """
    images, kernel, names = _checked(images, "(m, h, w)", kernel, "kernel", "(kh, kw)")
    return _conv2d(
        images[..., None], kernel[..., None, None], padding, stride, names, out, dtype, squeeze=True
    )


@set_module("stridedconv")
def convolve_grayscale_valid(
    images: ArrayLike,
    kernel: ArrayLike,
    *,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Convolve grayscale images with no padding.

    Parameters
    ----------
    images : array_like, shape (m, h, w)
        `m` grayscale images.
    kernel : array_like, shape (kh, kw)
        The kernel, at most `h` by `w`; no axis may be empty.
    out : ndarray, optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype and the dtype of the arithmetic; see `conv`.

    Returns
    -------
    ndarray, shape (m, h - kh + 1, w - kw + 1)
        One output per position where the kernel fits inside the image.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `convolve_grayscale` raises them.

    See Also
    --------
    convolve_grayscale : The same with any padding and stride; its Notes give the semantics.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_grayscale_valid(np.ones((5, 28, 28)), np.ones((3, 3))).shape
    (5, 26, 26)
    """
    return convolve_grayscale(images, kernel, padding="valid", out=out, dtype=dtype)


@set_module("stridedconv")
def convolve_grayscale_same(
    images: ArrayLike,
    kernel: ArrayLike,
    *,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Convolve grayscale images, zero-padded so the output has the images' size.

    Parameters
    ----------
    images : array_like, shape (m, h, w)
        `m` grayscale images.
    kernel : array_like, shape (kh, kw)
        The kernel; no axis may be empty.
    out : ndarray, optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype and the dtype of the arithmetic; see `conv`.

    Returns
    -------
    ndarray, shape (m, h, w)
        One output per pixel of the images.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `convolve_grayscale` raises them.

    See Also
    --------
    convolve_grayscale : The same with any padding and stride; its Notes give the semantics.

    Notes
    -----
    The padding is ``(k - 1) // 2`` before and ``k // 2`` after each axis: for an even kernel
    the extra row and column of zeros go at the bottom and right (TensorFlow's SAME rule).

    Examples
    --------
    >>> import numpy as np
    >>> convolve_grayscale_same(np.ones((1, 3, 3)), np.ones((3, 3)))
    array([[[4., 6., 4.],
            [6., 9., 6.],
            [4., 6., 4.]]])
    """
    return convolve_grayscale(images, kernel, padding="same", out=out, dtype=dtype)


@set_module("stridedconv")
def convolve_grayscale_padding(
    images: ArrayLike,
    kernel: ArrayLike,
    padding: IntOrPair,
    *,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Convolve grayscale images with explicit zero padding.

    Parameters
    ----------
    images : array_like, shape (m, h, w)
        `m` grayscale images.
    kernel : array_like, shape (kh, kw)
        The kernel; no axis may be empty.
    padding : (ph, pw) or int
        `ph` rows of zeros above and below, `pw` columns left and right.
    out : ndarray, optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype and the dtype of the arithmetic; see `conv`.

    Returns
    -------
    ndarray, shape (m, h + 2*ph - kh + 1, w + 2*pw - kw + 1)
        One output per position of the kernel inside the padded images.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `convolve_grayscale` raises them.

    See Also
    --------
    convolve_grayscale : The same with any padding and stride; its Notes give the semantics.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_grayscale_padding(np.ones((5, 28, 28)), np.ones((3, 3)), (2, 4)).shape
    (5, 30, 34)
    """
    return convolve_grayscale(images, kernel, padding=padding, out=out, dtype=dtype)


@set_module("stridedconv")
def convolve_channels(
    images: ArrayLike,
    kernel: ArrayLike,
    padding: Padding = "same",
    stride: IntOrPair = (1, 1),
    *,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Convolve images with channels by one kernel that spans every channel.

    Parameters
    ----------
    images : array_like, shape (m, h, w, c)
        `m` images of `c` channels, channels last.
    kernel : array_like, shape (kh, kw, c)
        One kernel slice per channel; no axis may be empty.
    padding : {'same', 'valid'} or int or (ph, pw), default 'same'
        As in `convolve_grayscale`.
    stride : int or (sh, sw), default (1, 1)
        Step between neighbouring output pixels, in input pixels.
    out : ndarray, optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype and the dtype of the arithmetic; see `conv`.

    Returns
    -------
    ndarray, shape (m, h', w')
        The sum over channels of each channel's cross-correlation.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `convolve_grayscale` raises them; a `ValueError` also when the kernel's channels
        differ from the images'.

    See Also
    --------
    convolve : A bank of such kernels, one output channel each.
    convolve_grayscale : Its Notes give the padding rule, dtypes and IEEE semantics.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.ones((4, 32, 32, 3), dtype=np.uint8)
    >>> out = convolve_channels(rgb, np.ones((3, 3, 3), dtype=np.int8), padding="valid")
    >>> out.shape, out.dtype, int(out[0, 0, 0])
    ((4, 30, 30), dtype('int64'), 27)
    """
    images, kernel, names = _checked(images, "(m, h, w, c)", kernel, "kernel", "(kh, kw, c)")
    return _conv2d(images, kernel[..., None], padding, stride, names, out, dtype, squeeze=True)


@set_module("stridedconv")
def convolve(
    images: ArrayLike,
    kernels: ArrayLike,
    padding: Padding = "same",
    stride: IntOrPair = (1, 1),
    *,
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Convolve images with channels by a bank of kernels, one output channel per kernel.

    Parameters
    ----------
    images : array_like, shape (m, h, w, c)
        `m` images of `c` channels, channels last.
    kernels : array_like, shape (kh, kw, c, nc)
        `nc` kernels, each spanning every channel.
    padding : {'same', 'valid'} or int or (ph, pw), default 'same'
        As in `convolve_grayscale`.
    stride : int or (sh, sw), default (1, 1)
        Step between neighbouring output pixels, in input pixels.
    out : ndarray, optional
        Where to write the result (a ``np.memmap`` too); see `conv`.
    dtype : dtype, optional
        The result's dtype and the dtype of the arithmetic; see `conv`.

    Returns
    -------
    ndarray, shape (m, h', w', nc)
        One output channel per kernel.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `convolve_grayscale` raises them; a `ValueError` also when the kernels' channels
        differ from the images'.

    See Also
    --------
    conv : The general form: N-d, dilation, groups, bias, padding modes, channels first.
    convolve_grayscale : Its Notes give the padding rule, dtypes and IEEE semantics.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.ones((4, 32, 32, 3), dtype=np.float32)
    >>> out = convolve(rgb, np.ones((3, 3, 3, 8), dtype=np.float32), stride=2)
    >>> out.shape, out.dtype
    ((4, 16, 16, 8), dtype('float32'))
    """
    images, kernels, names = _checked(images, "(m, h, w, c)", kernels, "kernels", "(kh, kw, c, nc)")
    return _conv2d(images, kernels, padding, stride, names, out, dtype)
