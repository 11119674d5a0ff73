"""Helpers of the reproducibility tests: bit-for-bit comparison, small chunks, and drawn
problems whose batches can be rebuilt at any size with the same kind of values.

A problem is drawn once (shapes, options, value style) as a `Batched`: ``make(m, seed)``
gives a batch of `m` images (a tuple of batch-first arrays: an operation may take two, as
``conv_vjp`` takes ``dy`` and ``x``), ``call(*batch)`` the operation's batch-first result.
Values come from a seeded NumPy generator, not from hypothesis' element strategies: batches
of 64 or 300 images are drawn by the hundred, and random floats of many magnitudes are what
shows a different order of the sums in the last bits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import stridedconv as sc
import stridedconv._engine as engine

#: Every convolution strategy, and None: the chooser's own pick.
CONV_STRATEGIES: tuple[str | None, ...] = (None, *engine.CONV_STRATEGIES, engine.FFT_STRATEGY)
POOL_STRATEGIES: tuple[str | None, ...] = (None, *engine.POOL_STRATEGIES)
#: Strategies that call no BLAS for one input channel per group (with more, 'stripes' and
#: 'separable' hand the problem to 'taps', which then calls BLAS): each output is the same
#: sum in the same order whatever else is computed beside it.
BLAS_FREE = ("stripes", "separable", "taps")
#: Batch sizes the same image is compared across; 300 small images only now and then.
BATCHES = (1, 2, 7, 64)
#: Chunk budgets (`engine.CHUNK_BYTES`): one image a chunk, a few, the library's default.
BUDGETS = (1, 8192, None)
#: Mostly float results (exact integer results are the same bits by any path): images of
#: uint8 meet float kernels 3 times in 4, int64 images too.
IMAGE_DTYPES = tuple(np.dtype(t) for t in ("float32", "float64", "float32", "uint8", "int64"))
KERNEL_DTYPES = tuple(np.dtype(t) for t in ("float32", "float64", "float32", "int64"))
PADDING_MODES = ("zeros", "zeros", "reflect", "replicate", "circular")


# --- comparison -------------------------------------------------------------------------


def _as_bits(array: np.ndarray) -> np.ndarray:
    """`array` in native byte order, C order, as bytes (one row of itemsize per value)."""
    native = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))
    return native.view(np.uint8).reshape(*array.shape, native.itemsize)


def assert_same_bits(got: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """`got` and `expected` hold the same bits: same dtype, shape and bytes, signed zeros and
    infinities included. NaN must stand where NaN stands; its payload and sign, which IEEE
    leaves to the hardware, are not compared (an ``inf - inf`` gives the default NaN, a NaN
    operand passes its own)."""
    got, expected = np.asarray(got), np.asarray(expected)
    where = f" ({what})" if what else ""
    # Byte order is layout (an out= array's), not value: compared in native order.
    same_type = got.dtype.newbyteorder("=") == expected.dtype.newbyteorder("=")
    assert same_type, f"dtype {got.dtype} != {expected.dtype}{where}"
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}{where}"
    if got.dtype.kind == "O":  # exact Python ints beyond int64
        assert got.tolist() == expected.tolist(), f"Python ints differ{where}"
        return
    if got.dtype.kind in "fc":
        got_nan, expected_nan = np.isnan(got), np.isnan(expected)
        if not np.array_equal(got_nan, expected_nan):
            index = tuple(int(i) for i in np.argwhere(got_nan != expected_nan)[0])
            raise AssertionError(
                f"NaN at different places{where}: at {index}, {got[index]!r} against "
                f"{expected[index]!r}"
            )
        got, expected = np.where(got_nan, 0, got), np.where(expected_nan, 0, expected)
    same = (_as_bits(got) == _as_bits(expected)).all(axis=-1)
    if not same.all():
        differ = np.argwhere(~same)
        index = tuple(int(i) for i in differ[0])
        raise AssertionError(
            f"{len(differ)} of {same.size} values differ in their bits{where}; first at "
            f"{index}: {got[index]!r} against {expected[index]!r}"
        )


# --- engine switches --------------------------------------------------------------------


@contextmanager
def chunk_budget(nbytes: int | None) -> Iterator[None]:
    """`CHUNK_BYTES` set to `nbytes` (None: left alone) in every stridedconv module that
    has it: 1 byte makes every image a chunk of its own. Patched wherever it lives, so the
    tests survive the engine's split into a chooser and an executor."""
    if nbytes is None:
        yield
        return
    modules = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("stridedconv") and hasattr(module, "CHUNK_BYTES")
    ]
    saved = [(module, module.CHUNK_BYTES) for module in modules]
    try:
        for module in modules:
            module.CHUNK_BYTES = nbytes
        yield
    finally:
        for module, value in saved:
            module.CHUNK_BYTES = value


