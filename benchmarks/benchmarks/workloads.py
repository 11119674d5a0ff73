"""Workloads and the libraries that compute them, shared by the asv suite and compare.py.

A `Workload` says what to compute; `prepare(library, workload, images, kernel)` returns a
zero-argument callable that computes it with that library, everything that is not the
computation itself (tensor views, thread settings) done beforehand. A library that is not
installed, or cannot compute a workload, raises `NotImplementedError`, which asv reports as
a skipped benchmark. A `ConvWorkload` is one call of the N-d `conv` (1-D, 3-D, dilated,
depthwise, grouped), a `PoolWorkload` one call of `pool` with PyTorch's options (padding,
dilation, ceil_mode, count_include_pad). A `GradWorkload` is one gradient (issue 9): of a
convolution with respect to its input or its kernels, a transposed convolution, or the
backward pass of max or average pooling; a `LenetStep` one training step of LeNet-5, forward
and backward of every layer. `prepare` takes any of these kinds, with the arrays their
`inputs` give: images and kernel, then `dy` for a gradient; images and labels for a step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

import stridedconv as sc
from stridedconv._geometry import make_geometry
from stridedconv._validation import padding_spec

LIBRARIES = ("stridedconv", "torch", "scipy", "naive")
THREADS = 2  # PyTorch's intra-op threads: this machine's cores

EDGES = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
SHARPEN = np.array(
    [[[0, 0, 0], [-1, -1, -1], [0, 0, 0]],
     [[-1, -1, -1], [5, 5, 5], [-1, -1, -1]],
     [[0, 0, 0], [-1, -1, -1], [0, 0, 0]]]
)  # fmt: skip
BANK = np.stack([SHARPEN, np.roll(SHARPEN, 1, axis=2), np.roll(SHARPEN, 2, axis=0)], axis=-1)


@dataclass(frozen=True, eq=False)
class Workload:
    """One computation: `kind` is 'gray', 'channels', 'bank' or 'pool'."""

    kind: str
    shape: tuple[int, ...]
    kernel: tuple[int, ...] = ()
    padding: Any = "valid"
    stride: tuple[int, int] = (1, 1)
    mode: str = "max"
    values: np.ndarray | None = None  # fixed kernel values; random if None

    def window(self) -> tuple[int, int]:
        """Kernel or pooling window size ``(kh, kw)``."""
        shape = self.values.shape if self.values is not None else self.kernel
        return int(shape[0]), int(shape[1])

    def with_batch(self, m: int) -> Workload:
        """The same workload on `m` images."""
        return Workload(
            self.kind, (m, *self.shape[1:]), self.kernel, self.padding, self.stride,
            self.mode, self.values,
        )  # fmt: skip

    def inputs(self, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Seeded images and kernel in `dtype` (kernels stay float for uint8 images)."""
        rng = np.random.default_rng(seed)
        if dtype == "uint8":
            images = rng.integers(0, 256, size=self.shape, dtype=np.uint8)
        else:
            images = rng.random(self.shape, dtype=dtype)  # no float64 temporary: peakmem
        kernel_dtype = "float32" if dtype == "uint8" else dtype
        if self.values is not None:
            kernel = self.values.astype(kernel_dtype)
        else:
            kernel = rng.standard_normal(self.kernel).astype(kernel_dtype)
        return images, kernel


SEED: dict[str, Workload] = {
    "gray_valid": Workload("gray", (50000, 28, 28), values=EDGES),
    "gray_same": Workload("gray", (50000, 28, 28), values=EDGES, padding="same"),
    "gray_padding": Workload("gray", (50000, 28, 28), values=EDGES, padding=(2, 4)),
    "gray_stride": Workload("gray", (50000, 28, 28), values=EDGES, stride=(2, 2)),
    "channels": Workload("channels", (10000, 32, 32, 3), values=SHARPEN),
    "bank": Workload("bank", (10000, 32, 32, 3), values=BANK),
    "max_2x2": Workload("pool", (10000, 32, 32, 3), kernel=(2, 2), stride=(2, 2)),
    "avg_2x2": Workload("pool", (10000, 32, 32, 3), kernel=(2, 2), stride=(2, 2), mode="avg"),
    "max_3x3s2": Workload("pool", (10000, 32, 32, 3), kernel=(3, 3), stride=(2, 2)),
    "avg_3x3s2": Workload("pool", (10000, 32, 32, 3), kernel=(3, 3), stride=(2, 2), mode="avg"),
}
#: Grayscale workloads have no uint8 colour variant to test; the issue asks uint8 for colour.
SEED_DTYPES = ("float32", "float64", "uint8")

CNN: dict[str, Workload] = {
    "32x56x56x64-64": Workload("bank", (32, 56, 56, 64), kernel=(3, 3, 64, 64), padding="same"),
    "16x112x112x32-32": Workload("bank", (16, 112, 112, 32), kernel=(3, 3, 32, 32), padding="same"),
    "8x14x14x256-256": Workload("bank", (8, 14, 14, 256), kernel=(3, 3, 256, 256), padding="same"),
    # LeNet-5's two convolutions at batch 256 (as the course builds it).
    "lenet1 256x28x28x1-6": Workload("bank", (256, 28, 28, 1), kernel=(5, 5, 1, 6), padding="same"),
    "lenet2 256x14x14x6-16": Workload("bank", (256, 14, 14, 6), kernel=(5, 5, 6, 16)),
}

