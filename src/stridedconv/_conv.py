"""The general convolution: any number of spatial axes, dilation, groups, bias, padding modes.

Like the 2-D functions of `_convolution`, `conv` computes a cross-correlation (the kernel is
not flipped), as deep-learning libraries do, and runs on the same engine.
"""

from __future__ import annotations

import numpy as np

from ._dtypes import conv_plan
from ._engine import correlate, forced_strategy
from ._geometry import PADDING_MODES, make_geometry
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, IntOrTuple, PaddingMode
from ._validation import (
    DATA_FORMATS,
    as_numeric_array,
    batch_layout,
    check_nonempty_axes,
    int_tuple,
    one_of,
    padding_spec,
    positive_int,
)

#: The padding words of `conv`.
CONV_PAD_WORDS = ("valid", "same", "full")


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
    data_format: DataFormat = "channels_last",
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
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, default 'zeros'
        What the padding holds, as in PyTorch: zeros; the input mirrored at its edge, the edge
        not repeated (NumPy's ``np.pad`` mode ``'reflect'``); the edge repeated (``'edge'``);
        the input wrapped around (``'wrap'``).
    data_format : {'channels_last', 'channels_first'}, default 'channels_last'
        Layout of `x` and of the result; the kernels' layout is always the same.

    Returns
    -------
    ndarray, shape (m, o1, ..., od, nc) or (m, nc, o1, ..., od)
        Following `data_format`, with ``o_i = (s_i + before_i + after_i - (k_i - 1) *
        dilation_i - 1) // stride_i + 1``. A new, C-contiguous, writeable array; see Notes for
        its dtype.

    Raises
    ------
    TypeError
        For non-numeric arrays, None, and a stride, dilation, padding or groups that is not
        made of ints.
    ValueError
        For kernels of fewer than 3 axes or with an empty axis, `x` of the wrong number of
        axes, a stride, dilation or padding of the wrong length or out of range, a kernel
        larger than the padded input, channels that `groups` does not divide or that disagree
        with the kernels, a bias of the wrong shape, an unknown padding word, `padding_mode`
        or `data_format`, and padding that `padding_mode` cannot fill: ``'reflect'`` needs
        each side to pad less than the axis size, the other modes a non-empty axis.

    See Also
    --------
    convolve : the 2-D, channels-last, zero-padded special case.
    windows : the zero-copy window view that the computation runs on.

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
    x = as_numeric_array(x, "x")
    kernels = as_numeric_array(kernels, "kernels")
    if kernels.ndim < 3:
        msg = (
            "kernels must be an array of shape (k1, ..., kd, c // groups, nc) with at least "
            f"1 spatial axis, got shape {kernels.shape}"
        )
        raise ValueError(msg)
    d = kernels.ndim - 2
    check_nonempty_axes(kernels, "kernels")
    channels_first = one_of(data_format, "data_format", DATA_FORMATS) == "channels_first"
    mode = one_of(padding_mode, "padding_mode", PADDING_MODES)
    if x.ndim != d + 2:
        msg = (
            f"x must be a {d + 2}-D array of shape {batch_layout(d, channels_first)} for kernels "
            f"of {d} spatial axes, got shape {x.shape}"
        )
        raise ValueError(msg)
    if channels_first:
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
        msg = (
            f"kernels must have c // groups = {c} // {n_groups} = {c // n_groups} channels "
            f"(axis {d}), got {kernels.shape[-2]} (kernels of shape {kernels.shape})"
        )
        raise ValueError(msg)
    shift: Array | None = None
    if bias is not None:
        shift = as_numeric_array(bias, "bias")
        if shift.shape != (nc,):
            msg = f"bias must have shape (nc,) = ({nc},), got shape {shift.shape}"
            raise ValueError(msg)
    steps = int_tuple(stride, "stride", d, minimum=1)
    dilations = int_tuple(dilation, "dilation", d, minimum=1)
    geometry = make_geometry(
        x.shape[1:-1],
        kernels.shape[:-2],
        steps,
        padding_spec(padding, d, words=CONV_PAD_WORDS, pairs=True),
        dilation=dilations,
        padding_mode=mode,
        kernel_name="kernels",
        input_name="x",
    )
    plan = conv_plan(x, kernels, forced_strategy("integers"), shift)
    out = correlate(x, kernels, geometry, plan, bias=shift, groups=n_groups)
    if channels_first:
        return np.ascontiguousarray(np.moveaxis(out, -1, 1))
    return out
