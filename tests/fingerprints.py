"""Print the sha256 of the result bytes of a fixed set of computations, one per line.

Run in a fresh process by `test_reproducibility_threads.py`, once with
``STRIDEDCONV_NUM_THREADS=1`` and once with ``2``: the engine reads the setting at import,
so only separate processes compare thread counts as users set them. The problems are large
enough (several MiB of working set) for the engine to split them over its threads, and the
BLAS ones large enough for OpenBLAS to use its own threads when left to itself.

    python tests/fingerprints.py            # name and digest, one line each
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

import stridedconv as sc
from stridedconv._engine import forced


def _data(seed: int, shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    # Magnitudes over a few orders: a different order of a sum shows in the last bits.
    return (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)).astype(dtype)


def _conv(
    x: tuple[int, ...], k: tuple[int, ...], dtype: str = "float32", strategy: str | None = None,
    **options: Any,
) -> Callable[[], np.ndarray]:  # fmt: skip
    images, kernels = (
        _data(1, x, dtype),
        _data(2, k, "float64" if dtype == "float64" else "float32"),
    )

    def run() -> np.ndarray:
        with forced(**({} if strategy is None else {"conv": strategy})):
            return sc.conv(images, kernels, **options)

    return run


def _grads(
    x: tuple[int, ...], k: tuple[int, ...], wrt: str, **options: Any
) -> Callable[[], np.ndarray]:
    images, kernels = _data(3, x), _data(4, k)
    dy = _data(5, sc.conv(images[:1], kernels, **options).shape[1:])
    dy = np.broadcast_to(dy, (x[0], *dy.shape)) * _data(6, (x[0],) + (1,) * dy.ndim)

    def run() -> np.ndarray:
        grads = sc.conv_vjp(dy.astype(np.float32), images, kernels, wrt=(wrt,), **options)
        result = getattr(grads, wrt)
        assert result is not None
        return np.asarray(result)

    return run


def _transpose() -> np.ndarray:
    y, kernels = _data(7, (64, 14, 14, 16)), _data(8, (3, 3, 6, 16))
    return sc.conv_transpose(y, kernels, stride=2, padding="same")


def _pool(mode: str, shape: tuple[int, ...], window: int, stride: int) -> Callable[[], Any]:
    x = _data(9, shape)
    return lambda: sc.pool(x, window, stride, mode, padding=window // 2)


def _pool_vjp() -> np.ndarray:
    x = np.random.default_rng(10).integers(0, 3, (256, 28, 28, 8)).astype(np.float32)
    dy = _data(11, (256, 14, 14, 8))
    return sc.pool_vjp(dy, x, 2, ties="split")


GAUSS = np.outer([1.0, 4, 6, 4, 1], [1.0, 4, 6, 4, 1]).astype(np.float32)[:, :, None, None] / 256

#: name -> a computation; each about 10-100 ms on one core.
CONFIGURATIONS: dict[str, Callable[[], Any]] = {
    "gray 5x5 (stripes)": _conv((1000, 28, 28, 1), (5, 5, 1, 1), padding="same"),
    "lenet1 (columns)": _conv((1000, 28, 28, 1), (5, 5, 1, 6)),
    "lenet2 (im2col)": _conv((256, 14, 14, 6), (5, 5, 6, 16)),
    "lenet2 planes": _conv((256, 14, 14, 6), (5, 5, 6, 16), strategy="planes"),
    "32 -> 32 3x3 (im2col)": _conv((32, 28, 28, 32), (3, 3, 32, 32), padding="same"),
    "64 -> 8 float64 (taps)": _conv((16, 28, 28, 64), (3, 3, 64, 8), "float64", padding=1),
    "3 -> 4 (planes)": _conv((128, 32, 32, 3), (3, 3, 3, 4), padding="same"),
    "gray 9x9 float64 (fft)": _conv((128, 32, 32, 1), (9, 9, 1, 1), "float64", padding="same"),
    "one -> 3 11x11 (fft)": _conv((64, 32, 32, 1), (11, 11, 1, 3), padding="same"),
    "depthwise 16 (taps)": _conv((32, 28, 28, 16), (3, 3, 1, 16), groups=16, padding="same"),
    "gaussian (separable)": lambda: sc.conv(_data(12, (500, 28, 28, 1)), GAUSS, padding="same"),
    "strided dilated reflect": _conv(
        (64, 20, 20, 8),
        (3, 3, 8, 8),
        "float64",
        stride=2,
        dilation=2,
        padding="same",
        padding_mode="reflect",
    ),
    "uint8 rgb -> 8 (im2col forced)": _conv(
        (500, 28, 28, 3), (3, 3, 3, 8), "uint8", strategy="im2col", padding="same"
    ),
    "conv_transpose stride 2": _transpose,
    "grad x lenet2": _grads((256, 14, 14, 6), (5, 5, 6, 16), "x"),
    "grad kernels lenet2": _grads((256, 14, 14, 6), (5, 5, 6, 16), "kernels"),
    "grad bias lenet2": _grads((256, 14, 14, 6), (5, 5, 6, 16), "bias"),
    "grad kernels 32 -> 32": _grads((32, 28, 28, 32), (3, 3, 32, 32), "kernels", padding=1),
    "grad kernels lenet1": _grads((1000, 28, 28, 1), (5, 5, 1, 6), "kernels"),
    "grad bias lenet1": _grads((1000, 28, 28, 1), (5, 5, 1, 6), "bias"),
    "pool max 3x3/2": _pool("max", (256, 28, 28, 16), 3, 2),
    "pool avg 3x3/1 float32": _pool("avg", (128, 28, 28, 8), 3, 1),
    "pool_vjp split ties": _pool_vjp,
    "convolve_grayscale_same": lambda: sc.convolve_grayscale_same(
        _data(13, (1000, 28, 28), "float64"), np.arange(9.0).reshape(3, 3) / 7
    ),
}


def main() -> None:
    for name, run in CONFIGURATIONS.items():
        result = np.ascontiguousarray(run())
        digest = hashlib.sha256(result.dtype.str.encode() + result.tobytes()).hexdigest()
        print(f"{name}\t{result.shape}\t{digest}", flush=True)


if __name__ == "__main__":
    main()
