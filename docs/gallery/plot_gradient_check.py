"""
A gradient check of conv_vjp
============================

``conv_vjp`` returns the gradients of ``loss = sum(dy * conv(x, k, ...))``. A central
difference ``(loss(k + h e) - loss(k - h e)) / 2h`` for every kernel value ``e`` estimates
the same numbers independently. Here a strided, dilated convolution with reflect padding
(``stride=2, dilation=2, padding='same', padding_mode='reflect'``) of a 16x16 crop of the
``camera`` photograph, float64: the two agree to about 1e-9 relative error.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data

import stridedconv as sc

rng = np.random.default_rng(0)
x = (data.camera()[200:216, 200:216] / 255.0)[None, :, :, None]  # (1, 16, 16, 1)
k = rng.standard_normal((3, 3, 1, 2))
options = {"stride": 2, "dilation": 2, "padding": "same", "padding_mode": "reflect"}
dy = rng.standard_normal(sc.conv(x, k, **options).shape)


def loss(kernels):
    return float(np.sum(dy * sc.conv(x, kernels, **options)))


analytic = sc.conv_vjp(dy, x, k, wrt=("kernels",), **options).kernels
numeric = np.zeros_like(k)
h = 1e-6
for index in np.ndindex(k.shape):
    step = np.zeros_like(k)
    step[index] = h
    numeric[index] = (loss(k + step) - loss(k - step)) / (2 * h)

error = np.abs(analytic - numeric).max() / np.abs(analytic).max()
print(f"largest relative difference: {error:.1e}")

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
axes[0].imshow(x[0, :, :, 0], cmap="gray")
axes[0].set_title("x: camera[200:216, 200:216]", fontsize=9)
axes[1].scatter(numeric.ravel(), analytic.ravel())
lims = [numeric.min() - 0.5, numeric.max() + 0.5]
axes[1].plot(lims, lims, color="0.6", lw=1)
axes[1].set_xlabel("central difference")
axes[1].set_ylabel("conv_vjp(...).kernels")
axes[1].set_title("18 kernel gradients", fontsize=9)
axes[2].bar(range(k.size), np.abs(analytic - numeric).ravel())
axes[2].set_title(f"|difference| (largest relative {error:.0e})", fontsize=9)
axes[2].set_xlabel("kernel value (row-major)")
fig.suptitle(
    "conv_vjp(dy, x, k (3x3x1x2), stride=2, dilation=2, padding='same', "
    "padding_mode='reflect') against central differences",
    fontsize=10,
)
plt.show()