LATENCY = Workload("gray", (1, 28, 28), values=EDGES, padding="same")
SCALING = {m: SEED["gray_valid"].with_batch(m) for m in (1000, 10000, 50000)}


@dataclass(frozen=True, eq=False)
class ConvWorkload:
    """One call of the N-d `conv`, in a float dtype.

    `shape` is x's, channels last: ``(m, s1, ..., sd, c)``; `kernel` is the kernels' shape,
    ``(k1, ..., kd, c // groups, nc)``.
    """

    shape: tuple[int, ...]
    kernel: tuple[int, ...]
    padding: Literal["valid", "same", "full"] | int = "valid"
    stride: int = 1
    dilation: int = 1
    groups: int = 1

    @property
    def ndim(self) -> int:
        """Number `d` of spatial axes."""
        return len(self.kernel) - 2

    def with_batch(self, m: int) -> ConvWorkload:
        """The same workload on `m` samples."""
        return replace(self, shape=(m, *self.shape[1:]))

    def inputs(self, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Seeded `x` (uniform in [0, 1)) and kernels (standard normal) in `dtype`."""
        rng = np.random.default_rng(seed)
        x = rng.random(self.shape, dtype=dtype)
        return x, rng.standard_normal(self.kernel).astype(dtype)

    def pads(self) -> list[tuple[int, int]]:
        """(before, after) zero padding of each spatial axis, by the rule `conv` documents."""
        sizes = self.shape[1 : 1 + self.ndim]
        spans = [(k - 1) * self.dilation + 1 for k in self.kernel[: self.ndim]]
        if self.padding == "valid":
            return [(0, 0)] * self.ndim
        if isinstance(self.padding, int):
            return [(self.padding, self.padding)] * self.ndim
        if self.padding == "full":
            return [(span - 1, span - 1) for span in spans]
        # TensorFlow's SAME: ceil(n / stride) outputs, the odd sample of padding after.
        pads = []
        for n, span in zip(sizes, spans, strict=True):
            total = max((-(-n // self.stride) - 1) * self.stride + span - n, 0)
            pads.append((total // 2, total - total // 2))
        return pads


#: N-d `conv` cases beside PyTorch's conv1d/conv2d/conv3d: float32, 'same', stride 1. Batches
#: are sized for a few hundred milliseconds of stridedconv on two cores.
ND: dict[str, ConvWorkload] = {
    "conv1d": ConvWorkload((64, 1024, 32), (5, 32, 32), "same"),
    "conv3d": ConvWorkload((2, 16, 32, 32, 8), (3, 3, 3, 8, 16), "same"),
    "dilated": ConvWorkload((8, 56, 56, 32), (3, 3, 32, 32), "same", dilation=2),
    "depthwise": ConvWorkload((16, 56, 56, 64), (3, 3, 1, 64), "same", groups=64),
    "grouped": ConvWorkload((8, 56, 56, 64), (3, 3, 16, 64), "same", groups=4),
}


@dataclass(frozen=True, eq=False)
class PoolWorkload:
    """One call of `pool` with PyTorch's options, in a float dtype.

    `shape` is x's, channels last: ``(m, s1, ..., sd, c)``; `kernel` is the window,
    ``(k1, ..., kd)``. `padding` is symmetric, at most ``k // 2``, as PyTorch takes it.
    """

    shape: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: int
    mode: Literal["max", "avg"] = "max"
    padding: int = 0
    dilation: int = 1
    ceil_mode: bool = False
    count_include_pad: bool = True

    @property
    def ndim(self) -> int:
        """Number `d` of spatial axes."""
        return len(self.kernel)

    def with_batch(self, m: int) -> PoolWorkload:
        """The same workload on `m` samples."""
        return replace(self, shape=(m, *self.shape[1:]))

    def inputs(self, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Seeded `x` (uniform in [0, 1)) in `dtype`, and an empty array in place of the
        kernel that `prepare` takes: pooling has none."""
        rng = np.random.default_rng(seed)
        return rng.random(self.shape, dtype=dtype), np.empty(0, dtype)

    def out_shape(self) -> tuple[int, ...]:
        """``(o1, ..., od)`` by PyTorch's rule: with `ceil_mode`, a last window must start
        inside the input or its leading padding."""
        outs = []
        for n, k in zip(self.shape[1 : 1 + self.ndim], self.kernel, strict=True):
            room = n + 2 * self.padding - (k - 1) * self.dilation - 1
            o = (-(-room // self.stride) if self.ceil_mode else room // self.stride) + 1
            if self.ceil_mode and (o - 1) * self.stride >= n + self.padding:
                o -= 1
            outs.append(o)
        return tuple(outs)


#: `pool` with PyTorch's options beside max_pool2d/3d and avg_pool2d: float32, channels last.
#: Batches are sized for a few tens of milliseconds of stridedconv on two cores.
POOLS: dict[str, PoolWorkload] = {
    "max_3x3s2_pad1": PoolWorkload((16, 112, 112, 64), (3, 3), 2, padding=1),  # ResNet stem
    "avg_3x3s2_ceil": PoolWorkload(
        (16, 112, 112, 64), (3, 3), 2, "avg", padding=1, ceil_mode=True, count_include_pad=False
    ),
    "max_2x2x2_3d": PoolWorkload((4, 32, 64, 64, 16), (2, 2, 2), 2),
    "max_dilated": PoolWorkload((16, 56, 56, 64), (3, 3), 1, padding=1, dilation=2),
}


GradKind = Literal["input", "kernel", "transpose", "pool_max", "pool_avg"]


@dataclass(frozen=True, eq=False)
class GradWorkload:
    """One gradient of a 2-D convolution or pooling, in a float dtype.

    `kind` is 'input' (``conv_vjp(..., wrt=('x',)).x``), 'kernel' (``conv_vjp(...,
    wrt=('kernels',)).kernels``), 'transpose' (``conv_transpose(dy, kernels, ...)``: the input
    gradient of a zero-padded convolution, through the public entry point), 'pool_max' or
    'pool_avg' (``pool_vjp``, ties 'first': PyTorch's rule). `shape` is x's, channels last:
    ``(m, h, w, c)``; `kernel` is the kernels' shape ``(kh, kw, c, nc)`` for a convolution,
    the window ``(kh, kw)`` for pooling, whose `padding` is then an int (PyTorch's).
    """

    kind: GradKind
    shape: tuple[int, ...]
    kernel: tuple[int, ...]
    padding: Literal["valid", "same"] | int = "valid"
    stride: int = 1

    def forward(self) -> ConvWorkload | PoolWorkload:
        """The forward computation whose gradient this is."""
        if self.kind in ("pool_max", "pool_avg"):
            assert isinstance(self.padding, int)
            mode: Literal["max", "avg"] = "max" if self.kind == "pool_max" else "avg"
            return PoolWorkload(self.shape, self.kernel, self.stride, mode, self.padding)
        return ConvWorkload(self.shape, self.kernel, self.padding, self.stride)

    def with_batch(self, m: int) -> GradWorkload:
        """The same workload on `m` samples."""
        return replace(self, shape=(m, *self.shape[1:]))

    def inputs(self, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The forward workload's seeded `x` and kernels (an empty array for pooling), and a
        seeded standard normal `dy` of the forward result's shape (the library's, on one
        sample)."""
        forward = self.forward()
        x, kernels = forward.inputs(dtype, seed)
        one = prepare("stridedconv", forward, x[:1], kernels)()
        rng = np.random.default_rng([seed, 1])
        dy = rng.standard_normal((self.shape[0], *one.shape[1:]), dtype=np.dtype(dtype))
        return x, kernels, dy


def _conv_grads(
    group: str, shape: tuple[int, ...], kernel: tuple[int, ...], padding: Any
) -> dict[str, GradWorkload]:
    """The input, kernel and transposed-convolution rows of one convolution."""
    kinds: tuple[GradKind, ...] = ("input", "kernel", "transpose")
    return {f"{kind} {group}": GradWorkload(kind, shape, kernel, padding) for kind in kinds}


#: Gradients, float32, beside PyTorch's backward kernels. The seed workloads' convolutions as
#: 2-D convs of channels-last images, on fewer images than the seed's (20000 grayscale, not
#: 50000; 4000 colour, not 10000) so that the input gradient and the transposed convolution
#: take a few hundred milliseconds of stridedconv on two cores; the CNN layers at `CNN`'s
#: batches, 3x3 'same'; pooling on the seed's colour batch and the ResNet stem of `POOLS`.
GRADS: dict[str, GradWorkload] = {
    **_conv_grads("gray 20000x28x28", (20000, 28, 28, 1), (3, 3, 1, 1), "valid"),
    **_conv_grads("channels 4000x32x32x3", (4000, 32, 32, 3), (3, 3, 3, 1), "valid"),
    **_conv_grads("bank 4000x32x32x3-3", (4000, 32, 32, 3), (3, 3, 3, 3), "valid"),
    **{
        name: grad
        for layer in ("32x56x56x64-64", "16x112x112x32-32", "8x14x14x256-256")
        for name, grad in _conv_grads(
            f"cnn {layer}", CNN[layer].shape, CNN[layer].kernel, "same"
        ).items()
    },
    "pool_max 10000x32x32x3 2x2s2": GradWorkload("pool_max", (10000, 32, 32, 3), (2, 2), 0, 2),
    "pool_avg 10000x32x32x3 2x2s2": GradWorkload("pool_avg", (10000, 32, 32, 3), (2, 2), 0, 2),
    "pool_max 16x112x112x64 3x3s2p1": GradWorkload("pool_max", (16, 112, 112, 64), (3, 3), 1, 2),
}


@dataclass(frozen=True, eq=False)
class LenetStep:
    """One training step of LeNet-5 (`stridedconv.lenet`): forward and backward of every
    layer, on random images ``shape = (m, 28, 28)`` (float32) and labels, with the
    parameters of ``LeNet5(seed)``. Forward and backward only, no optimizer step on either
    side: Adam's elementwise updates of 61,706 parameters are no gradient computation."""

    shape: tuple[int, ...] = (256, 28, 28)
    seed: int = 0

    def with_batch(self, m: int) -> LenetStep:
        """The same step on `m` images."""
        return replace(self, shape=(m, *self.shape[1:]))

    def inputs(self, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Seeded standard normal images (the scale `train` expects) and labels 0-9."""
        rng = np.random.default_rng(seed)
        images = rng.standard_normal(self.shape, dtype=np.dtype(dtype))
        return images, rng.integers(0, 10, self.shape[0])


LENET_STEP = LenetStep((256, 28, 28))


def lenet_torch_layout(name: str, value: np.ndarray) -> np.ndarray:
    """A parameter (or its gradient) of `stridedconv.lenet.LeNet5` in the layout of the same
    layer in PyTorch: convolution weights ``(kh, kw, c, nc) -> (nc, c, kh, kw)``, dense
    weights transposed, biases flat; the first dense layer's inputs reordered from the
    ``(h, w, c)`` of a channels-last flatten to PyTorch's ``(c, h, w)``."""
    if name in ("W1", "W2"):
        return value.transpose(3, 2, 0, 1)
    if name == "W3":
        return value.reshape(5, 5, 16, -1).transpose(3, 2, 0, 1).reshape(-1, 400)
    if name.startswith("W"):
        return value.T
    return value.reshape(-1)


def pads(workload: Workload) -> tuple[tuple[int, int], tuple[int, int]]:
    """(before, after) zero padding of each axis, from stridedconv's own geometry."""
    spatial = workload.shape[1:3]
    spec = padding_spec(workload.padding, 2)
    geometry = make_geometry(spatial, workload.window(), workload.stride, spec)
    (top, bottom), (left, right) = geometry.pad
    return (top, bottom), (left, right)


AnyWorkload = Workload | ConvWorkload | PoolWorkload | GradWorkload | LenetStep


def prepare(library: str, workload: AnyWorkload, *arrays: np.ndarray) -> Callable[[], Any]:
    """A zero-argument callable computing `workload` with `library` on `arrays`, what
    ``workload.inputs(dtype)`` gives: images and kernel, then `dy` for a gradient; images and
    labels for a LeNet-5 step."""
    peers: dict[str, Callable[..., Callable[[], Any]]] = PEERS[type(workload)]
    return peers[library](workload, *arrays)


def _stridedconv(w: Workload, images: np.ndarray, kernel: np.ndarray) -> Callable[[], Any]:
    if w.kind == "gray":
        return lambda: sc.convolve_grayscale(images, kernel, w.padding, w.stride)
    if w.kind == "channels":
        return lambda: sc.convolve_channels(images, kernel, w.padding, w.stride)
    if w.kind == "bank":
        return lambda: sc.convolve(images, kernel, w.padding, w.stride)
    return lambda: sc.pool(images, w.kernel, w.stride, w.mode)


def _torch_functional() -> Any:
    """`torch.nn.functional`, PyTorch set to `THREADS` threads; NotImplementedError (which
    asv reports as a skipped benchmark) when PyTorch is not installed."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        raise NotImplementedError("PyTorch is not installed") from None
    torch.set_num_threads(THREADS)
    return F


def _channels_first(x: np.ndarray) -> Any:
    """``(m, s1..sd, c)`` as a tensor ``(m, c, s1..sd)``: a zero-copy permute, so PyTorch sees
    channels-last memory."""
    import torch

    d = x.ndim - 2
    return torch.from_numpy(x).permute(0, d + 1, *range(1, d + 1))


def _torch(w: Workload, images: np.ndarray, kernel: np.ndarray) -> Callable[[], Any]:
    F = _torch_functional()
    import torch

    # NHWC -> NCHW as a zero-copy permute: PyTorch sees channels-last memory.
    x = torch.from_numpy(images)
    x = x[:, None] if w.kind == "gray" else x.permute(0, 3, 1, 2)
    to_float = images.dtype == np.uint8  # what a PyTorch user does with uint8 images
    if w.kind == "pool":
        pool = F.max_pool2d if w.mode == "max" else F.avg_pool2d
        if to_float:
            return lambda: pool(x.float(), w.kernel, w.stride)
        return lambda: pool(x, w.kernel, w.stride)
    weights = {"gray": kernel[None, None], "channels": kernel[None], "bank": kernel}[w.kind]
    k = torch.from_numpy(np.ascontiguousarray(weights))
    if w.kind == "channels":
        k = k.permute(0, 3, 1, 2)  # (1, kh, kw, c) -> (1, c, kh, kw)
    elif w.kind == "bank":
        k = k.permute(3, 2, 0, 1)  # (kh, kw, c, nc) -> (nc, c, kh, kw)
    (top, bottom), (left, right) = pads(w)
    if (top, left) == (bottom, right):
        padding, pre = (top, left), None
    else:
        padding, pre = (0, 0), (left, right, top, bottom)

    def run() -> Any:
        inputs = x.float() if to_float else x
        if pre is not None:
            inputs = F.pad(inputs, pre)
        return F.conv2d(inputs, k, stride=w.stride, padding=padding)

    return run


def _padded(w: Workload, images: np.ndarray) -> np.ndarray:
    (top, bottom), (left, right) = pads(w)
    widths = [(0, 0), (top, bottom), (left, right)] + [(0, 0)] * (images.ndim - 3)
    return np.pad(images, widths)


def _scipy(w: Workload, images: np.ndarray, kernel: np.ndarray) -> Callable[[], Any]:
    try:
        from scipy import ndimage
    except ImportError:
        raise NotImplementedError("SciPy is not installed") from None
    sh, sw = w.stride
    if w.kind == "pool":
        kh, kw = w.kernel
        # Filters are centred: the window anchored at i is centred at i + k // 2.
        rows = slice(kh // 2, kh // 2 + ((images.shape[1] - kh) // sh + 1) * sh, sh)
        cols = slice(kw // 2, kw // 2 + ((images.shape[2] - kw) // sw + 1) * sw, sw)
        if w.mode == "max":
            return lambda: ndimage.maximum_filter(images, size=(1, kh, kw, 1))[:, rows, cols]
        return lambda: ndimage.uniform_filter(images, size=(1, kh, kw, 1), output=np.float64)[
            :, rows, cols
        ]
    kh, kw = kernel.shape[:2]
    stack = kernel[None] if w.kind == "gray" else kernel[None, ...]

    dtype = np.result_type(images.dtype, kernel.dtype)  # uint8 images would wrap around

    def run() -> Any:
        padded = _padded(w, images)
        ho = (padded.shape[1] - kh) // sh + 1
        wo = (padded.shape[2] - kw) // sw + 1
        rows = slice(kh // 2, kh // 2 + ho * sh, sh)
        cols = slice(kw // 2, kw // 2 + wo * sw, sw)
        if w.kind == "gray":
            return ndimage.correlate(padded, stack, dtype, mode="constant")[:, rows, cols]
        # One filter per output channel; the centre channel holds the sum over channels.
        bank = stack[..., None] if w.kind == "channels" else stack
        centre = padded.shape[-1] // 2
        maps = [
            ndimage.correlate(padded, bank[..., f], dtype, mode="constant")[:, rows, cols, centre]
            for f in range(bank.shape[-1])
        ]
        return maps[0] if w.kind == "channels" else np.stack(maps, axis=-1)

    return run


def _naive(w: Workload, images: np.ndarray, kernel: np.ndarray) -> Callable[[], Any]:
    from numpy.lib.stride_tricks import sliding_window_view

    sh, sw = w.stride

    def run() -> Any:
        padded = _padded(w, images) if w.kind != "pool" else images
        window = w.kernel if w.kind == "pool" else kernel.shape[:2]
        view = sliding_window_view(padded, window, axis=(1, 2))[:, ::sh, ::sw]
        if w.kind == "pool":
            return view.max(axis=(-2, -1)) if w.mode == "max" else view.mean(axis=(-2, -1))
        if w.kind == "gray":
            return np.einsum("mhwij,ij->mhw", view, kernel)
        if w.kind == "channels":
            return np.einsum("mhwcij,ijc->mhw", view, kernel)
        return np.einsum("mhwcij,ijcn->mhwn", view, kernel)

    return run


def _stridedconv_nd(w: ConvWorkload, x: np.ndarray, kernels: np.ndarray) -> Callable[[], Any]:
    return lambda: sc.conv(
        x, kernels, stride=w.stride, padding=w.padding, dilation=w.dilation, groups=w.groups
    )


def _torch_nd(w: ConvWorkload, x: np.ndarray, kernels: np.ndarray) -> Callable[[], Any]:
    F = _torch_functional()
    import torch

    d = w.ndim
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    # (k1..kd, c // groups, nc) -> (nc, c // groups, k1..kd), a zero-copy permute.
    inputs = _channels_first(x)
    k = torch.from_numpy(kernels).permute(d + 1, d, *range(d))
    pads = w.pads()
    before = tuple(b for b, _ in pads)
    if before == tuple(a for _, a in pads):
        padding, pre = before, None
    else:  # F.pad wants the last axis first
        padding, pre = (0,) * d, tuple(p for pair in reversed(pads) for p in pair)

    def run() -> Any:
        padded = inputs if pre is None else F.pad(inputs, pre)
        return conv(
            padded, k, stride=w.stride, padding=padding, dilation=w.dilation, groups=w.groups
        )

    return run


def _scipy_nd(w: ConvWorkload, x: np.ndarray, kernels: np.ndarray) -> Callable[[], Any]:
    raise NotImplementedError("SciPy has no batched, grouped N-d convolution to compare with")


def _naive_nd(w: ConvWorkload, x: np.ndarray, kernels: np.ndarray) -> Callable[[], Any]:
    from numpy.lib.stride_tricks import sliding_window_view

    d, g = w.ndim, w.groups
    spatial = tuple(range(1, d + 1))
    spans = [(k - 1) * w.dilation + 1 for k in kernels.shape[:d]]
    # Every tap of every dilated window, every `stride`-th window.
    taps = (slice(None), *[slice(None, None, w.stride)] * d, slice(None), slice(None))
    taps += (slice(None, None, w.dilation),) * d
    outs, ks = "pqr"[:d], "ijk"[:d]
    # Channels split into (group, channel in group), output channels into (group, filter).
    subscripts = f"m{outs}gc{ks},{ks}cgn->m{outs}gn"
    grouped = kernels.reshape(*kernels.shape[:-1], g, -1)

    def run() -> Any:
        padded = np.pad(x, [(0, 0), *w.pads(), (0, 0)])
        split = padded.reshape(*padded.shape[:-1], g, -1)
        view = sliding_window_view(split, spans, axis=spatial)[taps]
        out = np.einsum(subscripts, view, grouped)
        return out.reshape(*out.shape[:-2], -1)

    return run


def _stridedconv_pool(w: PoolWorkload, x: np.ndarray, _: np.ndarray) -> Callable[[], Any]:
    return lambda: sc.pool(
        x,
        w.kernel,
        w.stride,
        w.mode,
        padding=w.padding,
        dilation=w.dilation,
        ceil_mode=w.ceil_mode,
        count_include_pad=w.count_include_pad,
    )


def _torch_pool(w: PoolWorkload, x: np.ndarray, _: np.ndarray) -> Callable[[], Any]:
    F = _torch_functional()
    d = w.ndim
    inputs = _channels_first(x)
    if w.mode == "max":
        max_pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[d]
        return lambda: max_pool(
            inputs,
            w.kernel,
            w.stride,
            padding=w.padding,
            dilation=w.dilation,
            ceil_mode=w.ceil_mode,
        )
    if w.mode == "avg" and w.dilation == 1:
        avg_pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[d]
        return lambda: avg_pool(
            inputs,
            w.kernel,
            w.stride,
            padding=w.padding,
            ceil_mode=w.ceil_mode,
            count_include_pad=w.count_include_pad,
        )
    raise NotImplementedError(f"PyTorch has no {w.mode} pooling with dilation {w.dilation}")


def _scipy_pool(w: PoolWorkload, x: np.ndarray, _: np.ndarray) -> Callable[[], Any]:
    raise NotImplementedError("SciPy has no pooling with PyTorch's padding and ceil_mode rules")


def _naive_pool(w: PoolWorkload, x: np.ndarray, _: np.ndarray) -> Callable[[], Any]:
    from numpy.lib.stride_tricks import sliding_window_view

    if w.mode not in ("max", "avg"):
        raise NotImplementedError(f"the naive peer has no {w.mode} pooling")
    d, p = w.ndim, w.padding
    spans = [(k - 1) * w.dilation + 1 for k in w.kernel]
    outs = w.out_shape()
    # ceil_mode's last window may overhang the padding: that overhang holds no values.
    overhang = [
        max((o - 1) * w.stride + span - (n + 2 * p), 0)
        for o, span, n in zip(outs, spans, w.shape[1 : 1 + d], strict=True)
    ]
    taps = (
        slice(None),
        *[slice(0, (o - 1) * w.stride + 1, w.stride) for o in outs],
        slice(None),
        *[slice(None, None, w.dilation)] * d,
    )
    # Max: -inf, never selected. Mean: NaN, which nanmean skips, where a tap does not count;
    # zeros in the padding proper when it counts.
    if w.mode == "max":
        pad_fill = over_fill = -np.inf
        reduce: Callable[..., Any] = np.max
    else:
        pad_fill, over_fill = (0.0 if w.count_include_pad else np.nan), np.nan
        reduce = np.nanmean

    def run() -> Any:
        padded = np.pad(x, [(0, 0), *[(p, p)] * d, (0, 0)], constant_values=pad_fill)
        if any(overhang):
            widths = [(0, 0), *[(0, e) for e in overhang], (0, 0)]
            padded = np.pad(padded, widths, constant_values=over_fill)
        view = sliding_window_view(padded, spans, axis=tuple(range(1, d + 1)))[taps]
        return reduce(view, axis=tuple(range(-d, 0)))

    return run


# --- gradients and the LeNet-5 step --------------------------------------------------------


def _stridedconv_grad(
    w: GradWorkload, x: np.ndarray, kernels: np.ndarray, dy: np.ndarray
) -> Callable[[], Any]:
    if w.kind in ("pool_max", "pool_avg"):
        pool = w.forward()
        assert isinstance(pool, PoolWorkload)
        return lambda: sc.pool_vjp(
            dy, x, pool.kernel, pool.stride, pool.mode, padding=pool.padding, ties="first"
        )
    if w.kind == "transpose":
        return lambda: sc.conv_transpose(dy, kernels, stride=w.stride, padding=w.padding)
    if w.kind == "input":
        return lambda: sc.conv_vjp(dy, x, kernels, stride=w.stride, padding=w.padding, wrt=("x",)).x
    return lambda: (
        sc.conv_vjp(dy, x, kernels, stride=w.stride, padding=w.padding, wrt=("kernels",)).kernels
    )


def _torch_grad(
    w: GradWorkload, x: np.ndarray, kernels: np.ndarray, dy: np.ndarray
) -> Callable[[], Any]:
    """PyTorch's backward kernels, the ones autograd calls, on channels-last tensors: only
    the backward is timed (stridedconv's gradients need no forward pass either)."""
    F = _torch_functional()
    import torch

    aten = torch.ops.aten
    inputs, grads = _channels_first(x), _channels_first(dy)
    forward = w.forward()
    if isinstance(forward, PoolWorkload):
        size, stride = list(forward.kernel), [forward.stride] * 2
        padding = [forward.padding] * 2
        if w.kind == "pool_max":
            # PyTorch's backward reuses the argmax its forward pass saved (computed here,
            # untimed); stridedconv's pool_vjp finds the maxima again from x.
            _, indices = F.max_pool2d(inputs, size, stride, padding, return_indices=True)
            return lambda: aten.max_pool2d_with_indices_backward(
                grads, inputs, size, stride, padding, [1, 1], False, indices
            )
        return lambda: aten.avg_pool2d_backward(
            grads, inputs, size, stride, padding, False, True, None
        )
    # (kh, kw, c, nc) -> (nc, c, kh, kw) in channels-last memory: a channels-last model's
    # weight, as `model.to(memory_format=torch.channels_last)` leaves it.
    k = torch.from_numpy(kernels).permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
    sides = forward.pads()
    if any(before != after for before, after in sides) or w.stride != 1:
        raise NotImplementedError("the PyTorch peer takes symmetric padding and stride 1")
    padding, stride = [before for before, _ in sides], [w.stride] * 2
    if w.kind == "transpose":
        return lambda: F.conv_transpose2d(grads, k, stride=stride, padding=padding)
    # What autograd runs for conv2d's backward when only x (or only the weight) requires
    # grad: the output mask asks for that gradient alone.
    mask, index = ([True, False, False], 0) if w.kind == "input" else ([False, True, False], 1)
    return lambda: aten.convolution_backward(
        grads, inputs, k, None, stride, padding, [1, 1], False, [0, 0], 1, mask
    )[index]


def _scipy_grad(
    w: GradWorkload, x: np.ndarray, kernels: np.ndarray, dy: np.ndarray
) -> Callable[[], Any]:
    raise NotImplementedError("SciPy has no gradients of convolutions or pooling")


def _naive_grad(
    w: GradWorkload, x: np.ndarray, kernels: np.ndarray, dy: np.ndarray
) -> Callable[[], Any]:
    if w.kind != "kernel":
        raise NotImplementedError("the naive peer computes the kernel gradient only")
    from numpy.lib.stride_tricks import sliding_window_view

    forward = w.forward()
    assert isinstance(forward, ConvWorkload)
    s = w.stride

    def run() -> Any:
        padded = np.pad(x, [(0, 0), *forward.pads(), (0, 0)])
        view = sliding_window_view(padded, kernels.shape[:2], axis=(1, 2))[:, ::s, ::s]
        return np.einsum("mhwcij,mhwn->ijcn", view, dy)

    return run


def _stridedconv_lenet(w: LenetStep, images: np.ndarray, labels: np.ndarray) -> Callable[[], Any]:
    from stridedconv.lenet import LeNet5

    net = LeNet5(seed=w.seed)

    def run() -> Any:
        probabilities, cache = net.forward(images)
        return net.gradients(probabilities, cache, labels)

    return run


def _torch_lenet(w: LenetStep, images: np.ndarray, labels: np.ndarray) -> Callable[[], Any]:
    """The same network in PyTorch with `LeNet5(seed)`'s parameters, channels-last memory:
    forward, cross-entropy and ``loss.backward()``. Gives the gradients by stridedconv's
    names, in PyTorch's layouts (`lenet_torch_layout`)."""
    F = _torch_functional()
    import torch
    from torch import nn

    from stridedconv.lenet import LeNet5

    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip
    params = LeNet5(seed=w.seed).params
    names = [f"{kind}{layer}" for layer in range(1, 6) for kind in "Wb"]
    with torch.no_grad():
        for name, parameter in zip(names, net.parameters(), strict=True):
            parameter.copy_(torch.from_numpy(lenet_torch_layout(name, params[name]).copy()))
    net = net.to(memory_format=torch.channels_last)
    x = torch.from_numpy(images)[:, None]  # one channel: channels first and last alike
    y = torch.from_numpy(labels)

    def run() -> Any:
        net.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        return {name: p.grad for name, p in zip(names, net.parameters(), strict=True)}

    return run


def _no_lenet(w: LenetStep, images: np.ndarray, labels: np.ndarray) -> Callable[[], Any]:
    raise NotImplementedError("only stridedconv and PyTorch train LeNet-5")


def output_bytes(result: Any) -> int:
    """Bytes of a result, NumPy array or tensor, or a dict of them."""
    if isinstance(result, dict):
        return sum(output_bytes(value) for value in result.values())
    return (
        int(math.prod(result.shape) * result.element_size())
        if hasattr(result, "element_size")
        else int(result.nbytes)
    )


# --- image filtering: 'same', beside OpenCV, scipy.ndimage and SciPy's FFT convolution ---

#: Peers for filtering: OpenCV's filter2D image by image (its DFT past 11x11 included),
#: scipy.ndimage.correlate and SciPy's fftconvolve (zero padding only) over the whole batch.
FILTER_LIBRARIES = ("stridedconv", "opencv", "scipy", "fft")
#: Grayscale batches ``(m, h, w)`` and RGB batches ``(m, h, w, 3)``.
FILTER_SHAPES = {
    "64x256x256": (64, 256, 256),
    "16x1024x1024": (16, 1024, 1024),
    "16x256x256x3": (16, 256, 256, 3),
}
#: Boundary modes: ours, with OpenCV's border and SciPy's ndimage name for each.
FILTER_MODES = {
    "zeros": ("BORDER_CONSTANT", "constant"),
    "symmetric": ("BORDER_REFLECT", "reflect"),
}


def filter_kernel(k: int, separable: bool) -> np.ndarray:
    """A `k` x `k` float32 kernel: a Gaussian (separable) or seeded random values (not)."""
    if separable:
        return sc.kernels.gaussian(k, sigma=k / 6).astype(np.float32)
    return np.random.default_rng(k).standard_normal((k, k)).astype(np.float32)


def filter_workload(shape: str, k: int, separable: bool) -> Workload:
    """'same' filtering of a batch of `shape` with a `k` x `k` kernel."""
    kernel = filter_kernel(k, separable)
    kind = "gray" if len(FILTER_SHAPES[shape]) == 3 else "channels"
    return Workload(kind, FILTER_SHAPES[shape], values=kernel, padding="same")


def prepare_filter(
    library: str, images: np.ndarray, kernel: np.ndarray, mode: str = "zeros"
) -> Callable[[], Any]:
    """A zero-argument callable filtering `images` ``(m, h, w)`` or ``(m, h, w, c)`` (each
    channel alike) with `kernel`, 'same', cross-correlation, padding as `mode`
    (`FILTER_MODES`) says, with `library`."""
    colour = images.ndim == 4
    if library == "stridedconv":
        axis = -1 if colour else None
        return lambda: sc.correlate(images, kernel, channel_axis=axis, padding_mode=mode)
    if library == "opencv":
        try:
            import cv2
        except ImportError:
            raise NotImplementedError("OpenCV is not installed") from None
        cv2.setNumThreads(THREADS)
        out = np.empty_like(images)
        border = getattr(cv2, FILTER_MODES[mode][0])

        def run() -> Any:
            for image, dest in zip(images, out, strict=True):
                # Correlation of every channel, anchored at the centre (odd kernels).
                cv2.filter2D(image, -1, kernel, dst=dest, borderType=border)
            return out

        return run
    if library == "scipy":
        try:
            from scipy import ndimage
        except ImportError:
            raise NotImplementedError("SciPy is not installed") from None
        # One 2-D kernel for each image and channel: size 1 along the batch and channels.
        full = kernel[None, ..., None] if colour else kernel[None]
        name = FILTER_MODES[mode][1]
        return lambda: ndimage.correlate(images, full, mode=name)
    if library == "fft":
        if mode != "zeros":
            raise NotImplementedError("fftconvolve pads with zeros only")
        try:
            from scipy import signal
        except ImportError:
            raise NotImplementedError("SciPy is not installed") from None
        # Convolution with the flipped kernel: correlation.
        flipped = kernel[None, ::-1, ::-1, None] if colour else kernel[None, ::-1, ::-1]
        return lambda: signal.fftconvolve(images, flipped, mode="same", axes=(1, 2))
    raise NotImplementedError(f"no filtering with {library}")


#: Per kind of workload, the function that prepares it for each library.
PEERS: dict[type, dict[str, Callable[..., Callable[[], Any]]]] = {
    Workload: {"stridedconv": _stridedconv, "torch": _torch, "scipy": _scipy, "naive": _naive},
    ConvWorkload: {
        "stridedconv": _stridedconv_nd,
        "torch": _torch_nd,
        "scipy": _scipy_nd,
        "naive": _naive_nd,
    },
    PoolWorkload: {
        "stridedconv": _stridedconv_pool,
        "torch": _torch_pool,
        "scipy": _scipy_pool,
        "naive": _naive_pool,
    },
    GradWorkload: {
        "stridedconv": _stridedconv_grad,
        "torch": _torch_grad,
        "scipy": _scipy_grad,
        "naive": _naive_grad,
    },
    LenetStep: {
        "stridedconv": _stridedconv_lenet,
        "torch": _torch_lenet,
        "scipy": _no_lenet,
        "naive": _no_lenet,
    },
}
