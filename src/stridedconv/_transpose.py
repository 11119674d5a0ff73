"""The transposed convolution: the adjoint of `conv`, and the gradient of a convolution with
respect to its input.

Each output of `conv` is a weighted sum of the window it reads; its adjoint scatters each
value of `y` back onto that window, weighted by the same kernels. With stride 1 (and zero
padding) that scatter is itself a correlation: of `y`, padded by the kernel's span less the
forward padding, with the kernels flipped and their channel axes swapped. It runs on
`correlate`, with every strategy of the forward engine (FFTs, two passes, im2col ...).
Otherwise, chunk by chunk of the batch, every kernel tap adds one matrix product
``y @ kernels[tap].T`` into a strided view of a padded buffer (no zeros inserted between the
values of `y`); the padding is then cut off, or folded back for the other padding modes.
A dask `y` gives a lazy dask result: `run_transpose` on each batch chunk.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._blas import available as blas_threads_settable
from ._chunks import for_each_chunk
from ._conv_nd import CONV_PAD_WORDS, check_kernels
from ._dask import is_dask, refuse_out
from ._dtypes import Plan, check_cast, conv_plan, finish_object, natural_dtype
from ._engine import correlate, forced_strategy
from ._gather import padded_sources
from ._geometry import Geometry, extent, fixed_pads, make_geometry, same_padding, tap_reads
from ._module import set_module
from ._results import allocate, check_out, finish, fixed_dtype, requested_dtype
from ._staging import Staging
from ._typing import Array, ArrayLike, ConvPadding, DataFormat, DTypeLike, IntOrTuple
from ._validation import (
    as_batch,
    as_numeric_array,
    batch_layout,
    channels_first,
    count,
    int_tuple,
    padding_spec,
    positive_int,
)


@set_module("stridedconv")
def conv_transpose(
    y: ArrayLike,
    kernels: ArrayLike,
    *,
    stride: IntOrTuple = 1,
    padding: ConvPadding = "valid",
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    bias: ArrayLike | None = None,
    data_format: DataFormat = "channels_last",
    out: Array | None = None,
    dtype: DTypeLike | None = None,
) -> Array:
    """Transposed convolution: the adjoint of `conv` with the same kernels and options.

    Parameters
    ----------
    y : array_like, shape (m, o1, ..., od, nc) or (m, nc, o1, ..., od)
        What `conv` would give, `nc` channels, laid out as `data_format` says. A dask
        array gives a lazy dask array (see Notes).
    kernels : array_like, shape (k1, ..., kd, c // groups, nc)
        The same array, in the same layout, that `conv` takes.
    stride : int or tuple of d ints, default 1
        As in `conv`.
    padding : {'valid', 'same', 'full'} or int or tuple of d ints or d (before, after) pairs
        The padding the forward `conv` applies. ``'same'`` gives a result of ``o_i *
        stride_i`` samples (TensorFlow's and Keras's rule), padded as the forward SAME rule
        pads that size.
    output_padding : int or tuple of d ints, default 0
        Samples added at the end of each axis of the result, each below ``max(stride_i,
        dilation_i)`` (PyTorch's rule): it picks among the input sizes that `conv` maps to
        the same output size. Not with ``'same'``.
    dilation : int or tuple of d ints, default 1
        As in `conv`.
    groups : int, default 1
        As in `conv`.
    bias : array_like, shape (c,), optional
        Added to every position of each result channel.
    data_format : {'channels_last', 'channels_first'} or letters, default 'channels_last'
        Layout of `y` and of the result, as in `conv`.
    out : ndarray, optional
        Where to write the result, as in `conv`.
    dtype : dtype, optional
        The result's dtype and the arithmetic's, as in `conv`.

    Returns
    -------
    ndarray, shape (m, s1, ..., sd, c) or (m, c, s1, ..., sd)
        ``s_i = (o_i - 1) * stride_i + (k_i - 1) * dilation_i + 1 - before_i - after_i +
        output_padding_i``, with `c` = ``kernels.shape[-2] * groups``. The dtype policy is
        `conv`'s: exact integers (int64, Python ints only beyond), floats in their precision.
        A dask array for a dask `y`.

    Raises
    ------
    TypeError, ValueError, MemoryError
        As `conv` raises them, in the same words; and for an `output_padding` out of range
        or with ``'same'``, and a padding that leaves no sample.

    See Also
    --------
    conv : The forward convolution, whose adjoint this is.
    conv_vjp : Every gradient of a convolution, padding modes included.

    Notes
    -----
    For every `x` of the result's shape, ``np.vdot(conv(x, K, **kw), y) == np.vdot(x,
    conv_transpose(y, K, **kw))``, exactly for integers. With PyTorch's weight layout,
    ``conv_transpose(y, K, **kw)`` is ``torch.nn.functional.conv_transpose2d(y, w, **kw)``
    (channels first) where ``w = K`` moved to ``(nc, c // groups, kh, kw)``.

    *Dask*: for a dask `y` the arguments are checked at once, from `y`'s shape and dtype,
    and a lazy dask array is returned, one task per batch chunk of `y` (its spatial and
    channel chunks are merged: each task transposes whole samples); the result has `y`'s
    batch chunks. Exact integers are declared int64, and a chunk whose values could
    overflow it raises, naming `dtype`. `out` must be None.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[[1], [2], [3]]])                  # (m, o, nc) = (1, 3, 1)
    >>> taps = np.array([1, 10])[:, None, None]          # (k, c, nc) = (2, 1, 1)
    >>> conv_transpose(y, taps, stride=2)[0, :, 0]       # each value scattered on its window
    array([ 1, 10,  2, 20,  3, 30])
    >>> from stridedconv import conv                     # the adjoint identity
    >>> x = np.arange(6)[None, :, None]
    >>> forward = conv(x, taps, stride=2)
    >>> int(np.vdot(forward, y)) == int(np.vdot(x, conv_transpose(y, taps, stride=2)))
    True
    """
    problem = check_transpose(
        y,
        kernels,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        data_format=data_format,
    )
    return run_transpose(problem, out=out, dtype=dtype)


@dataclass(frozen=True)
class TransposeProblem:
    """The checked arguments of one transposed convolution: nothing after
    `check_transpose` checks again.

    Attributes
    ----------
    y : ndarray, shape (m, o1..od, nc)
        Channels last (a view of channels-first input); a dask array for a dask `y`.
    kernels : ndarray, shape (k1..kd, c // groups, nc)
    geometry : Geometry
        The forward `conv`'s: its input is the result.
    groups : int
    bias : ndarray of shape (c,) or None
    channels_first : bool
        Whether the caller's `y`, and so its result, has the channels first.
    """

    y: Array
    kernels: Array
    geometry: Geometry
    groups: int
    bias: Array | None
    channels_first: bool


def check_transpose(
    y: ArrayLike,
    kernels: ArrayLike,
    *,
    stride: object = 1,
    padding: object = "valid",
    output_padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    bias: object = None,
    data_format: object = "channels_last",
) -> TransposeProblem:
    """Check the arguments of `conv_transpose` once, from shapes and dtypes (a dask `y`'s
    values are never read). Raises as `conv_transpose` documents."""
    y = as_batch(y, "y")
    kernels, d = check_kernels(kernels, "kernels")
    first = channels_first(data_format, d)
    if y.ndim != d + 2:
        msg = (
            f"y must be a {d + 2}-D array of shape {batch_layout(d, first).replace('c', 'nc')}"
            f" for kernels of {count(d, 'spatial axis')}, got shape {y.shape}"
        )
        raise ValueError(msg)
    if first:
        y = np.moveaxis(y, 1, -1)
    n_groups = positive_int(groups, "groups")
    cg, nc = kernels.shape[-2:]
    if y.shape[-1] != nc:
        msg = (
            f"y has {count(y.shape[-1], 'channel')} (axis {1 if first else d + 1}) but kernels "
            f"have nc = {nc} (axis {d + 1}); they must be equal"
        )
        raise ValueError(msg)
    if nc % n_groups:
        msg = f"groups must divide the kernels' nc = {nc}, got groups={n_groups}"
        raise ValueError(msg)
    c = cg * n_groups
    shift = None
    if bias is not None:
        shift = as_numeric_array(bias, "bias")
        if shift.shape != (c,):
            msg = f"bias must have shape (c,) = ({c},), got shape {shift.shape}"
            raise ValueError(msg)
    steps = int_tuple(stride, "stride", d, minimum=1)
    dilations = int_tuple(dilation, "dilation", d, minimum=1)
    extra = int_tuple(output_padding, "output_padding", d, minimum=0)
    for axis, (p, s, dil) in enumerate(zip(extra, steps, dilations, strict=True)):
        if p >= max(s, dil):
            msg = (
                f"output_padding must be below max(stride, dilation) on each axis, got "
                f"{p} on axis {axis} for stride {s} and dilation {dil}"
            )
            raise ValueError(msg)
    spec = padding_spec(padding, d, words=CONV_PAD_WORDS, pairs=True)
    geometry = _forward_geometry(y.shape[1:-1], kernels.shape[:-2], steps, dilations, spec, extra)
    return TransposeProblem(y, kernels, geometry, n_groups, shift, first)


def run_transpose(problem: TransposeProblem, *, out: object = None, dtype: object = None) -> Array:
    """The transposed convolution of checked arguments, in `dtype` or into `out` if given;
    the result is allocated (or `out` checked) before any pass over the values."""
    p = problem
    y, kernels, geometry, shift, first = p.y, p.kernels, p.geometry, p.bias, p.channels_first
    c = kernels.shape[-2] * problem.groups
    natural = natural_dtype((np.empty(0, y.dtype), kernels) + (() if shift is None else (shift,)))
    wanted = requested_dtype(dtype)
    if wanted is not None:
        wanted = check_cast(natural, wanted, "the transposed convolution")
    target = natural if wanted is None else wanted
    if is_dask(y):
        refuse_out(out)
        # Exact integers are declared int64, and every chunk is held to it.
        held = wanted is not None or target.kind in "iu"
        lazy: Array = _lazily(problem, target, held)
        return lazy
    shape = (y.shape[0], *geometry.in_shape, c)
    shown = (shape[0], c, *shape[1:-1]) if first else shape
    given = None
    if out is not None:
        inputs = {"y": y, "kernels": kernels} | ({} if shift is None else {"bias": shift})
        given = check_out(out, shown, target, inputs)
    direct = given is not None and given.dtype == target and not first
    direct = direct and given is not None and given.flags.c_contiguous

    def context() -> str:
        return f"for y of shape {y.shape} and kernels of shape {kernels.shape}"

    result = given if direct else allocate(shape, target, context, shown)
    assert result is not None
    fixed, name = fixed_dtype(wanted, given)
    # Each result sample sums over taps and the nc channels of one input channel: the
    # bound of `conv_plan` with the kernels' channel axes swapped.
    swapped = np.swapaxes(kernels, -1, -2)
    plan = conv_plan(y, swapped, forced_strategy("integers"), shift, fixed, name)
    if plan.result is None:
        result = allocate(shape, np.dtype(object), context, shown)
    result = scatter(y, kernels, geometry, plan.compute, result, problem.groups, shift)
    if plan.result is None:
        result = finish_object(result)
    return finish(result, given, first, wanted)


def _lazily(problem: TransposeProblem, dtype: np.dtype[np.generic], held: bool) -> Any:
    """`run_transpose` on each batch chunk of the problem's dask `y` (its other axes in one
    chunk), in `dtype` on every chunk if `held`: a dask array of `dtype`."""
    from ._dask import batch_aligned, channels_first_of, map_batches

    (y,) = batch_aligned(problem.y)
    # The tasks carry no dask array (dask hashes them): the problem without its batch.
    template = dataclasses.replace(
        problem, y=np.empty((0,) * y.ndim, y.dtype), channels_first=False
    )
    fixed = dtype if held else None

    def block(values: Array) -> Array:
        return run_transpose(dataclasses.replace(template, y=values), dtype=fixed)

    c = problem.kernels.shape[-2] * problem.groups
    chunks = [*((n,) for n in problem.geometry.in_shape), (c,)]
    return channels_first_of(map_batches(block, [y], chunks, dtype), problem.channels_first)


def _forward_geometry(
    out_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    spec: str | tuple[tuple[int, int], ...],
    extra: tuple[int, ...],
) -> Geometry:
    """The geometry of the forward `conv` whose adjoint is asked for: the input size from
    the output size, then `make_geometry`'s own padding rules for that size."""
    spans = tuple(extent(k, dil) for k, dil in zip(kernel, dilation, strict=True))
    if spec == "same":
        if any(extra):
            msg = f"output_padding must be 0 with padding='same', got {extra}"
            raise ValueError(msg)
        sizes = tuple(o * s for o, s in zip(out_shape, stride, strict=True))
        pads = tuple(
            same_padding(n, k, s, dil)
            for n, k, s, dil in zip(sizes, kernel, stride, dilation, strict=True)
        )
    else:
        pads = fixed_pads(spec, spans)
        sizes = tuple(
            (o - 1) * s + span - b - a + p if o else 0
            for o, s, span, (b, a), p in zip(out_shape, stride, spans, pads, extra, strict=True)
        )
        if any(n < 0 for n in sizes):
            msg = (
                f"padding {pads} leaves no sample of the result for y of spatial shape "
                f"{out_shape} (result sizes {sizes})"
            )
            raise ValueError(msg)
    return make_geometry(sizes, kernel, stride, pads, dilation=dilation, kernel_name="kernels")


