"""Named kernels: edge detectors, blurs and effects, ready for the convolution functions.

Every function returns a new float64 array of shape ``(kh, kw)``, the kernel shape that
`convolve_grayscale` and its variants take. The convolutions compute a cross-correlation (the
kernel is not flipped), so the derivative kernels are written the way they are applied:
`sobel_x` and ``prewitt('x')`` respond positively where the image gets brighter from left to
right, `sobel_y` and ``prewitt('y')`` where it gets brighter from top to bottom.

To filter each channel of colour images alike, give the kernel to `stridedconv.correlate`
(``sc.correlate(rgb, kernels.sharpen())``); to give `convolve_channels` a kernel of shape
``(kh, kw, c)``, which sums the channels, stack one per channel::

    np.stack([kernels.sharpen()] * 3, axis=-1)

Examples
--------
>>> import numpy as np
>>> import stridedconv as sc
>>> from stridedconv import kernels
>>> ramp = np.tile(np.arange(6.0), (1, 6, 1))  # one 6x6 image, brighter to the right
>>> sc.convolve_grayscale_valid(ramp, kernels.sobel_x())[0]
array([[8., 8., 8., 8.],
       [8., 8., 8., 8.],
       [8., 8., 8., 8.],
       [8., 8., 8., 8.]])
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable
from typing import Literal

import numpy as np

from ._typing import Array, IntOrPair
from ._validation import int_tuple, positive_int

__all__ = [
    "box",
    "emboss",
    "gaussian",
    "laplacian",
    "prewitt",
    "sharpen",
    "sobel_x",
    "sobel_y",
]


def _kernel(rows: list[list[int]]) -> Array:
    return np.array(rows, dtype=np.float64)


def _empty(shape: tuple[int, ...], size: object) -> Array:
    """A new float64 array of `shape`, allocated before any other work so that a size too large
    fails at once; the MemoryError names `size` and the bytes asked for."""
    try:
        return np.empty(shape)
    except (MemoryError, ValueError, OverflowError):  # ValueError: beyond NumPy's limits
        msg = (
            f"size={size!r} asks for a float64 kernel of shape {shape}, "
            f"{shape[0] * shape[1] * 8} bytes, which cannot be allocated"
        )
        raise MemoryError(msg) from None


def sobel_x() -> Array:
    """The Sobel kernel for the horizontal derivative (edges that run up and down).

    Returns
    -------
    ndarray of float64, shape (3, 3)
        ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``; it sums to 0. On an image whose brightness
        grows by 1 per column, the result is 8 everywhere (no padding).

    See Also
    --------
    sobel_y : The vertical derivative, this kernel transposed.
    prewitt : The same derivative without the smoothing weights 1, 2, 1.

    Examples
    --------
    >>> sobel_x()
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    """
    return _kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def sobel_y() -> Array:
    """The Sobel kernel for the vertical derivative (edges that run left to right).

    Returns
    -------
    ndarray of float64, shape (3, 3)
        ``sobel_x().T``; it sums to 0 and responds positively where the image gets brighter
        from top to bottom.

    See Also
    --------
    sobel_x : The horizontal derivative.
    prewitt : The same derivative without the smoothing weights 1, 2, 1.

    Examples
    --------
    >>> sobel_y()
    array([[-1., -2., -1.],
           [ 0.,  0.,  0.],
           [ 1.,  2.,  1.]])
    """
    return sobel_x().T.copy()


def prewitt(axis: Literal["x", "y"] = "x") -> Array:
    """The Prewitt kernel for the derivative along `axis`.

    Parameters
    ----------
    axis : {'x', 'y'}, default 'x'
        ``'x'``: the horizontal derivative (positive where brightness grows to the right);
        ``'y'``: the vertical derivative (positive where it grows downwards). Case-insensitive.

    Returns
    -------
    ndarray of float64, shape (3, 3)
        Three equal rows ``[-1, 0, 1]`` for ``'x'``, their transpose for ``'y'``; it sums to 0.
        ``-prewitt('x')`` is the edge kernel ``[[1, 0, -1]] * 3`` of the classic exercise.

    Raises
    ------
    TypeError
        For an `axis` that is not a string (``None`` included).
    ValueError
        For a word other than ``'x'`` and ``'y'``.

    See Also
    --------
    sobel_x, sobel_y : The same derivatives with smoothing weights 1, 2, 1.

    Examples
    --------
    >>> prewitt()
    array([[-1.,  0.,  1.],
           [-1.,  0.,  1.],
           [-1.,  0.,  1.]])
    >>> prewitt("y")[:, 0]
    array([-1.,  0.,  1.])
    """
    given: object = axis  # checked as what a caller may pass, not as what the type promises
    if not isinstance(given, str):
        msg = f"axis must be the string 'x' or 'y', got {axis!r}"
        raise TypeError(msg)
    word = given.lower()
    if word not in ("x", "y"):
        msg = f"axis must be 'x' or 'y', got {axis!r}"
        raise ValueError(msg)
    kernel = _kernel([[-1, 0, 1]] * 3)
    return kernel if word == "x" else kernel.T.copy()


def laplacian(diagonals: bool = False) -> Array:
    """The discrete Laplacian: the sum of second derivatives, which picks out edges and dots.

    Parameters
    ----------
    diagonals : bool, default False
        False: the 4-neighbour kernel ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``; True: the
        8-neighbour kernel with -8 at the centre and 1 around it.

    Returns
    -------
    ndarray of float64, shape (3, 3)
        It sums to 0, so flat regions and linear ramps give 0.

    Raises
    ------
    TypeError
        For a `diagonals` that is not a bool (``True``, ``False``, ``np.bool_``): ``'no'`` or
        ``8`` would otherwise be read as True.

    See Also
    --------
    sobel_x, sobel_y : First derivatives.
    sharpen : The identity plus a Laplacian.

    Examples
    --------
    >>> laplacian()
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    >>> float(laplacian(diagonals=True)[1, 1])
    -8.0
    """
    given: object = diagonals  # checked as what a caller may pass, not as the type promises
    if not isinstance(given, (bool, np.bool_)):
        msg = f"diagonals must be True or False, got {diagonals!r}"
        raise TypeError(msg)
    if diagonals:
        return _kernel([[1, 1, 1], [1, -8, 1], [1, 1, 1]])
    return _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]])


def box(size: IntOrPair = 3) -> Array:
    """The box blur: the mean of a `size` by `size` window.

    Parameters
    ----------
    size : int or (kh, kw), default 3
        The window, in pixels; at least 1. An int is anything ``operator.index`` takes
        (``np.int64(3)``, ``np.array(3)``), bools excepted.

    Returns
    -------
    ndarray of float64, shape (kh, kw)
        Every entry ``1 / (kh * kw)``; it sums to 1, so a flat image stays as it is.

    Raises
    ------
    TypeError
        For a `size` that is not an int nor a pair of ints (bools and floats included).
    ValueError
        For a `size` below 1, or a sequence that is not a pair.
    MemoryError
        For a kernel that cannot be allocated; the message names `size` and the bytes.

    See Also
    --------
    gaussian : A smoother blur, weighted towards the centre.

    Notes
    -----
    The kernel takes ``8 * kh * kw`` bytes and its size is limited by memory only. It is
    allocated before any other work, so a size too large fails at once.

    Examples
    --------
    >>> box(2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    >>> box((1, 3)).shape
    (1, 3)
    """
    shape = int_tuple(size, "size", 2, minimum=1)
    kernel = _empty(shape, size)
    kernel.fill(1.0 / (shape[0] * shape[1]))
    return kernel


def _sigma(sigma: object) -> float:
    """`sigma` as a positive, finite float64. A value beyond float64's range (``10**400``,
    ``Fraction(1, 10**400)``) becomes the nearest one, which gives the same kernel: the
    box or the delta that the Gaussian tends to."""
    if isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, numbers.Real):
        msg = f"sigma must be a positive real number, got {sigma!r}"
        raise TypeError(msg)
    if sigma != sigma or sigma <= 0 or sigma == math.inf:  # NaN is the one unequal to itself
        msg = f"sigma must be a positive, finite real number, got {sigma!r}"
        raise ValueError(msg)
    try:
        value = float(sigma)
    except OverflowError:  # a Python int (or Fraction) beyond 1.8e308
        value = math.inf
    return min(max(value, math.ulp(0.0)), sys.float_info.max)


def gaussian(size: int = 5, sigma: float = 1.0) -> Array:
    """The Gaussian blur: a sampled, normalised 2-D Gaussian.

    Parameters
    ----------
    size : int, default 5
        The kernel is `size` by `size`, centred at ``(size - 1) / 2``; at least 1. About
        ``2 * ceil(3 * sigma) + 1`` keeps the tails. Anything ``operator.index`` takes
        (``np.int64(5)``, ``np.array(5)``), bools excepted.
    sigma : float, default 1.0
        The standard deviation, in pixels; a positive and finite real number (int, float, or
        a NumPy integer or float; not complex, not bool).

    Returns
    -------
    ndarray of float64, shape (size, size)
        ``exp(-(dy**2 + dx**2) / (2 * sigma**2))`` divided by its sum, so it sums to 1. It is
        symmetric under flips and transposition, and largest at the centre.

    Raises
    ------
    TypeError
        For a `size` that is not an int (bools and floats included), or a `sigma` that is not
        a real number (complex and bools included).
    ValueError
        For a `size` below 1, or a `sigma` that is not positive and finite.
    MemoryError
        For a kernel that cannot be allocated; the message names `size` and the bytes.

    See Also
    --------
    box : The uniform blur.

    Notes
    -----
    Every finite sigma gives a finite kernel without warnings: a tiny sigma gives the limit,
    a delta at the centre (for an even size, the 2x2 centre taps share it equally, 1/4 each);
    a huge one gives the box ``1 / size**2``.

    The kernel takes ``8 * size**2`` bytes and its size is limited by memory only. It is
    allocated before any other work, so a size too large fails at once.

    Examples
    --------
    >>> g = gaussian(3, sigma=1.0)
    >>> g.round(4)
    array([[0.0751, 0.1238, 0.0751],
           [0.1238, 0.2042, 0.1238],
           [0.0751, 0.1238, 0.0751]])
    >>> round(float(g.sum()), 12)
    1.0
    >>> gaussian(2, sigma=1e-300)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    n = positive_int(size, "size")
    scale = _sigma(sigma)
    kernel = _empty((n, n), size)
    offsets = np.arange(n, dtype=np.float64) - (n - 1) / 2
    # Squared distances less that of the centre tap(s) (0, or 1/4 for an even size), so the
    # largest tap is exp(0) = 1 and the sum is at least 1: no 0 / 0 for a tiny sigma. Dividing
    # by sigma twice, never by sigma**2, sends the exponent to -inf (a tap of 0) or to 0 (a
    # tap of 1) at the extremes of sigma, never to NaN.
    squared = offsets**2 - (0.0 if n % 2 else 0.25)
    with np.errstate(over="ignore", under="ignore"):
        line = np.exp(-(squared / scale / scale / 2.0))
    line /= line.sum()
    # The 2-D Gaussian is the outer product of two 1-D ones, each normalised.
    np.outer(line, line, out=kernel)
    return kernel