@contextmanager
def forcing(**names: object) -> Iterator[None]:
    """`engine.forced` with the None entries (library defaults) left out."""
    with engine.forced(**{key: value for key, value in names.items() if value is not None}):
        yield


# --- values -----------------------------------------------------------------------------


def values(rng: np.random.Generator, dtype: np.dtype, shape: tuple[int, ...], style: str) -> Any:
    """Values of `dtype` in `style`: 'normal' (one scale), 'wide' (magnitudes spread over
    many orders, where the order of a sum shows), 'relu' (half of them zeros, some of them
    negative zeros: the sign of a zero result is part of its bits)."""
    if dtype.kind == "u":
        return rng.integers(0, 256, shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(-100, 101, shape).astype(dtype)
    out = rng.standard_normal(shape)
    if style == "wide":
        spread = 6 if dtype == np.float32 else 20
        out *= 10.0 ** rng.uniform(-spread, spread, shape)
    elif style == "relu":
        out[out < 0] = 0
        out[rng.random(shape) < 0.1] = -0.0
    return out.astype(dtype)


# --- drawn problems ---------------------------------------------------------------------


@dataclass
class Batched:
    """A drawn operation: `make(m, seed)` a batch of `m` images (a tuple of batch-first
    arrays), `call(*batch)` the batch-first result; `nd` the options, for messages."""

    make: Callable[[int, int], tuple[np.ndarray, ...]]
    call: Callable[..., np.ndarray]
    options: dict[str, Any] = field(default_factory=dict)
    floats: bool = True  # whether the result is a float array (NaN can enter)

    def __repr__(self) -> str:
        return f"Batched({self.options})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis' reports: the options, not every field


@dataclass
class ConvSetup:
    """A `conv` problem without its batch: spatial shape, channels, kernels, options."""

    spatial: tuple[int, ...]
    channels: int
    kernels: np.ndarray
    bias: np.ndarray | None
    options: dict[str, Any]
    image_dtype: np.dtype
    style: str

    def __repr__(self) -> str:
        k = self.kernels
        bias = "" if self.bias is None else f", bias {self.bias.dtype}"
        return (
            f"ConvSetup(x (m, {self.spatial}, {self.channels}) {self.image_dtype} "
            f"{self.style}, kernels {k.shape} {k.dtype}{bias}, {self.options})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis' reports: shapes, not the kernels' values

    def images(self, rng: np.random.Generator, m: int) -> np.ndarray:
        return values(rng, self.image_dtype, (m, *self.spatial, self.channels), self.style)

    def conv(self, x: np.ndarray, **extra: Any) -> np.ndarray:
        return sc.conv(x, self.kernels, bias=self.bias, **self.options, **extra)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """The spatial shape of the result."""
        probe = np.zeros((0, *self.spatial, self.channels), self.image_dtype)
        return self.conv(probe).shape[1:-1]


def _pads(draw: st.DrawFn, spatial: tuple[int, ...]) -> Any:
    """A `conv` padding for axes of `spatial` samples, each at least one window's extent:
    a word, an int, or (before, after) pairs of less than the axis (for 'reflect')."""
    padding = draw(st.sampled_from(("valid", "same", "full", "int", "pairs")), label="padding")
    if padding == "int":
        return draw(st.integers(0, min(2, *(n - 1 for n in spatial))), label="pad")
    if padding == "pairs":
        return tuple(
            (draw(st.integers(0, min(2, n - 1))), draw(st.integers(0, min(2, n - 1))))
            for n in spatial
        )
    return padding


@st.composite
def conv_setups(
    draw: st.DrawFn,
    *,
    strategy: str | None = None,
    floats_only: bool = False,
    small: bool = False,
) -> ConvSetup:
    """A `conv` problem: 1-8 channels (16-64 now and then, for the many-channel paths of
    'taps' and 'im2col'), groups, kernels of 1-5 taps (7-11 for FFTs), stride, dilation,
    every padding and padding mode, a bias now and then; `small` keeps it to a few
    channels, taps and samples (for the naive reference)."""
    large = strategy in (engine.FFT_STRATEGY, None) and not small
    d = draw(st.sampled_from((2, 2, 2, 1)), label="d")
    many = not small and draw(st.integers(0, 7), label="many channels?") == 0
    if many:
        c = draw(st.sampled_from((16, 32, 64)), label="c")
        groups = draw(st.sampled_from((1, 1, 2, c)), label="groups")
        nc = groups * draw(st.sampled_from((1, 2, 16 // min(groups, 16))), label="nc / groups")
    else:
        c = draw(st.integers(1, 3 if small else 8), label="c")
        groups = draw(st.sampled_from([1, 1, *(g for g in range(1, c + 1) if c % g == 0)]))
        nc = groups * draw(st.integers(1, max(1, (3 if small else 8) // groups)), label="nc/g")
    # FFTs pay from 7x7 taps: the chooser takes them for one channel, few outputs, stride 1.
    big = large and not many and draw(st.integers(0, 3), label="large kernel?") == 0
    taps = st.integers(7, 11) if big else st.integers(1, 3 if small else 5)
    kernel = tuple(draw(taps, label="taps") for _ in range(d))
    dilation = 1 if big else draw(st.sampled_from((1, 1, 2)), label="dilation")
    stride = draw(st.sampled_from((1, 1, 1, 2, 3)), label="stride")
    extents = [(k - 1) * dilation + 1 for k in kernel]
    room = 2 if many else 6
    spatial = tuple(draw(st.integers(max(e, 2), max(e, 2) + room)) for e in extents)
    options = {
        "stride": stride,
        "padding": _pads(draw, spatial),
        "dilation": dilation,
        "groups": groups,
        "padding_mode": draw(st.sampled_from(PADDING_MODES), label="padding_mode"),
    }
    dtypes = IMAGE_DTYPES[:3] if floats_only else IMAGE_DTYPES
    image_dtype = draw(st.sampled_from(dtypes), label="image dtype")
    kernel_dtype = draw(st.sampled_from(KERNEL_DTYPES[:2] if floats_only else KERNEL_DTYPES))
    style = draw(st.sampled_from(("normal", "wide", "relu")), label="style")
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="kernel seed"))
    kernels = values(rng, kernel_dtype, (*kernel, c // groups, nc), style)
    if d == 2 and c == groups and draw(st.booleans(), label="separable kernels?"):
        # Outer products, one per channel: 'separable' takes them in two 1-D passes.
        u, v = (values(rng, kernel_dtype, (k, 1, nc), "normal") for k in kernel)
        kernels = (u[:, None] * v[None, :]).astype(kernel_dtype)
    bias = None
    if draw(st.integers(0, 3), label="bias?") == 0:
        bias = values(rng, kernel_dtype, (nc,), style)
    return ConvSetup(spatial, c, kernels, bias, options, image_dtype, style)


def conv_batched(setup: ConvSetup) -> Batched:
    """`conv` of batches of `setup`'s images."""

    def make(m: int, seed: int) -> tuple[np.ndarray, ...]:
        return (setup.images(np.random.default_rng(seed), m),)

    floats = np.result_type(setup.image_dtype, setup.kernels).kind == "f"
    return Batched(make, setup.conv, setup.options, floats)


def embed(
    batched: Batched, images: tuple[np.ndarray, ...], i: int, m: int, j: int, seed: int
) -> tuple[np.ndarray, ...]:
    """A fresh batch of `m` images with image `i` of `images` at position `j`."""
    crowd = batched.make(m, seed)
    for target, source in zip(crowd, images, strict=True):
        target[j] = source[i]
    return crowd


def check_batch_invariance(data: st.DataObject, batched: Batched, m: int) -> None:
    """Image i of a batch of `m`: the same bits alone, and inside another batch (of a drawn
    size, at a drawn place), under a drawn chunk budget."""
    seed = data.draw(st.integers(0, 2**16), label="seed")
    images = batched.make(m, seed)
    i = data.draw(st.integers(0, m - 1), label="i")
    other = data.draw(st.sampled_from(BATCHES), label="other batch")
    j = data.draw(st.integers(0, other - 1), label="j")
    with chunk_budget(data.draw(st.sampled_from(BUDGETS), label="chunk bytes")):
        whole = batched.call(*images)
        alone = batched.call(*(array[i : i + 1] for array in images))
        crowd = batched.call(*embed(batched, images, i, other, j, seed + 1))
    assert_same_bits(alone[0], whole[i], f"image {i} of {m} alone and in its batch")
    assert_same_bits(crowd[j], whole[i], f"image {i} of {m} at {j} of {other} others")


@st.composite
def conv_setups_2d(draw: st.DrawFn, *, channels: bool, features: bool) -> ConvSetup:
    """A 2-D, zero-padded, undilated, ungrouped problem for the classic functions:
    ``padding`` 'same', 'valid' or a (ph, pw) pair, ``stride`` a pair."""
    kernel = (draw(st.integers(1, 5), label="kh"), draw(st.integers(1, 5), label="kw"))
    spatial = tuple(draw(st.integers(k, k + 6)) for k in kernel)
    c = draw(st.integers(1, 8), label="c") if channels else 1
    nc = draw(st.integers(1, 8), label="nc") if features else 1
    padding = draw(st.sampled_from(("same", "valid", "pair")), label="padding")
    if padding == "pair":
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    image_dtype = draw(st.sampled_from(IMAGE_DTYPES), label="image dtype")
    kernel_dtype = draw(st.sampled_from(KERNEL_DTYPES), label="kernel dtype")
    style = draw(st.sampled_from(("normal", "wide", "relu")), label="style")
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="kernel seed"))
    kernels = values(rng, kernel_dtype, (*kernel, c, nc), style)
    options = {"padding": padding, "stride": stride}
    return ConvSetup(spatial, c, kernels, None, options, image_dtype, style)


def classic_batched(setup: ConvSetup, name: str) -> Batched:
    """One of the six classic convolutions of `setup` (2-D, see `conv_setups_2d`)."""
    k, padding, stride = setup.kernels, setup.options["padding"], setup.options["stride"]
    pair = padding if isinstance(padding, tuple) else (1, 2)
    calls: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "convolve_grayscale_valid": lambda x: sc.convolve_grayscale_valid(x, k[..., 0, 0]),
        "convolve_grayscale_same": lambda x: sc.convolve_grayscale_same(x, k[..., 0, 0]),
        "convolve_grayscale_padding": lambda x: sc.convolve_grayscale_padding(
            x, k[..., 0, 0], pair
        ),
        "convolve_grayscale": lambda x: sc.convolve_grayscale(x, k[..., 0, 0], padding, stride),
        "convolve_channels": lambda x: sc.convolve_channels(x, k[..., 0], padding, stride),
        "convolve": lambda x: sc.convolve(x, k, padding, stride),
    }
    gray = name.startswith("convolve_grayscale")

    def make(m: int, seed: int) -> tuple[np.ndarray, ...]:
        x = setup.images(np.random.default_rng(seed), m)
        return (x[..., 0] if gray else x,)

    floats = np.result_type(setup.image_dtype, k).kind == "f"
    return Batched(make, calls[name], {"name": name, **setup.options}, floats)


CLASSIC = (
    "convolve_grayscale_valid",
    "convolve_grayscale_same",
    "convolve_grayscale_padding",
    "convolve_grayscale",
    "convolve_channels",
    "convolve",
)


@st.composite
def pool_kwargs(draw: st.DrawFn, d: int) -> dict[str, Any]:
    """`pool` options for windows of 1-3 taps, every mode, padding up to half a window."""
    window = tuple(draw(st.integers(1, 3), label="window") for _ in range(d))
    return {
        "kernel_shape": window,
        "stride": draw(st.sampled_from((None, 1, 2)), label="stride"),
        "mode": draw(st.sampled_from(("max", "avg", "min", "sum")), label="mode"),
        "padding": draw(st.sampled_from((0, "same"))) if min(window) > 1 else 0,
        "dilation": draw(st.sampled_from((1, 1, 2)), label="dilation"),
        "ceil_mode": draw(st.booleans(), label="ceil_mode"),
        "count_include_pad": draw(st.booleans(), label="count_include_pad"),
    }


@st.composite
def pool_batched(draw: st.DrawFn, *, gradient: bool = False) -> Batched:
    """`pool` (or, with `gradient`, `pool_vjp` of a drawn `dy`, the tie rule drawn) of
    batches of 1-8 channels; few distinct values, so that windows tie."""
    d = draw(st.sampled_from((2, 2, 1)), label="d")
    kwargs = draw(pool_kwargs(d))
    spatial = tuple(draw(st.integers(5, 10), label="side") for _ in range(d))
    c = draw(st.integers(1, 8), label="c")
    dtype = draw(st.sampled_from(IMAGE_DTYPES), label="dtype")
    style = draw(st.sampled_from(("normal", "wide", "relu", "ties")), label="style")
    strategy = draw(st.sampled_from(POOL_STRATEGIES), label="pool strategy")
    ties = draw(st.sampled_from(("first", "all", "split")), label="ties")
    shape = sc.pool(np.zeros((0, *spatial, c), dtype), **kwargs).shape[1:]

    def images(rng: np.random.Generator, m: int) -> np.ndarray:
        if style == "ties":
            return rng.integers(0, 3, (m, *spatial, c)).astype(dtype)
        return values(rng, dtype, (m, *spatial, c), style)

    def make(m: int, seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        x = images(rng, m)
        return (values(rng, np.dtype(np.float64), (m, *shape), "normal"), x) if gradient else (x,)

    def call(*batch: np.ndarray) -> np.ndarray:
        with forcing(pool=strategy):
            if gradient:
                return sc.pool_vjp(*batch, ties=ties, **kwargs)
            return sc.pool(*batch, **kwargs)

    options = {**kwargs, "pool": strategy, "ties": ties, "dtype": dtype, "style": style}
    floats = gradient or dtype.kind == "f" or kwargs["mode"] == "avg"
    return Batched(make, call, options, floats)


def transpose_batched(setup: ConvSetup, strategy: str | None) -> Batched:
    """`conv_transpose` with `setup`'s kernels and options (zero padding) of batches of
    `y`, shaped like `setup`'s results."""
    options = {key: value for key, value in setup.options.items() if key != "padding_mode"}
    out_shape, nc = setup.out_shape, setup.kernels.shape[-1]
    bias = setup.bias
    if bias is not None:  # the transpose's bias has one value per input channel
        bias = np.resize(bias, setup.channels)

    def make(m: int, seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        return (values(rng, setup.image_dtype, (m, *out_shape, nc), setup.style),)

    def call(y: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy):
            return sc.conv_transpose(y, setup.kernels, bias=bias, **options)

    floats = np.result_type(setup.image_dtype, setup.kernels).kind == "f"
    return Batched(make, call, {**options, "conv": strategy}, floats)


def input_gradient_batched(setup: ConvSetup, strategy: str | None) -> Batched:
    """`conv_vjp(dy, x, ...)`'s gradient with respect to `x`, for batches of `dy` and `x`."""
    out_shape, nc = setup.out_shape, setup.kernels.shape[-1]

    def make(m: int, seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        dy = values(rng, setup.image_dtype, (m, *out_shape, nc), setup.style)
        return dy, setup.images(rng, m)

    def call(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
        with forcing(conv=strategy):
            grads = sc.conv_vjp(dy, x, setup.kernels, wrt=("x",), **setup.options)
        assert grads.x is not None
        return grads.x

    floats = np.result_type(setup.image_dtype, setup.kernels).kind == "f"
    return Batched(make, call, {**setup.options, "conv": strategy}, floats)


COURSE = ("conv_forward", "conv_backward dA_prev", "pool_forward", "pool_backward")


def course_batched(setup: ConvSetup, name: str) -> Batched:
    """One of the course's layer functions on `setup` (2-D, see `conv_setups_2d`): the
    forward passes, or the backward passes' gradient with respect to ``A_prev``."""
    w, padding, stride = setup.kernels, setup.options["padding"], setup.options["stride"]
    nc = w.shape[-1]
    b = values(np.random.default_rng(nc), w.dtype, (1, 1, 1, nc), setup.style)
    window = tuple(min(k, 3) for k in w.shape[:2])
    probe = setup.images(np.random.default_rng(0), 1)
    if name.startswith("conv"):
        out_shape = sc.conv_forward(probe, w, b, np.tanh, padding, stride).shape[1:]
    else:
        out_shape = sc.pool_forward(probe, window, stride).shape[1:]

    def make(m: int, seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        dz = values(rng, np.dtype(np.float64), (m, *out_shape), "normal")
        return dz.astype(np.result_type(probe, w, np.float32)), setup.images(rng, m)

    def call(dz: np.ndarray, a_prev: np.ndarray) -> np.ndarray:
        if name == "conv_forward":
            return sc.conv_forward(a_prev, w, b, np.tanh, padding, stride)
        if name == "conv_backward dA_prev":
            return sc.conv_backward(dz, a_prev, w, b, padding, stride)[0]
        if name == "pool_forward":
            return sc.pool_forward(a_prev, window, stride, "max")
        return sc.pool_backward(dz, a_prev, window, stride, "avg")

    return Batched(make, call, {"name": name, **setup.options}, floats=True)