def _fold_padding(buffer: Array, geometry: Geometry) -> Array:
    """A padded chunk's gradient ``(b, P.., c)`` added onto the input samples that the
    padding mode copied into each padded position: ``(b, n.., c)``."""
    for axis, (n, (before, after)) in enumerate(zip(geometry.in_shape, geometry.pad, strict=True)):
        sources = padded_sources(n, before, after, geometry.padding_mode)
        folded = np.zeros((*buffer.shape[: 1 + axis], n, *buffer.shape[2 + axis :]), buffer.dtype)
        index: tuple[object, ...] = (slice(None),) * (1 + axis)
        np.add.at(folded, (*index, sources), buffer)  # type: ignore[arg-type]
        buffer = folded
    return buffer


def scatter(
    y: Array,
    kernels: Array,
    geometry: Geometry,
    compute: np.dtype[np.generic],
    out: Array,
    groups: int,
    bias: Array | None,
) -> Array:
    """Write the adjoint of `conv` of `geometry` applied to `y` ``(m, o.., nc)`` into `out`
    ``(m, s.., c)``: a correlation for stride 1 and zero padding, else chunk by chunk per
    tap, ``y @ kernels[tap].T`` added into the strided view of a padded buffer that the
    tap's windows read in the forward direction (see the module docstring)."""
    chosen = forced_strategy("adjoint")
    # Constant padding takes no gradient: its adjoint is the zero-padded one's.
    if geometry.padding_mode == "constant":
        geometry = dataclasses.replace(geometry, padding_mode="zeros", cval=0)
    stride_one = all(s == 1 for s in geometry.stride) and geometry.padding_mode == "zeros"
    if (chosen or "correlate") == "correlate" and stride_one and y.size and out.size:
        return _correlate_adjoint(y, kernels, geometry, compute, out, groups, bias)
    m = y.shape[0]
    cg, nc = kernels.shape[-2:]
    ng = nc // groups
    d = len(geometry.kernel)
    weights = np.ascontiguousarray(kernels, dtype=compute)  # one layout: the same bits
    # Zero padding takes no gradient: only the taps' reads inside the input are scattered,
    # into a buffer of the input's size (whatever the stride or the padding). The other
    # padding modes scatter into the padded buffer and fold it back.
    folding = geometry.padding_mode != "zeros"
    spatial = geometry.padded_shape if folding else geometry.in_shape
    # y's own positions: output_padding of a dilation above the stride can leave the
    # forward geometry a position more than y has.
    geometry = dataclasses.replace(geometry, out_shape=y.shape[1:-1])
    per_image = (math.prod(spatial) * cg * groups + y[:1].size) * compute.itemsize
    everywhere = (slice(None),) * d

    def work(chunk: slice, staging: Staging) -> None:
        grads = np.ascontiguousarray(y[chunk], dtype=compute)
        buffer = np.zeros((grads.shape[0], *spatial, cg * groups), compute)
        for tap in itertools.product(*map(range, geometry.kernel)):
            if folding:  # the samples that this tap of every window reads, padding included
                outs, reads = (
                    everywhere,
                    tuple(
                        slice(t * dil, t * dil + (n - 1) * s + 1, s)
                        for t, dil, s, n in zip(
                            tap, geometry.dilation, geometry.stride, y.shape[1:-1], strict=True
                        )
                    ),
                )
            else:
                found = tap_reads(geometry, tap)
                if found is None:
                    continue  # this tap of every window reads padding
                outs, reads = found
            view = buffer[(slice(None), *reads, slice(None))]
            part = grads[(slice(None), *outs, slice(None))]
            for g in range(groups):
                features = weights[tap][:, g * ng : (g + 1) * ng]  # (cg, ng)
                if ng == 1:  # (.., 1) * (cg,): no matrix product of inner dimension 1
                    products = part[..., g : g + 1] * features[:, 0]
                else:  # (b, o.., ng) @ (ng, cg) -> (b, o.., cg)
                    products = part[..., g * ng : (g + 1) * ng] @ features.T
                view[..., g * cg : (g + 1) * cg] += products
        # What reached reflected, replicated, wrapped or symmetric padding goes back home.
        result = _fold_padding(buffer, geometry) if folding else buffer
        if bias is not None:
            result = result + bias.astype(compute)  # exact: the plan's bound has the bias
        out[chunk] = result

    # Chunks write disjoint slices of `out`: on the engine's threads, as `conv`'s are.
    with np.errstate(all="ignore"):  # IEEE results without warnings, as in `conv`
        parallel = compute.kind != "O" and blas_threads_settable()
        products = math.prod(y.shape[1:-1]) * kernels.size  # multiply-adds an image
        staging = Staging(geometry)
        for_each_chunk(
            m, per_image, staging, work, parallel=parallel, calls_blas=True, multiply_adds=products
        )
    return out


