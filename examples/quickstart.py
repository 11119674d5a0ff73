"""The seven operations on batches the size of the classic exercise's data sets.

Stand-ins for MNIST (50000 grayscale 28x28 images) and an animals set (10000 RGB 32x32
images) are drawn at random; each scenario prints the input and output shapes.
"""

import time

import numpy as np

import stridedconv as sc

rng = np.random.default_rng(0)
gray = rng.integers(0, 256, size=(50000, 28, 28), dtype=np.uint8)
rgb = rng.integers(0, 256, size=(10000, 32, 32, 3), dtype=np.uint8)
edges = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
sharpen = np.array(
    [[[0, 0, 0], [-1, -1, -1], [0, 0, 0]],
     [[-1, -1, -1], [5, 5, 5], [-1, -1, -1]],
     [[0, 0, 0], [-1, -1, -1], [0, 0, 0]]]
)  # fmt: skip
bank = np.stack([sharpen, -sharpen, np.ones_like(sharpen)], axis=-1)

scenarios = [
    ("convolve_grayscale_valid", gray, lambda: sc.convolve_grayscale_valid(gray, edges)),
    ("convolve_grayscale_same", gray, lambda: sc.convolve_grayscale_same(gray, edges)),
    ("convolve_grayscale_padding", gray,
     lambda: sc.convolve_grayscale_padding(gray, edges, (2, 4))),
    ("convolve_grayscale", gray,
     lambda: sc.convolve_grayscale(gray, edges, padding="valid", stride=(2, 2))),
    ("convolve_channels", rgb, lambda: sc.convolve_channels(rgb, sharpen, padding="valid")),
    ("convolve", rgb, lambda: sc.convolve(rgb, bank, padding="valid")),
    ("pool", rgb, lambda: sc.pool(rgb, (2, 2), (2, 2), mode="avg")),
]  # fmt: skip

for name, images, run in scenarios:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{name:28} {images.shape} -> {result.shape} {result.dtype}  {seconds:.2f} s")
