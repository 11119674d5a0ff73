"""The four functions of the course's backward-propagation project, with its signatures, so
that learners can check their own code: thin front ends over `conv`, `pool`, `conv_vjp`
and `pool_vjp`, checked through the same entry paths, in the course's words (``A_prev``,
``W``, ``b``, ``dZ``, ``dA``). A dask ``A_prev`` (or ``dZ``, ``dA``) gives lazy dask
results, as those functions give them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ._conv_nd import ConvNames, ConvProblem, check_conv, run_conv
from ._gradients import vjp_of as conv_vjp_of
from ._module import set_module
from ._pool_gradients import vjp_of as pool_vjp_of
from ._pooling import PoolProblem, check_pool, run_pool
from ._typing import Array, ArrayLike, IntOrPair, Padding
from ._validation import PAD_WORDS, as_batch, as_numeric_array, check_ndim

NAMES = ConvNames("A_prev", "W")


def _layer(
    A_prev: ArrayLike, W: ArrayLike, b: ArrayLike, padding: object, stride: object
) -> tuple[ConvProblem, Array]:
    """The checked convolution of a layer and its bias ``(1, 1, 1, c_new)`` as ``(c_new,)``."""
    A_prev = as_batch(A_prev, "A_prev")
    W = as_numeric_array(W, "W")
    check_ndim(A_prev, "A_prev", "(m, h_prev, w_prev, c_prev)")
    check_ndim(W, "W", "(kh, kw, c_prev, c_new)")
    problem = check_conv(
        A_prev, W, stride=stride, padding=padding, names=NAMES, pad_words=PAD_WORDS
    )
    shift = as_numeric_array(b, "b")
    if shift.shape != (1, 1, 1, W.shape[3]):
        msg = f"b must have shape (1, 1, 1, c_new) = (1, 1, 1, {W.shape[3]}), got {shift.shape}"
        raise ValueError(msg)
    return problem, shift.reshape(-1)


@set_module("stridedconv")
def conv_forward(
    A_prev: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    activation: Callable[[Array], Array],
    padding: Padding = "same",
    stride: IntOrPair = (1, 1),
) -> Array:
    """Forward propagation over a convolutional layer: ``activation(conv(A_prev, W) + b)``.

    Parameters
    ----------
    A_prev : array_like, shape (m, h_prev, w_prev, c_prev)
        The previous layer's output: `m` images of `c_prev` channels.
    W : array_like, shape (kh, kw, c_prev, c_new)
        The layer's `c_new` kernels.
    b : array_like, shape (1, 1, 1, c_new)
        The layer's biases, one per kernel.
    activation : callable
        Applied to the result, e.g. ``lambda z: np.maximum(z, 0)``.
    padding : {'same', 'valid'} or int or (ph, pw), default 'same'
        This library's rule (TensorFlow's SAME), as in `convolve`.
    stride : int or (sh, sw), default (1, 1)
        Step between neighbouring output pixels, in input pixels.

    Returns
    -------
    ndarray, shape (m, h_new, w_new, c_new)
        The activated output. A lazy dask array for a dask `A_prev` (`activation` is
        applied to it lazily if it is a NumPy ufunc or another function that dask arrays
        support).

    Raises
    ------
    TypeError
        For an `activation` that is not callable, and the argument types `convolve` refuses.
    ValueError
        For a `b` of the wrong shape, and the shapes and values `convolve` refuses.

    See Also
    --------
    conv_backward : The gradients of this layer.
    conv : The convolution it computes, with every option.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.ones((2, 5, 5, 1)); W = np.ones((3, 3, 1, 2)); b = np.array([[[[0.0, -9.0]]]])
    >>> out = conv_forward(A, W, b, lambda z: np.maximum(z, 0))
    >>> out.shape, out[0, 2, 2].tolist(), out[0, 0, 0].tolist()
    ((2, 5, 5, 2), [9.0, 0.0], [4.0, 0.0])
    """
    given: object = activation  # checked as what a caller may pass, not as the type says
    if not callable(given):
        msg = f"activation must be a callable such as np.tanh, got {activation!r}"
        raise TypeError(msg)
    problem, bias = _layer(A_prev, W, b, padding, stride)
    # The engine adds the bias chunk by chunk, in the exact-integer plan: no second array.
    z = run_conv(dataclasses.replace(problem, bias=bias))
    return activation(z)


@set_module("stridedconv")
def conv_backward(
    dZ: ArrayLike,
    A_prev: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    padding: Padding = "same",
    stride: IntOrPair = (1, 1),
) -> tuple[Array, Array, Array]:
    """Back propagation over a convolutional layer.

    Parameters
    ----------
    dZ : array_like, shape (m, h_new, w_new, c_new)
        The gradient of the loss with respect to the layer's unactivated output; exactly
        the shape the forward pass gives. A dask `dZ` or `A_prev` gives dask gradients
        (see `conv_vjp`).
    A_prev : array_like, shape (m, h_prev, w_prev, c_prev)
        As given to `conv_forward`.
    W : array_like, shape (kh, kw, c_prev, c_new)
        As given to `conv_forward`.
    b : array_like, shape (1, 1, 1, c_new)
        As given to `conv_forward`.
    padding : {'same', 'valid'} or int or (ph, pw), default 'same'
        As given to `conv_forward`.
    stride : int or (sh, sw), default (1, 1)
        As given to `conv_forward`.

    Returns
    -------
    dA_prev : ndarray, shape (m, h_prev, w_prev, c_prev)
        The gradient with respect to `A_prev`.
    dW : ndarray, shape (kh, kw, c_prev, c_new)
        The gradient with respect to `W`.
    db : ndarray, shape (1, 1, 1, c_new)
        The gradient with respect to `b`.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `conv_forward` and `conv_vjp` raise them; a `ValueError` names both shapes when
        `dZ` is not of the forward output's shape.

    See Also
    --------
    conv_forward : The layer's forward pass.
    conv_vjp : The same gradients for every `conv` option.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.ones((1, 3, 3, 1)); W = np.ones((2, 2, 1, 1)); b = np.zeros((1, 1, 1, 1))
    >>> dA, dW, db = conv_backward(np.ones((1, 2, 2, 1)), A, W, b, padding="valid")
    >>> dA[0, :, :, 0].tolist(), dW[:, :, 0, 0].tolist(), db.shape
    ([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], [[4.0, 4.0], [4.0, 4.0]], (1, 1, 1, 1))
    """
    problem, _ = _layer(A_prev, W, b, padding, stride)
    grads = conv_vjp_of(problem, dZ, {"x", "kernels", "bias"}, dy_name="dZ")
    dA_prev, dW, db = grads
    assert dA_prev is not None  # all three were asked for
    assert dW is not None
    assert db is not None
    return dA_prev, dW, db.reshape(1, 1, 1, -1)


def _pool_layer(
    A_prev: ArrayLike, kernel_shape: object, stride: object, mode: object
) -> PoolProblem:
    A_prev = as_batch(A_prev, "A_prev")
    check_ndim(A_prev, "A_prev", "(m, h_prev, w_prev, c)")
    return check_pool(A_prev, kernel_shape, stride, mode, batch_name="A_prev")


@set_module("stridedconv")
def pool_forward(
    A_prev: ArrayLike,
    kernel_shape: IntOrPair,
    stride: IntOrPair = (1, 1),
    mode: str = "max",
) -> Array:
    """Forward propagation over a pooling layer: `pool` with the course's default stride.

    Parameters
    ----------
    A_prev : array_like, shape (m, h_prev, w_prev, c)
        The previous layer's output: `m` images of `c` channels.
    kernel_shape : (kh, kw)
        The window's size.
    stride : (sh, sw), default (1, 1)
        Step between neighbouring windows.
    mode : {'max', 'avg'}, default 'max'
        The maximum or the mean of each window.

    Returns
    -------
    ndarray, shape (m, h_new, w_new, c)
        ``h_new = (h_prev - kh) // sh + 1``, likewise `w_new`. A lazy dask array for a dask
        `A_prev`.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `pool` raises them.

    See Also
    --------
    pool_backward : The gradient of this layer.
    pool : The pooling it computes, with every option.

    Examples
    --------
    >>> import numpy as np
    >>> pool_forward(np.arange(16.0).reshape(1, 4, 4, 1), (2, 2), (2, 2))[..., 0].tolist()
    [[[5.0, 7.0], [13.0, 15.0]]]
    """
    return run_pool(_pool_layer(A_prev, kernel_shape, stride, mode))


@set_module("stridedconv")
def pool_backward(
    dA: ArrayLike,
    A_prev: ArrayLike,
    kernel_shape: IntOrPair,
    stride: IntOrPair = (1, 1),
    mode: str = "max",
) -> Array:
    """Back propagation over a pooling layer, every tied maximum given the full gradient.

    The course grades this tie rule; `pool_vjp` has the other rules.

    Parameters
    ----------
    dA : array_like, shape (m, h_new, w_new, c)
        The gradient with respect to the pooling layer's output; exactly the shape the
        forward pass gives. A dask `dA` or `A_prev` gives a lazy dask gradient (see
        `pool_vjp`).
    A_prev : array_like, shape (m, h_prev, w_prev, c)
        As given to `pool_forward`.
    kernel_shape : (kh, kw)
        As given to `pool_forward`.
    stride : (sh, sw), default (1, 1)
        As given to `pool_forward`.
    mode : {'max', 'avg'}, default 'max'
        As given to `pool_forward`.

    Returns
    -------
    ndarray, shape (m, h_prev, w_prev, c)
        The gradient with respect to `A_prev`.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `pool_forward` and `pool_vjp` raise them; a `ValueError` names both shapes when
        `dA` is not of the forward output's shape.

    See Also
    --------
    pool_forward : The layer's forward pass.
    pool_vjp : The gradient for every `pool` option and tie rule.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[[[1.0], [3.0]], [[3.0], [2.0]]]])  # (1, 2, 2, 1): two tied maxima
    >>> pool_backward(np.ones((1, 1, 1, 1)), A, (2, 2), (2, 2))[0, :, :, 0].tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    problem = _pool_layer(A_prev, kernel_shape, stride, mode)
    return pool_vjp_of(problem, dA, "all", dy_name="dA", x_name="A_prev")
