"""The general convolution: any number of spatial axes, dilation, groups, bias, padding modes.

Like the 2-D functions of `_convolution`, `conv` computes a cross-correlation (the kernel is
not flipped), as deep-learning libraries do, and runs on the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._dask import is_dask, refuse_out, run_lazily
from ._dtypes import check_cast, conv_plan, natural_dtype
from ._engine import correlate, forced_strategy
from ._geometry import Geometry, make_geometry
from ._modes import check_cval, check_padding_mode, cval_dtype
from ._module import set_module
from ._results import allocate, check_out, finish, fixed_dtype, requested_dtype
from ._typing import (
    Array,
    ArrayLike,
    ConvPadding,
    DataFormat,
    DTypeLike,
    IntOrTuple,
    PaddingMode,
)
from ._validation import (
    as_batch,
    as_numeric_array,
    channels_first,
    check_nonempty_axes,
    count,
    int_tuple,
    padding_spec,
    positive_int,
    rank_message,
)


@set_module("stridedconv")
def conv(
    x: ArrayLike,
    kernels: ArrayLike,
    *,
    stride: IntOrTuple = 1,
    padding: ConvPadding = "valid",
    dilation: IntOrTuple = 1,
    groups: int = 1,
    bias: ArrayLike | None = None,
    padding_mode: PaddingMode = "zeros",
    cval: complex = 0,
    data_format: DataFormat = "channels_last",
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """N-d convolution (cross-correlation) of a batch with a bank of kernels.

    Parameters
    ----------
    x : array_like, shape (m, s1, ..., sd, c) or (m, c, s1, ..., sd)
        `m` samples of `d` spatial axes and `c` channels, laid out as `data_format` says.
    kernels : array_like, shape (k1, ..., kd, c // groups, nc)
        `nc` kernels; ``kernels.ndim - 2`` is the number `d` of spatial axes (at least 1).
        No axis may be empty.
    stride : int or tuple of d ints, default 1
        Step between neighbouring output positions, in input samples.
    padding : {'valid', 'same', 'full'} or int or tuple of d ints or d (before, after) pairs
        ``'valid'`` (default): no padding. ``'same'``: the TensorFlow/JAX SAME rule, output
        ``ceil(s / stride)`` along each axis. ``'full'``: ``(k - 1) * dilation`` samples on
        both sides, every window that overlaps the input. An int or `d` ints pad both sides
        of each axis alike; `d` ``(before, after)`` pairs pad each side as they say.
    dilation : int or tuple of d ints, default 1
        Step between neighbouring taps of a kernel (1: adjacent samples).
    groups : int, default 1
        Input and output channels split into `groups` groups; output channel `f` sees only the
        input channels of its group, ``f // (nc // groups)``. Both `c` and `nc` must be
        divisible by `groups`; ``groups == c`` is a depthwise convolution.
    bias : array_like, shape (nc,), optional
        Added to every output position of each output channel.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular', 'symmetric', 'constant'}, \
default 'zeros'
        Zeros; the input mirrored, edge not repeated (``np.pad``'s ``'reflect'``); the edge
        repeated; the input wrapped around; mirrored with the edge repeated (SciPy's
        ``'reflect'``); `cval`. `correlate`'s Notes map every library's names to these.
    cval : int, float or complex, default 0
        ``'constant'`` padding's value (exact for integers when an int; see `correlate`).
    data_format : {'channels_last', 'channels_first'} or letters, default 'channels_last'
        Layout of `x` and of the result; the kernels' layout is always the same. The letters
        of TensorFlow and JAX say the same: ``'NWC'``, ``'NHWC'``, ``'NDHWC'`` (channels
        last) and ``'NCW'``, ``'NCHW'``, ``'NCDHW'`` (channels first). Every word of every
        argument may be written in any case.
    out : ndarray, optional
        Where to write the result: an array (a ``np.memmap`` too) of exactly the result's
        shape, into whose dtype the result's dtype casts safely, sharing no memory with the
        inputs. It is returned.
    dtype : dtype, optional
        The result's dtype, and the dtype of the arithmetic: a float dtype gives float
        arithmetic (rounded, like any float computation; ``'float32'`` features of uint8
        images without an int64 result first), an integer dtype an exact result, refused
        before any work when it cannot hold every possible value.

    Returns
    -------
    ndarray, shape (m, o1, ..., od, nc) or (m, nc, o1, ..., od)
        Following `data_format`, with ``o_i = (s_i + before_i + after_i - (k_i - 1) *
        dilation_i - 1) // stride_i + 1``. A new, C-contiguous, writeable array (or `out`);
        see Notes for its dtype.

    Raises
    ------
    TypeError
        For non-numeric arrays, None, a stride, dilation, padding or groups that is not
        made of ints, a word that is not a string, a `dtype` that cannot hold the result's
        kind (an integer dtype for float inputs) and an `out` whose dtype the result does
        not cast to safely.
    ValueError
        For kernels of fewer than 3 axes or with an empty axis, `x` of the wrong number of
        axes, a stride, dilation or padding of the wrong length or out of range, a kernel
        larger than the padded input, channels that `groups` does not divide or that disagree
        with the kernels, a bias of the wrong shape, an unknown padding word, `padding_mode`
        or `data_format` (another library's mode names ours), a non-zero `cval` but not
        ``'constant'``, padding that `padding_mode` cannot fill (``'reflect'`` needs each side
        less than the axis size, the modes that copy samples a non-empty axis), an
        integer `dtype` too narrow for the exact result, and an `out` of the wrong shape,
        read-only or sharing memory with an input.
    MemoryError
        At once, naming the shapes, when the result cannot be allocated.

    See Also
    --------
    correlate : Each channel filtered by the same kernel, as image libraries filter.
    convolve : The 2-D, channels-last, zero-padded special case.
    windows : The zero-copy window view that the computation runs on.

    Notes
    -----
    *Cross-correlation*, with ``g = f // (nc // groups)`` the group of output channel `f` and
    ``cg = c // groups``::

        out[n, i1..id, f] = bias[f] + sum(kernels[a1..ad, ch, f]
                                          * padded[n, i1*st1 + a1*dil1, ..., g*cg + ch])

    summed over every tap ``a1..ad`` and every ``ch < cg``. The kernel is not flipped and
    complex values are not conjugated.

    *'same'*: the total padding of an axis is ``max((out - 1) * s + (k - 1) * dil + 1 - n,
    0)`` with ``out = ceil(n / s)``; ``total // 2`` goes before, the rest after.
    ``padding_mode='circular'`` wraps around as often as the padding needs (PyTorch allows at
    most one wrap).

    *dtypes*: as in `convolve_grayscale`, and the bias takes part: floats give
    ``np.result_type(x, kernels, bias)`` (float16 is accumulated, bias included, in float32
    and rounded once); when `x`, `kernels` and `bias` are all integers or bools the result is
    exact, int64, or an object array of Python ints only when a value does not fit in int64.

    Examples
    --------
    A 1-D 'full' correlation is NumPy's:

    >>> import numpy as np
    >>> signal, taps = np.array([1, 2, 3]), np.array([0, 1, 2])
    >>> conv(signal[None, :, None], taps[:, None, None], padding="full")[0, :, 0]
    array([2, 5, 8, 3, 0])
    >>> np.correlate(signal, taps, "full")
    array([2, 5, 8, 3, 0])

    3-D volumes, channels first, a dilated depthwise kernel with a bias:

    >>> volumes = np.ones((2, 4, 8, 8, 8))
    >>> out = conv(volumes, np.ones((3, 3, 3, 1, 4)), padding="same", dilation=2, groups=4,
    ...            bias=np.arange(4.0), data_format="channels_first")
    >>> out.shape
    (2, 4, 8, 8, 8)
    >>> out[0, :, 4, 4, 4]
    array([27., 28., 29., 30.])

    Reflect padding mirrors the input:

    >>> conv(np.array([[[1], [2], [3]]]), np.ones((3, 1, 1), int), padding=2,
    ...      padding_mode="reflect")[0, :, 0]
    array([6, 5, 6, 7, 6])
    """
    problem = check_conv(
        x,
        kernels,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        padding_mode=padding_mode,
        cval=cval,
        data_format=data_format,
    )
    return run_conv(problem, out=out, dtype=dtype)


#: The padding words of `conv`.
CONV_PAD_WORDS = ("valid", "same", "full")


@dataclass(frozen=True)
class ConvNames:
    """What the caller calls its arguments, for the messages of the checks, and the shapes
    it gave them when it hands `check_conv` reshaped views (None: as `check_conv` sees them).
    """

    x: str = "x"
    kernels: str = "kernels"
    x_shape: tuple[int, ...] | None = None
    kernels_shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ConvProblem:
    """The checked arguments of one convolution: nothing after `check_conv` checks again.

    Attributes
    ----------
    x : ndarray, shape (m, s1..sd, c)
        Channels last (a view of channels-first input).
    kernels : ndarray, shape (k1..kd, c // groups, nc)
    geometry : Geometry
    groups : int
    bias : ndarray of shape (nc,) or None
    channels_first : bool
        Whether the caller's batch, and so its result, has the channels first.
    squeeze : bool
        Whether the caller's result has no channel axis (one kernel: ``nc == 1``).
    names : ConvNames
    """

    x: Array
    kernels: Array
    geometry: Geometry
    groups: int
    bias: Array | None
    channels_first: bool
    squeeze: bool
    names: ConvNames

    @property
    def result_shape(self) -> tuple[int, ...]:
        """The shape of the result, as the caller gets it."""
        m, out, nc = self.x.shape[0], self.geometry.out_shape, self.kernels.shape[-1]
        if self.squeeze:
            return (m, *out)
        return (m, nc, *out) if self.channels_first else (m, *out, nc)


def check_conv(
    x: ArrayLike,
    kernels: ArrayLike,
    *,
    stride: object = 1,
    padding: object = "valid",
    dilation: object = 1,
    groups: object = 1,
    bias: object = None,
    padding_mode: object = "zeros",
    cval: object = 0,
    data_format: object = "channels_last",
    names: ConvNames = ConvNames(),  # frozen: one shared default is safe
    pad_words: tuple[str, ...] = CONV_PAD_WORDS,
    squeeze: bool = False,
) -> ConvProblem:
    """Check the arguments of `conv` once, in the caller's words (`names`, `pad_words`);
    with `squeeze`, the result has no channel axis (the caller gives one kernel).

    Every front end (`conv`, the classic 2-D functions, later ones) goes through here, then
    hands the `ConvProblem` to `run_conv`. Raises as `conv` documents.
    """
    xs, ks = names.x, names.kernels
    x = as_batch(x, xs)
    kernels, d = check_kernels(kernels, ks, names.kernels_shape)
    first = channels_first(data_format, d)
    mode = check_padding_mode(padding_mode)
    fill = check_cval(cval)
    if fill != 0 and mode != "constant":
        msg = f"cval={cval!r} needs padding_mode='constant', got padding_mode={mode!r}"
        raise ValueError(msg)
    if x.ndim != d + 2:
        shown = names.kernels_shape or kernels.shape
        raise ValueError(rank_message(xs, x.shape, ks, shown, d, first))
    if mode == "constant" and fill == 0 and isinstance(fill, int):
        mode = "zeros"  # the same padding, and zeros' fast paths
    if first:
        x = np.moveaxis(x, 1, -1)  # a view: the engine stages (copies) chunks anyway
    c, nc = x.shape[-1], kernels.shape[-1]
    n_groups = positive_int(groups, "groups")
    if c % n_groups or nc % n_groups:
        msg = (
            f"groups must divide the input channels c and the output channels nc, got "
            f"groups={n_groups} for c={c} and nc={nc}"
        )
        raise ValueError(msg)
    if kernels.shape[-2] != c // n_groups:
        channel_axis = 1 if first else d + 1
        verb = "have" if xs.endswith("s") else "has"  # images have, x has
        msg = (
            f"{ks} has {count(kernels.shape[-2], 'channel')} (axis {d}) but {xs} {verb} "
            f"{count(c, 'channel')} (axis {channel_axis}); they must be equal"
        )
        if n_groups > 1:
            msg = (
                f"{ks} must have c // groups = {c} // {n_groups} = {c // n_groups} channels "
                f"(axis {d}), got {kernels.shape[-2]} ({ks} of shape {kernels.shape})"
            )
        raise ValueError(msg)
    shift: Array | None = None
    if bias is not None:
        shift = as_numeric_array(bias, "bias")
        if shift.shape != (nc,):
            msg = f"bias must have shape (nc,) = ({nc},), got shape {shift.shape}"
            raise ValueError(msg)
    if mode == "constant":  # an integer batch meets a float cval in floats
        weights = kernels.dtype if shift is None else np.result_type(kernels, shift)
        x = x.astype(cval_dtype(x.dtype, fill, weights), copy=False)
    geometry = make_geometry(
        x.shape[1:-1],
        kernels.shape[:-2],
        int_tuple(stride, "stride", d, minimum=1),
        padding_spec(padding, d, words=pad_words, pairs=pad_words == CONV_PAD_WORDS),
        dilation=int_tuple(dilation, "dilation", d, minimum=1),
        padding_mode=mode,
        cval=fill if mode == "constant" else 0,
        kernel_name=ks,
        input_name=xs,
    )
    return ConvProblem(x, kernels, geometry, n_groups, shift, first, squeeze, names)


def check_kernels(
    kernels: ArrayLike, name: str, shown: tuple[int, ...] | None = None
) -> tuple[Array, int]:
    """`kernels` as a numeric array ``(k1..kd, c // groups, nc)`` with no empty axis, and
    its number `d` of spatial axes; `shown` is its shape as the caller gave it."""
    array = as_numeric_array(kernels, name)
    if array.ndim < 3:
        msg = (
            f"{name} must be an array of shape (k1, ..., kd, c // groups, nc) with at least "
            f"1 spatial axis, got shape {array.shape}"
        )
        raise ValueError(msg)
    check_nonempty_axes(array, name, shown)
    return array, array.ndim - 2


def run_conv(problem: ConvProblem, *, out: object = None, dtype: object = None) -> Array:
    """The convolution of checked arguments, in `dtype` or into `out` if given.

    The result is allocated (or `out` checked) before any pass over the values, so a result
    that cannot exist fails at once.
    """
    p = problem
    batch = np.empty(0, p.x.dtype)  # its dtype: `x` may be a dask array
    inputs = (batch, p.kernels) if p.bias is None else (batch, p.kernels, p.bias)
    natural = natural_dtype(inputs)  # a float cval has made x float already (`check_conv`)
    wanted = requested_dtype(dtype)
    if wanted is not None:
        wanted = check_cast(natural, wanted, "the convolution")
    target = natural if wanted is None else wanted
    if is_dask(p.x):
        refuse_out(out)
        # Exact integers are declared int64, and every block is held to it.
        hold = wanted is not None or target.kind in "iu"
        lazy: Array = run_lazily(p, run_conv, target, hold)
        return lazy
    shape = (p.x.shape[0], *p.geometry.out_shape, p.kernels.shape[-1])
    given = None
    if out is not None:
        named = {p.names.x: p.x, p.names.kernels: p.kernels}
        if p.bias is not None:
            named["bias"] = p.bias
        given = check_out(out, p.result_shape, target, named)
    # The engine's layout: channels last, with the channel axis.
    engine_out = given if given is None or not p.squeeze else given[..., None]
    direct = engine_out is not None and engine_out.dtype == target and not p.channels_first
    direct = direct and engine_out is not None and engine_out.flags.c_contiguous
    result = engine_out if direct else allocate(shape, target, lambda: _context(p), p.result_shape)
    assert result is not None
    fixed, name = fixed_dtype(wanted, given)
    fill = p.geometry.cval
    plan = conv_plan(p.x, p.kernels, forced_strategy("integers"), p.bias, fixed, name, fill=fill)
    if plan.result is None:  # exact beyond what int64 may hold: Python ints
        result = allocate(shape, np.dtype(object), lambda: _context(p), p.result_shape)
    result = correlate(p.x, p.kernels, p.geometry, plan, result, bias=p.bias, groups=p.groups)
    if p.squeeze:
        result = result[..., 0]
    return finish(result, given, p.channels_first and not p.squeeze, wanted)


def _context(p: ConvProblem) -> str:
    """The inputs, named and shaped as the caller gave them, for messages."""
    x_shape = p.names.x_shape or (np.moveaxis(p.x, -1, 1) if p.channels_first else p.x).shape
    k_shape = p.names.kernels_shape or p.kernels.shape
    return f"for {p.names.x} of shape {x_shape} and {p.names.kernels} of shape {k_shape}"