def sharpen() -> Array:
    """The sharpening kernel: the image plus its negated 4-neighbour Laplacian.

    Returns
    -------
    ndarray of float64, shape (3, 3)
        ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``; it sums to 1, so flat regions keep their
        brightness while edges get more contrast.

    See Also
    --------
    laplacian : The edge detector it adds to the identity.

    Examples
    --------
    >>> sharpen()
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    """
    return _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def emboss() -> Array:
    """The emboss kernel: a relief lit from the top left.

    Returns
    -------
    ndarray of float64, shape (3, 3)
        ``[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]``; it sums to 1, so flat regions keep their
        brightness and edges turn into highlights and shadows.

    See Also
    --------
    sobel_x, sobel_y : Plain derivatives.

    Examples
    --------
    >>> emboss()
    array([[-2., -1.,  0.],
           [-1.,  1.,  1.],
           [ 0.,  1.,  2.]])
    """
    return _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])


#: Every named kernel by its name, for the command line and for tests.
BY_NAME: dict[str, Callable[..., Array]] = {
    "sobel_x": sobel_x,
    "sobel_y": sobel_y,
    "prewitt": prewitt,
    "laplacian": laplacian,
    "box": box,
    "gaussian": gaussian,
    "sharpen": sharpen,
    "emboss": emboss,
}