def _correlate_adjoint(
    y: Array,
    kernels: Array,
    geometry: Geometry,
    compute: np.dtype[np.generic],
    out: Array,
    groups: int,
    bias: Array | None,
) -> Array:
    """`scatter` for stride 1 and zero padding, as a correlation: each input sample of the
    forward `conv` gets the `y` of the windows that read it, weighted by the kernel taps
    that read it, which is `y`, padded by ``span - 1 - before`` and ``span - 1 - after``
    (cropped where that is negative), correlated with the flipped kernels."""
    d = len(geometry.kernel)
    cg, nc = kernels.shape[-2:]
    ng = nc // groups
    # Flipped taps; (.., cg, g, ng) -> (.., ng, g, cg): the adjoint maps each group's ng
    # channels back onto its cg channels.
    flipped = kernels[(slice(None, None, -1),) * d]
    grouped = flipped.reshape(*geometry.kernel, cg, groups, ng)
    adjoint = grouped.transpose(*range(d), d + 2, d + 1, d).reshape(*geometry.kernel, ng, -1)
    spans = (extent(k, dil) for k, dil in zip(geometry.kernel, geometry.dilation, strict=True))
    # After: as much as gives the input's size, n = o + reach before + reach after - span
    # + 1; that is ``span - 1 - after``, plus the zeros of y's missing last position when
    # output_padding with a dilation above the stride adds a window that y does not have.
    reach = [
        (span - 1 - before, n - o + before)
        for span, (before, _), n, o in zip(
            spans, geometry.pad, geometry.in_shape, y.shape[1:-1], strict=True
        )
    ]
    crop = tuple(
        slice(max(-before, 0), o - max(-after, 0))
        for (before, after), o in zip(reach, y.shape[1:-1], strict=True)
    )
    pads = tuple((max(before, 0), max(after, 0)) for before, after in reach)
    source = y[(slice(None), *crop, slice(None))]
    inner = make_geometry(
        source.shape[1:-1], geometry.kernel, (1,) * d, pads, dilation=geometry.dilation
    )
    plan = Plan(compute, out.dtype)  # object for Python ints: the caller finishes them
    correlate(source, adjoint, inner, plan, out, bias=bias, groups=groups)
    return out
